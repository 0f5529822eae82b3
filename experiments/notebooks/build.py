"""Build the course notebooks (experiments/notebooks/*.ipynb, no outputs) from their sources in src/.

Each source is a Python file in the "percent" format (as jupytext writes it): `# %%` starts a code cell,
`# %% [markdown]` a markdown cell whose lines are comments, `# %% tags=["parameters"]` a tagged code cell.
The sources are what to edit and review; the .ipynb files are generated, committed without outputs (so a
diff shows code, not pictures) and checked against the sources by tests/test_notebooks.py.
    python -m experiments.notebooks.build           # rewrite the .ipynb files
    python -m experiments.notebooks.build --check   # exit 1 when a committed notebook differs from its source
"""
import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse(text):
    """Percent-format text -> list of (cell_type, source, tags)."""
    cells, kind, tags, lines = [], None, [], []

    def flush():
        src = "\n".join(lines).strip("\n")
        if kind is not None and src:
            cells.append((kind, src, tags))

    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            flush()
            kind, tags, lines = ("markdown" if m["md"] else "code"), json.loads(m["tags"] or "[]"), []
        elif kind == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"markdown cell line is not a comment: {line!r}")
            lines.append(line[2:] if line.startswith("# ") else line[1:])
        elif kind == "code":
            lines.append(line)
    flush()
    return cells


def notebook(src_path):
    """The nbformat v4 notebook (a plain dict) for one source file; cell ids are stable (name-index)."""
    stem = src_path.stem
    cells = []
    for i, (kind, source, tags) in enumerate(parse(src_path.read_text())):
        cell = {"cell_type": kind, "id": f"{stem[:50]}-{i}", "metadata": {"tags": tags} if tags else {},
                "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    return {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def dumps(nb):
    """Serialised as nbformat writes it: source split into lines, indent 1, sorted keys, trailing newline."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def sources():
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def target(src_path):
    return HERE / (src_path.stem + ".ipynb")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for src in sources():
        text, out = dumps(notebook(src)), target(src)
        if args.check:
            if not out.is_file() or out.read_text() != text:
                stale.append(out.name)
        else:
            out.write_text(text)
            print(f"wrote {out.relative_to(HERE.parents[1])}")
    if stale:
        print("out of date with src/ (run python -m experiments.notebooks.build): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
