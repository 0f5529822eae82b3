"""README stays a front door, the pages it sends readers to exist, and every install command named works."""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs").glob("*/*.md"))

# The README's sections, in this order (CONVENTIONS: what, install, two commands, example, differences from torch
# beside it, layout, reading guide, a short results summary).
SECTIONS = ["Install", "Two commands", "A 20-line example", "Where minigrad differs from PyTorch", "Layout",
            "Reading the engine", "Results"]


def headings(text, level="## "):
    return [line[len(level):].strip() for line in text.splitlines() if line.startswith(level)]


def test_readme_is_at_most_200_lines():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= 200, f"README.md has {n} lines; long material belongs in docs/"


def test_readme_has_the_sections_in_order():
    found = headings(README.read_text(encoding="utf-8"))
    assert [h for h in found if h in SECTIONS] == SECTIONS, found
    # the differences from torch sit right next to the example
    assert found.index("Where minigrad differs from PyTorch") == found.index("A 20-line example") + 1


def test_readme_says_what_lives_only_in_the_repository():
    install = README.read_text(encoding="utf-8").split("## Install", 1)[1].split("\n## ", 1)[0]
    for part in ("experiments", "notebooks", "benchmarks", "tests"):
        assert part in install, f"README's Install does not say where the {part} live"
    assert "only in the repository" in install


def test_readme_table_cells_stay_short():
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            for cell in line.strip("|").split(" | "):
                assert len(cell) <= 300, f"README table cell of {len(cell)} characters: {cell[:80]}..."


def local_links(path):
    """(target, anchor) of every relative Markdown link or image in a file, code blocks left out."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        yield file, anchor


def anchors(path):
    """The ids of a Markdown file's headings, as mkdocs' toc and GitHub make them."""
    out = set()
    for h in re.findall(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), flags=re.M):
        h = re.sub(r"[`*]", "", h).strip().lower()
        out.add(re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", h)))
    return out


@pytest.mark.parametrize("path", [README] + DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    for file, anchor in local_links(path):
        target = (path.parent / file).resolve() if file else path
        assert target.exists(), f"{path.relative_to(ROOT)} links to {file}, which does not exist"
        if anchor and target.suffix == ".md":
            assert anchor in anchors(target), f"{path.relative_to(ROOT)} links to {file}#{anchor}: no such heading"


def test_the_link_checker_can_fail(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[gone](missing.md) and [here](#title) and [there](#nowhere)\n")
    assert list(local_links(page)) == [("missing.md", ""), ("", "title"), ("", "nowhere")]
    assert "title" in anchors(page) and "nowhere" not in anchors(page)


# ---- install commands ----------------------------------------------------------------------------------------------
SCANNED = ["README.md", "CHANGELOG.md", "Makefile", ".ci/run", "docs", "minigrad", "experiments", "benchmarks",
           "reference"]


def scanned_files():
    for name in SCANNED:
        p = ROOT / name
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.suffix in (".py", ".md", ".ipynb")]
        for f in files:
            if "figures" not in f.parts:
                yield f, f.read_text(encoding="utf-8", errors="replace")


def extras():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options.extras_require"])


def unpublished_installs(text):
    """`pip install minigrad-engine...` with no source (`@ git+...`, a path): our name is not on PyPI."""
    found = []
    for m in re.finditer(r"pip install\s+(?:-\S+\s+)*[\"']?minigrad-engine[^\s\"'`]*[\"']?", text):
        if not re.match(r"\s*@", text[m.end():]):
            found.append(m.group(0))
    return found


def test_no_message_installs_the_unpublished_name():
    for f, text in scanned_files():
        found = unpublished_installs(text)
        assert not found, f"{f.relative_to(ROOT)} suggests {found}: minigrad-engine is not on PyPI"


def test_the_unpublished_name_check_can_fail():
    assert unpublished_installs("run `pip install 'minigrad-engine[gpu]'` first")
    assert unpublished_installs("pip install -U minigrad-engine")
    assert not unpublished_installs('pip install "minigrad-engine[gpu] @ git+https://example.org/minigrad"')
    assert not unpublished_installs("pip install cupy-cuda12x")


def test_every_extra_named_exists():
    known = extras()
    for f, text in scanned_files():
        for extra in re.findall(r"pip install\s+(?:-\S+\s+)*(?:-e\s+)?[\"']?[^\s\"']*\[([\w,\s-]+)\]", text):
            for name in extra.split(","):
                name = name.strip()
                if name in ("tune",):  # ray[tune]: Ray's own extra
                    continue
                assert name in known, f"{f.relative_to(ROOT)} names the extra [{name}]; setup.cfg has {sorted(known)}"


def test_cupy_error_names_commands_that_work():
    from minigrad import backend

    msg = str(backend.require_cupy_error())
    assert "pip install cupy-cuda12x" in msg  # CuPy's own package, on PyPI
    assert "'.[gpu]'" in msg and "gpu" in extras()
    assert not unpublished_installs(msg)
