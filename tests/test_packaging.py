"""The oldest-versions set that `make test-oldest` installs is exactly setup.cfg's lower bounds."""
import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _release(v):
    """'2.4' -> (2, 4, 0): versions compared as numbers, trailing zeros ignored."""
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def lower_bounds():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines() + cfg["options.extras_require"]["test"].splitlines()
    bounds = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", line)
        if m:
            bounds[m.group(1).lower()] = m.group(2)
    return bounds


def pins():
    out = {}
    for line in (ROOT / ".ci" / "oldest-constraints.txt").read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([0-9.]+)\s*(#.*)?$", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_oldest_constraints_pin_every_lower_bound():
    bounds, pinned = lower_bounds(), pins()
    assert {"torch", "numpy", "hypothesis", "pytest"} <= set(bounds)
    assert set(bounds) == set(pinned), "every lower bound in setup.cfg needs its pin in .ci/oldest-constraints.txt"
    for name, low in bounds.items():
        assert _release(pinned[name]) == _release(low), f"{name}: setup.cfg says >={low}, the pin is {pinned[name]}"


def test_oldest_set_is_numpy_1():
    assert _release(pins()["numpy"])[0] == 1  # the NumPy 1.x end of the claimed range is the one proven here


def test_make_test_oldest_uses_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test-oldest:", makefile, re.M)
    assert "-c .ci/oldest-constraints.txt" in makefile
