"""minigrad.nn against torch.nn: layers (forward + every gradient), init laws, Module API, Dropout, dtypes."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from support.helpers import assert_close, check_op, to_torch, torch_device
from support.strategies import DTYPES, arrays, floats, tie_prone

dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])


# ---- layers ------------------------------------------------------------------------------------
@dtypes
@pytest.mark.parametrize("bias", [True, False])
@given(data=st.data())
def test_linear_functional(backend, dtype, bias, data):
    lead = tuple(data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    n_in, n_out = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    x = data.draw(arrays(dtype, lead + (n_in,)))
    W = data.draw(arrays(dtype, (n_out, n_in)))
    b = data.draw(arrays(dtype, (n_out,)))
    if bias:
        check_op(F.linear, TF.linear, [x, W, b], backend)
    else:
        check_op(F.linear, TF.linear, [x, W], backend)


@dtypes
@given(data=st.data())
def test_linear_one_row_weight_gradient_is_the_gemms(backend, dtype, data):
    """Batch of one: dW = gy^T x is computed as an outer product; same values as the matrix product, and +0
    where a product is -0 (as a GEMM's sum started at 0 gives), exact zeros and infinities included."""
    n_in, n_out = data.draw(st.integers(1, 130)), data.draw(st.sampled_from([1, 3, 40, 64]))  # W.size >= 4096 too
    values = floats(dtype, -1e3, 1e3) | st.sampled_from([0.0, -0.0, np.inf])
    x = data.draw(arrays(dtype, (1, n_in), values))
    gy = data.draw(arrays(dtype, (1, n_out), values))
    W = minigrad.zeros(n_out, n_in, dtype=dtype, device=backend, requires_grad=True)
    F.linear(minigrad.tensor(x, device=backend), W).backward(minigrad.tensor(gy, device=backend))
    gW = minigrad.backend.to_numpy(W.grad.array)
    with np.errstate(invalid="ignore"):
        expected = gy.T @ x
    np.testing.assert_array_equal(gW, expected)  # NaN (inf * 0) at the same places
    assert not np.any((gW == 0) & np.signbit(gW))


def _pair(mg_module, torch_module, backend):
    """Copy minigrad's weights into the torch module (minigrad -> torch)."""
    torch_module.load_state_dict({k: to_torch(v, backend) for k, v in mg_module.state_dict().items()})
    return torch_module.to(torch_device(backend))


@dtypes
def test_linear_module_weights_both_ways(backend, dtype):
    rng = np.random.default_rng(0)
    m = nn.Linear(5, 3, device=backend, dtype=dtype)
    t = _pair(m, torch.nn.Linear(5, 3, dtype=getattr(torch, str(np.dtype(dtype)))), backend)
    x = rng.standard_normal((4, 5)).astype(dtype)
    check_op(lambda a: m(a), lambda a: t(a), [x], backend)
    assert m.weight.grad is not None and m.weight.grad.dtype == dtype
    assert_close(m.weight.grad, t.weight.grad)
    assert_close(m.bias.grad, t.bias.grad)
    # torch -> minigrad
    t2 = torch.nn.Linear(5, 3, dtype=t.weight.dtype)
    m.load_state_dict(t2.state_dict())
    assert m.weight.dtype == dtype
    assert_close(m.weight, t2.weight)
    assert_close(m(minigrad.tensor(x, device=backend)), t2(torch.from_numpy(x)))


ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.Flatten(), lambda: torch.nn.Flatten()),
    (lambda: nn.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1)),
    (lambda: nn.Identity(), lambda: torch.nn.Identity()),
]


@dtypes
@pytest.mark.parametrize("make", ACTIVATIONS, ids=lambda m: repr(m[0]()))
@given(data=st.data())
def test_activation_layers(backend, dtype, make, data):
    shape = data.draw(st.sampled_from([(2, 3), (1, 4), (3, 2, 2)]))
    big = st.sampled_from([-1000.0, -50.0, 50.0, 1000.0]).map(np.dtype(dtype).type)  # saturation
    x = data.draw(arrays(dtype, shape, st.one_of(floats(dtype), tie_prone(dtype), big)))
    m, t = make[0](), make[1]()
    check_op(lambda a: m(a), lambda a: t(a), [x], backend)
    assert repr(m) == repr(t)


