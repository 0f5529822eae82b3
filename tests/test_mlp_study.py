"""experiments.mlp_study: a smoke sweep through real Ray Tune, its resume, determinism, and bad input (exit 2).

The sweep runs once per session (module fixture): 2 trials on 300 images for 2 epochs, then --resume with a
third value; no trial that finished is started again. Bad-input cases stop before Ray starts.
"""
import csv
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("MINIGRAD_DATA") or os.path.join(ROOT, "data")
TINY = ["--factors", "activation", "--seeds", "0", "--subset", "300", "--n-val", "300", "--epochs", "2",
        "--data-dir", DATA]


def study(args, timeout=600):
    env = {**os.environ, "PYTHONPATH": ROOT, "RAY_DEDUP_LOGS": "0"}
    return subprocess.run([sys.executable, "-m", "experiments.mlp_study", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def starts(out):
    folder = os.path.join(out, "starts")
    return {k: open(os.path.join(folder, k)).read().count("start") for k in os.listdir(folder)}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    pytest.importorskip("ray.tune")
    if not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    out = str(tmp_path_factory.mktemp("study") / "out")
    first = study(["--out", out, "--only", "activation=relu,tanh", *TINY])
    assert first.returncode == 0, first.stderr[-3000:]
    after_first = starts(out)
    records_first = {k: open(os.path.join(out, "records", k + ".json")).read() for k in after_first}
    second = study(["--out", out, "--resume", "--only", "activation=relu,tanh,sigmoid", *TINY])
    assert second.returncode == 0, second.stderr[-3000:]
    return dict(out=out, first=first, second=second, after_first=after_first, records_first=records_first)


def test_sweep_outputs(sweep):
    out = sweep["out"]
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["value"] for r in rows) == ["relu", "sigmoid", "tanh"]
    for r in rows:
        assert r["status"] == "finished" and r["epochs_run"] == "2" and r["seed"] == "0"
        assert 0.0 <= float(r["best_val_error"]) <= float(r["last_val_error"]) + 1e-12 <= 1.0
    trials = json.load(open(os.path.join(out, "results.json")))["trials"]
    assert all(len(t["val_curve"]) == 2 for t in trials)
    table = open(os.path.join(out, "table.md")).read()
    assert all(v in table for v in ("relu", "sigmoid", "tanh"))
    # a run smaller than the course's says so first, and its results.json carries the same label
    assert table.startswith("> REDUCED run: 300 training images, 2 epochs, 300 validation images")
    assert json.load(open(os.path.join(out, "results.json")))["label"] in table
    assert os.path.getsize(os.path.join(out, "activation.png")) > 1000
    assert "summary: 2 trials ran to the end, 0 failed, 0 stopped early, 0 finished before" in sweep["first"].stdout
    # Tune itself saw each epoch: its per-trial result files hold the reported validation errors
    reported = [os.path.join(d, f, "result.json") for d in (os.path.join(out, x) for x in os.listdir(out)
                if x.startswith("activation-")) for f in os.listdir(d) if os.path.isdir(os.path.join(d, f))]
    lines = [json.loads(line) for p in reported if os.path.exists(p) for line in open(p)]
    assert len(lines) == 3 * 2 and all("val_error" in x for x in lines)


def test_resume_reruns_no_finished_trial(sweep):
    out, before = sweep["out"], sweep["after_first"]
    now = starts(out)
    assert len(before) == 2 and len(now) == 3
    assert all(n == 1 for n in now.values())  # each trial started exactly once over both runs
    for k, text in sweep["records_first"].items():
        assert open(os.path.join(out, "records", k + ".json")).read() == text  # kept as it was
    assert "1 trials ran to the end, 0 failed, 0 stopped early, 2 finished before" in sweep["second"].stdout


def test_trial_depends_only_on_config_and_seed(sweep):
    """A trial rerun alone (no Ray) gives the very numbers it gave inside the sweep."""
    from experiments.mlp_trial import run_trial

    recs = [json.load(open(os.path.join(sweep["out"], "records", k + ".json"))) for k in sweep["after_first"]]
    rec = min(recs, key=lambda r: r["config"]["value"])
    alone = run_trial(rec["config"])
    assert alone["val_curve"] == rec["val_curve"]
    assert alone["best_val_error"] == rec["best_val_error"] and alone["epochs_run"] == rec["epochs_run"]


def test_crashed_trial_is_retried_then_recorded_failed(tmp_path):
    """The trial crashes every time (batch norm on a 1-image training set has no batch variance): Tune retries it
    once, then it is recorded as failed and the command exits 1."""
    pytest.importorskip("ray.tune")
    if not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    out = str(tmp_path / "o")
    args = ["--factors", "regularisation", "--only", "regularisation=batchnorm", "--seeds", "0", "--epochs", "1",
            "--n-val", "59999", "--data-dir", DATA]
    r = study(["--out", out, *args])
    assert r.returncode == 1 and "Traceback" not in r.stderr.split("mlp_study:")[-1]
    assert "0 trials ran to the end, 1 failed" in r.stdout
    assert list(starts(out).values()) == [2]  # the first run and its one retry
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r_["status"] for r_ in rows] == ["failed"]
    trial = json.load(open(os.path.join(out, "results.json")))["trials"][0]
    assert "ValueError" in trial["error"]


