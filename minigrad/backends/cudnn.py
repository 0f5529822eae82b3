"""torch.backends.cudnn look-alike. minigrad never calls cuDNN (no convolutions), so the flags are kept
for ported code to set and read, and change nothing."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True  # torch's default for cuDNN convolutions


def is_available():
    """False: minigrad's GPU backend (CuPy) runs matmuls through cuBLAS, never cuDNN."""
    return False


def version():
    """None: there is no cuDNN."""
    return None