@dtypes
def test_mlp_matches_torch_end_to_end(backend, dtype):
    """A course-style MLP: same weights, same batch, same loss -> same loss and parameter grads."""
    tdt = getattr(torch, str(np.dtype(dtype)))
    m = nn.Sequential(nn.Linear(12, 8, dtype=dtype), nn.ReLU(), nn.Linear(8, 6, dtype=dtype), nn.LeakyReLU(),
                      nn.Linear(6, 4, dtype=dtype)).to(backend)
    t = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.LeakyReLU(),
                            torch.nn.Linear(6, 4)).to(tdt)
    t = _pair(m, t, backend)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 12)).astype(dtype), rng.integers(0, 4, 16)
    loss = nn.CrossEntropyLoss()(m(minigrad.tensor(x, device=backend)), minigrad.tensor(y, device=backend))
    tloss = torch.nn.CrossEntropyLoss()(t(to_torch(x, backend)), to_torch(y, backend))
    loss.backward()
    tloss.backward()
    assert loss.dtype == dtype
    assert_close(loss, tloss)
    for (name, p), (tname, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert name == tname and p.grad.dtype == dtype
        assert_close(p.grad, tp.grad)


def test_float32_end_to_end_no_float64(backend):
    m = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.3), nn.Linear(5, 3), nn.Sigmoid()).to(backend)
    x = minigrad.randn(4, 6, device=backend)
    out = m(x)
    loss = (F.binary_cross_entropy(out, minigrad.rand(4, 3, device=backend))
            + F.cross_entropy(out, minigrad.tensor([0, 1, 2, 0], device=backend)))
    loss.backward()
    assert out.dtype == loss.dtype == np.float32
    assert all(p.dtype == p.grad.dtype == np.float32 for p in m.parameters())


def test_linear_and_dropout_raw_backward_stay_float32():
    """The ops' own backward (before the base class casts) must not produce float64."""
    from minigrad.nn.layers import DropoutFunction, LinearFunction

    x = minigrad.randn(3, 2, 4, requires_grad=True)
    W, b = minigrad.randn(5, 4, requires_grad=True), minigrad.randn(5, requires_grad=True)
    op = LinearFunction()
    y = op(x, W, b)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in op.backward(np.ones(y.shape, np.float32)))
    op = DropoutFunction(0.3, np.ones((3, 2, 4), bool))
    y = op(x)
    assert y.dtype == np.float32 and op.backward(np.ones(y.shape, np.float32)).dtype == np.float32


# ---- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fan_in,fan_out", [(784, 500), (3, 2000), (1, 64)])
def test_linear_default_init_law(backend, fan_in, fan_out):
    from scipy import stats

    m = nn.Linear(fan_in, fan_out, device=backend)
    bound = 1 / np.sqrt(fan_in)
    for p in (m.weight, m.bias):
        a = p.detach().cpu().numpy().ravel().astype(np.float64)
        assert p.dtype == np.float32 and p.requires_grad
        assert a.min() >= -bound and a.max() <= bound
        if a.size >= 1000:  # KS test against U(-bound, bound); the seed is fixed, so this cannot flake
            assert stats.kstest(a, stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > 1e-3
            assert abs(a.mean()) < 5 * bound / np.sqrt(3 * a.size)


def test_init_laws_match_torch():
    from torch.nn import init as tinit

    for nl, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(tinit.calculate_gain(nl, param), rel=0, abs=0)
    w = minigrad.empty(64, 32, 3, 3)
    assert nn.init._calculate_fan_in_and_fan_out(w) == tinit._calculate_fan_in_and_fan_out(torch.empty(64, 32, 3, 3))
    big = nn.Parameter(minigrad.empty(400, 300))
    fan_in, fan_out = 300, 400
    cases = [
        (lambda t: nn.init.xavier_uniform_(t, gain=2.0), "u", 2.0 * np.sqrt(6 / (fan_in + fan_out))),
        (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), "u", np.sqrt(2) * np.sqrt(3 / fan_in)),
        # a=0: gain sqrt(2)
        (lambda t: nn.init.kaiming_uniform_(t, mode="fan_out"), "u", np.sqrt(2) * np.sqrt(3 / fan_out)),
        (lambda t: nn.init.xavier_normal_(t), "n", np.sqrt(2 / (fan_in + fan_out))),
        (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), "n", np.sqrt(2 / fan_in)),
        (lambda t: nn.init.normal_(t, 1.0, 0.5), "n", 0.5),
        (lambda t: nn.init.uniform_(t, -0.3, 0.3), "u", 0.3),
    ]
    for fn, kind, scale in cases:
        out = fn(big)
        a = big.detach().numpy().astype(np.float64)
        assert out is big and big.dtype == np.float32 and big.requires_grad
        if kind == "u":
            lim = scale * (1 + 1e-6)  # the bound itself is rounded to float32
            assert a.min() >= -lim and a.max() <= lim and a.max() > 0.99 * scale
            assert a.std() == pytest.approx(scale / np.sqrt(3), rel=0.02)
        else:
            assert a.std() == pytest.approx(scale, rel=0.02)
    for fn, v in [(nn.init.zeros_, 0.0), (nn.init.ones_, 1.0), (lambda t: nn.init.constant_(t, 0.25), 0.25)]:
        fn(big)
        assert np.all(big.detach().numpy() == v)
    d = nn.init.uniform_(minigrad.empty(3, 3, dtype=minigrad.float64))
    assert d.dtype == np.float64


