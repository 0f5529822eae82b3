"""Draw the computation graph behind a tensor: one node per op (its name, output shape and dtype), one per leaf.

    g = minigrad.viz.draw(loss, params=dict(model.named_parameters()), values=True, grads=True)
    print(g)            # an indented text tree: needs nothing installed
    g.dot()             # the Graphviz DOT source (a string)
    g.save("graph.svg") # SVG / PNG through Graphviz's `dot`, where it is installed
    g                   # in Jupyter: the SVG where `dot` is installed, the text tree where not

Edges run the way data flows (input -> op). Draw before `backward()`, or call `backward(retain_graph=True)`:
backward frees each op's saved inputs, and with them the graph's links (as torch frees its saved tensors).
An op's gradient is that of the tensor it produced, which autograd keeps only for the root and for tensors
marked with `retain_grad()` (as in torch).
"""
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field

import numpy

from .autograd import AccumulateGrad
from .backend import to_numpy
from .tensor import Tensor

FREED_NOTE = "freed by backward(): draw before it, or use backward(retain_graph=True)"


@dataclass
class Node:
    """One box: an op (kind 'op'), a leaf that requires grad ('leaf') or a constant input ('constant')."""

    id: str
    kind: str
    name: str
    shape: tuple
    dtype: str
    value: object = None  # host NumPy array, when values were asked for
    grad: object = None   # host NumPy array, when grads were asked for and the tensor has one
    note: str = ""

    def header(self):
        """One line: name, shape, dtype and the note."""
        return f"{self.name}  {self.shape} {self.dtype}" + (f"  ({self.note})" if self.note else "")


@dataclass
class Graph:
    """Nodes (root first, then breadth-first towards the leaves) and edges (src feeds dst, in input order)."""

    nodes: list
    edges: list
    root: str
    precision: int = 4
    _by_id: dict = field(default_factory=dict, repr=False)
    _inputs: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._by_id = {n.id: n for n in self.nodes}
        for s, d in self.edges:
            self._inputs.setdefault(d, []).append(s)

    def node(self, node_id):
        """The Node with that id."""
        return self._by_id[node_id]

    def inputs_of(self, node_id):
        """Ids of the nodes feeding node_id, in the op's argument order (repeated when used twice)."""
        return list(self._inputs.get(node_id, ()))

    # ---- text ---------------------------------------------------------------------------------
    def text(self):
        """The graph as an indented tree, root on top; a node used by several ops is drawn once, then referred to."""
        uses = {}
        for s, _ in self.edges:
            uses[s] = uses.get(s, 0) + 1
        lines, drawn = [], set()
        stack = [(self.root, "", True, True)]  # (node, prefix, last child?, top?); a stack: deep graphs cannot
        while stack:                           # reach the recursion limit
            nid, prefix, last, top = stack.pop()
            n = self.node(nid)
            tag = f"[{nid}] " if uses.get(nid, 0) > 1 else ""
            branch = "" if top else ("└── " if last else "├── ")
            if nid in drawn:
                lines.append(f"{prefix}{branch}{tag}{n.name}  (drawn above)")
                continue
            drawn.add(nid)
            lines.append(f"{prefix}{branch}{tag}{n.header()}")
            child_prefix = prefix if top else prefix + ("    " if last else "│   ")
            kids = self.inputs_of(nid)
            detail = "│   " if kids else "    "
            for label, arr in (("value", n.value), ("grad", n.grad)):
                if arr is not None:
                    for i, s in enumerate(self._fmt(arr).splitlines()):
                        lines.append(f"{child_prefix}{detail}{label + ':' if i == 0 else ' ' * (len(label) + 1)} {s}")
            for i in reversed(range(len(kids))):
                stack.append((kids[i], child_prefix, i == len(kids) - 1, False))
        return "\n".join(lines)

    def __str__(self):
        return self.text()

    def _repr_pretty_(self, p, cycle):  # IPython's plain-text display
        p.text(self.text())

    # ---- Graphviz -------------------------------------------------------------------------------
    def dot(self):
        """Graphviz DOT source: ops as grey boxes, leaves as blue boxes, constants as dashed white boxes."""
        style = {"op": 'shape=box style="rounded,filled" fillcolor="#e8e8e8"',
                 "leaf": 'shape=box style=filled fillcolor="#cfe2f3"',
                 "constant": 'shape=box style=dashed'}
        out = ["digraph minigrad {", '  graph [rankdir=BT fontname="Helvetica"];',
               '  node [fontname="Helvetica" fontsize=10];']
        for n in self.nodes:
            rows = [n.name, f"{n.shape} {n.dtype}"] + ([n.note] if n.note else [])
            for label, arr in (("value", n.value), ("grad", n.grad)):
                if arr is not None:
                    rows.append(f"{label}: " + self._fmt(arr))
            extra = ' penwidth=2' if n.id == self.root else ''
            out.append(f'  {n.id} [label="{_dot_escape(rows)}" {style[n.kind]}{extra}];')
        for s, d in self.edges:
            out.append(f"  {s} -> {d};")
        out.append("}")
        return "\n".join(out)

    def render(self, format="svg"):
        """The drawing as bytes in `format` ('svg', 'png', ...); needs Graphviz's `dot` on the PATH."""
        exe = shutil.which("dot")
        if exe is None:
            raise RuntimeError("Graphviz's `dot` program was not found on the PATH (install Graphviz, e.g. "
                               "`apt-get install graphviz` or `conda install graphviz`); print(graph) shows "
                               "the same graph as a text tree.")
        done = subprocess.run([exe, f"-T{format}"], input=self.dot().encode(), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dot -T{format} failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def save(self, path, format=None):
        """Write the drawing to `path` (format from the suffix unless given; '.txt' writes the text tree)."""
        fmt = format or str(path).rsplit(".", 1)[-1].lower()
        if fmt == "txt":
            data = (self.text() + "\n").encode()
        elif fmt in ("dot", "gv"):
            data = (self.dot() + "\n").encode()
        else:
            data = self.render(fmt)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):  # Jupyter shows this where Graphviz is installed; None falls back to the text
        if not graphviz_available():
            return None
        return self.render("svg").decode()

    def _fmt(self, arr):
        # up to 64 numbers in full (a small MLP's weights), larger arrays summarised by their corners
        return numpy.array2string(numpy.asarray(arr) + 0, precision=self.precision, threshold=64, edgeitems=3,
                                  suppress_small=True, max_line_width=60)


