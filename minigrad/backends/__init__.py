"""torch.backends look-alike: the switches tutorials set (cudnn, cuda.matmul, mps) as harmless settings.

minigrad has no cuDNN and no Metal backend; these exist so `torch.backends.mps.is_available()` and
`torch.backends.cudnn.benchmark = True` in ported code run and report the truth.
"""
from . import cuda, cudnn, mps  # noqa: F401
