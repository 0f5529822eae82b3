"""Every flag of every command line, fuzzed: a bad value is one `error:` line and exit 2, never a traceback.

Each CLI module (every experiments/ and benchmarks/ module with a __main__ guard) has parse_args(argv): the one
validation path its main() runs before any data is read, model built or timing started. The fuzz calls it
directly (wrapped in `cli`, as main is), so a value that passes costs milliseconds and trains nothing.
"""
import argparse
import importlib
from pathlib import Path

import pytest

from minigrad.utils.cli import cli

ROOT = Path(__file__).resolve().parents[1]
VALUES = ["0", "-1", "-0.5", "1e308", "99999999999999999999", "nan", "inf", "abc", ""]


def cli_modules():
    mods = []
    for pkg in ("experiments", "benchmarks"):
        for f in sorted((ROOT / pkg).glob("*.py")):
            if 'if __name__ == "__main__"' in f.read_text():
                mods.append(f"{pkg}.{f.stem}")
    return mods


MODULES = cli_modules()


def test_every_cli_is_found():
    assert {"experiments.mnist_final", "experiments.mlp_study_report", "experiments.mlp_study",
            "benchmarks.gpu_check", "benchmarks.run_all"} <= set(MODULES)


def base_argv(module, tmp_path, monkeypatch):
    """Arguments that keep every output inside tmp_path."""
    monkeypatch.chdir(tmp_path)  # relative paths a fuzzed value names (--out 0) land here
    monkeypatch.setenv("OUT", str(tmp_path / "gpu"))
    if module == "experiments.mlp_study_report":
        (tmp_path / "records").mkdir(exist_ok=True)
        return [str(tmp_path)]
    if module == "benchmarks.run_all":
        return ["--out-dir", str(tmp_path / "b"), "--results", str(tmp_path / "R.md")]
    if module.startswith("benchmarks.") and module != "benchmarks.gpu_check":
        return ["--json", str(tmp_path / "r.json")]
    if module == "benchmarks.gpu_check":
        return []
    return ["--out", str(tmp_path / "o")]


def the_parser(module, argv, monkeypatch, capsys):
    """The ArgumentParser that module.parse_args builds (caught as it parses --help, which must exit 0)."""
    seen = []
    real = argparse.ArgumentParser.parse_known_args

    def spy(self, *a, **k):
        seen.append(self)
        return real(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_known_args", spy)
        with pytest.raises(SystemExit) as e:
            importlib.import_module(module).parse_args(argv + ["--help"])
    assert e.value.code == 0
    return seen[0], capsys.readouterr().out


def outcome(module, argv, capsys):
    """'ok', 'error' (exit 2, one error: line), or what went wrong."""
    try:
        cli(importlib.import_module(module).parse_args)(argv)
    except SystemExit as e:
        err = capsys.readouterr().err
        if e.code == 2 and "error:" in err and "Traceback" not in err:
            return "error"
        return f"exit {e.code}: {err[-300:]!r}"
    except BaseException as e:  # a traceback the user would see
        return f"{type(e).__name__}: {e}"
    capsys.readouterr()
    return "ok"


@pytest.mark.parametrize("module", MODULES)
def test_help_shows_every_flag_with_meaning_and_default(module, tmp_path, monkeypatch, capsys):
    argv = base_argv(module, tmp_path, monkeypatch)
    parser, text = the_parser(module, argv, monkeypatch, capsys)
    assert "usage:" in text
    for a in parser._actions:
        if a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
            continue
        assert a.help and a.help.strip(), f"{module} {a.option_strings or a.dest}: no help text"
        shows_default = issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter)
        assert shows_default or "%(default)" in a.help, f"{module}: --help does not show defaults"


@pytest.mark.parametrize("module", MODULES)
def test_fuzz_every_flag(module, tmp_path, monkeypatch, capsys):
    argv = base_argv(module, tmp_path, monkeypatch)
    parser, _ = the_parser(module, argv, monkeypatch, capsys)
    bad = []
    for a in parser._actions:
        if not a.option_strings or isinstance(a, argparse._HelpAction) or a.help == argparse.SUPPRESS:
            continue
        flag = a.option_strings[-1]
        cases = [[flag]] if a.nargs == 0 else [[flag, v] for v in VALUES]
        for case in cases:
            got = outcome(module, argv + case, capsys)
            if got not in ("ok", "error"):
                bad.append(f"{' '.join(case)!r}: {got}")
    assert not bad, f"{module}:\n" + "\n".join(bad)


@pytest.mark.parametrize("module, argv", [
    ("experiments.mnist_final", ["--dropout", "1.5"]), ("experiments.mnist_final", ["--hidden", "0"]),
    ("experiments.mnist_final", ["--momentum", "-1"]), ("experiments.mnist_final", ["--n-val", "70000"]),
    ("experiments.mnist_final", ["--n-val", "-100"]), ("experiments.mnist_mlp", ["--seed", "-1"]),
    ("experiments.mnist_final", ["--dropout-in", "nan"]), ("experiments.mnist_final", ["--weight-decay", "-1"]),
    ("experiments.mlp_study", ["--quick", "--seeds", "3"]), ("experiments.mlp_study", ["--quick", "--epochs", "9"]),
    ("experiments.mlp_study", ["--epochs", "0"]), ("experiments.mlp_study", ["--cpus-per-trial", "nan"]),
    ("experiments.fashion_mnist", ["--show-index", "6000"]),
    ("benchmarks.gpu_check", ["--budget", "-5"]), ("benchmarks.run_all", ["--quick", "--short"]),
])
def test_named_cases_refused(module, argv, tmp_path, monkeypatch, capsys):
    assert outcome(module, base_argv(module, tmp_path, monkeypatch) + argv, capsys) == "error"


@pytest.mark.parametrize("module", ["experiments.mnist_final", "experiments.mnist_mlp", "experiments.fashion_mnist",
                                    "experiments.mnist_binary"])
def test_unwritable_out_refused_before_data(module, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main(["--out", str(f / "o"), "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--out" in err and "MNIST" not in err  # the data was never looked for


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_ranged_number_types_refuse_non_finite(text):
    from minigrad.utils import cli as c

    for t in (c.positive_float, c.nonnegative_float, c.unit_interval, c.dropout_p):
        with pytest.raises(argparse.ArgumentTypeError):
            t(text)