@pytest.mark.parametrize("args,facts", [
    (["--only", "activation=swish"], ["swish", "activation"]),
    (["--factors", "colour"], ["colour"]),
    (["--only", "activation="], ["empty search space"]),
    (["--only", "width=150"], ["150", "width"]),
    (["--address", "127.0.0.1:9"], ["127.0.0.1:9"]),  # the discard port: nothing answers there
])
def test_bad_input_is_one_error_exit_2(tmp_path, args, facts):
    pytest.importorskip("ray.tune")
    r = study(["--out", str(tmp_path / "o"), *TINY, *args], timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "error" in r.stderr
    assert all(f in r.stderr for f in facts), r.stderr


GOOD = {"key": "abc", "status": "finished", "best_val_error": 0.1, "last_val_error": 0.1, "val_curve": [0.2, 0.1],
        "config": {"group": "width", "factor": "width", "value": 100, "seed": 0, "hidden": [100, 100], "epochs": 2}}


def test_corrupted_results_folder_is_exit_2_and_loses_nothing(tmp_path):
    pytest.importorskip("ray.tune")
    rec_dir = tmp_path / "o" / "records"
    rec_dir.mkdir(parents=True)
    (rec_dir / "abc.json").write_text(json.dumps(GOOD))
    (rec_dir / "bad.json").write_text("{ not json")
    r = study(["--out", str(tmp_path / "o"), *TINY], timeout=120)  # without --resume: names it, changes nothing
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.json" in r.stderr and "corrupted" in r.stderr and "--resume" in r.stderr
    assert json.loads((rec_dir / "abc.json").read_text()) == GOOD and (rec_dir / "bad.json").exists()


@pytest.mark.parametrize("bad", [
    "{ not json", "[1, 2]", json.dumps({**GOOD, "key": "other"}), json.dumps({**GOOD, "status": "done"}),
    json.dumps({**GOOD, "best_val_error": "low"}), json.dumps({**GOOD, "best_val_error": 7}),
    json.dumps({k: v for k, v in GOOD.items() if k != "config"}),
    json.dumps({**GOOD, "config": {**GOOD["config"], "hidden": "500-300"}}),
    json.dumps({**GOOD, "val_curve": None}),
])
def test_bad_record_content_named_then_rerun_on_resume(tmp_path, bad, capsys):
    """Valid JSON with bad content is caught on read (not by the report after every trial ran)."""
    from experiments.mlp_study import UserError, load_records

    rec_dir = tmp_path / "records"
    rec_dir.mkdir()
    (rec_dir / "abc.json").write_text(bad)
    with pytest.raises(UserError, match="abc.json"):
        load_records(str(tmp_path))
    assert load_records(str(tmp_path), resume=True) == {}  # moved aside: its trial runs again
    assert "abc.json" in capsys.readouterr().err and (rec_dir / "abc.corrupt").exists()
    (rec_dir / "abc.json").write_text(json.dumps(GOOD))
    assert load_records(str(tmp_path)) == {"abc": GOOD}


def test_without_ray_says_how_to_install(tmp_path):
    code = ("import sys; sys.modules['ray'] = None; from experiments.mlp_study import main; "
            f"main(['--out', {str(tmp_path)!r}])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "pip install" in r.stderr and "study" in r.stderr


def test_asha_trials_that_reach_the_last_epoch_count_as_finished(tmp_path):
    """ASHA ends every trial itself, also those that reach max_t: only the ones ended before it are 'stopped early',
    and the summary counts what results.csv says."""
    pytest.importorskip("ray.tune")
    if not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    out = str(tmp_path / "asha")
    args = ["--factors", "stopping", "--only", "stopping=asha", "optimizer=adam,sgd,adagrad", "--seeds", "0", "1",
            "--subset", "300", "--n-val", "300", "--epochs", "3", "--data-dir", DATA]
    run = study(["--out", out, *args])
    assert run.returncode == 0, run.stderr[-3000:]
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["group"] for r in rows} == {"stopping-asha"}
    for r in rows:
        assert (r["status"], int(r["epochs_run"]) == 3) in (("finished", True), ("stopped_early", False)), r
    early = sum(r["status"] == "stopped_early" for r in rows)
    assert 0 < early < 6  # ASHA (grace 2, reduction 3) keeps the best third of each rung going
    assert f"summary: {6 - early} trials ran to the end, 0 failed, {early} stopped early" in run.stdout


def test_interrupted_sweep_resumes_without_rerunning_a_finished_trial(tmp_path):
    """Ctrl-C in the middle of a sweep, then --resume: the trials that finished are not started again, the rest run."""
    import signal
    import time

    pytest.importorskip("ray.tune")
    if not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    out = str(tmp_path / "out")
    args = ["--factors", "width", "--only", "width=100,200,300,400", "--seeds", "0", "--subset", "300",
            "--n-val", "300", "--epochs", "3", "--data-dir", DATA, "--cpus-per-trial", "2"]  # one trial at a time
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.mlp_study", "--out", out, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    records = os.path.join(out, "records")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.isdir(records) and os.listdir(records):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the sweep ended before it could be interrupted: " + proc.stdout.read()[-2000:]
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the driver and Ray's workers
    try:
        output = proc.communicate(timeout=120)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0]
    assert proc.returncode == 130 and "--resume" in output, output[-3000:]
    kept = [json.load(open(os.path.join(records, k))) for k in os.listdir(records)]
    finished = {r["key"] for r in kept if r["status"] == "finished"}
    assert 1 <= len(finished) < 4 and all(r["status"] in ("finished", "failed") for r in kept)  # none "stopped"
    second = study(["--out", out, "--resume", *args])
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"{len(finished)} finished before (resume)" in second.stdout
    after = starts(out)
    assert all(after[k] == 1 for k in finished), after  # a finished trial never starts again
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["value"]) for r in rows) == [100, 200, 300, 400]
    assert all(r["status"] == "finished" for r in rows)


