"""save/load of (nested) state dicts as .npz without pickle (torch <-> minigrad conversion: reference/convert.py).

Layout: every array is one npz entry ("a0", "a1", ...); the nesting (dicts with their key types and order,
lists, tuples, plain values) is JSON in the entry "__structure__". np.load runs with allow_pickle=False,
so loading a file can never execute code.

Anything else (a whole nn.Module, as `torch.save(model, path)`) is pickled, as torch does; such a file
loads only with `load(f, weights_only=False)`, since unpickling runs code (torch >= 2.6's default).
"""
import contextvars
import io
import json
import pickle
import zipfile
from collections import OrderedDict

import numpy

from .backend import backend_name, cupy_available, move, require_cupy_error, to_numpy
from .tensor import Tensor

_STRUCTURE = "__structure__"
_FORMAT = "minigrad-npz-1"


class _NotPlain(TypeError):
    """obj holds something the .npz format cannot store (a Module, a custom object): it is pickled."""


def _is_path(f):
    return isinstance(f, (str, bytes)) or hasattr(f, "__fspath__")


def save(obj, f, pickle_module=pickle, pickle_protocol=2):
    """Write obj to path or file f: Tensors, arrays, dicts, lists, tuples and plain values as .npz (no code);
    anything else (a whole model) pickled, as torch.save does."""
    arrays = {}
    try:
        tree = {"format": _FORMAT, "obj": _encode(obj, arrays)}
    except _NotPlain:
        data = pickle_module.dumps(obj, protocol=pickle_protocol)  # fails before the file is touched
        return _write(f, lambda fh: fh.write(data))
    arrays[_STRUCTURE] = numpy.frombuffer(json.dumps(tree).encode("utf-8"), dtype=numpy.uint8)
    _write(f, lambda fh: numpy.savez(fh, **arrays))  # our own handle: numpy.savez(path) would append '.npz'


def _write(f, fn):
    if _is_path(f):
        with open(f, "wb") as fh:
            fn(fh)
    else:
        fn(f)


_WEIGHTS_ONLY_MSG = (
    "Weights only load failed: this file holds a pickled Python object (such as a whole model saved with "
    "minigrad.save(model, f)), and unpickling it can run arbitrary code. If you trust the file's source, load it "
    "with minigrad.load(f, weights_only=False). To share weights safely, save model.state_dict() instead: "
    "that file loads with the default weights_only=True."
)
_LOCATION = contextvars.ContextVar("minigrad_load_location", default=None)


def load(f, map_location=None, pickle_module=pickle, *, weights_only=None, **pickle_load_args):
    """Read what save() wrote. A state dict (.npz) lands on map_location (default: cpu); a pickled object
    loads only with weights_only=False, its tensors where they were saved unless map_location says otherwise."""
    raw = _read(f)
    name = _name(f)
    if raw[:2] == b"PK":  # a zip: our .npz, or torch.save's zip, or any other archive
        z = _open_zip(raw, name)
        with z:
            tree = json.loads(bytes(z[_STRUCTURE]).decode("utf-8"))
            if tree.get("format") != _FORMAT:
                raise ValueError(f"{name}: not a minigrad save file (format {tree.get('format')!r}, "
                                 f"expected {_FORMAT!r})")
            return _decode(tree["obj"], z, _target(map_location, "numpy"))
    if not raw:
        raise pickle.UnpicklingError(f"{name}: the file is empty (an interrupted save?); save it again")
    if raw[:1] != b"\x80":
        raise pickle.UnpicklingError(f"{name}: not a minigrad save file: neither an .npz state dict nor a pickle "
                                     f"(it starts with {raw[:8]!r})")
    if weights_only is None or weights_only:
        raise pickle.UnpicklingError(_WEIGHTS_ONLY_MSG)
    token = _LOCATION.set(map_location)
    try:
        return pickle_module.loads(raw, **pickle_load_args)
    finally:
        _LOCATION.reset(token)


def _name(f):
    """How error messages name f: its path, or a file object's name."""
    if _is_path(f):
        return repr(str(f))
    name = getattr(f, "name", None)
    return repr(name) if name else "the file object"


