"""Torch's semantics where learner code leans on them, each snippet run on minigrad and on real torch side by side:
`.data`, version counters and saved tensors, in-place ops on non-leaf tensors and views (values, every gradient,
grad_fn names), refusals (exception types), grad modes, reductions' dtypes, user-defined autograd Functions.

A snippet takes (L, dev): the library (minigrad or torch) and its device for this backend; it returns tensors,
numbers, strings or nested lists of them, and may return an exception it caught (compared by type).
"""
import threading

import numpy as np
import pytest
import torch

import minigrad
from support.helpers import torch_device
from minigrad.backend import to_numpy


def _norm(v):
    if isinstance(v, (minigrad.Tensor, torch.Tensor)):
        a = to_numpy(v.array) if isinstance(v, minigrad.Tensor) else v.detach().cpu().numpy()
        return ("tensor", str(a.dtype), a.shape, a.tolist())
    if isinstance(v, BaseException):
        return ("raised", type(v))
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, (minigrad.Size, torch.Size)):
        return tuple(v)
    return v


def _same(a, b, path="result"):
    """a from minigrad, b from torch: equal values and dtypes (bit for bit), or the same kind of exception."""
    if isinstance(b, tuple) and b and b[0] == "raised":
        assert isinstance(a, tuple) and a[0] == "raised", f"{path}: torch raised {b[1].__name__}, minigrad gave {a}"
        assert issubclass(a[1], b[1]), f"{path}: minigrad raised {a[1].__name__}, torch {b[1].__name__}"
        return
    if isinstance(b, tuple) and b and b[0] == "tensor":
        assert isinstance(a, tuple) and a[0] == "tensor", f"{path}: {a} is not a tensor"
        assert a[1:3] == b[1:3], f"{path}: dtype/shape {a[1:3]} != torch {b[1:3]}"
        x, y = np.array(a[3]), np.array(b[3])
        if x.dtype.kind == "f":  # rounding as torch's within a few ulps (sigmoid's formula differs in the last bit)
            np.testing.assert_allclose(x, y, rtol=4e-16 if a[1] == "float64" else 1.2e-7, atol=0, err_msg=path)
        else:
            np.testing.assert_array_equal(x, y, err_msg=path)
        return
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), f"{path}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
        return
    if b == ANY_NAME:
        return
    assert a == b, f"{path}: {a!r} != torch {b!r}"


TORCH = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
NAMES_AS = (2, 15)  # node names as torch 2.15's; older torch names some index writes otherwise (2.4: IndexPut)


def node_name(h):
    """h.grad_fn's name, or a placeholder any name matches where torch is older than the names minigrad follows."""
    if isinstance(h, torch.Tensor) and TORCH < NAMES_AS:
        return ANY_NAME
    return h.grad_fn.name()


ANY_NAME = "<any node name>"


def run_both(snippet, backend):
    ours = _norm(_catch(snippet, minigrad, backend))
    theirs = _norm(_catch(snippet, torch, torch_device(backend)))
    _same(ours, theirs)
    return ours


def _catch(snippet, L, dev):
    try:
        return snippet(L, dev)
    except (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError) as e:
        return e


def t(L, dev, values, **kw):
    kw.setdefault("dtype", L.float64)
    return L.tensor(values, device=dev, **kw)


def leaves(L, dev):
    a = t(L, dev, [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], requires_grad=True)
    b = t(L, dev, [0.25, -3.0, 2.0], requires_grad=True)
    return a, b


def grads(*ts):
    return [x.grad for x in ts]


# ---- .data ------------------------------------------------------------------------------------------------------------
def _hand_update(L, dev):
    w = t(L, dev, [1.0, 2.0], requires_grad=True)
    for _ in range(2):
        loss = (w * w).sum()
        loss.backward()
        w.data += -0.1 * w.grad  # the most common hand-written update
        w.grad.data.zero_()
    return [w, w.is_leaf, w.requires_grad, type(w.data).__name__, w.grad]


