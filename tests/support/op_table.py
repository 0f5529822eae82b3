"""The shared harness of the table-driven op tests (test_ops_pointwise.py, test_ops_sort.py, test_ops_joining.py):
one Case per op, run by check_op (forward, dtype, every input gradient vs torch), plus torch's node name and a
float64 numerical gradcheck."""
import dataclasses

import numpy as np
import pytest
import torch

import minigrad
from support.helpers import check_op, on_cupy_double

# torch names some nodes differently before 2.15; node names are compared on 2.15 and later
TORCH_NAMES = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 15)


@dataclasses.dataclass
class Case:
    name: str
    mg: object  # minigrad function of the drawn arrays
    torch: object  # torch function of the same arrays
    inputs: object  # (data, dtype) -> list of NumPy arrays
    node: bool = True  # compare grad_fn names (False where minigrad composes ops torch fuses, or vice versa)
    grad: bool = True
    host_only: bool = False  # uses NumPy-only code (cupyx special functions, xp.linalg) the CuPy double lacks
    gradcheck: bool = True
    tol: dict = dataclasses.field(default_factory=dict)  # float32 only: float64 keeps assert_close's defaults

    def __str__(self):
        return self.name


def skip_on_double(case, backend):
    if case.host_only and backend == "cupy" and on_cupy_double():
        pytest.skip(f"{case.name}: its CuPy path (cupyx.scipy.special / cupy.linalg) is outside the CuPy double's "
                    "API; the real GPU run checks it")


def run(case, data, dtype, backend):
    """Draw inputs, compare with torch (values, dtype, gradients, node name)."""
    skip_on_double(case, backend)
    arrays, kw = split_params(case.inputs(data, dtype))
    tol = case.tol if np.dtype(dtype) == np.float32 else {}
    y, ty = check_op(lambda *t: case.mg(*t, **kw), lambda *t: case.torch(*t, **kw), arrays, backend, grad=case.grad,
                     **tol)
    if case.node and TORCH_NAMES and ty.grad_fn is not None:
        assert y.grad_fn is not None and y.grad_fn.name() == ty.grad_fn.name(), (y.grad_fn, ty.grad_fn)
    return arrays, kw


def split_params(drawn):
    """inputs() gives the arrays, or (arrays, keyword parameters such as dim) for the op."""
    return drawn if isinstance(drawn, tuple) else (drawn, {})


def gradcheck(case, arrays, kw=None):
    """Backward against central differences in float64, on NumPy."""
    kw = kw or {}
    xs = [minigrad.tensor(np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a,
                          requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    if any(x.requires_grad for x in xs):
        assert minigrad.gradcheck(lambda *t: case.mg(*t, **kw), xs)


def ids(cases):
    return [c.name for c in cases]
