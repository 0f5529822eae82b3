"""benchmarks/gpu_check.py's plan without running it: what runs with and without a GPU, what it says it skipped,
the commands' flags, the time budget, and the JSON it leaves under $OUT."""
import json
import os

import pytest

from benchmarks import gpu_check

GPU = {"device": "NVIDIA H100", "driver": "13.0", "cuda_runtime": "13.0", "cupy": "14.0.0",
       "torch": "2.11.0 (CUDA 13.0, GPU visible: True)"}


@pytest.fixture
def ran(monkeypatch, tmp_path):
    calls = []

    def fake_run(name, cmd, limit, out):
        calls.append((name, cmd, limit))
        return {"status": "passed", "seconds": 0.0}

    monkeypatch.setattr(gpu_check, "run_part", fake_run)
    monkeypatch.setenv("OUT", str(tmp_path))
    return calls, tmp_path


def _report(tmp_path):
    with open(tmp_path / "gpu_check.json") as f:
        return json.load(f)


def test_without_a_gpu_it_compiles_the_kernels_and_says_what_it_skipped(ran, monkeypatch, capsys):
    calls, out = ran
    monkeypatch.setattr(gpu_check, "versions", lambda: {"cupy_error": "CUDARuntimeError: no device"})
    assert gpu_check.main([]) == 0
    assert [c[0] for c in calls] == ["compile"]
    assert "tests/test_kernels_cuda.py" in calls[0][1]
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "skipped" in ln]
    assert len(lines) == 1 and all(n in lines[0] for n in ("kernels", "tests", "mnist", "parity", "bench"))
    assert "no CUDA GPU" in lines[0] and "no device" in lines[0]
    assert set(_report(out)["skipped"]) == {"kernels", "tests", "mnist", "parity", "bench"}


def test_with_a_gpu_and_no_data_it_runs_the_rest(ran, monkeypatch, capsys):
    calls, out = ran
    monkeypatch.setattr(gpu_check, "versions", lambda: dict(GPU))
    monkeypatch.setattr(gpu_check, "data_present", lambda: False)
    assert gpu_check.main([]) == 0
    assert [c[0] for c in calls] == ["kernels", "tests", "bench"]
    cmds = {c[0]: c[1] for c in calls}
    assert cmds["tests"][cmds["tests"].index("-k") + 1] == "cupy and not cupy_contract"
    bench = cmds["bench"]
    assert bench[1:3] == ["-m", "benchmarks.run_all"] and bench[bench.index("--device") + 1] == "cuda"
    assert sum(c[2] for c in calls) <= 450
    text = capsys.readouterr().out
    assert text.startswith("gpu-check: ") and "NVIDIA H100" in text.splitlines()[0]
    assert "mnist, parity (MNIST / Fashion-MNIST not found (set MINIGRAD_DATA" in text


def test_the_budget_bounds_every_part(ran, monkeypatch, tmp_path):
    calls, out = ran
    monkeypatch.setattr(gpu_check, "versions", lambda: dict(GPU))
    monkeypatch.setattr(gpu_check, "data_present", lambda: True)
    assert gpu_check.main(["--budget", "100"]) == 0
    assert [c[0] for c in calls][:2] == ["kernels", "tests"] and all(c[2] <= 100 for c in calls)
    assert gpu_check.main(["--budget", "10"]) == 0  # too little left for any part
    assert set(_report(out)["skipped"].values()) == {"time budget spent"}


def test_a_failed_part_fails_the_check(ran, monkeypatch):
    monkeypatch.setattr(gpu_check, "versions", lambda: dict(GPU))
    monkeypatch.setattr(gpu_check, "run_part",
                        lambda name, *a: {"status": "failed (exit 1)" if name == "tests" else "passed"})
    assert gpu_check.main(["--only", "kernels", "tests"]) == 1


def test_data_present_follows_minigrad_data(monkeypatch, tmp_path):
    from minigrad.data.datasets import MNIST

    monkeypatch.setattr(MNIST, "system_dirs", ())
    monkeypatch.chdir(tmp_path)  # no ./data here
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert gpu_check.data_present() is False
    shared = gpu_check.ROOT + "/../shared/data"
    if os.path.isdir(shared):  # the data the project's machines carry
        monkeypatch.setenv("MINIGRAD_DATA", shared)
        assert gpu_check.data_present() is True


def test_versions_and_figures_parse_what_the_tools_print():
    info = gpu_check.versions()
    assert info["python"] and ("device" in info or "cupy_error" in info)
    assert gpu_check._cuda_version(12040) == "12.4"
    assert gpu_check._pytest_figures("....\n3 passed, 2 skipped in 4.10s\n", "")["summary"] == "3 passed, 2 skipped"