DATA = {
    "hand_update": _hand_update,
    "detached_alias": lambda L, dev: (lambda w: [w.data.requires_grad, w.data.grad_fn is None, w.data.is_leaf])(
        t(L, dev, [1.0], requires_grad=True) * 2),
    "shares_storage": lambda L, dev: (lambda w: (w.data.__setitem__(0, 5.0), w)[1])(t(L, dev, [1.0, 2.0])),
    "own_version_counter": lambda L, dev: (lambda w: (w.data.add_(1), [w._version, w.data._version])[1])(
        t(L, dev, [1.0, 2.0], requires_grad=True)),
    "std_is_unbiased": lambda L, dev: t(L, dev, [1.0, 2.0, 3.0, 4.0], requires_grad=True).data.std(),
    "set_data": lambda L, dev: (lambda w: (setattr(w, "data", t(L, dev, [[3.0, 4.0, 5.0]])),
                                           [w, w.shape, w.is_leaf, w.requires_grad])[1])(
        t(L, dev, [1.0], requires_grad=True)),
    "set_data_not_tensor": lambda L, dev: setattr(t(L, dev, [1.0]), "data", [1.0, 2.0]),
    "set_data_int_on_grad": lambda L, dev: setattr(t(L, dev, [1.0], requires_grad=True), "data",
                                                   L.tensor([1], device=dev)),
    "change_through_data_unseen": lambda L, dev: (lambda w: (lambda y: (w.data.mul_(2), y.backward(), w.grad)[2])(
        (w * w).sum()))(t(L, dev, [1.0, 2.0], requires_grad=True)),
}


@pytest.mark.parametrize("name", list(DATA))
def test_data_as_torch(name, backend):
    run_both(DATA[name], backend)


