"""save/load of (nested) state dicts as .npz without pickle, and conversion to/from torch state dicts.

Layout: every array is one npz entry ("a0", "a1", ...); the nesting (dicts with their key types and order,
lists, tuples, plain values) is JSON in the entry "__structure__". np.load runs with allow_pickle=False,
so loading a file can never execute code.
"""
import json
from collections import OrderedDict

import numpy

from .backend import move, to_numpy
from .tensor import Tensor

_STRUCTURE = "__structure__"
_FORMAT = "minigrad-npz-1"


def save(obj, f):
    """Write obj (Tensors, arrays, dicts, lists, tuples, str/int/float/bool/None) to path or file f."""
    arrays = {}
    tree = {"format": _FORMAT, "obj": _encode(obj, arrays)}
    arrays[_STRUCTURE] = numpy.frombuffer(json.dumps(tree).encode("utf-8"), dtype=numpy.uint8)
    if isinstance(f, (str, bytes)) or hasattr(f, "__fspath__"):
        with open(f, "wb") as fh:  # open it ourselves: numpy.savez(path) would append '.npz'
            numpy.savez(fh, **arrays)
    else:
        numpy.savez(f, **arrays)


def load(f, map_location=None, weights_only=True):
    """Read what save() wrote; tensors land on map_location ('cpu'/'cuda'; default: cpu)."""
    backend = "numpy" if map_location is None else _backend_of(map_location)
    with numpy.load(f, allow_pickle=False) as z:
        tree = json.loads(bytes(z[_STRUCTURE]).decode("utf-8"))
        if tree.get("format") != _FORMAT:
            raise ValueError(f"not a minigrad save file (format {tree.get('format')!r})")
        return _decode(tree["obj"], z, backend)


def _backend_of(spec):
    from .backend import backend_name

    return backend_name(spec)


def _encode(x, arrays):
    if isinstance(x, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(x.data)
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
    raise TypeError(
        f"minigrad.save cannot store a {type(x).__module__}.{type(x).__name__}: only Tensors, arrays, dicts, "
        "lists, tuples, str, int, float, bool and None (no pickled code)"
    )


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


# ---- torch interop -----------------------------------------------------------------------------
def to_torch_state_dict(sd):
    """Same nesting with every minigrad Tensor replaced by a torch tensor (host copy, same dtype)."""
    import torch

    return _map_tensors(sd, Tensor, lambda t: torch.from_numpy(numpy.array(to_numpy(t.data), copy=True)))


def from_torch_state_dict(sd, device=None):
    """Same nesting with every torch tensor replaced by a minigrad Tensor (same dtype) on device."""
    import torch

    backend = "numpy" if device is None else _backend_of(device)
    return _map_tensors(sd, torch.Tensor, lambda t: Tensor._wrap(move(t.detach().cpu().numpy().copy(), backend)))


def _map_tensors(x, cls, fn):
    """x with fn applied to every instance of cls inside dicts (OrderedDict kept), lists and tuples."""
    if isinstance(x, cls):
        return fn(x)
    if isinstance(x, dict):
        out = OrderedDict() if isinstance(x, OrderedDict) else {}
        for k, v in x.items():
            out[k] = _map_tensors(v, cls, fn)
        return out
    if isinstance(x, (list, tuple)):
        items = [_map_tensors(v, cls, fn) for v in x]
        return tuple(items) if isinstance(x, tuple) else items
    return x
