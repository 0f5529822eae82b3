"""torch.backends.cuda look-alike: `matmul.allow_tf32` (False, as torch) and is_built().

Kept as settings: minigrad's GPU matmuls use TF32 only when CuPy is started with CUPY_TF32=1.
"""
from .. import backend


class _MatmulSettings:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


matmul = _MatmulSettings()


def is_built():
    """True when CuPy imports (minigrad's 'cuda' device is CuPy), as torch reports a CUDA build."""
    return backend._cupy is not None


_PRECISIONS = ("highest", "high", "medium")
_precision = "highest"


def set_float32_matmul_precision(precision):
    """torch.set_float32_matmul_precision: 'high'/'medium' allow TF32 (the flag above), 'highest' does not."""
    global _precision
    if precision not in _PRECISIONS:
        raise RuntimeError(f"Invalid precision {precision!r}: expected one of {', '.join(_PRECISIONS)}")
    _precision = precision
    matmul.allow_tf32 = precision != "highest"


def get_float32_matmul_precision():
    """The float32 matmul precision setting ('highest', 'high' or 'medium'), as torch's."""
    return _precision
