"""Python tools of the aimos project: the PyTorch reference of the AIMOS U-Nets and the
published inference, safetensors I/O, and the deterministic test weights."""
