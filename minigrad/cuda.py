"""torch.cuda look-alike: availability, seeding, synchronisation and CUDA graphs for the cupy backend."""
import warnings
from contextlib import contextmanager

from . import backend


def is_available():
    """True when CuPy is installed and sees a GPU (minigrad's 'cuda' device is CuPy)."""
    return backend.cupy_available()


def device_count():
    """Number of visible CUDA GPUs (0 without CuPy or a GPU), as torch.cuda.device_count."""
    return backend.cupy.cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize():
    """Wait for the GPU's queued work, then raise what the device-side checks found (as torch.cuda.synchronize)."""
    if is_available():
        backend.cupy.cuda.Device().synchronize()
        backend.sync_checks()


# manual_seed / manual_seed_all (torch.cuda's): minigrad/random.py sets them here, since one seed serves every
# backend's generator; this backend module knows nothing of random numbers.


def get_device_name(index=0):
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'; raises RuntimeError without CuPy or a GPU."""
    if not is_available():
        raise backend.require_cupy_error()
    return backend.cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()


# ---- CUDA graphs (torch.cuda.CUDAGraph / torch.cuda.graph look-alikes) ------------------------------------------
# A batch-100 step is ~30 small launches whose CPU cost exceeds their GPU time; a captured graph replays them all
# with one launch. What a replay repeats is the GPU work only: Python does not run, so inputs must live in static
# buffers (copy each batch into them), outputs (loss, .grad) are the same arrays after every replay, and any value
# Python computed at capture time is frozen into the kernels' arguments. That is why an optimizer step is refused
# inside a capture (Adam's bias correction depends on the step count): capture forward + backward, then call
# optimizer.step() after g.replay(): one fused launch (minigrad/kernels).


class GraphCaptureError(RuntimeError):
    """CUDA refused the capture (e.g. cuBLAS in capture, cupy issue 6290, or a host sync); run the step eagerly."""


class CUDAGraph:
    """A captured sequence of GPU work: fill it with `with minigrad.cuda.graph(g): ...`, run it with g.replay()."""

    def __init__(self):
        self._graph = self._pool = None

    def replay(self):
        """Launch the captured work on the current stream (ordered after what was queued before it)."""
        if self._graph is None:
            raise RuntimeError("CUDAGraph.replay(): nothing captured yet (use `with minigrad.cuda.graph(g): ...`)")
        self._graph.launch()

    def reset(self):
        """Drop the captured graph and its memory pool; the next capture starts afresh."""
        self._graph = self._pool = None

    def pool(self):
        """The private memory pool holding the graph's buffers (kept alive as long as the graph)."""
        return self._pool


def is_capturing():
    """True inside `with minigrad.cuda.graph(...)`: the fused-kernel dispatch refuses optimizer steps there."""
    return backend.capture.open


@contextmanager
def graph(cuda_graph, stream=None):
    """Capture the GPU work of the body into `cuda_graph` (nothing runs until g.replay()). Run the body once
    eagerly first so kernels compile and buffers exist. Raises GraphCaptureError when CUDA refuses the capture."""
    if not is_available():
        raise backend.require_cupy_error()
    cp = backend._cupy
    if backend.capture.open:
        raise RuntimeError("minigrad.cuda.graph: captures cannot be nested")
    pool = cp.cuda.MemoryPool()  # private, as torch's graph pool: freed buffers never go to other arrays
    s = stream if stream is not None else cp.cuda.Stream(non_blocking=True)
    s.wait_event(cp.cuda.get_current_stream().record())  # capture after the work already queued
    backend.capture.open = True
    try:
        with cp.cuda.using_allocator(pool.malloc), s:
            s.begin_capture()
            try:
                yield cuda_graph
            except BaseException as e:
                _abandon(s)
                if _from_cuda(e):
                    raise GraphCaptureError(_refused(e)) from e
                raise  # a Python error in the body (wrong shape, ...) is the body's, not the capture's
            try:
                g = s.end_capture()
            except Exception as e:
                raise GraphCaptureError(_refused(e)) from e
    finally:
        backend.capture.open = False
    cuda_graph._graph, cuda_graph._pool = g, pool


def _abandon(s):
    try:
        if s.is_capturing():
            s.end_capture()
    except Exception:  # an invalidated capture: ending it is all that is left to do
        pass


def _from_cuda(e):
    """CUDA, cuBLAS or CuPy refused an operation (their errors live in cupy / cupy_backends)."""
    return isinstance(e, Exception) and type(e).__module__.split(".")[0] in ("cupy", "cupy_backends")


def _refused(e):
    return (f"CUDA-graph capture refused ({type(e).__name__}: {e}). Common causes: cuBLAS matrix products in "
            "capture on some CuPy/CUDA versions (cupy issue 6290), a host sync inside the step (.item(), printing, "
            "a Python branch on a device value), an optimizer step in capture. Run the step eagerly instead.")


def graphed(fn):
    """fn (no arguments: it reads static input buffers) captured once and replayed on each call; when capture
    is refused, a warning says why once and each call runs fn eagerly instead. Run fn once eagerly first."""
    g = CUDAGraph()
    try:
        with graph(g):
            fn()
    except GraphCaptureError as e:
        warnings.warn(f"minigrad.cuda.graphed: {e} Falling back to eager execution.", RuntimeWarning, stacklevel=2)
        return fn
    return g.replay