# ---- version counters and saved tensors -------------------------------------------------------------------------------
def _modified_after(op, change):
    def snippet(L, dev):
        x = t(L, dev, [[1.0, 2.0]], requires_grad=True)
        w = t(L, dev, [[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = op(x, w)
        change(L, x, w, y)
        y.sum().backward()
        return [x.grad, w.grad]
    return snippet


def _under_no_grad(f):
    def change(L, x, w, y):
        with L.no_grad():
            f(x, w, y)
    return change


VERSIONS = {
    "matmul_weight_changed": _modified_after(lambda x, w: x @ w, _under_no_grad(lambda x, w, y: w.mul_(2))),
    "mul_weight_changed": _modified_after(lambda x, w: x * w, _under_no_grad(lambda x, w, y: w.add_(1))),
    "add_weight_changed": _modified_after(lambda x, w: x + w, _under_no_grad(lambda x, w, y: w.mul_(2))),
    "matmul_const_input_weight_changed": _modified_after(
        lambda x, w: x.detach() @ w, _under_no_grad(lambda x, w, y: w.mul_(2))),
    "exp_output_changed": _modified_after(lambda x, w: (x * 1).exp(), lambda L, x, w, y: y.add_(1)),
    "sigmoid_output_changed": _modified_after(lambda x, w: (x * 1).sigmoid(), lambda L, x, w, y: y.mul_(2)),
    "tanh_output_changed": _modified_after(lambda x, w: (x * 1).tanh(), lambda L, x, w, y: y.mul_(2)),
    "relu_output_changed": _modified_after(lambda x, w: (x * 1).relu(), lambda L, x, w, y: y.add_(1)),
    "sum_output_changed": _modified_after(lambda x, w: (x * 1).sum(0), lambda L, x, w, y: y.add_(1)),
    "div_output_changed": _modified_after(lambda x, w: x / (w[0] + 1), lambda L, x, w, y: y.mul_(3)),
    "div_output_changed_const": _modified_after(lambda x, w: x / 2, lambda L, x, w, y: y.mul_(3)),
    "view_of_saved_changed": _modified_after(lambda x, w: x @ w, _under_no_grad(lambda x, w, y: w[0].mul_(2))),
    "log_input_changed": _modified_after(lambda x, w: (x * 1).abs().log(), lambda L, x, w, y: None),
}


@pytest.mark.parametrize("name", list(VERSIONS))
def test_saved_tensor_changed_in_place(name, backend):
    run_both(VERSIONS[name], backend)


def _opt_step_between(L, dev):
    L.manual_seed(0)
    m = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2)).to(dev).double()
    with L.no_grad():
        for p in m.parameters():
            p.copy_(L.arange(p.numel(), dtype=L.float64, device=dev).reshape(p.shape) / 10 - 0.3)
    opt = L.optim.SGD(m.parameters(), lr=0.1)
    loss = m(t(L, dev, [[1.0, 2.0, 3.0]])).pow(2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    return [loss.backward(), [p._version for p in m.parameters()]]


def _one_layer_step_between(L, dev):
    w = t(L, dev, [[1.0, 2.0]], requires_grad=True)
    loss = (t(L, dev, [[3.0, 4.0]]) @ w.T).sum()
    loss.backward(retain_graph=True)
    with L.no_grad():
        w -= 0.1 * w.grad  # x does not require grad: mm kept only x, so the second backward is fine in torch
    loss.backward()
    return [w.grad, w._version]


def _versions_count(L, dev):
    x = t(L, dev, [1.0, 2.0, 3.0, 4.0])
    v = x[1:3]
    out = [x._version]
    x.add_(1)
    out.append([x._version, v._version])
    v.mul_(2)
    x[0] = 7.0
    out.append([x._version, v._version, x.detach()._version])
    d = x.data
    d.zero_()
    out.append([x._version, d._version, x])
    return out


@pytest.mark.parametrize("snippet", [_opt_step_between, _one_layer_step_between, _versions_count])
def test_versions_as_torch(snippet, backend):
    run_both(snippet, backend)


def test_modified_message_names_op_and_versions():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1).exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    assert "ExpBackward0" in str(e.value) and "version 1" in str(e.value) and "version 0" in str(e.value)


# ---- in-place ops on non-leaf tensors and views: values, every gradient, grad_fn ------------------------------------
def _inplace(body):
    """body(L, a, b, h) changes h = a * 1 (a non-leaf) in place; the result is h, its grad_fn and every gradient."""
    def snippet(L, dev):
        a, b = leaves(L, dev)
        h = a * 1
        out = body(L, a, b, h)
        h = out if out is not None else h
        g = t(L, dev, np.arange(h.numel(), dtype=np.float64).reshape(tuple(h.shape)) - 2.5)
        (h * g).sum().backward()
        return [h, node_name(h), grads(a, b)]
    return snippet


INPLACE = {
    "iadd": lambda L, a, b, h: h.__iadd__(b),
    "isub": lambda L, a, b, h: h.__isub__(b * 2),
    "imul": lambda L, a, b, h: h.__imul__(b),
    "itruediv": lambda L, a, b, h: h.__itruediv__(b),
    "ipow": lambda L, a, b, h: h.__ipow__(2),
    "add_alpha": lambda L, a, b, h: h.add_(b, alpha=-0.5),
    "mul_scalar": lambda L, a, b, h: h.mul_(3.0),
    "div_": lambda L, a, b, h: h.div_(b),
    "clamp_": lambda L, a, b, h: h.clamp_(-1.0, 2.0),
    "relu_": lambda L, a, b, h: h.relu_(),
    "exp_": lambda L, a, b, h: h.exp_(),
    "sigmoid_": lambda L, a, b, h: h.sigmoid_(),
    "zero_": lambda L, a, b, h: h.zero_(),
    "fill_": lambda L, a, b, h: h.fill_(2.5),
    "fill_tensor": lambda L, a, b, h: h.fill_(b[0]),
    "copy_": lambda L, a, b, h: h.copy_(b),
    "masked_fill_": lambda L, a, b, h: h.masked_fill_(h > 0.7, 0.0),
    "scatter_": lambda L, a, b, h: h.scatter_(1, L.tensor([[2], [0]], device=a.device), b[:2].reshape(2, 1) * 1),
    "setitem_int": lambda L, a, b, h: h.__setitem__(0, b),
    "setitem_slice": lambda L, a, b, h: h.__setitem__((slice(None), slice(1, 3)), b[1:] * 2),
    "setitem_scalar": lambda L, a, b, h: h.__setitem__((1, 2), 9.0),
    "setitem_mask": lambda L, a, b, h: h.__setitem__(h < 0, 0.0),
    "setitem_int_tensor": lambda L, a, b, h: h.__setitem__(L.tensor([1, 0], device=a.device), b * 3),
    "setitem_range": lambda L, a, b, h: h.__setitem__((range(2), [2, 0]), b[:2]),
    "setitem_list": lambda L, a, b, h: h.__setitem__([1], b),
    "setitem_iadd": lambda L, a, b, h: h.__setitem__(1, h[1].__iadd__(b)),
    "setitem_isub_adv": lambda L, a, b, h: h.__setitem__((range(2), [1, 2]), h[range(2), [1, 2]].__isub__(1)),
    "view_mul_": lambda L, a, b, h: (h[0].mul_(b), None)[1],
    "view_of_view": lambda L, a, b, h: (h[:, 1:][1].add_(b[:2]), None)[1],
    "transposed_view": lambda L, a, b, h: (h.t()[2].mul_(-1.0), None)[1],
    "reshape_view": lambda L, a, b, h: (h.reshape(3, 2)[0].div_(b[0]), None)[1],
    "view_then_base_changed": lambda L, a, b, h: (lambda v: (h.mul_(b), v * 1)[1])(h[1]),
    "view_changed_then_used": lambda L, a, b, h: (lambda v: (v.mul_(b[0]), v.exp())[1])(h[:, 0]),
    "chain": lambda L, a, b, h: (h.add_(1).mul_(b).clamp_(max=2.5), None)[1],
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_on_non_leaf_as_torch(name, backend):
    run_both(_inplace(INPLACE[name]), backend)


def _into_zeros(L, dev):
    """out = zeros(...); out[i] = f(x[i]): the row-by-row loop learners write."""
    x = t(L, dev, [[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    out = L.zeros(2, 2, dtype=L.float64, device=dev)
    for i in range(2):
        out[i] = (x[i] * x[i]).exp() / 10
    out.sum().backward()
    return [out, out.is_leaf, out.requires_grad, node_name(out), x.grad]


def _softmax_grad_by_hand(L, dev):
    """The course's d = probs; d[range(n), Y] -= 1; d /= n, on a non-leaf that then backpropagates further."""
    z = t(L, dev, [[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True)
    y = [2, 0]
    d = L.softmax(z, dim=1)
    d[range(2), y] -= 1
    d /= 2
    (d * d).sum().backward()
    return [d, z.grad]


def _in_place_into_leaf_with_grad_operand(L, dev):
    acc = L.zeros(3, dtype=L.float64, device=dev)
    w = t(L, dev, [1.0, 2.0, 3.0], requires_grad=True)
    acc += w * w
    acc.sum().backward()
    return [acc.is_leaf, node_name(acc), w.grad]


REFUSALS = {
    "leaf": lambda L, dev: leaves(L, dev)[0].add_(1),
    "leaf_iadd": lambda L, dev: leaves(L, dev)[0].__iadd__(1),
    "view_of_leaf": lambda L, dev: leaves(L, dev)[0][0].mul_(2),
    "leaf_setitem": lambda L, dev: leaves(L, dev)[0].__setitem__(0, 1.0),
    "expanded": lambda L, dev: L.zeros(3, device=dev).expand(2, 3).add_(1),
    "int_plus_float": lambda L, dev: L.arange(3, device=dev).__iadd__(1.5),
    "int_exp_": lambda L, dev: L.arange(3, device=dev).exp_(),
    "grow": lambda L, dev: L.zeros(3, device=dev).add_(L.ones(2, 3, device=dev)),
    "bool_from_int": lambda L, dev: L.zeros(3, dtype=L.bool, device=dev).add_(L.ones(3, dtype=L.int64, device=dev)),
}


@pytest.mark.parametrize("snippet", [_into_zeros, _softmax_grad_by_hand, _in_place_into_leaf_with_grad_operand])
def test_learner_in_place_code_as_torch(snippet, backend):
    run_both(snippet, backend)


@pytest.mark.parametrize("name", list(REFUSALS))
def test_in_place_refusals_as_torch(name, backend):
    assert run_both(REFUSALS[name], backend)[0] == "raised"


def _no_grad_in_place_on_leaf(L, dev):
    w = t(L, dev, [1.0, 2.0], requires_grad=True)
    with L.no_grad():
        w -= 0.5
        w[0] = 3.0
        w.clamp_(max=2.0)
    return [w, w.is_leaf, w.requires_grad, w.grad_fn is None, w._version]


def test_no_grad_in_place_on_leaf_as_torch(backend):
    run_both(_no_grad_in_place_on_leaf, backend)


# ---- backward twice ---------------------------------------------------------------------------------------------------
def _twice(op):
    def snippet(L, dev):
        x = t(L, dev, [1.0, 2.0], requires_grad=True)
        y = op(x).sum()
        y.backward()
        y.backward()
        return x.grad
    return snippet


@pytest.mark.parametrize("op", [lambda x: x + 1, lambda x: x * 2, lambda x: x.exp(), lambda x: x.reshape(2, 1),
                                lambda x: -x, lambda x: x[0:1] - 3, lambda x: x.t()])
def test_backward_twice_as_torch(op, backend):
    run_both(_twice(op), backend)


# ---- grad mode --------------------------------------------------------------------------------------------------------
def _grad_mode_cases(L):
    out = []

    @L.no_grad()
    def rec(n):
        return L.is_grad_enabled() if n == 0 else rec(n - 1)

    out.append([rec(3), L.is_grad_enabled()])

    with L.no_grad():
        with L.no_grad():
            out.append(L.is_grad_enabled())
        out.append(L.is_grad_enabled())
    out.append(L.is_grad_enabled())

    @L.no_grad
    def bare():
        return L.is_grad_enabled()

    @L.enable_grad()
    def on():
        return L.is_grad_enabled()

    with L.no_grad():
        out.append([bare(), on(), L.is_grad_enabled()])
    out.append(L.is_grad_enabled())

    @L.set_grad_enabled(False)
    def off():
        return L.is_grad_enabled()

    out.append([L.is_grad_enabled(), off(), L.is_grad_enabled()])  # decorating changed nothing
    L.set_grad_enabled(False)
    out.append(L.is_grad_enabled())
    L.set_grad_enabled(True)
    with L.set_grad_enabled(False):
        out.append(L.is_grad_enabled())
    out.append(L.is_grad_enabled())

    @L.no_grad()
    def gen():
        for _ in range(2):
            yield L.is_grad_enabled()

    seen = []
    for v in gen():
        seen.append([v, L.is_grad_enabled()])
    out.append(seen)

    with L.inference_mode():
        x = L.ones(2)
        out.append([L.is_grad_enabled(), L.is_inference_mode_enabled(), x.is_inference()])
        with L.inference_mode(False):
            out.append([L.is_grad_enabled(), L.is_inference_mode_enabled()])
    out.append([L.is_grad_enabled(), L.is_inference_mode_enabled(), L.ones(1).is_inference()])
    out.append(_catch(lambda L_, d: x.add_(1), L, None))

    @L.inference_mode
    def inf():
        return L.is_grad_enabled()

    out.append([inf(), L.is_grad_enabled()])
    w = L.ones(2, requires_grad=True)
    with L.no_grad():
        y = w * 2
    out.append([y.requires_grad, y.grad_fn is None])
    return out


def test_grad_modes_as_torch():
    _same(_norm(_grad_mode_cases(minigrad)), _norm(_grad_mode_cases(torch)))


@pytest.mark.parametrize("L", [minigrad, torch], ids=["minigrad", "torch"])
def test_grad_mode_is_per_thread(L):
    """A no_grad decorated function called from two threads at once leaves grad on in both and in the caller."""
    barrier, seen = threading.Barrier(2), []

    @L.no_grad()
    def work():
        barrier.wait()
        seen.append(L.is_grad_enabled())
        barrier.wait()

    def thread():
        work()
        seen.append(("after", L.is_grad_enabled()))

    ts = [threading.Thread(target=thread) for _ in range(2)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    assert sorted(map(str, seen)) == sorted(map(str, [False, False, ("after", True), ("after", True)]))
    assert L.is_grad_enabled()


def test_one_no_grad_instance_entered_twice_keeps_no_state():
    """The issue asks for no state on a shared instance: leaving both blocks turns grad back on. (torch keeps the
    replaced mode on the instance, so its inner block overwrites it and grad stays off after the outer one.)"""
    ng = minigrad.no_grad()
    with ng:
        with ng:
            assert not minigrad.is_grad_enabled()
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    @minigrad.no_grad()
    def boom():
        raise ValueError("x")

    with pytest.raises(ValueError):
        boom()
    assert minigrad.is_grad_enabled()


# ---- reductions' dtypes and accumulation ------------------------------------------------------------------------------
REDUCTIONS = {
    "uint8_sum": lambda L, dev: [L.tensor([200, 100, 50], dtype=L.uint8, device=dev).sum() - 1000],
    "bool_sum": lambda L, dev: L.tensor([True, False, True], device=dev).sum(),
    "int32_sum_dim": lambda L, dev: L.tensor([[1, 2], [3, 4]], dtype=L.int32, device=dev).sum(1),
    "uint8_prod": lambda L, dev: L.tensor([200, 100], dtype=L.uint8, device=dev).prod(),
    "bool_cumsum": lambda L, dev: L.tensor([True, True, False], device=dev).cumsum(0),
    "int16_cumprod": lambda L, dev: L.tensor([300, 300, 3], dtype=L.int16, device=dev).cumprod(0),
    "int_mean": lambda L, dev: L.tensor([1, 2], device=dev).mean(),
    "uint8_mean": lambda L, dev: L.tensor([1, 2], dtype=L.uint8, device=dev).mean(),
    "float32_cumsum": lambda L, dev: L.full((100000,), 0.1, device=dev).cumsum(0)[-3:],
    "float32_cumsum_random": lambda L, dev: L.tensor(np.random.default_rng(0).standard_normal((7, 5000))
                                                     .astype(np.float32), device=dev).cumsum(1),
    "float32_cumprod": lambda L, dev: L.tensor(np.random.default_rng(1).uniform(0.9, 1.1, 3000)
                                               .astype(np.float32), device=dev).cumprod(0),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_dtypes_as_torch(name, backend):
    run_both(REDUCTIONS[name], backend)


def _prod_grads(L, dev):
    out = []
    for vals in ([[1.5, 2.0, -3.0], [0.5, 4.0, 2.0]], [[1.5, 0.0, -3.0], [0.0, 4.0, 0.0]]):
        x = t(L, dev, vals, requires_grad=True)
        (x.prod(1) * t(L, dev, [0.5, -2.0])).sum().backward()
        g1 = x.grad
        x.grad = None
        x.prod().backward()
        g2 = x.grad
        x.grad = None
        (x.cumprod(1) * t(L, dev, [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])).sum().backward()
        out.append([g1, g2, x.grad])
    return out


def test_prod_cumprod_gradients_as_torch(backend):
    run_both(_prod_grads, backend)


# ---- user-defined autograd Functions ----------------------------------------------------------------------------------
def _user_functions(L, dev):
    from importlib import import_module

    function = import_module(L.__name__ + ".autograd.function")
    out = []

    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, gy):
            x, = ctx.saved_tensors
            out.append(list(ctx.needs_input_grad))
            return gy * 3 * x ** 2 * ctx.k, None

    x = t(L, dev, [1.0, -2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    out.append([y, type(y.grad_fn).__name__, y.grad_fn.name(), y.requires_grad])
    y.sum().backward(retain_graph=True)
    out.append(x.grad)
    with L.no_grad():
        x.mul_(2)
    out.append(_catch(lambda L_, d: y.sum().backward(), L, dev))  # saved x changed in place

    class SortLike(L.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2, x.argmax()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_non_differentiable(output[1])
            ctx.set_materialize_grads(False)

        @staticmethod
        @function.once_differentiable
        def backward(ctx, g, gi):
            return g * 2

    a, i = SortLike.apply(x)
    out.append([a, i, a.requires_grad, i.requires_grad])
    x.grad = None
    a.sum().backward()
    out.append(x.grad)

    class AddInPlace(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g, g

    h = x * 1
    b = t(L, dev, [3.0, 4.0], requires_grad=True)
    r = AddInPlace.apply(h, b)
    out.append([r is h, h, h.grad_fn.name()])
    (r * r).sum().backward()
    out.append([x.grad, b.grad])

    class Two(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + 3 * g2

    p, q = Two.apply(x)
    x.grad = None
    q.sum().backward()
    out.append(x.grad)

    class Wrong(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    out.append(_catch(lambda L_, d: Wrong.apply(x).sum().backward(), L, dev))

    class NoSave(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x + 1

        @staticmethod
        def backward(ctx, g):
            return g

    z = NoSave.apply(x).sum()
    z.backward()
    z.backward()  # saved nothing: a second backward works
    out.append(x.grad)
    return out


def test_user_functions_as_torch(backend):
    run_both(_user_functions, backend)


def _autograd_functions(L, dev):
    x = t(L, dev, [1.0, 2.0], requires_grad=True)
    w = t(L, dev, [3.0, -1.0], requires_grad=True)
    z = x * w
    y = (z * z).sum()
    g = L.autograd.grad(y, [x, z], retain_graph=True)
    out = [list(g), x.grad, w.grad]
    out.append(_catch(lambda L_, d: L.autograd.grad(y, [x, t(L, dev, [1.0], requires_grad=True)],
                                                    retain_graph=True), L, dev))
    unused = L.autograd.grad(y, [x, t(L, dev, [1.0], requires_grad=True)], retain_graph=True, allow_unused=True)
    out.append([unused[0], unused[1] is None])
    out.append(list(L.autograd.grad(z, x, grad_outputs=t(L, dev, [1.0, 10.0]), retain_graph=True)))
    L.autograd.backward([y, z.sum()], retain_graph=True)
    out.append([x.grad, w.grad])
    x.grad = w.grad = None
    y.backward(inputs=[w])
    out.append([x.grad, w.grad])
    v = L.autograd.Variable(t(L, dev, [1.0]), requires_grad=True)
    out.append([type(v).__name__, v.requires_grad, v.is_leaf])
    return out


def test_autograd_grad_backward_variable_as_torch(backend):
    run_both(_autograd_functions, backend)


def test_autograd_gradcheck_reachable():
    x = minigrad.tensor([0.3, -1.2], dtype=minigrad.float64, requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda a: (a * a).exp(), (x,))


def _copies_are_leaves_of_their_own(L, dev):
    import copy

    w = t(L, dev, [1.0, 2.0], requires_grad=True)
    (w * 2).sum().backward()
    deep = copy.deepcopy(w)
    (deep * 3).sum().backward()
    m = L.nn.Linear(2, 1).to(dev).double()
    (m(w.detach()) * 1).sum().backward()
    m2 = copy.deepcopy(m)
    (m2(w.detach()) * 5).sum().backward()
    return [w.grad, deep.grad, m.bias.grad, m2.bias.grad]


def test_deepcopy_as_torch(backend):
    run_both(_copies_are_leaves_of_their_own, backend)


# ---- gradients torch defines where a naive composition would not --------------------------------------------------
@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_has_a_zero_gradient_as_torch(mode):
    """torch.div(x, y, rounding_mode=...) is a DivBackward2 node whose gradient is 0, for both inputs."""
    grads, names = [], []
    for T in (minigrad, torch):
        x = T.tensor([1.0, -5.0, 7.0], requires_grad=True)
        y = T.tensor([2.0, 2.0, -3.0], requires_grad=True)
        q = T.div(x, y, rounding_mode=mode)
        (q * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append((q.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
        names.append(type(q.grad_fn).__name__ if T is torch else q.grad_fn.name())
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    assert names[0] == names[1] == "DivBackward2"


def test_floor_divide_requires_grad_and_refuses_backward_as_torch():
    for T in (minigrad, torch):
        x = T.tensor([1.0, -5.0, 7.0], requires_grad=True)
        q = x // 2
        assert q.requires_grad
        with pytest.raises(RuntimeError, match="floor_divide"):
            q.sum().backward()


@pytest.mark.parametrize("dim", [None, 1])
def test_std_at_zero_spread_has_torch_zero_gradient(dim):
    """std's gradient where every value is equal: torch masks the 0/0 to 0 (StdBackward0); not NaN."""
    got = []
    for T in (minigrad, torch):
        x = T.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], dtype=T.float64, requires_grad=True)
        s = x[0].std() if dim is None else x.std(dim)  # row 0 alone: all equal
        s.sum().backward()
        got.append(x.grad.numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=0)
    assert not np.isnan(got[0]).any()
