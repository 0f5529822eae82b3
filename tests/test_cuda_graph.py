"""minigrad.cuda.CUDAGraph / graph / graphed without a GPU: the capture protocol, refusals and the eager fallback,
on the CuPy double, its streams let capture (support/cupy_double: calls logged). The real capture is checked on a GPU by
tests/test_kernels_gpu.py (run by `make gpu-check`)."""
import types

import numpy as np
import pytest

import minigrad
import minigrad.optim as optim
from minigrad import backend, cuda


class _CublasError(RuntimeError):
    """Stands for cupy_backends' CUBLASError (its module name is what graph() checks)."""


_CublasError.__module__ = "cupy_backends.cuda.libs.cublas"


@pytest.fixture
def fake(monkeypatch):
    """The CuPy double as minigrad's cupy, its streams let capture: calls logged in fake.log."""
    from conftest import install_cupy_double
    from support.cupy_double import _launch

    double = install_cupy_double(monkeypatch, capture=True)
    return types.SimpleNamespace(log=_launch.GRAPH["log"], graph=_launch.GRAPH, cuda=double.cuda,
                                 current=double.cuda.get_current_stream)


def test_capture_then_replay(fake):
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="nothing captured"):
        g.replay()
    with cuda.graph(g):
        assert cuda.is_capturing() and fake.current().is_capturing()  # the body runs on the capturing side stream
        allocator = fake.graph["allocator"]
    assert not cuda.is_capturing() and fake.current() is fake.cuda.Stream.null and fake.graph["allocator"] is None
    assert fake.log == [("wait", "Event"), "begin", "end"]  # the side stream waits for the work queued before
    g.replay()
    g.replay()
    assert fake.log[-2:] == ["launch", "launch"]
    assert allocator.__self__ is g.pool()  # buffers made in capture come from the graph's own pool


def test_a_refused_capture_says_why_and_leaves_no_capture_open(fake):
    g = cuda.CUDAGraph()
    with pytest.raises(cuda.GraphCaptureError, match="6290") as e:
        with cuda.graph(g):
            raise _CublasError("CUBLAS_STATUS_NOT_SUPPORTED")
    assert "eagerly" in str(e.value) and "CUBLAS_STATUS_NOT_SUPPORTED" in str(e.value)
    assert fake.log[-1] == "end" and not cuda.is_capturing() and fake.current() is fake.cuda.Stream.null
    with pytest.raises(RuntimeError, match="nothing captured"):
        g.replay()


def test_a_python_error_in_the_body_is_not_called_a_capture_refusal(fake):
    with pytest.raises(ValueError, match="shape"):
        with cuda.graph(cuda.CUDAGraph()):
            raise ValueError("bad shape")
    assert fake.log[-1] == "end" and not cuda.is_capturing()


def test_optimizer_step_and_nested_captures_are_refused(fake):
    p = minigrad.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.ones(3)
    with pytest.raises(RuntimeError, match="replay"):
        with cuda.graph(cuda.CUDAGraph()):
            opt.step()
    assert np.all(p.array == 1) and not cuda.is_capturing()
    with pytest.raises(RuntimeError, match="nested"):
        with cuda.graph(cuda.CUDAGraph()):
            with cuda.graph(cuda.CUDAGraph()):
                pass
    opt.step()  # outside a capture the step runs
    assert np.all(p.array < 1)


def test_graphed_replays_or_falls_back_to_eager(fake):
    calls = []
    step = cuda.graphed(lambda: calls.append(1))
    step()
    step()
    assert calls == [1] and fake.log.count("launch") == 2  # ran once while captured, then replays

    def refused():
        calls.append(2)
        raise _CublasError("not supported in capture")

    with pytest.warns(RuntimeWarning, match="Falling back to eager"):
        eager = cuda.graphed(refused)
    assert eager is refused


@pytest.mark.skipif(backend.cupy_available(), reason="a GPU is present")
def test_without_a_gpu_capture_fails_clearly():
    with pytest.raises(RuntimeError, match="cupy"):
        with cuda.graph(cuda.CUDAGraph()):
            pass
    assert not cuda.is_capturing()
