"""The paper's segmentation metrics (metrics) and their evaluation over a dataset's cases (cases)."""
