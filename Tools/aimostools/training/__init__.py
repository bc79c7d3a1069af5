"""AIMOS training on the project's datasets (procedure: the entry point) and the model files it writes."""
