"""Packaging: the oldest set is exactly setup.cfg's lower bounds; license, classifiers and `make docs` agree."""
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


# ---- metadata, license, docs build ---------------------------------------------------------------------------------
def metadata():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg["metadata"]


def test_license_file_matches_the_metadata():
    meta = metadata()
    assert meta["license_expression"] == "MIT" and meta["license_files"] == "LICENSE"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the minigrad developers" in text
    # setuptools refuses a License classifier beside an expression
    assert not [c for c in meta["classifiers"].splitlines() if c.startswith("License ::")]


def test_python_classifiers_start_at_python_requires():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    low = _release(re.match(r">=\s*([0-9.]+)", cfg["options"]["python_requires"]).group(1))
    versions = sorted(_release(v) for v in re.findall(r"Python :: (3\.\d+)$", metadata()["classifiers"], re.M))
    assert versions and versions[0] == low, f"classifiers {versions} do not start at python_requires {low}"
    assert [v[1] for v in versions] == list(range(versions[0][1], versions[-1][1] + 1)), "a gap in the classifiers"


def test_make_docs_is_strict_and_runs_in_ci():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docs:", makefile, re.M) and "mkdocs build --strict" in makefile
    assert re.search(r"^\s*strict:\s*true\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert commands.index("make test") < commands.index("make docs") < commands.index("make test-oldest")
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert "mkdocstrings" in cfg["options.extras_require"]["docs"]
    assert "site/" in (ROOT / ".gitignore").read_text().split()