# ---- Module API ---------------------------------------------------------------------------------
def make_net(lib):
    """The same architecture written against minigrad.nn or torch.nn."""
    tensor = minigrad.tensor if lib is nn else torch.tensor

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.Linear(4, 3)
            self.act = lib.ReLU()
            self.blocks = lib.ModuleList([lib.Linear(3, 3), lib.Linear(3, 3, bias=False)])
            self.head = lib.Sequential(lib.Dropout(0.1), lib.Linear(3, 2))
            self.register_buffer("scale", tensor([1.0, 2.0]))
            self.register_buffer("tmp", tensor([0.0]), persistent=False)

        def forward(self, x):
            x = self.act(self.fc1(x))
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.scale

    return Net()


def MgNet(_):
    return make_net(nn)


def TorchNet(_):
    return make_net(torch.nn)


def test_module_names_and_state_dict_keys_match_torch():
    m, t = MgNet(nn), TorchNet(torch.nn)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [type(c).__name__ for c in m.modules()] == [type(c).__name__ for c in t.modules()]
    assert len(list(m.parameters())) == len(list(t.parameters())) == 7
    assert repr(m) == repr(t)
    seq = nn.Sequential(nn.Linear(784, 500), nn.ReLU())
    tseq = torch.nn.Sequential(torch.nn.Linear(784, 500), torch.nn.ReLU())
    assert list(seq.state_dict()) == list(tseq.state_dict()) == ["0.weight", "0.bias"]


def test_state_dict_round_trip_with_torch():
    m, t = MgNet(nn), TorchNet(torch.nn)
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    m.eval(), t.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(m(minigrad.tensor(x)), t(torch.from_numpy(x)))
    m2 = MgNet(nn)
    assert m2.load_state_dict(t.state_dict()).__repr__() == "<All keys matched successfully>"
    m2.eval()
    assert_close(m2(minigrad.tensor(x)), t(torch.from_numpy(x)))
    sd = m.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    assert sd["fc1.weight"].array is m.fc1.weight.array  # detached views share memory, as torch


def test_load_state_dict_non_strict_reports_keys_like_torch():
    m, t = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    sd = {"weight": np.zeros((3, 2), np.float32), "extra": np.zeros(1, np.float32)}
    r = m.load_state_dict(sd, strict=False)
    tr = t.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert r.missing_keys == tr.missing_keys and r.unexpected_keys == tr.unexpected_keys
    assert np.all(m.weight.detach().numpy() == 0)


def test_repr_matches_torch():
    mk = lambda lib: lib.Sequential(lib.Linear(784, 500), lib.ReLU(), lib.Dropout(0.2), lib.Linear(500, 300),  # noqa
                                    lib.LeakyReLU(0.1), lib.Dropout(), lib.Linear(300, 10, bias=False),
                                    lib.Sequential(lib.Softmax(dim=1)), lib.ReLU(inplace=True))
    assert repr(mk(nn)) == repr(mk(torch.nn))
    for lib_m, t in [(nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
                      torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])),
                     (nn.ModuleList(), torch.nn.ModuleList()),
                     (nn.MSELoss(), torch.nn.MSELoss()), (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss())]:
        assert repr(lib_m) == repr(t)
    v = np.array([1.0, -2.0], np.float32)  # (the Tensor repr itself is not ours to test)
    assert repr(nn.Parameter(minigrad.tensor(v))) == repr(torch.nn.Parameter(torch.from_numpy(v)))


