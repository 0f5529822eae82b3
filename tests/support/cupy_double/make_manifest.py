"""Write manifest.json: the API surface of the installed CuPy that the CuPy double copies.

Run it when CuPy's version moves: `python tests/support/cupy_double/make_manifest.py` with the newest CuPy, and with
`--oldest` (writes manifest_oldest.json) in the oldest set (`make test-oldest`'s environment). It needs only
`import cupy` (no GPU). The double allows what both have (_state.py); tests/test_cupy_double.py regenerates the
manifest in memory and fails when it differs from the committed file of that CuPy version.
"""
import inspect
import json
import os
import sys
import warnings

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "manifest.json")
OLDEST_PATH = os.path.join(HERE, "manifest_oldest.json")


def _params(f):
    """[[name, kind, has_default], ...] of f's signature, or None where Cython hides it."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty] for p in sig.parameters.values()]


def _public(obj):
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def _module_table(mod, ufunc_type):
    """name -> entry for every public name of a CuPy module."""
    out = {}
    for name in _public(mod):
        obj = getattr(mod, name)
        if inspect.ismodule(obj):
            continue
        with warnings.catch_warnings():  # numpy.bytes & co. warn on access
            warnings.simplefilter("ignore")
            same = getattr(numpy, name, None) is obj
        if same:
            out[name] = {"kind": "numpy"}  # the very NumPy object (dtypes, finfo, pi, ...)
        elif isinstance(obj, ufunc_type):
            out[name] = {"kind": "ufunc", "nin": obj.nin, "nout": obj.nout,
                         "methods": [m for m in ("at", "reduce", "accumulate", "outer", "reduceat")
                                     if hasattr(obj, m)]}
        elif inspect.isclass(obj):
            out[name] = {"kind": "class"}
        elif callable(obj):
            out[name] = {"kind": "function", "params": _params(obj)}
        else:
            out[name] = {"kind": "value"}
    return out


def build():
    import cupy

    ufunc_type = type(cupy.exp)
    skip = {"__pyx_vtable__", "__slots__", "__weakref__"}
    nd = sorted(n for n in dir(cupy.ndarray) if not n.startswith("_") or (n.startswith("__") and n not in skip))
    return {
        "cupy_version": cupy.__version__,
        "ndarray": nd,
        "ndarray_hash_is_none": cupy.ndarray.__hash__ is None,
        # an instance: CuPy 13 sets c_contiguous & co. in __init__ (CuPy 14 makes them class properties)
        "flags": _public(cupy._core.flags.Flags(True, False, True)),
        "ufunc_call_params": ["out", "casting", "dtype"],
        "module": _module_table(cupy, ufunc_type),
        "random": _module_table(cupy.random, ufunc_type),
        "random_Generator": _public(cupy.random.Generator),
        "cuda_runtime_getDeviceCount": hasattr(cupy.cuda.runtime, "getDeviceCount"),
    }


if __name__ == "__main__":
    # --oldest: the oldest supported CuPy (.ci/oldest-constraints.txt), run in that environment
    path = OLDEST_PATH if sys.argv[1:] == ["--oldest"] else PATH
    with open(path, "w") as f:
        json.dump(build(), f, indent=0, sort_keys=True)
        f.write("\n")
    print("wrote", path)
