"""aimos's anatomical layout codes and the engine's search for the animals in a scan, ported to numpy."""
