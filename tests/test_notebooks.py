"""The course notebooks: committed without outputs, in step with their sources, and run in a real Jupyter kernel.

Each notebook runs with `QUICK = True` injected after its `parameters` cell (as papermill does), executed by
nbclient in an ipykernel started from this interpreter with this repository first on its path; any error in
any cell fails the test. The data notebooks (3-5) skip, with the reason, where MINIGRAD_DATA is not set.
"""
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "experiments" / "notebooks"
NAMES = ["01_tensors_autograd", "02_cross_entropy_softmax", "03_binary_1_vs_7", "04_fashion_mnist",
         "05_mnist_mlp", "06_backprop_by_hand"]
NEEDS_DATA = {"03_binary_1_vs_7", "04_fashion_mnist", "05_mnist_mlp"}
KERNEL = "minigrad-notebook-test"
# printed last by the kernel: which minigrad it imported and the QUICK it ran with
SENTINEL = "import minigrad\nprint('SENTINEL', QUICK, minigrad.__file__)"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_one_notebook_per_course_document():
    assert sorted(p.stem for p in NB_DIR.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_and_with_a_parameters_cell(name):
    cells = _code_cells(NB_DIR / f"{name}.ipynb")
    for c in cells:
        assert c["outputs"] == [] and c["execution_count"] is None, f"{name}: strip the outputs before committing"
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, f"{name}: one cell tagged 'parameters'"
    assert "".join(tagged[0]["source"]).startswith("QUICK = False")
    assert cells[0] is tagged[0], f"{name}: the parameters cell comes before any other code"


def test_notebooks_match_their_sources():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    from experiments.notebooks import build

    assert build.main(["--check"]) == 0, "a notebook differs from src/: run python -m experiments.notebooks.build"
    for name in NAMES:
        nbformat.validate(nbformat.read(str(NB_DIR / f"{name}.ipynb"), as_version=4))


@pytest.fixture(scope="module")
def run_notebook(tmp_path_factory):
    """Function name -> executed notebook (cached: each notebook runs once per session)."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")

    # A kernelspec of our own: this interpreter, this repository first on the path, a scratch IPython dir.
    home = tmp_path_factory.mktemp("jupyter")
    spec_dir = home / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    path = os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "minigrad test kernel", "language": "python",
            "env": {"PYTHONPATH": path, "IPYTHONDIR": str(home / "ipython")}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(home)] + ([old] if old else []))
    done = {}

    def run(name):
        if name not in done:
            nb = nbformat.read(str(NB_DIR / f"{name}.ipynb"), as_version=4)
            at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
            injected = nbformat.v4.new_code_cell("QUICK = True", metadata={"tags": ["injected-parameters"]})
            nb.cells.insert(at + 1, injected)
            nb.cells.append(nbformat.v4.new_code_cell(SENTINEL))
            client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=300, allow_errors=False,
                                             resources={"metadata": {"path": str(NB_DIR)}})
            client.execute()  # raises CellExecutionError, naming the cell, on any error
            done[name] = nb
        return done[name]

    yield run
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def _all_stdout(nb):
    return "".join(_stdout(c) for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_runs_in_a_kernel(name, run_notebook):
    if name in NEEDS_DATA and not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST / Fashion-MNIST files are needed")
    nb = run_notebook(name)
    words = _stdout(nb.cells[-1]).split()
    assert words[:2] == ["SENTINEL", "True"], "QUICK = True did not reach the notebook"
    assert Path(words[2]).resolve() == ROOT / "minigrad" / "__init__.py", "the kernel imported another minigrad"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []


def test_cross_entropy_notebook_prints_the_course_numbers(run_notebook):
    lines = _all_stdout(run_notebook("02_cross_entropy_softmax")).splitlines()
    for want in ["softmax numpy: [0.6590 0.2424 0.0986]", "softmax minigrad: tensor([0.6590, 0.2424, 0.0986])",
                 "Loss1 numpy: 0.3567", "Loss2 numpy: 2.3026",
                 "Loss1 one sample: 0.4170", "Loss2 one sample: 1.8406",
                 "Batch Loss1: 0.2834", "Batch Loss2: 1.6418",
                 "predictions: tensor([2, 0, 1]) tensor([0, 2, 0])"]:
        assert want in lines, f"{want!r} not printed; got:\n" + "\n".join(lines)


def test_backprop_notebook_compares_every_gradient_and_draws_the_graph(run_notebook):
    nb = run_notebook("06_backprop_by_hand")
    out = _all_stdout(nb)
    for q in ["dL/dz", "dL/dW2", "dL/db2", "dL/da", "dL/dh", "dL/dW1", "dL/db1", "dL/dX"]:
        assert f"\n{q} (" in out, q
    torch_installed = any("torch" in _stdout(c) and "L = " in _stdout(c) for c in nb.cells if c.cell_type == "code")
    assert out.count("max |formula - minigrad|") == 13
    assert out.count("max |formula - torch|") == (13 if torch_installed else 0)
    last = nb.cells[-2]  # the drawing (the cell before our sentinel)
    shown = {k for o in last.outputs if o.output_type == "display_data" for k in o.data}
    from minigrad import viz

    assert "text/plain" in shown and ("image/svg+xml" in shown) == viz.graphviz_available()
