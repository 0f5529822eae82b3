"""CUDA kernels (minigrad/kernels/cuda.py) without a GPU: every source compiles with NVRTC, and the dispatch in
minigrad/kernels sends CuPy arrays to them with arguments that match each kernel's C signature.

The dispatch tests run on the CuPy double with its RawKernels let launch (support/cupy_double/_launch.py): each
launch parses the kernel's C signature and checks every argument against it (a float where the kernel reads a
double would corrupt silently on a GPU); optimizer kernels are then carried out with the Numba loops, which
tests/test_kernels.py proves equal to the xp formulas, so the multi-tensor packing is checked end to end. The bit-for-bit check of the
CUDA code itself needs a GPU: tests/test_kernels.py's cupy cases and `make gpu-check` run there.
"""
import re

import numpy as np
import pytest
from support.cupy_double import _launch, cupy as _double

import minigrad
import minigrad.optim as optim
from minigrad import kernels
from minigrad import kernels as cpu  # the Numba loops' tables (ARGS, KERNELS, FLOAT32)
from minigrad.kernels import cuda

try:
    from cupy_backends.cuda.libs import nvrtc
    nvrtc.getVersion()
    NVRTC_ERROR = None
except Exception as e:  # the nvidia-cuda-nvrtc wheel is in the [test] extra; without it say why
    NVRTC_ERROR = f"{type(e).__name__}: {e}"

needs_nvrtc = pytest.mark.skipif(NVRTC_ERROR is not None, reason=f"NVRTC not loadable: {NVRTC_ERROR}")
ALL = sorted(cuda.SOURCES)
OPTIM_NAMES = [k for k in ALL if k[0] in cuda.OPTIMIZERS]


def compile_ptx(code, name="k.cu"):
    """PTX text for `code` (what cupy.RawKernel hands the driver), or NVRTCError carrying the compiler log.
    compute_80 is the oldest architecture the project targets (A100); CuPy passes the device's own."""
    prog = nvrtc.createProgram(code, name, [], [])
    try:
        nvrtc.compileProgram(prog, ["-arch=compute_80", *cuda.OPTIONS])
    except nvrtc.NVRTCError as e:
        raise nvrtc.NVRTCError(e.status) from RuntimeError(nvrtc.getProgramLog(prog))
    ptx = nvrtc.getPTX(prog)
    return ptx.decode() if isinstance(ptx, bytes) else ptx


@needs_nvrtc
@pytest.mark.parametrize("key", ALL, ids=[f"{n}-{d}" for n, d in ALL])
def test_every_kernel_source_compiles(key):
    code, fn = cuda.SOURCES[key]
    ptx = compile_ptx(code, f"{key[0]}.cu")
    assert re.search(rf"\.entry\s+{fn}\s*\(", ptx), f"{fn} not defined by its source"
    # IEEE division and square root, never the approximate forms (fast-math would round differently); the math
    # library's own exp/log1p seed Newton steps with rcp.approx, so rcp is not checked
    assert not re.search(r"\b(div|sqrt)\.(approx|full)\b", ptx)


@needs_nvrtc
@pytest.mark.parametrize("key", OPTIM_NAMES + [k for k in ALL if k[0].startswith("relu")],
                         ids=lambda k: f"{k[0]}-{k[1]}")
def test_no_contracted_multiply_add(key):
    """--fmad=false: the xp code rounds a * b and + c separately, so must the kernel (no FMA instruction).
    Only where no math-library call is inlined: exp/log use FMAs internally, as CuPy's own ufuncs do."""
    assert "fma." not in compile_ptx(cuda.SOURCES[key][0])


@needs_nvrtc
def test_the_compile_check_catches_a_broken_source():
    code, _ = cuda.SOURCES[("adam", "float32")]
    with pytest.raises(nvrtc.NVRTCError):
        compile_ptx(code.replace("sqrt(vi)", "sqrt(vi, 1)"))
    prog = nvrtc.createProgram(code, "fmad.cu", [], [])
    nvrtc.compileProgram(prog, ["-arch=compute_80", "--fmad=true"])
    contracted = nvrtc.getPTX(prog)
    assert b"fma." in (contracted if isinstance(contracted, bytes) else contracted.encode())  # the flag matters


