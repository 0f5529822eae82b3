"""The manifest (CuPy's API surface, from make_manifest.py) and the host<->device copy counter."""
import json
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifest.json")) as _f:
    MANIFEST = json.load(_f)

# d2h: device -> host reads (get, asnumpy, item, tolist, float(), bool(), printing, pickling);
# h2d: host -> device writes (asarray/array of host data, set, NumPy arrays or lists used as indices/values).
COPIES = {"d2h": 0, "h2d": 0}


def count(kind):
    COPIES[kind] += 1


def copies():
    """A snapshot of the counters: {'d2h': n, 'h2d': m}."""
    return dict(COPIES)
