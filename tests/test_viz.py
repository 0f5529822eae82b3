"""minigrad.viz: a known expression gives the expected nodes and edges, as a text tree and as DOT source."""
import re
import shutil

import numpy as np
import pytest

import minigrad
from minigrad import viz
from minigrad.backend import to_numpy


def _expr(backend, dtype="float32"):
    """loss = sum(relu(x @ W + b) * 2): leaves x (2, 3), W (3, 4), b (4,), and the constant 2."""
    rng = np.random.default_rng(0)
    x, W, b = (minigrad.tensor(rng.standard_normal(s).astype(dtype), device=backend, requires_grad=True)
               for s in ((2, 3), (3, 4), (4,)))
    h = (x @ W + b).relu()
    h.retain_grad()
    loss = (h * 2).sum()
    return loss, h, dict(x=x, W=W, b=b)


def _by_name(g):
    return {n.name: n for n in g.nodes}


def test_known_expression_nodes_and_edges(backend):
    loss, h, params = _expr(backend)
    g = viz.draw(loss, params=params)
    kinds = [(n.kind, n.shape, n.dtype) for n in g.nodes]
    assert len(g.nodes) == 9, kinds  # 5 ops (Sum, Mul, ReLU, Add, MatMul), 3 leaves, 1 constant
    ops = [n for n in g.nodes if n.kind == "op"]
    expected = [("SumBackward0", ()), ("MulBackward0", (2, 4)), ("ReluBackward0", (2, 4)), ("AddBackward0", (2, 4)),
                ("MmBackward0", (2, 4))]  # torch's node names, as torch's own graph of this expression shows
    assert len(ops) == len(expected)
    for n, (name, shape) in zip(ops, expected):  # breadth-first from the root: the ops of this chain in order
        assert n.name == name
        assert n.shape == shape and n.dtype == "float32"
    named = _by_name(g)
    assert {k: (named[k].kind, named[k].shape) for k in "xWb"} == {"x": ("leaf", (2, 3)), "W": ("leaf", (3, 4)),
                                                                   "b": ("leaf", (4,))}
    const = [n for n in g.nodes if n.kind == "constant"]
    assert len(const) == 1 and const[0].shape == () and float(const[0].value) == 2.0  # a scalar shows its value
    assert g.root == ops[0].id
    s, m, r, a, mm = (n.id for n in ops)
    want = {(m, s), (r, m), (const[0].id, m), (a, r), (mm, a), (named["b"].id, a), (named["x"].id, mm),
            (named["W"].id, mm)}
    assert sorted(g.edges) == sorted(want)
    assert g.inputs_of(mm) == [named["x"].id, named["W"].id]  # argument order kept: x @ W, not W @ x


def test_text_tree_shows_each_node_under_its_consumer(backend):
    loss, h, params = _expr(backend)
    lines = viz.draw(loss, params=params).text().splitlines()
    pattern = [r"SumBackward0  \(\) float32", r"└── MulBackward0  \(2, 4\) float32",
               r"    ├── ReluBackward0  \(2, 4\) float32", r"    │   └── AddBackward0  \(2, 4\) float32",
               r"    │       ├── MmBackward0  \(2, 4\) float32",
               r"    │       │   ├── x  \(2, 3\) float32", r"    │       │   └── W  \(3, 4\) float32",
               r"    │       └── b  \(4,\) float32", r"    └── constant  \(\) float32", r"            value: 2\.?"]
    assert len(lines) == len(pattern), "\n".join(lines)
    for line, p in zip(lines, pattern):
        assert re.fullmatch(p, line), (line, p)


def test_dot_source_has_every_node_and_edge(backend):
    loss, h, params = _expr(backend)
    g = viz.draw(loss, params=params)
    src = g.dot()
    assert src.startswith("digraph") and src.rstrip().endswith("}")
    declared = re.findall(r"^  (n\d+) \[label=\"([^\"]*)\"", src, flags=re.M)
    assert [d[0] for d in declared] == [n.id for n in g.nodes]
    for (nid, label), n in zip(declared, g.nodes):
        assert label.startswith(n.name + "\\n") and f"{n.shape} {n.dtype}" in label
    edges = re.findall(r"^  (n\d+) -> (n\d+);$", src, flags=re.M)
    assert sorted(edges) == sorted(g.edges)


