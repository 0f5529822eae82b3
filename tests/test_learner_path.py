"""The learner's path: which files of minigrad/ one training step of the course MLP runs through, with the fused
kernels on. README's "Reading the engine" lists them in reading order; this keeps the two equal and the path short.
"""
import os
import re
import sys

import numpy as np
import pytest

import minigrad
from minigrad import kernels, nn, optim

ROOT = os.path.dirname(minigrad.__file__)
README = os.path.join(os.path.dirname(ROOT), "README.md")
MAX_FILES = 8


def course_step():
    """A warm step of 784-500-300-10 ReLU, cross-entropy, Adam, batch 100 (the course's Ex. 1), as a callable."""
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 300), nn.ReLU(), nn.Linear(300, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.random((100, 784), dtype=np.float32))
    y = minigrad.tensor(rng.integers(0, 10, 100))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    step()  # warm: kernels compiled, optimizer state made
    return step


def files_entered(step, hook):
    """minigrad/ files whose code runs during step(): hook 'trace' is what a debugger steps through (sys.settrace),
    'profile' what a profiler sees (sys.setprofile; it also reports calls of Numba-compiled loops)."""
    seen = set()

    def record(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(ROOT + os.sep):
            seen.add(os.path.relpath(frame.f_code.co_filename, ROOT).replace(os.sep, "/"))
        return None

    setter = sys.settrace if hook == "trace" else sys.setprofile
    setter(record)
    try:
        step()
    finally:
        setter(None)
    return seen


def readme_path():
    """The files README's "Reading the engine" table lists, in its order."""
    text = open(README, encoding="utf-8").read()
    section = text.split("## Reading the engine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `minigrad/([^`]+)` \|", section, flags=re.M)


def readme_fast_path():
    """The fast-twin files README's "Reading the engine" lists apart from the table ("- `minigrad/kernels/...`")."""
    text = open(README, encoding="utf-8").read()
    section = text.split("## Reading the engine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `minigrad/(kernels/[^`]+)`", section, flags=re.M)


def split(seen):
    """(the learner's files, the fast twins' files under kernels/)."""
    return {f for f in seen if not f.startswith("kernels/")}, {f for f in seen if f.startswith("kernels/")}


def test_one_training_step_runs_through_at_most_eight_files():
    """What a debugger steps through: at most eight files of formulas, as README lists them, plus the twins'
    dispatch (kernels/__init__.py), listed apart."""
    if not kernels.available():
        pytest.skip(f"fused kernels unavailable: {kernels.status()}")
    path, fast = split(files_entered(course_step(), "trace"))
    assert len(path) <= MAX_FILES, sorted(path)
    listed = readme_path()
    assert path == set(listed), f"README's reading guide {listed} != the files one step runs {sorted(path)}"
    assert fast == {"kernels/__init__.py"} and fast <= set(readme_fast_path())


def test_a_profiler_sees_the_compiled_loops_apart():
    """A profiler also reports the calls of Numba-compiled loops (kernels/cpu.py, kernels/subnormal.py): README
    lists them with the fast path, not in the eight files."""
    if not kernels.available():
        pytest.skip(f"fused kernels unavailable: {kernels.status()}")
    path, fast = split(files_entered(course_step(), "profile"))
    assert path == set(readme_path())
    assert "kernels/cpu.py" in fast and fast <= set(readme_fast_path()), sorted(fast)


def test_fused_kernels_ran_on_that_path(monkeypatch):
    """The kernels run in the step; with them off, the step enters no file of kernels/ (the switch is read by the
    callers), and the same files of formulas."""
    if not kernels.available():
        pytest.skip(f"fused kernels unavailable: {kernels.status()}")
    step = course_step()
    ran = []
    table = kernels._state["cpu"]
    monkeypatch.setitem(kernels._state, "cpu", {k: (lambda f, k: lambda *a: ran.append(k) or f(*a))(f, k)
                                                for k, f in table.items()})
    step()
    assert {"relu", "relu_backward"} <= set(ran) and ("adam" in ran or "adam_f32" in ran)
    with kernels.disabled():
        off = files_entered(step, "trace")
    assert off == set(readme_path())


def test_readme_reading_guide_lists_each_file_once():
    listed = readme_path()
    assert len(listed) == len(set(listed)) and 0 < len(listed) <= MAX_FILES
    assert all(os.path.isfile(os.path.join(ROOT, f)) for f in listed)


def test_the_engine_never_imports_torch():
    """torch <-> minigrad conversion lives in reference/convert.py: no module of minigrad/ imports torch."""
    import ast

    found = []
    for dirpath, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
                    mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                            else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
                    where = f"{os.path.relpath(path, ROOT)}:{getattr(node, 'lineno', 0)}"
                    found += [where for m in mods if m.split(".")[0] == "torch"]
    assert found == []