def test_every_optimizer_the_cpu_fuses_has_a_cuda_twin_with_its_arguments():
    """kernels.run passes the same (arrays, constants) to either side, so the layouts must agree."""
    for name, (arrays, scalars, _) in cuda.OPTIMIZERS.items():
        assert len(cpu.ARGS[name]) == len(arrays) + len(scalars), name
        assert cpu.ARGS[name][:len(arrays)] == "a" * len(arrays)
        for s, kind in zip(scalars, cpu.ARGS[name][len(arrays):]):
            assert (kind == "b") == s.startswith("bool"), (name, s)
    assert set(cuda.OPTIMIZERS) == {k for k in cpu.KERNELS if k not in cpu.FLOAT32.values()} - {
        "relu", "relu_backward"}


# ---- dispatch on the CuPy double, its RawKernels let launch (support/cupy_double/_launch.py) -----------------
@pytest.fixture
def fake(monkeypatch):
    if not kernels.available():
        pytest.skip(f"the fake runs optimizer launches on the Numba kernels: {kernels.status()}")
    from conftest import install_cupy_double

    double = install_cupy_double(monkeypatch, launch="emulate")  # its RawKernels launch: checked, recorded
    cuda._cache.clear()
    yield double
    cuda._cache.clear()


def _pair(rng, shape, dtype=np.float32, order="C"):
    a = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return a, _double.asarray(a.copy(order="K"))


ADAM = (0.1, False, 0.999, 0.001, 0.9, 1e-8, -0.01)  # lerp_w, lerp_big, b2, 1 - b2, bc2, eps, -step