def _open_zip(raw, name):
    """numpy.load of a zip that must be minigrad's .npz; else an error naming the file, what it is, what to do."""
    try:
        names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
        z = numpy.load(io.BytesIO(raw), allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise RuntimeError(f"{name}: a damaged or truncated zip archive ({type(e).__name__}: {e}); it cannot be "
                           "read. Save it again (an interrupted write leaves such a file)") from None
    if _STRUCTURE in z.files:
        return z
    z.close()
    if any(n.endswith("data.pkl") for n in names):
        raise ValueError(f"{name}: a PyTorch torch.save file, not a minigrad save file. Load it with torch.load, "
                         "then convert: minigrad_sd = reference.convert.from_torch_state_dict(torch_sd)")
    if names and all(n.endswith(".npy") for n in names):
        arrays = sorted(n[:-4] for n in names)
        raise ValueError(f"{name}: a plain NumPy .npz (arrays {arrays[:6]}{' ...' if len(arrays) > 6 else ''}) "
                         "without minigrad's structure entry, so not written by minigrad.save. Read it with "
                         "numpy.load, or wrap its arrays in minigrad.tensor and build the state dict yourself")
    raise ValueError(f"{name}: a zip archive ({len(names)} entries, e.g. {names[:3]}) that is not a minigrad "
                     "save file: minigrad.load reads what minigrad.save wrote")


def _read(f):
    if _is_path(f):
        with open(f, "rb") as fh:
            return fh.read()
    return f.read()


def _target(map_location, saved):
    """Backend a tensor saved on `saved` ('numpy'/'cupy') goes to: map_location as torch reads it
    (None, 'cpu'/'cuda', a device, {'cuda:0': 'cpu'}, or `lambda storage, loc: storage` for the CPU)."""
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        for k, v in map_location.items():
            if backend_name(k) == saved:
                return backend_name(v)
        return saved
    if callable(map_location) and not isinstance(map_location, str):
        moved = map_location(None, "cuda:0" if saved == "cupy" else "cpu")
        return "numpy" if moved is None else backend_name(moved)
    return backend_name(map_location)


def _rebuild_tensor(cls, array, saved_backend, requires_grad, state):
    """Unpickle a Tensor (or Parameter): the host array goes to its saved device or map_location's."""
    backend = _target(_LOCATION.get(), saved_backend)
    if backend == "cupy" and not cupy_available():
        raise RuntimeError(f"Attempting to load a tensor saved on a CUDA device, but {require_cupy_error()} "
                           "Pass map_location='cpu' to minigrad.load to load it on the CPU.")
    t = object.__new__(cls)
    t.__dict__.update(state)
    t.array, t.grad, t._ctx, t.requires_grad = move(array, backend), None, None, bool(requires_grad)
    t._vc = [0]
    return t


def _encode(x, arrays):
    if isinstance(x, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(x.array)
        return {"T": "tensor", "key": key, "requires_grad": bool(x.requires_grad)}
    if isinstance(x, numpy.ndarray) or _is_cupy_array(x):
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(x)
        return {"T": "ndarray", "key": key}
    if isinstance(x, numpy.generic):  # a NumPy scalar keeps its dtype through a 0-d array
        key = f"a{len(arrays)}"
        arrays[key] = numpy.asarray(x)
        return {"T": "npscalar", "key": key}
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return {"T": "float", "v": repr(x)}  # repr round-trips exactly, inf and nan included
    if isinstance(x, dict):
        return {
            "T": "OrderedDict" if isinstance(x, OrderedDict) else "dict",
            "items": [[_encode(k, arrays), _encode(v, arrays)] for k, v in x.items()],
        }
    if isinstance(x, (list, tuple)):
        return {"T": type(x).__name__ if type(x) in (list, tuple) else "list", "items": [_encode(v, arrays) for v in x]}
    raise _NotPlain(f"{type(x).__module__}.{type(x).__name__} is not plain data")


def _decode(x, z, backend):
    if not isinstance(x, dict):
        return x
    kind = x["T"]
    if kind == "tensor":
        t = Tensor._wrap(move(numpy.array(z[x["key"]]), backend))
        return t.requires_grad_(True) if x["requires_grad"] else t
    if kind == "ndarray":
        return numpy.array(z[x["key"]])
    if kind == "npscalar":
        return z[x["key"]][()]
    if kind == "float":
        return float(x["v"])
    if kind in ("dict", "OrderedDict"):
        cls = OrderedDict if kind == "OrderedDict" else dict
        return cls((_decode(k, z, backend), _decode(v, z, backend)) for k, v in x["items"])
    if kind in ("list", "tuple"):
        items = [_decode(v, z, backend) for v in x["items"]]
        return tuple(items) if kind == "tuple" else items
    raise ValueError(f"unknown entry {kind!r} in a minigrad save file")


def _is_cupy_array(x):
    return type(x).__module__.startswith("cupy")