def test_values_and_grads_on_request(backend):
    loss, h, params = _expr(backend, "float64")
    g0 = viz.draw(loss, params=params)
    assert all(n.grad is None for n in g0.nodes)
    assert all(n.value is None for n in g0.nodes if n.kind != "constant")  # values only when asked for
    loss.backward(retain_graph=True)
    g = viz.draw(loss, params=params, values=True, grads=True)
    named = _by_name(g)
    for k, t in params.items():
        np.testing.assert_array_equal(named[k].value, to_numpy(t.array))
        np.testing.assert_array_equal(named[k].grad, to_numpy(t.grad.array))
        assert named[k].dtype == "float64"
    relu = next(n for n in g.nodes if n.name == "ReluBackward0")
    np.testing.assert_array_equal(relu.value, to_numpy(h.array))
    np.testing.assert_array_equal(relu.grad, to_numpy(h.grad.array))  # retained: dL/dh = 2 everywhere
    np.testing.assert_array_equal(relu.grad, np.full((2, 4), 2.0))
    add = next(n for n in g.nodes if n.name == "AddBackward0")
    assert add.grad is None  # not retained, as in torch: an intermediate's grad is freed
    text = g.text()
    assert "grad: [2. 2. 2. 2.]" not in text and "grad: [[2. 2. 2. 2.]" in text


def test_shared_input_drawn_once_with_two_edges(backend):
    x = minigrad.tensor([1.0, -2.0], device=backend, requires_grad=True)
    y = (x * x).sum()
    g = viz.draw(y, params={"x": x, "y": y})
    assert [n.kind for n in g.nodes] == ["op", "op", "leaf"]
    mul, leaf = g.nodes[1].id, g.nodes[2].id
    assert g.edges == [(mul, g.root), (leaf, mul), (leaf, mul)]
    assert g.nodes[0].name.startswith("y = Sum")
    text = g.text()
    assert text.count(f"[{leaf}] x  (2,) float32") == 1 and text.count(f"[{leaf}] x  (drawn above)") == 1


def test_freed_graph_is_said_not_hidden():
    x = minigrad.ones(3, requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    g = viz.draw(y)
    assert len(g.nodes) == 1 and g.edges == [] and "retain_graph=True" in g.nodes[0].note


def test_deep_chain_needs_no_recursion():
    x = minigrad.ones(2, requires_grad=True)
    y = x
    for _ in range(1500):  # deeper than Python's default recursion limit (1000)
        y = y * 1.0
    g = viz.draw(y.sum())
    # Sum, 1500 Muls, the leaf and each Mul's own constant 1.0; every Mul has two inputs, Sum one
    assert len(g.nodes) == 1 + 1500 + 1 + 1500 and len(g.edges) == 1 + 2 * 1500
    lines = g.text().splitlines()
    assert len(lines) == len(g.nodes) + 1500  # a scalar constant prints its value on a line of its own
    assert lines[-1].lstrip().startswith("value: 1")


def test_leaf_and_constant_roots():
    w = minigrad.ones(2, requires_grad=True)
    assert [(n.kind, n.name, n.shape) for n in viz.draw(w, params={"w": w}).nodes] == [("leaf", "w", (2,))]
    c = minigrad.ones(2, 3, dtype=minigrad.float64)
    assert [(n.kind, n.dtype) for n in viz.draw(c).nodes] == [("constant", "float64")]
    with pytest.raises(TypeError):
        viz.draw(np.ones(2))


@pytest.mark.parametrize("style", ["attribute", "property", "method", "none"])
def test_op_name_reads_any_naming_style(style):
    base = type("Thing", (), {})
    if style == "attribute":
        cls = type("Mul", (base,), {"name": "MulBackward0"})
    elif style == "property":
        cls = type("Mul", (base,), {"name": property(lambda self: "MulBackward0")})
    elif style == "method":
        cls = type("Mul", (base,), {"name": lambda self: "MulBackward0"})
    else:
        cls = type("Mul", (base,), {})
    assert viz.op_name(cls()) == ("Mul" if style == "none" else "MulBackward0")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed: no SVG/PNG to check")
def test_renders_svg_and_png_through_graphviz(tmp_path):
    loss, h, params = _expr("numpy")
    g = viz.draw(loss, params=params, values=True)
    svg = g.render("svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == len(g.nodes) and svg.count('class="edge"') == len(g.edges)
    assert g._repr_svg_() == svg
    png = tmp_path / "g.png"
    g.save(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_graphviz_text_still_works(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    loss, h, params = _expr("numpy")
    g = viz.draw(loss, params=params)
    assert not viz.graphviz_available() and g._repr_svg_() is None
    with pytest.raises(RuntimeError, match="dot"):
        g.render("svg")
    path = tmp_path / "g.txt"
    g.save(str(path))
    assert path.read_text() == g.text() + "\n"
    g.save(str(tmp_path / "g.dot"))
    assert (tmp_path / "g.dot").read_text() == g.dot() + "\n"
