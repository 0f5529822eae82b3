"""A strict CuPy stand-in for CI without a GPU: CuPy's API surface (what manifest.json, the newest CuPy, and
manifest_oldest.json, the oldest supported, both have), NumPy arithmetic underneath.

    from support.cupy_double import cupy, copies   # cupy: the module minigrad sees as its CuPy
tests/conftest.py installs it as minigrad's cupy for the `cupy_contract` backend; `pytest -k cupy_contract`.
"""
from ._array import ndarray  # noqa: F401
from ._module import cupy  # noqa: F401
from ._state import COPIES, MANIFEST, NEWEST, OLDEST, copies  # noqa: F401