def graphviz_available():
    """True where Graphviz's `dot` is on the PATH (then graphs render to SVG/PNG)."""
    return shutil.which("dot") is not None


def op_name(fn):
    """An op's display name: its `name` (attribute, property or method) if it has one, else its class name."""
    name = getattr(fn, "name", None)  # a class attribute, a property or a method: each is read the same way
    if callable(name):
        name = name()
    return name if isinstance(name, str) and name else type(fn).__name__


def draw(tensor, params=None, values=False, grads=False, precision=4):
    """The Graph behind `tensor`. params: {name: Tensor} to label tensors (e.g. dict(model.named_parameters()));
    values / grads: show each node's values / gradient (of the op's output, the leaf itself)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw() takes a minigrad Tensor, got {type(tensor).__name__}")
    names = {id(t): k for k, t in (params or {}).items()}
    nodes, edges, ids = [], [], {}  # ids: id(Function) or id(leaf Tensor) -> node id

    def host(t, want, attr):
        if not want:
            return None
        a = t.array if attr == "data" else (t.grad.array if t.grad is not None else None)
        return None if a is None else to_numpy(a)

    def visit(t, ctx):
        """Node id for tensor t made by node ctx (made on first sight); new op nodes are queued to have their inputs
        read."""
        ctx = None if type(ctx) is AccumulateGrad else ctx
        key = id(ctx) if ctx is not None else id(t)
        if key in ids:
            return ids[key], False
        nid = f"n{len(nodes)}"
        ids[key] = nid
        shape, dtype = tuple(t.array.shape), t.array.dtype.name
        if ctx is None:
            kind = "leaf" if t.requires_grad else "constant"
            name = names.get(id(t), "leaf" if t.requires_grad else "constant")
            small = kind == "constant" and t.array.size == 1  # a scalar operand (the 2 in x * 2): show it
            nodes.append(Node(nid, kind, name, shape, dtype, host(t, values or small, "data"), host(t, grads, "grad")))
            return nid, False
        name = op_name(ctx)
        if id(t) in names:
            name = f"{names[id(t)]} = {name}"
        note = FREED_NOTE if "inputs" not in ctx.__dict__ else ""  # backward let go of what made it
        nodes.append(Node(nid, "op", name, shape, dtype, host(t, values, "data"), host(t, grads, "grad"), note))
        return nid, True

    root, _ = visit(tensor, tensor.grad_fn)
    queue = deque([(root, tensor.grad_fn)] if tensor.grad_fn is not None else [])
    while queue:  # breadth-first, iterative: deep graphs must not hit the recursion limit
        nid, fn = queue.popleft()
        # the edge names the node that made each input when fn ran (an input changed in place since has another)
        for x, (nxt, _) in zip(getattr(fn, "inputs", ()), fn.next_functions):
            xid, new = visit(x, nxt)
            edges.append((xid, nid))
            if new:
                queue.append((xid, nxt))
    return Graph(nodes, edges, root, precision)


def _dot_escape(rows):
    """Rows of a DOT label: quotes and backslashes escaped, multi-line values left-aligned (\\l)."""
    out = []
    for r in rows:
        r = str(r).replace("\\", "\\\\").replace('"', '\\"')
        out.append(r.replace("\n", "\\l") + ("\\l" if "\n" in r else "\\n"))
    return "".join(out)
