"""Every public function, class and method in minigrad/ has a docstring (the API reference is built from them).

Public: a name not starting with `_`, and the public methods of public classes. Dunder methods are private by that
rule; an op's `forward` / `backward` (and their `_fast` twins) carry a `# d/dx ...` comment instead.
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXEMPT_METHODS = ("forward", "backward", "forward_fast", "backward_fast")

# Files not checked yet, each with its reason. Remove a line once its file is documented.
NOT_YET = {}


def undocumented(source):
    """Dotted names of the public functions, classes and methods in `source` that have no docstring."""
    out = []

    def visit(node, prefix="", in_class=False):
        for n in node.body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                public = not n.name.startswith("_")
                exempt = in_class and n.name in EXEMPT_METHODS
                if public and not exempt and ast.get_docstring(n) is None:
                    out.append(prefix + n.name)
                if isinstance(n, ast.ClassDef) and public:
                    visit(n, prefix + n.name + ".", True)

    visit(ast.parse(source))
    return out


def test_every_public_name_in_minigrad_has_a_docstring():
    missing = {}
    for path in sorted((ROOT / "minigrad").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in NOT_YET:
            names = undocumented(path.read_text(encoding="utf-8"))
            if names:
                missing[rel] = names
    assert missing == {}, f"add a one-line docstring (plus shapes) to: {missing}"


def test_the_files_not_yet_checked_exist():
    """A renamed or deleted file must leave the list, not hide its successor."""
    assert [f for f in NOT_YET if not (ROOT / f).is_file()] == []


def test_the_scanner_can_fail():
    source = '''
def documented():
    """Yes."""

def bare():
    pass

def _private():
    pass

class Op:
    def forward(self, x):
        return x

    def backward(self, gy):
        return gy

    def view(self, a):
        return a

    def __repr__(self):
        return "Op"

class _Hidden:
    def public(self):
        pass
'''
    assert undocumented(source) == ["bare", "Op", "Op.view"]
