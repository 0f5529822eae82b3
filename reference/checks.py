"""Whether the reference engine (torch) can run here: the checks experiments and benchmarks make before they start,
each a one-line UsageError (exit code 2) that says what to install or which flag to use instead."""
from minigrad.utils.cli import UsageError


def require_torch(why):
    """Import torch, or raise UsageError saying why it is needed and how to install it."""
    try:
        import torch
    except ImportError:
        raise UsageError(f"{why} needs PyTorch, which is not installed: pip install -e '.[test]' "
                         f"(or `make test`, which installs it into .venv).") from None
    return torch


def require_gpu(engines, flag="--backend cupy", instead="--backend numpy"):
    """Raise UsageError unless every engine in `engines` ('minigrad', 'torch') can use a CUDA GPU here."""
    from minigrad.backend import cupy_available, require_cupy_error

    problems = []
    if "minigrad" in engines and not cupy_available():
        problems.append(str(require_cupy_error()))
    if "torch" in engines:
        torch = require_torch(flag)
        if not torch.cuda.is_available():
            problems.append(f"torch {torch.__version__} sees no CUDA GPU (torch.cuda.is_available() is False).")
    if problems:
        raise UsageError(f"{flag} needs a CUDA GPU: " + " ".join(problems) + f" Run with {instead} instead.")
