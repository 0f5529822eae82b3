"""torch.backends.mps look-alike: minigrad has no Apple Metal backend."""


def is_available():
    """False: minigrad has no Metal backend."""
    return False


def is_built():
    """False: minigrad has no Metal backend."""
    return False
