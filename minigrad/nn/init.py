"""In-place weight initialisers with torch's gain and fan formulas (torch.nn.init)."""
import math

from ..autograd import no_grad


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity (torch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, array):
    with no_grad():  # initialisers write into leaves that require grad, as torch's do
        tensor.array[...] = array
    tensor._vc[0] += 1  # an in-place change, as torch's fill_ (a graph that saved the tensor refuses backward)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b): torch's numbers on the CPU for the same seed (minigrad/random.py)."""
    with no_grad():
        return tensor.uniform_(float(a), float(b), generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill tensor in place with N(mean, std) samples (torch's numbers on the CPU); returns it."""
    with no_grad():
        return tensor.normal_(float(mean), float(std), generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) cut to [a, b] by rejection, as torch 2.15: where [a, b] holds more than 0.3 of the mass,
    draw normal_ and redraw a whole fresh normal_ tensor for the values outside until none is (torch's bits);
    otherwise uniform proposals accepted when log U <= log pdf - log peak (same law, NumPy's log: not torch's bits)."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    xp, d = tensor.xp, tensor.dtype.type
    with no_grad():
        if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
            lo, hi = float(d(a)), float(d(b))  # bounds in the tensor's dtype, as torch's new_tensor(a).item()
            result = tensor.normal_(mean, std, generator=generator).array
            while True:
                reject = (result < lo) | (result > hi)
                if not bool(reject.any()):
                    break
                fresh = tensor.__class__._wrap(xp.empty_like(result)).normal_(mean, std, generator=generator).array
                result = xp.where(reject, fresh, result)
            return tensor.copy_(tensor.__class__._wrap(result))
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
        result = tensor.uniform_(a, b, generator=generator).array.copy()
        pending = xp.ones(result.shape, dtype=bool)
        while bool(pending.any()):
            cand = result if pending.all() else tensor.uniform_(a, b, generator=generator).array.copy()
            u = tensor.__class__._wrap(xp.empty_like(result)).uniform_(generator=generator).array
            accept = xp.log(u) <= -0.5 * ((cand - d(mean)) / d(std)) ** 2 - d(log_peak)
            result = xp.where(pending, cand, result)
            pending = pending & ~accept
        return tensor.copy_(tensor.__class__._wrap(result))


def constant_(tensor, val):
    """Fill tensor in place with val; returns it."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill tensor in place with 0; returns it."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill tensor in place with 1; returns it."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan); a=sqrt(5) gives Linear's U(+-1/sqrt(fan_in))."""
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std  # torch's order of operations, so bounds match to the last bit
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_calculate_correct_fan(tensor, mode)), generator)


def eye_(tensor):
    """Fill a 2-D tensor in place with the identity (1 on the diagonal); returns it."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, tensor.xp.eye(*tensor.shape, dtype=tensor.dtype))


# torch's deprecated spellings without the trailing underscore
uniform, normal, constant, trunc_normal = uniform_, normal_, constant_, trunc_normal_
xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal = (
    xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_)
