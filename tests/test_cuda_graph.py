"""minigrad.cuda.CUDAGraph / graph / graphed without a GPU: the capture protocol, refusals and the eager fallback,
on a test-only stand-in for the few cupy.cuda calls they make. The real capture is checked on a GPU by
tests/test_kernels_gpu.py (run by `make gpu-check`)."""
import types

import numpy as np
import pytest

import minigrad
import minigrad.optim as optim
from minigrad import backend, cuda, kernels


class _CublasError(RuntimeError):
    """Stands for cupy_backends' CUBLASError (its module name is what graph() checks)."""


_CublasError.__module__ = "cupy_backends.cuda.libs.cublas"


class _FakeCuda:
    def __init__(self):
        self.log, self.current, self.allocator = [], "default", None
        fake = self

        class Stream:
            def __init__(self, non_blocking=False):
                self.capturing = False

            def wait_event(self, event):
                fake.log.append(("wait", event))

            def record(self):
                return "event"

            def begin_capture(self):
                assert fake.current is self, "capture must begin on the current (side) stream"
                self.capturing = True
                fake.log.append("begin")

            def end_capture(self):
                self.capturing = False
                fake.log.append("end")
                return types.SimpleNamespace(launch=lambda stream=None: fake.log.append("launch"))

            def is_capturing(self):
                return self.capturing

            def __enter__(self):
                self.before, fake.current = fake.current, self
                return self

            def __exit__(self, *exc):
                fake.current = self.before

        class MemoryPool:
            def malloc(self, size):
                raise AssertionError("not called in these tests")

        class using_allocator:
            def __init__(self, fn):
                self.fn = fn

            def __enter__(self):
                fake.allocator = self.fn

            def __exit__(self, *exc):
                fake.allocator = None

        default = Stream()
        self.Stream, self.MemoryPool, self.using_allocator = Stream, MemoryPool, using_allocator
        self.get_current_stream = lambda: default if fake.current == "default" else fake.current
        self.runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)


@pytest.fixture
def fake(monkeypatch):
    cp = types.SimpleNamespace(cuda=_FakeCuda(), ndarray=type("ndarray", (), {}))
    monkeypatch.setattr(backend, "_cupy", cp)
    return cp.cuda


def test_capture_then_replay(fake):
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="nothing captured"):
        g.replay()
    with cuda.graph(g):
        assert cuda.is_capturing() and fake.current.capturing  # the body runs on the capturing side stream
        allocator = fake.allocator
    assert not cuda.is_capturing() and fake.current == "default" and fake.allocator is None
    assert fake.log == [("wait", "event"), "begin", "end"]  # the side stream waits for the work queued before
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
    assert fake.log[-1] == "end" and not cuda.is_capturing() and fake.current == "default"
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
    assert not kernels._state["capturing"]
