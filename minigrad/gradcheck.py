"""Numerical gradient check (torch.autograd.gradcheck): backward vs central differences, float64 only."""
import numpy

from .autograd import no_grad
from .backend import to_numpy
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytical gradient disagrees with the numerical one."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if d(fn)/d(input) from backward matches central differences for every float64 input
    requiring grad and every output element (the full Jacobian, as torch). inputs: tensor or tuple."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != numpy.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                             "(use .double()), since float32 rounding swamps a step of eps=1e-6")
    outs = _outputs(fn, inputs)
    for k, y in enumerate(outs):
        if not isinstance(y, Tensor) or y.dtype.kind != "f":
            continue
        analytical = _analytical(fn, inputs, checked, k, y)
        numerical = _numerical(fn, inputs, checked, k, y.numel(), eps)
        for i, a, n in zip(checked, analytical, numerical):
            bad = ~numpy.isclose(a, n, rtol=rtol, atol=atol)  # |a - n| <= atol + rtol |n|, as torch
            if bad.any():
                r, c = (int(v[0]) for v in numpy.nonzero(bad))
                msg = (f"Jacobian mismatch for output {k} with respect to input {i}: d out[{r}] / d in[{c}] "
                       f"numerical {n[r, c]:.8g} vs analytical {a[r, c]:.8g} ({int(bad.sum())} of {bad.size} "
                       f"entries differ)\nnumerical:\n{n}\nanalytical:\n{a}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _analytical(fn, inputs, checked, k, y):
    """Jacobian rows from one backward per output element: J[r, c] = d y_r / d x_c."""
    jac = [numpy.zeros((y.numel(), inputs[i].numel())) for i in checked]
    for r in range(y.numel()):
        for i in checked:
            inputs[i].grad = None
        out = _outputs(fn, inputs)[k]
        if not out.requires_grad:  # output independent of every input: its Jacobian is zero
            break
        seed = numpy.zeros(out.numel(), dtype=out.dtype)
        seed[r] = 1.0
        out.backward(Tensor._wrap(out.xp.asarray(seed.reshape(out.shape))))
        for j, i in enumerate(checked):
            g = inputs[i].grad
            if g is not None:
                jac[j][r] = to_numpy(g.array).reshape(-1)
    for i in checked:
        inputs[i].grad = None
    return jac


def _numerical(fn, inputs, checked, k, n_out, eps):
    """Jacobian columns by central differences: (f(x + eps e_c) - f(x - eps e_c)) / (2 eps)."""
    jac = []
    with no_grad():
        for i in checked:
            x = inputs[i].array  # perturbed in place and restored, so fn sees the same tensor objects
            J = numpy.zeros((n_out, x.size))
            for c in range(x.size):
                at = numpy.unravel_index(c, x.shape)
                orig = x[at].item()
                x[at] = orig + eps
                hi = to_numpy(_outputs(fn, inputs)[k].array).reshape(-1).astype(numpy.float64)
                x[at] = orig - eps
                lo = to_numpy(_outputs(fn, inputs)[k].array).reshape(-1).astype(numpy.float64)
                x[at] = orig
                J[:, c] = (hi - lo) / (2 * eps)
            jac.append(J)
    return jac
