"""The README's example runs as written and its two commands exist in the Makefile."""
import pathlib
import re
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_example_runs(tmp_path, capsys):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(code)
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    losses = [float(line.split()[1]) for line in out if line[:1].isdigit()]
    assert len(losses) == 5 and losses[-1] < losses[0]  # the example trains
    assert any(line.startswith("accuracy") for line in out)


def test_readme_commands_are_make_targets():
    text = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", text, re.M):
        assert re.search(rf"^{target}:", makefile, re.M), f"README's `make {target}` is not in the Makefile"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