def test_train_eval_zero_grad():
    m = MgNet(nn)
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m and not any(c.training for c in m.modules())
    assert m.train() is m and all(c.training for c in m.modules())
    m(minigrad.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(p.grad.numpy()) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    visited = []
    m.apply(lambda mod: visited.append(type(mod).__name__))
    tv = []
    TorchNet(torch.nn).apply(lambda mod: tv.append(type(mod).__name__))
    assert visited == tv


def test_to_dtype_keeps_parameter_objects():
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    m.register_buffer("steps", minigrad.tensor([1, 2]))
    params = list(m.parameters())  # what an optimizer would hold
    m(minigrad.randn(4, 3)).sum().backward()
    assert m.double() is m
    assert all(a is b for a, b in zip(params, m.parameters()))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert m.steps.dtype == np.int64  # only floating tensors are cast, as torch
    out = m(minigrad.randn(4, 3, dtype=minigrad.float64))
    assert out.dtype == np.float64
    m.to(minigrad.float32)
    assert all(p.dtype == np.float32 for p in params)
    assert m.cpu() is m and m.to("cpu") is m and m[0].weight.device.type == "cpu"


def test_to_device_moves_in_place(backend):
    m = nn.Linear(3, 2)
    w = m.weight
    m.to(backend)
    assert m.weight is w and w.backend == backend and m.bias.backend == backend


def test_parameter_semantics():
    t = minigrad.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, minigrad.Tensor) and p.requires_grad and p.is_leaf and p.array is t.array
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    m = nn.Module()
    m.w = p
    m.sub = nn.Linear(1, 1)
    assert list(m.state_dict()) == ["w", "sub.weight", "sub.bias"]
    m.w = None  # a registered parameter may be set to None, as torch
    assert list(m.state_dict()) == ["sub.weight", "sub.bias"]
    del m.sub
    assert list(m.state_dict()) == [] and not hasattr(m, "sub")
    c = copy.deepcopy(nn.Linear(2, 2))
    assert isinstance(c.weight, nn.Parameter) and c.weight.requires_grad
    lin = nn.Linear(2, 2)
    c2 = copy.deepcopy(lin)
    c2.weight.array[...] = 0
    assert np.any(lin.weight.detach().numpy() != 0)  # the copy owns its memory


def test_sequential_and_modulelist_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert len(s) == 2 and isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.ReLU)
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU"]
    s.append(nn.Linear(3, 1))
    assert len(s) == 3 and list(s.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(s[:2], nn.Sequential) and len(s[:2]) == 2
    assert s(minigrad.randn(5, 2)).shape == (5, 1)
    with pytest.raises(IndexError):
        s[3]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 1))
    assert len(ml) == 2 and len(list(ml.parameters())) == 4


# ---- Dropout ------------------------------------------------------------------------------------
def test_dropout_identity_cases(backend):
    x = minigrad.randn(4, 5, device=backend)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    d0 = nn.Dropout(0.0)
    assert d0(x) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_scaling_and_keep_rate(backend, p):
    x = minigrad.ones(200, 500, device=backend)
    y = nn.Dropout(p)(x).detach().cpu().numpy()
    scaled = np.float32(1) / np.float32(1 - p)
    assert set(np.unique(y)) <= {0.0, scaled}
    kept = (y != 0).mean()
    sigma = np.sqrt(p * (1 - p) / y.size)
    assert abs(kept - (1 - p)) < 6 * sigma


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 1.0])
def test_dropout_injected_mask_equals_torch(backend, dtype, p):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 5)).astype(dtype)
    mask = rng.random((6, 5)) > 0.4
    tmask = to_torch(mask, backend)
    scale = 0.0 if p == 1.0 else 1 / (1 - p)
    check_op(lambda a: F.dropout(a, p, True, mask=mask),
             lambda a: a * tmask * scale if p == 1.0 else a * tmask / (1 - p), [x], backend)
    # the same through the module's mask_fn
    d = nn.Dropout(p)
    calls = []
    d.mask_fn = lambda shape, be: calls.append((shape, be)) or minigrad.tensor(mask, device=be)
    check_op(lambda a: d(a), lambda a: a * tmask * scale if p == 1.0 else a * tmask / (1 - p), [x], backend)
    assert calls == [((6, 5), backend)]
    d.eval()
    xt = minigrad.tensor(x, device=backend)
    assert d(xt) is xt and len(calls) == 1  # eval never asks for a mask


def test_dropout_same_mask_as_torch_native():
    """With torch's own noise replayed as our mask, F.dropout equals torch's F.dropout bit for bit."""
    torch.manual_seed(0)
    x = torch.randn(64, 100)
    y = TF.dropout(x, 0.3, training=True)
    mask = (y != 0).numpy()
    ours = F.dropout(minigrad.tensor(x.numpy()), 0.3, True, mask=mask)
    assert np.array_equal(ours.numpy(), y.numpy())
