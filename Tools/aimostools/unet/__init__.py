"""The PyTorch reference of the AIMOS U-Nets and the published inference (reference), and deterministic test weights."""
