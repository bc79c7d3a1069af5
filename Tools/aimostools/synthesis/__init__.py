"""Synthetic micro-CT and light-sheet scans with labels, rendered from real mouse label maps (scans: the entry point)."""
