"""AIMOS checkpoints (torch.save files) read without PyTorch and converted into aimos model files; safetensors I/O. numpy only."""