@pytest.mark.parametrize("count", [1, 6, cuda.SLOTS + 3])
def test_one_step_of_many_parameters_is_one_launch_per_slots(fake, count):
    rng = np.random.default_rng(count)
    shapes = [(5, 6), (7,), (), (300,), (3, 4)] * 4
    ref, dev = [], []
    for i in range(count):
        pairs = [_pair(rng, shapes[i], order="F" if i % 5 == 0 else "C") for _ in range(4)]
        ref.append([p[0] for p in pairs])
        dev.append([p[1] for p in pairs])
    with kernels.batch():
        for arrays in dev:
            assert kernels.run("adam", tuple(arrays), *ADAM) is True
        assert _launch.LAUNCHES == []  # queued until the step ends
    assert len(_launch.LAUNCHES) == -(-count // cuda.SLOTS)
    assert {grid[1] for _, grid, _, _ in _launch.LAUNCHES} <= set(range(1, cuda.SLOTS + 1))
    for arrays in ref:
        assert kernels.run("adam", tuple(arrays), *ADAM)
    for r, d in zip(ref, dev):
        for a, b in zip(r, d):
            np.testing.assert_array_equal(a, b._a)


def test_different_constants_or_dtypes_launch_apart_and_a_repeated_parameter_lands_in_order(fake):
    rng = np.random.default_rng(0)
    w32 = [_pair(rng, (4,))[1] for _ in range(4)]
    w64 = [_pair(rng, (4,), np.float64)[1] for _ in range(4)]
    with kernels.batch():
        kernels.run("adam", tuple(w32), *ADAM)
        kernels.run("adam", tuple(w64), *ADAM)
        kernels.run("adam", tuple(_pair(rng, (4,))[1] for _ in range(4)), *ADAM[:-1], -0.02)
    assert sorted(name for name, *_ in _launch.LAUNCHES) == ["adam_double", "adam_float", "adam_float"]
    _launch.LAUNCHES.clear()
    w, ref = _pair(rng, (3,))[1], None
    start = w._a.copy()
    with kernels.batch():
        kernels.run("sgd", (w, _double.asarray(np.ones(3, np.float32))), 0.5)
        kernels.run("sgd", (w, _double.asarray(np.ones(3, np.float32))), 0.5)
    ref = start - np.float32(0.5)
    np.testing.assert_array_equal(w._a, ref - np.float32(0.5))
    assert len(_launch.LAUNCHES) == 2


def test_ineligible_device_arrays_take_the_xp_formulas(fake):
    rng = np.random.default_rng(1)
    a = _double.asarray(rng.standard_normal((4, 6)).astype(np.float32))
    declined = [
        (_double.asarray(np.ones((4, 6), np.float16)), _double.asarray(np.ones((4, 6), np.float16))),  # no float16 kernels
        (a, _double.asarray(np.ones((4, 6), np.float64))),  # mixed dtypes
        (a[:, ::2], _double.asarray(np.ones((4, 3), np.float32))),  # strided view
        (a, _double.asarray(np.ones((6, 4), np.float32)).T),  # different layouts
        (a, np.ones((4, 6), np.float32)),  # device and host arrays mixed
    ]
    for arrays in declined:
        assert kernels.run("sgd", arrays, 0.5) is False
    assert kernels.relu(_double.asarray(np.ones(3, np.float16))) is None
    assert kernels.relu(a[:, ::2]) is None
    assert kernels.relu_backward(a, _double.asarray(np.ones((4, 6), np.float32))) is None  # mask must be bool
    assert _launch.LAUNCHES == []  # (the switch is read by the callers: tests/test_kernels.py, test_learner_path.py)


def test_layer_and_loss_kernels_get_arguments_their_signatures_name(fake):
    rng = np.random.default_rng(2)
    z = _double.asarray(rng.standard_normal((5, 3)).astype(np.float64))
    t = _double.asarray(np.array([0, 2, 1, 1, -100]))
    y, keep = kernels.relu(z)
    assert y.shape == keep.shape == (5, 3) and keep.dtype == np.bool_
    assert kernels.relu_backward(z, keep).shape == (5, 3)
    assert len(kernels.bias_relu(z, _double.asarray(np.ones(3)))) == 2
    loss, p, valid, bad = kernels.softmax_cross_entropy(z, t)
    assert (loss.shape, p.shape, valid.shape, bad.shape, bad.dtype) == ((5,), (5, 3), (5,), (), np.int32)
    assert bad._a == 0  # zeroed on the host side of the launch; the kernel only sets it
    for g in (_double.asarray(np.ones((), np.float64)), _double.asarray(np.ones(5))):
        assert kernels.softmax_cross_entropy_backward(p, t, g).shape == (5, 3)
    assert kernels.softmax_cross_entropy_backward(p, t, _double.asarray(np.ones((), np.float32))) is None  # dtype
    assert kernels.softmax_cross_entropy(z, _double.asarray(np.array([0, 1, 2, 0, 1], np.int32))) is None
    assert kernels.bce_with_logits(z, z).shape == (5, 3)
    assert kernels.bce_with_logits_backward(z, z, _double.asarray(np.ones(()))).shape == (5, 3)
    names = [name for name, *_ in _launch.LAUNCHES]
    assert names == ["relu_double", "relu_backward_double", "bias_relu_double", "softmax_cross_entropy_double",
                     "softmax_cross_entropy_backward_double", "softmax_cross_entropy_backward_double",
                     "bce_with_logits_double", "bce_with_logits_backward_double"]
    # the row-wise kernel gets one thread per row; the element-wise ones cover every element
    ce = _launch.LAUNCHES[3]
    assert ce[1][0] * ce[2][0] >= 5 and ce[3][-3:] == (np.int64(5), np.int64(3), np.int64(-100))


def test_optimizer_step_queues_its_updates_in_one_batch(monkeypatch):
    """Optimizer.step wraps every group in kernels.batch(), so CuPy updates leave together."""
    seen = []
    real = kernels.run

    def spy(name, arrays, *consts):
        seen.append(kernels._state["batch"] is not None)
        return real(name, arrays, *consts)

    monkeypatch.setattr(kernels, "run", spy)
    params = [minigrad.tensor(np.ones(3, np.float32), requires_grad=True) for _ in range(2)]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}])
    for p in params:
        p.grad = minigrad.ones(3)
    opt.step()
    assert seen == [True, True] and kernels._state["batch"] is None


def test_status_names_both_sides():
    s = kernels.status()
    assert "cuda:" in s
    with kernels.disabled():
        assert kernels.status().startswith("off") and "GPU" in kernels.status()
