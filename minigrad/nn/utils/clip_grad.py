"""Gradient clipping with torch's formulas, applied to each parameter's .grad."""
import math

from ...backend import get_array_module
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all grads by min(1, max_norm / (total_norm + 1e-6)); total_norm = the norm of the per-tensor norms.

    Returns total_norm (a 0-d Tensor), taken before clipping.
    """
    params = _grads(parameters)
    if not params:
        from ...creation import tensor

        return tensor(0.0)
    norm_type = float(norm_type)
    xp = get_array_module(params[0].grad.array)
    dt = params[0].grad.array.dtype
    if math.isinf(norm_type):
        norms = [xp.max(xp.abs(p.grad.array)) if p.grad.array.size else xp.zeros((), dtype=dt) for p in params]
        total = xp.max(xp.stack(norms))
    else:
        norms = [xp.sum(xp.abs(p.grad.array) ** norm_type) ** (1.0 / norm_type) for p in params]
        total = xp.sum(xp.stack(norms).astype(dt) ** norm_type) ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=dt)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To disable this error and scale the gradients by the "
                           "non-finite norm anyway, set `error_if_nonfinite=False`")
    # torch multiplies even when the coefficient is clamped to 1 (the product is then exact)
    coef = xp.minimum(xp.asarray(max_norm, dtype=dt) / (total + xp.asarray(1e-6, dtype=dt)), xp.asarray(1.0, dtype=dt))
    for p in params:
        p.grad.array = p.grad.array * coef  # a new array: a leaf's grad may alias another gradient
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every grad element to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _grads(parameters):
        xp = get_array_module(p.grad.array)
        p.grad.array = xp.clip(p.grad.array, -clip_value, clip_value).astype(p.grad.array.dtype, copy=False)