def test_trials_continue_from_tunes_checkpoints_bit_for_bit(tmp_path):
    """Each trial reports a checkpoint to Tune every epoch. The trial crashes after epoch 1: Tune's retry restores it
    from that checkpoint; the retry crashes after epoch 2: recorded failed (exit 1), its checkpoint kept. --resume
    restores that Tune run (Tuner.restore) and the trial runs only epoch 3, ending with the numbers of the same
    trial run alone, never stopped."""
    pytest.importorskip("ray.tune")
    if not os.environ.get("MINIGRAD_DATA"):
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    from experiments.mlp_study_tune import FAULT
    from experiments.mlp_trial import run_trial

    out = str(tmp_path / "o")
    args = ["--factors", "activation", "--only", "activation=tanh", "--seeds", "0", "--subset", "300",
            "--n-val", "300", "--epochs", "3", "--data-dir", DATA, "--retries", "1"]
    os.environ[FAULT] = json.dumps({"tanh": [1, 2]})  # the i-th start crashes after that epoch
    try:
        first = study(["--out", out, *args])
    finally:
        del os.environ[FAULT]
    assert first.returncode == 1 and "0 trials ran to the end, 1 failed" in first.stdout, first.stderr[-3000:]
    (key,) = [f[:-len(".json")] for f in os.listdir(os.path.join(out, "records"))]
    assert json.load(open(os.path.join(out, "records", key + ".json")))["status"] == "failed"
    assert len(list((tmp_path / "o").rglob("checkpoint_*"))) == 1  # Tune keeps the last one (num_to_keep=1)
    second = study(["--out", out, "--resume", *args])
    assert second.returncode == 0, second.stderr[-3000:]
    assert "go on from their last checkpoint" in second.stdout and "1 trials ran to the end, 0 failed" in second.stdout
    starts = open(os.path.join(out, "starts", key)).read().splitlines()
    assert starts == ["start", "resume after epoch 1", "resume after epoch 2"]
    rec = json.load(open(os.path.join(out, "records", key + ".json")))
    assert rec["status"] == "finished" and rec["epochs_run"] == 3
    assert rec["val_curve"] == run_trial(rec["config"])["val_curve"]  # bit for bit
    assert not list((tmp_path / "o").rglob("checkpoint_*"))  # a finished trial keeps no checkpoint


def test_committed_course_size_records_resume_the_rest(tmp_path, monkeypatch, capsys):
    """The study at the course's size is complete: resuming from the committed records (copy them, --resume), run
    dry (no Ray, no training), finds all 162 valid and exactly the trials of today's plan, so it runs none."""
    pytest.importorskip("ray.tune")
    import shutil

    from experiments import mlp_study, mlp_study_report, mlp_study_tune

    out = tmp_path / "mlp_study"
    shutil.copytree(os.path.join(ROOT, "experiments", "figures", "mlp_study"), out)
    ran = {}

    def run_group(tune, name, configs, out_, args):
        ran[name] = len(configs)
        return len(configs), 0, 0

    class Ray:
        shutdown = staticmethod(lambda: None)

    monkeypatch.setattr(mlp_study, "start_ray", lambda address: Ray)
    monkeypatch.setattr(mlp_study_tune, "run_group", run_group)
    monkeypatch.setattr(mlp_study_report, "write_outputs", lambda *a, **k: None)
    totals = mlp_study.main(["--out", str(out), "--resume"])
    assert not any(ran.values())  # no group hands a trial to Tune
    assert totals == dict(skipped=162, ran=0, failed=0, stopped=0)
    assert mlp_study.run_label(mlp_study.parse_args(["--out", str(out)])) is None  # the course's size, unlabelled
