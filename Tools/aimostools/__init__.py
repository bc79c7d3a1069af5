"""Python tools of the aimos project, by concern:

- unet: the PyTorch reference of the AIMOS U-Nets and of the published inference, and the
  deterministic test weights;
- checkpoint: torch.save checkpoints read without PyTorch, the converter to aimos model files,
  safetensors I/O (numpy only);
- layout: aimos's anatomical layout codes and the engine's body search, ported;
- synthesis: synthetic scans rendered from real mouse label maps;
- training: the AIMOS training procedure and the model files it writes;
- evaluation: the paper's metrics on predictions;
- cli: the console scripts (pyproject.toml lists them).
"""
