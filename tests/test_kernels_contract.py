"""The fused-kernel dispatch on the CuPy double (the cupy_contract backend of tests/conftest.py): whole training
code paths reach the CUDA kernels exactly where they should. The double's compiled kernels refuse to run ("needs
a real GPU"), so an eligible input shows itself by that refusal naming the kernel; ineligible inputs train on the
xp formulas. Then the optimizer launches are carried out by the CPU twins (kernels/__init__.py, proven equal to the xp
formulas by tests/test_kernels.py) with every argument checked against the kernel's C signature
(the double's RawKernel, let launch): every optimizer, through Optimizer.step's one-launch batching, must
equal the xp formulas on the double bit for bit."""
from contextlib import contextmanager

import numpy as np
import pytest
from support.cupy_double import _launch

import minigrad
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad import kernels
from minigrad.kernels import cuda


@pytest.fixture
def double(backend, request):
    if request.node.callspec.params.get("backend") != "cupy_contract":
        pytest.skip("runs on the CuPy double (the cupy_contract backend)")
    return minigrad.backend._cupy


@contextmanager
def kernels_on():
    """The contract fixture turns the kernels off; these tests are about turning them on."""
    before = kernels.is_enabled()
    kernels.set_enabled(True)
    try:
        yield
    finally:
        kernels.set_enabled(before)


def _params(dtype="float32", shapes=((4, 3), (3,))):
    rng = np.random.default_rng(0)
    ps = [minigrad.tensor(rng.standard_normal(s).astype(dtype), device="cuda", requires_grad=True) for s in shapes]
    for p in ps:
        p.grad = minigrad.tensor(rng.standard_normal(p.shape).astype(dtype), device="cuda")
    return ps


def _stand_in(monkeypatch):
    """The double's RawKernels launch: each launch checked against the kernel's C signature, recorded, and carried
    out on the host (support/cupy_double/_launch.py). Returns the list of launches."""
    monkeypatch.setitem(_launch.MODE, "mode", "emulate")
    _launch.LAUNCHES.clear()
    return _launch.LAUNCHES


def test_eligible_inputs_reach_the_cuda_kernels(double):
    x = minigrad.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), device="cuda")
    t = minigrad.tensor(np.array([0, 3, 1]), device="cuda")
    cases = [(lambda: optim.Adam(_params()).step(), "adam_float"),
             (lambda: optim.SGD(_params("float64"), lr=0.1).step(), "sgd_double"),
             (lambda: F.relu(x), "relu_float"),
             (lambda: F.cross_entropy(x, t), "softmax_cross_entropy_float"),
             (lambda: F.binary_cross_entropy_with_logits(x, x), "bce_with_logits_float")]
    with kernels_on():
        for run, name in cases:
            with pytest.raises(RuntimeError, match="needs a real GPU") as e:
                run()
            assert name in str(e.value)


def test_ineligible_inputs_train_on_the_xp_formulas(double):
    with kernels_on():
        optim.Adam(_params(), amsgrad=True).step()
        optim.Adam(_params("float16")).step()
        ps = _params(shapes=((4, 6),))
        ps[0].array = ps[0].array[:, ::2]  # a strided parameter
        ps[0].grad = minigrad.tensor(np.ones((4, 3), np.float32), device="cuda")
        optim.SGD(ps, lr=0.1).step()
        x = minigrad.tensor(np.ones((3, 4), np.float16), device="cuda", requires_grad=True)
        F.relu(x).sum().backward()
        assert F.relu(minigrad.tensor(np.ones((4, 3), np.float32), device="cuda").T).shape == (3, 4)
    optim.Adam(_params()).step()  # kernels off (the contract default): the xp formulas, no launch


def _need_numba():
    if not kernels.available():
        pytest.skip(f"optimizer launches are carried out by the Numba kernels: {kernels.status()}")


OPTIMIZERS = [("Adam", {"lr": 1e-2}), ("AdamW", {"lr": 1e-2, "betas": (0.3, 0.2)}), ("SGD", {"lr": 0.1}),
              ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
              ("RMSprop", {"lr": 1e-2, "centered": True, "momentum": 0.5}), ("Adagrad", {"lr": 0.1}),
              ("Adadelta", {"lr": 1.0})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_launches_equal_the_xp_formulas(double, monkeypatch, name, kw, dtype):
    _need_numba()
    launches = _stand_in(monkeypatch)

    def train(fused):
        rng = np.random.default_rng(1)
        shapes = [(5, 6), (7,), (), (3, 4)] * 5  # 20 parameters: two launches of cuda.SLOTS
        ps = [minigrad.tensor(rng.standard_normal(s).astype(dtype), device="cuda", requires_grad=True)
              for s in shapes]
        opt = getattr(optim, name)(ps, **kw)
        with (kernels_on() if fused else kernels.disabled()):
            for step in range(3):
                for p, s in zip(ps, shapes):
                    p.grad = minigrad.tensor(rng.standard_normal(s).astype(dtype), device="cuda")
                opt.step()
        return [p.detach().cpu().numpy() for p in ps]

    fused, ref = train(True), train(False)
    fused_steps = 2 if kw.get("momentum") and name == "SGD" else 3  # SGD's first step makes its buffer (xp)
    assert len(launches) == fused_steps * -(-20 // cuda.SLOTS)
    for a, b in zip(fused, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss", ["cross_entropy", "bce_with_logits"])
def test_a_training_step_with_every_kernel_equals_the_xp_formulas(double, monkeypatch, loss):
    """The course MLP's step on the double: ReLU, the loss and Adam through the CUDA dispatch (launches carried
    out on the host) give the bits the xp formulas give, and each kernel is launched once per step."""
    _need_numba()
    launches = _stand_in(monkeypatch)
    rng = np.random.default_rng(2)
    X = rng.random((8, 20), dtype=np.float32)
    y = rng.integers(0, 4, 8) if loss == "cross_entropy" else rng.random((8, 4)).astype(np.float32)
    y[3] = -100 if loss == "cross_entropy" else y[3]

    def train(fused):
        minigrad.manual_seed(0)
        model = minigrad.nn.Sequential(minigrad.nn.Linear(20, 16), minigrad.nn.ReLU(), minigrad.nn.Linear(16, 4))
        model = model.to("cuda")
        opt = optim.Adam(model.parameters(), lr=1e-2)
        fn = F.cross_entropy if loss == "cross_entropy" else F.binary_cross_entropy_with_logits
        xs, ys = minigrad.tensor(X, device="cuda"), minigrad.tensor(y, device="cuda")
        with (kernels_on() if fused else kernels.disabled()):
            for _ in range(3):
                opt.zero_grad()
                out = fn(model(xs), ys)
                out.backward()
                opt.step()
        return [p.detach().cpu().numpy() for p in model.parameters()] + [out.detach().cpu().numpy()]

    fused = train(True)
    names = [name.rsplit("_", 1)[0] for name, *_ in launches]
    launches.clear()
    ref = train(False)
    assert launches == []
    step = ["relu", loss.replace("cross_entropy", "softmax_cross_entropy"), "_backward", "relu_backward", "adam"]
    step[2] = step[1] + step[2]
    assert names == step * 3
    for a, b in zip(fused, ref):
        np.testing.assert_array_equal(a, b)
