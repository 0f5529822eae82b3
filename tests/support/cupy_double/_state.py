"""The manifests (CuPy's API surface, from make_manifest.py) and the host<->device copy counter."""
import json
import os


def _load(name):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name)) as f:
        return json.load(f)


def _params(a, b):
    """A signature both CuPys accept: a's parameters that b has too; None (Cython hides it) says nothing."""
    if a is None or b is None:
        return a if b is None else b
    names = {p[0] for p in b}
    return [p for p in a if p[0] in names]


def _table(a, b):
    out = {}
    for name, entry in a.items():
        other = b.get(name)
        if other is None or other["kind"] != entry["kind"]:
            continue
        entry = dict(entry)
        if entry["kind"] == "function":
            entry["params"] = _params(entry["params"], other["params"])
        elif entry["kind"] == "ufunc":
            entry["methods"] = [m for m in entry["methods"] if m in other["methods"]]
        out[name] = entry
    return out


def common(newest, oldest):
    """The surface every supported CuPy has: names, parameters and ufunc methods in both manifests."""
    out = dict(newest)
    for key in ("ndarray", "flags", "random_Generator"):
        out[key] = [n for n in newest[key] if n in set(oldest[key])]
    for key in ("module", "random"):
        out[key] = _table(newest[key], oldest[key])
    return out


# the double allows only what the newest and the oldest supported CuPy (setup.cfg's range) both have, so minigrad
# code that needs a newer CuPy than it claims fails in CI whichever CuPy is installed
NEWEST, OLDEST = _load("manifest.json"), _load("manifest_oldest.json")
MANIFEST = common(NEWEST, OLDEST)

# d2h: device -> host reads (get, asnumpy, item, tolist, float(), bool(), printing, pickling);
# h2d: host -> device writes (asarray/array of host data, set, NumPy arrays or lists used as indices/values).
COPIES = {"d2h": 0, "h2d": 0}


def count(kind):
    COPIES[kind] += 1


def copies():
    """A snapshot of the counters: {'d2h': n, 'h2d': m}."""
    return dict(COPIES)
