"""docs/torch-coverage.md is current (regenerated in memory and compared), its counts are honest, and the aliases and
small functions the other parity files do not name match torch."""
import math
import os
import sys

import numpy as np
import pytest
import torch

import minigrad
from support.helpers import check_op

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "docs"))
import torch_coverage  # noqa: E402


def test_coverage_table_is_current():
    with open(torch_coverage.OUT) as f:
        assert f.read() == torch_coverage.render(), "run: python docs/torch_coverage.py"


def test_coverage_rows_agree_with_both_namespaces():
    rows = torch_coverage.rows()
    in_scope = [r for r in rows if r[2] != "out of scope"]
    for cat, name, status, *_ in rows:
        assert torch_coverage._resolve(torch, name) is not None, name
        have = torch_coverage._resolve(minigrad, name) is not None
        assert have == (status in ("present", "forward-only")) or status == "out of scope", (name, status)
    present = sum(r[2] == "present" for r in in_scope)
    assert present / len(in_scope) >= 0.95, f"{present} of {len(in_scope)} present"
    for name in torch_coverage.MISSING:  # the reasons list only what is really missing
        assert torch_coverage._resolve(minigrad, name) is None, f"{name} is here now: drop it from MISSING"


A = np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]])
B = np.array([[1.1, 0.5, -2.0], [0.2, -0.9, 0.4]])

ALIASES = {  # name: (minigrad call, torch call) on tensors made from A (and B)
    "arccos": lambda m, a, b: m.arccos(a * 0.4), "arccosh": lambda m, a, b: m.arccosh(a.abs() + 1.5),
    "arcsinh": lambda m, a, b: m.arcsinh(a), "arctan": lambda m, a, b: m.arctan(a),
    "arctan2": lambda m, a, b: m.arctan2(a, b), "angle": lambda m, a, b: m.angle(a),
    "adjoint": lambda m, a, b: m.adjoint(a), "conj": lambda m, a, b: m.conj(a) * 2,
    "resolve_conj": lambda m, a, b: m.resolve_conj(a) * 2, "resolve_neg": lambda m, a, b: m.resolve_neg(a) * 2,
    "real": lambda m, a, b: m.real(a) * 2, "moveaxis": lambda m, a, b: m.moveaxis(a, 0, 1),
    "swapaxes": lambda m, a, b: m.swapaxes(a, 0, 1), "swapdims": lambda m, a, b: m.swapdims(a, 0, 1),
    "narrow_copy": lambda m, a, b: m.narrow_copy(a, 1, 1, 2), "row_stack": lambda m, a, b: m.row_stack([a, b]),
    "dsplit": lambda m, a, b: m.dsplit(a.reshape(1, 2, 3), [1])[1], "atleast_2d": lambda m, a, b: m.atleast_2d(a[0]),
    "broadcast_tensors": lambda m, a, b: m.broadcast_tensors(a, b[0])[1],
    "renorm": lambda m, a, b: m.renorm(a, 1, 0, 1.5), "chain_matmul": lambda m, a, b: m.chain_matmul(a, b.T, a),
    "vdot": lambda m, a, b: m.vdot(a[0], b[1]), "vecdot": lambda m, a, b: m.linalg.vecdot(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b), "remainder_scalar": lambda m, a, b: m.remainder(a, 0.75),
    "multiply": lambda m, a, b: m.multiply(a, b), "subtract": lambda m, a, b: m.subtract(a, b, alpha=2),
}


OLD_TORCH = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2]) < (2, 15)


@pytest.mark.parametrize("name", list(ALIASES))
def test_aliases_and_small_functions(backend, name):
    grad = not (OLD_TORCH and name == "narrow_copy")  # torch 2.4 has no narrow_copy derivative
    check_op(lambda a, b: ALIASES[name](minigrad, a, b), lambda a, b: ALIASES[name](torch, a, b), [A, B], backend,
             grad=grad)


BOOLS = {
    "bitwise_not": lambda m, a, b: m.bitwise_not(a > 0), "bitwise_right_shift": lambda m, a, b: m.bitwise_right_shift(
        (a * 10).long(), 1), "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "logical_and": lambda m, a, b: m.logical_and(a > 0, b > 0), "logical_or": lambda m, a, b: m.logical_or(a > 0, b),
    "greater_equal": lambda m, a, b: m.greater_equal(a, b), "greater": lambda m, a, b: m.greater(a, 0.1),
    "less_equal": lambda m, a, b: m.less_equal(a, b), "less": lambda m, a, b: m.less(a, b),
    "not_equal": lambda m, a, b: m.not_equal(a, a[0]), "isclose": lambda m, a, b: m.isclose(a, a + 1e-9),
    "isfinite": lambda m, a, b: m.isfinite(a / (a - 0.3)), "isinf": lambda m, a, b: m.isinf(a / (a - 0.3)),
    "allclose": lambda m, a, b: m.tensor(m.allclose(a, a * (1 + 1e-7))),
    "method_greater": lambda m, a, b: a.greater(b), "method_less": lambda m, a, b: a.less(b),
    "method_bitwise_not": lambda m, a, b: (a > 0).bitwise_not(),
}


@pytest.mark.parametrize("name", list(BOOLS))
def test_no_gradient_aliases(name):
    y = BOOLS[name](minigrad, minigrad.tensor(A), minigrad.tensor(B))
    ty = BOOLS[name](torch, torch.tensor(A), torch.tensor(B))
    assert str(y.dtype) == str(ty.dtype) and np.array_equal(y.numpy(), ty.numpy())


def test_inplace_aliases():
    for name, arg in (("absolute_", ()), ("divide_", (2.0,)), ("multiply_", (3.0,)), ("subtract_", (1.0,)),
                      ("eq_", (0.7,)), ("greater_", (0.0,)), ("cumsum_", (1,)), ("cumprod_", (0,))):
        x, t = minigrad.tensor(A), torch.tensor(A)
        assert getattr(x, name)(*arg) is x
        getattr(t, name)(*arg)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12)
    assert math.isclose(minigrad.tensor(A).real.sum().item(), torch.tensor(A).real.sum().item())
