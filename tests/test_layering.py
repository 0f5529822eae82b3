"""Dependencies run one way (every import counted, function-local ones included) and engine files stay small.

kernels/ knows no op, module or optimizer; the tensor core knows nothing of nn/, optim/ or data/; benchmarks do not
import experiments; experiments/ has no import cycle. Read from the source (ast), so a late import counts too.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = ("minigrad.autograd", "minigrad.tensor", "minigrad.tensor_ops", "minigrad.tensor_inplace",
        "minigrad.tensor_convert", "minigrad.views", "minigrad.ops", "minigrad.backend", "minigrad.dtypes",
        "minigrad.grad_mode")
KERNELS_MAY_IMPORT = ("minigrad.backend", "minigrad.dtypes", "minigrad.kernels", "numpy", "numba", "llvmlite", "cupy",
                      "cupy_backends")
# The one cycle left in the engine, on purpose: a pickle stores the name of the function that rebuilds a Tensor
# (minigrad.serialization._rebuild_tensor, which knows torch.load's map_location), so Tensor.__reduce_ex__ names it.
ALLOWED_CYCLES = [{"minigrad.serialization", "minigrad.tensor"}]


def modules(package):
    """{module name: path} for a top-level folder of the repository."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name, path, known):
    """The modules `name` imports anywhere in its file (function-local imports too), resolved against `known`
    where they are the repository's own (`from .. import backend` -> minigrad.backend), else their top name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(mod)
    found.discard(name)
    return found


def graph(package):
    mods = modules(package)
    known = set(mods) | set(modules("minigrad")) | set(modules("experiments"))
    return {name: imports(name, path, known) for name, path in mods.items()}


def cycles(g):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in g:
        if v not in index:
            visit(v)
    return out


def is_in(name, prefixes):
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_kernels_know_no_op_module_or_optimizer():
    g = graph("minigrad")
    bad = {(m, i) for m, deps in g.items() if is_in(m, ("minigrad.kernels",)) for i in deps
           if i.startswith("minigrad") and not is_in(i, KERNELS_MAY_IMPORT)}
    assert bad == set()


def test_the_tensor_core_imports_nothing_above_it():
    g = graph("minigrad")
    above = ("minigrad.nn", "minigrad.optim", "minigrad.data", "minigrad.utils", "minigrad.function")
    bad = {(m, i) for m, deps in g.items() if is_in(m, CORE) for i in deps if is_in(i, above)}
    assert bad == set()


def test_the_engine_has_no_import_cycle_but_the_pickling_one():
    found = cycles(graph("minigrad"))
    assert all(c in ALLOWED_CYCLES for c in found), found


def test_benchmarks_import_nothing_from_experiments():
    bad = {(m, i) for m, deps in graph("benchmarks").items() for i in deps if is_in(i, ("experiments",))}
    assert bad == set()


def test_experiments_have_no_import_cycle():
    assert cycles(graph("experiments")) == []


@pytest.mark.parametrize("path", sorted(modules("minigrad").values()), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_files_stay_under_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_the_checks_can_fail():
    """The cycle finder and the resolver see what they should (a check that cannot fail proves nothing)."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]
    here = pathlib.Path(__file__)
    found = imports("tests.test_layering", here, {"minigrad.kernels"})
    assert {"ast", "pathlib", "pytest"} <= found


def test_tests_readme_names_every_test_file_once():
    """tests/README.md is the map of tests/: every test file is in it once, and it names no file that is gone."""
    import re

    text = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"^\| `(test_\w+\.py)` \|", text, flags=re.M)
    files = sorted(p.name for p in (ROOT / "tests").glob("test_*.py"))
    assert len(named) == len(set(named)) and sorted(named) == files
