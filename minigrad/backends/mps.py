"""torch.backends.mps look-alike: minigrad has no Apple Metal backend."""


def is_available():
    return False


def is_built():
    return False
