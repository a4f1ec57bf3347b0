"""Nested cross-validation splits and the resumable TPE search (paper §2.5), on data/small."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ovito_glassml.datasets import load_dataset
from ovito_glassml.errors import InputError
from ovito_glassml.models import load_classifier
from ovito_glassml.models.classifier import FrameCalibration
from ovito_glassml.training.objective import TrialObjective
from ovito_glassml.training.presets import PRESETS
from ovito_glassml.training.splits import nested_folds
from ovito_glassml.training.search import GridRange, TrialLog, run_search

# one thread: two torch threads on this loaded 2-core machine train many times slower
torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "data" / "small" / "datasets"
# the smallest real trials: a 16-wide D-MPNN, one epoch, windows of 0.3 of the 30x30 box
TINY_SPACE = {"num_neighbors": GridRange(1, 3, 1, integer=True),
              "window_length": GridRange(0.3, 0.3, 0.05),
              "hidden_size": GridRange(8, 16, 8, integer=True),
              "message_steps": GridRange(2, 2, 1, integer=True),
              "dropout": GridRange(0.0, 0.2, 0.1),
              "ffn_layers": GridRange(1, 1, 1, integer=True),
              "batch_size": GridRange(8, 8, 8, integer=True)}


def tiny_objective(work_dir, dataset_number=1):
    path = DATASETS / f"dataset{dataset_number}.npz"
    fold = nested_folds(load_dataset(path))[0]
    return TrialObjective("dmpnn", str(path), tuple(fold.inner_train.tolist()),
                          tuple(fold.inner_validation.tolist()), tuple(fold.inner_test.tolist()),
                          epochs=1, seed=0, work_dir=str(work_dir), windows_per_config=2)


@pytest.mark.parametrize("number", [1, 6])
def test_nested_splits_are_disjoint_and_grouped_by_run(number):
    ds = load_dataset(DATASETS / f"dataset{number}.npz")
    runs = ds.run_ids()
    folds = nested_folds(ds, folds=3, test_fraction=0.2, seed=3)
    tests = [set(f.outer_test.tolist()) for f in folds]
    assert all(not (tests[a] & tests[b]) for a in range(3) for b in range(a + 1, 3))
    for fold in folds:
        parts = [fold.outer_test, fold.inner_train, fold.inner_validation, fold.inner_test]
        assert sum(len(p) for p in parts) == len(ds)
        assert len(np.unique(np.concatenate(parts))) == len(ds)
        part_runs = [set(runs[p].tolist()) for p in parts]
        for a in range(4):
            assert set(ds.label[parts[a]].tolist()) == {0, 1}
            for b in range(a + 1, 4):
                assert not (part_runs[a] & part_runs[b])


def test_nested_splits_refuse_a_dataset_with_too_few_runs():
    ds = load_dataset(DATASETS / "dataset1.npz")
    few = ds.subset(np.flatnonzero(np.isin(ds.seed, [1, 2, 3])))
    with pytest.raises(InputError, match="too few"):
        nested_folds(few)


def test_nested_splits_give_every_part_a_run_when_rounding_would_leave_it_empty():
    # 8 glass-only and 8 liquid-only runs, like the paper-size dataset 6: an 80/10/10 split of
    # 6 runs per class rounds to 5/0/1, which would leave the inner validation set empty
    ds = load_dataset(DATASETS / "dataset6.npz")
    runs = ds.run_ids()
    keep = np.concatenate([np.unique(runs[ds.label == label])[:8] for label in (0, 1)])
    ds = ds.subset(np.flatnonzero(np.isin(runs, keep)))
    for fold in nested_folds(ds, folds=3, test_fraction=0.2, seed=0):
        for part in (fold.outer_test, fold.inner_train, fold.inner_validation, fold.inner_test):
            assert set(ds.label[part].tolist()) == {0, 1}


def test_resumed_search_proposes_the_trials_of_an_uninterrupted_one(tmp_path):
    space = {"x": GridRange(0.0, 1.0, 0.1), "n": GridRange(1, 5, 1, integer=True)}
    objective = lambda p: {"auc": 1.0 - (p["x"] - 0.3) ** 2 - 0.01 * (p["n"] - 2) ** 2}
    quiet = lambda line: None
    whole = run_search(objective, space, tmp_path / "whole.json", 8, seed=4, startup_trials=3, log=quiet)
    run_search(objective, space, tmp_path / "parts.json", 5, seed=4, startup_trials=3, log=quiet)
    resumed = run_search(objective, space, tmp_path / "parts.json", 8, seed=4, startup_trials=3, log=quiet)
    assert [r["params"] for r in resumed] == [r["params"] for r in whole]


@pytest.mark.slow
def test_search_killed_mid_run_resumes_to_the_same_number_of_trials(tmp_path):
    log_path = tmp_path / "search.json"
    script = f"""
import sys
import time
from test_crossval import TINY_SPACE, tiny_objective
from ovito_glassml.training.search import run_search
objective = tiny_objective({str(tmp_path / 'trials')!r})
calls = []
def stalls_after_the_first_trial(params):
    # tiny trials take a fraction of a second: without this the search may finish all three
    # before the parent sees the first one and kills it
    if calls:
        time.sleep(600)
    calls.append(params)
    return objective(params)
run_search(stalls_after_the_first_trial, TINY_SPACE, {str(log_path)!r}, 3, seed=0, startup_trials=1)
"""
    # the script imports this module, so the tests folder goes on its path
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT / "tests"))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not (log_path.exists() and json.loads(log_path.read_text())["trials"]):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    before = json.loads(log_path.read_text())["trials"]
    assert 1 <= len(before) < 3

    records = run_search(tiny_objective(tmp_path / "trials"), TINY_SPACE, log_path, 3, seed=0,
                         startup_trials=1, log=lambda line: None)
    assert [r["tid"] for r in records] == [0, 1, 2]
    assert records[:len(before)] == before
    assert len(TrialLog.open(log_path, TINY_SPACE, 0).records) == 3


@pytest.mark.slow
def test_search_runs_its_trials_on_a_local_ray_instance(tmp_path):
    ray = pytest.importorskip("ray")
    log_path = tmp_path / "search.json"
    objective = tiny_objective(tmp_path / "trials")
    run_search(objective, TINY_SPACE, log_path, 1, seed=0, startup_trials=1, log=lambda line: None)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        records = run_search(objective, TINY_SPACE, log_path, 2, seed=0, startup_trials=1,
                             ray_address="local", log=lambda line: None)
    finally:
        ray.shutdown()
    assert [r["tid"] for r in records] == [0, 1]
    assert "ray_trial_id" in records[1] and "ray_trial_id" not in records[0]
    # the Ray worker's score is the trial's: the same seeded trial run here gives it again
    assert records[1]["auc"] == pytest.approx(objective(records[1]["params"])["auc"])


def test_small_preset_keeps_the_paper_protocol_shape():
    small, paper = PRESETS["small"], PRESETS["paper"]
    assert (paper.folds, paper.test_fraction, paper.inner_fractions) == (3, 0.2, (0.8, 0.1, 0.1))
    assert (paper.iterations, paper.epochs) == (15, 10)
    assert (small.folds, small.test_fraction, small.inner_fractions) == (3, 0.2, (0.8, 0.1, 0.1))
    assert paper.dmpnn_space["hidden_size"].values()[::7] == [300, 1000, 1700, 2400]
    assert paper.dmpnn_space["window_length"].values() == [0.1, 0.15, 0.2, 0.25, 0.3]


@pytest.mark.parametrize("model", ["dmpnn", "cnn"])
def test_campaign_protocol_lets_tpe_model_at_least_five_trials(model):
    """Issue 12: >= 10 trials per fold, more than hyperopt's random start-up draws, and the
    queue script runs the preset as it is."""
    from ovito_glassml.training.crossval import protocol_changes
    from ovito_glassml.training.search import space_to_json

    preset = PRESETS["campaign"]
    assert preset.iterations >= 10 and preset.iterations - preset.startup_trials >= 5
    changes = protocol_changes(model, preset.as_dict(), space_to_json(preset.space(model)))
    assert not any("random search" in line for line in changes)
    assert any(line.startswith("TPE trials per fold") for line in changes)
    script = (ROOT / "scripts" / "crossval_campaign.sh").read_text()
    assert "--preset campaign" in script and "--iterations" not in script.split("JOBS=")[1]


def test_protocol_changes_list_every_reduction_from_the_paper_protocol():
    from dataclasses import replace

    from ovito_glassml.training.crossval import protocol_changes
    from ovito_glassml.training.search import space_to_json, space_with

    paper = PRESETS["paper"]
    assert protocol_changes("dmpnn", paper.as_dict(), space_to_json(paper.dmpnn_space)) == []
    reduced = replace(paper, iterations=3, epochs=15, final_epochs=15)
    space = space_with(paper.dmpnn_space, ["hidden_size=300:600:100", "num_neighbors=2"])
    changes = protocol_changes("dmpnn", reduced.as_dict(), space_to_json(space))
    assert changes == ["TPE trials per fold: 3 (paper preset: 15)",
                       "epochs per trial: 15 (paper preset: 10)",
                       "epochs of the retraining on the outer train set: 15 (paper preset: 10)",
                       "all 3 trials are random start-up draws (TPE models the results only "
                       "after 5): a random search",
                       "num_neighbors: 2 (paper Table 2: 1..5 step 1)",
                       "hidden_size: 300..600 step 100 (paper Table 2: 300..2400 step 100)"]


@pytest.mark.slow
def test_crossval_command_writes_mean_auc_and_resumes_only_with_its_settings(tmp_path):
    from ovito_glassml.cli import main

    out = tmp_path / "cv"
    args = ["crossval", "--model", "dmpnn", "--data", str(DATASETS / "dataset6.npz"), "--out",
            str(out), "--preset", "small", "--iterations", "2", "--epochs", "1",
            "--space", "hidden_size=16", "--space", "window_length=0.3", "--space", "readout_norm=1"]
    assert main(args) == 0
    report = json.loads((out / "crossval.json").read_text())
    # a trainer setting outside Table 2, fixed for every trial and recorded as a change
    assert "readout_norm: 1 (paper Table 2: not searched)" in report["reductions"]
    assert report["n_folds"] == 3
    assert report["auc_mean"] == pytest.approx(np.mean([f["test"]["auc"] for f in report["folds"]]))
    assert report["provenance"]["wall_seconds"] > 0
    for fold in report["folds"]:
        assert not set(map(tuple, fold["train_runs"])) & set(map(tuple, fold["test_runs"]))
        config = json.loads((Path(fold["model_dir"]) / "config.json").read_text())
        assert config["hyperparameters"]["readout_norm"] is True
        # the final model's whole-frame offsets come from its outer train frames only
        assert config["calibration"]["n_frames"] == len(fold["outer_train_indices"])
        assert {"frame_accuracy", "tiles_accuracy"} <= set(fold["test"])
    assert main(args) == 0                                   # resumes: every fold read back
    assert report["compute_seconds"] == pytest.approx(sum(f["wall_seconds"] for f in report["folds"]), abs=0.2)
    # a fold resumed from its trial log counts the trials of the earlier session in its time
    trials = json.loads((out / "fold0" / "search.json").read_text())["trials"]
    (out / "fold0" / "result.json").unlink()
    (out / "crossval.json").unlink()
    assert main(args) == 0
    report = json.loads((out / "crossval.json").read_text())
    assert report["folds"][0]["wall_seconds"] >= sum(t["seconds"] for t in trials) > 0
    assert main(args[:-6] + ["--space", "hidden_size=32", "--space", "window_length=0.3"]) == 2

    # the window baselines on the same folds: fitted on outer train, scored on outer test
    # written beside the experiments, never into the crossval folder; found by the report there
    baselines_file = tmp_path / "results" / "experiments" / "window_baselines" / "dataset1.json"
    assert main(["experiment", "window-baselines", "--crossval", str(out), "--out",
                 str(baselines_file)]) == 0
    assert not (out / "window_baselines.json").exists()
    baselines = json.loads(baselines_file.read_text())
    assert (baselines_file.parent / baselines["crossval"]).resolve() == (out / "crossval.json").resolve()
    assert len(baselines["folds"]) == 3
    for fold, cv_fold in zip(baselines["folds"], report["folds"]):
        assert fold["n_test_windows"] == len(cv_fold["outer_test_indices"]) * report["preset"]["windows_per_config"]
        assert fold["window_length"] == 0.3
    for name, summary in baselines["summary"].items():            # the means of the folds' scores
        for score in ("auc", "accuracy"):
            folds = [fold["baselines"][name][score] for fold in baselines["folds"]]
            assert summary[f"{score}_mean"] == pytest.approx(np.mean(folds)), (name, score)
    # dataset 6 of data/small: the fast glass has the lower pair energy in every fold
    assert all(f["baselines"]["pair_energy"]["glass_side"] == "below" for f in baselines["folds"])
    assert baselines["summary"]["pair_energy"]["auc_mean"] > 0.9
    from ovito_glassml.training.report import write_report

    text = write_report(tmp_path, tmp_path / "REPRODUCTION.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 6 | ") and line.count("/") == 6)
    assert f"{report['auc_mean']:.3f} / {report['accuracy_mean']:.2f}" in row
    energy = baselines["summary"]["pair_energy"]
    assert f"{energy['auc_mean']:.3f} / {energy['accuracy_mean']:.2f}" in row
    assert "![per-window AUC](reproduction_figures/window_baselines.png)" in text
    assert (tmp_path / "reproduction_figures" / "window_baselines.png").stat().st_size > 0
    margin = report["auc_mean"] - max(s["auc_mean"] for s in baselines["summary"].values())
    assert ("| yes (AUC +" in row) == (margin > 5e-4) and ("| tied (AUC " in row) == (abs(margin) <= 5e-4)


def test_window_baselines_see_the_windows_the_dmpnn_is_scored_on(dataset1, tiny_model_folder):
    """random_origins replays window_glass_probability's stream: same windows, same particles."""
    from ovito_glassml.graphs import FrameGraphs
    from ovito_glassml.models import load_classifier
    from ovito_glassml.neighbors import window_members
    from ovito_glassml.training.window_baselines import (draw_window_values, particle_values,
                                                         random_origins)

    spec = load_classifier(tiny_model_folder).graph_spec
    indices = [0, 5, 13]
    rng = np.random.default_rng(42)          # what window_glass_probability(..., rng=42) draws
    expected = [FrameGraphs(dataset1[i], spec).random_window(rng).num_nodes
                for i in indices for _ in range(3)]
    got = []
    for i, origins in random_origins(dataset1, indices, spec, 3, 42):
        config = dataset1[i]
        side = FrameGraphs(config, spec).side()
        got += window_members(config.scaled_positions(), origins, side).sum(axis=1).tolist()
    assert got == expected
    values = [particle_values(dataset1[i]) if i in indices else None for i in range(len(dataset1))]
    labels, window = draw_window_values(dataset1, indices, values, spec, 3, 42)
    assert labels.tolist() == np.repeat(np.asarray(dataset1.label)[indices], 3).tolist()
    # glass (T=0.05) windows sit far below liquid (T=1.99) ones in pair energy
    assert window["pair_energy"][labels == 1].max() < window["pair_energy"][labels == 0].min()


@pytest.mark.slow
def test_inherent_structure_dataset_goes_through_crossval_baselines_and_report(tmp_path):
    """dataset6-is from eight campaign runs a side: built from the minimised dumps, cross-validated
    with the readout norm, baselined on the same windows, and set against its goals in the report."""
    from ovito_glassml.cli import main
    from ovito_glassml.training.report import write_report

    paper = ROOT / "data" / "paper"
    assert main(["dataset", str(paper / "slow" / "manifest.csv"), "--fast", str(paper / "fast" / "manifest.csv"),
                 "--seeds", "1-8", "--fast-seeds", "1001-1008", "--datasets", "6", "--inherent",
                 "--out", str(tmp_path / "data")]) == 0
    data = tmp_path / "data" / "dataset6-is.npz"
    ds = load_dataset(data)
    assert ds.meta["dataset"] == "6-is" and ds.meta["structure"] == "inherent" and len(ds) == 16
    out = tmp_path / "results" / "dmpnn" / "dataset6-is"
    assert main(["crossval", "--model", "dmpnn", "--data", str(data), "--out", str(out), "--preset", "small",
                 "--iterations", "2", "--epochs", "1", "--space", "hidden_size=16",
                 "--space", "window_length=0.3", "--space", "readout_norm=1"]) == 0
    baselines_file = tmp_path / "results" / "experiments" / "window_baselines.json"
    assert main(["experiment", "window-baselines", "--crossval", str(out), "--out",
                 str(baselines_file)]) == 0
    # fold models trained before training calibrated: refit on the outer train frames, re-score
    for path in out.glob("fold*/model/config.json"):
        config = json.loads(path.read_text())
        del config["calibration"]
        path.write_text(json.dumps(config))
    assert main(["calibrate", "--crossval", str(out)]) == 0
    cv = json.loads((out / "crossval.json").read_text())
    for fold in cv["folds"]:
        classifier = load_classifier(out / f"fold{fold['fold']}" / "model")
        assert classifier.calibration == FrameCalibration(fold["calibration"]["frame"],
                                                          fold["calibration"]["tiles"])
        test = ds.subset(fold["outer_test_indices"])
        frame = classifier.glass_probability([test[i] for i in range(len(test))], "frame")
        assert fold["test"]["frame_accuracy"] == np.mean((frame >= 0.5) == test.label)
        assert fold["test"]["uncalibrated"]["frame_auc"] == pytest.approx(fold["test"]["frame_auc"])
    assert cv["frame_accuracy_mean"] == pytest.approx(np.mean([f["test"]["frame_accuracy"] for f in cv["folds"]]))
    baselines = json.loads(baselines_file.read_text())
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## Beyond the paper: the six datasets on inherent structures")[1].split("\n## ")[0]
    row = next(line for line in section.splitlines() if line.startswith("| 6-is | 0.3, 0.3, 0.3 |"))
    frame_auc = np.mean([f["test"]["frame_auc"] for f in cv["folds"]])
    assert f"| {cv['auc_mean']:.3f} / {cv['accuracy_mean']:.2f} | {frame_auc:.3f} / " in row
    best = max(s["auc_mean"] for s in baselines["summary"].values())
    assert f": {best:.3f} | – | window >= 0.70, frame >= 0.95 |" in row     # no frame baselines run
    met = cv["auc_mean"] >= 0.70 and frame_auc >= 0.95 and cv["auc_mean"] > best + 5e-4
    assert row.endswith(f"| {'yes' if met else 'no'} |")
    assert "| 5-is | – | not run" in section          # the datasets not run say how to run them
    # a variant of the protocol is printed beside the cross-validation it varies, not in its place
    variant = tmp_path / "results" / "crossval_variants" / "dmpnn" / "dataset6-is-v"
    variant.mkdir(parents=True)
    (variant / "crossval.json").write_text(json.dumps(dict(cv, auc_mean=0.123)))
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## Beyond the paper: the six datasets on inherent structures")[1].split("\n## ")[0]
    assert row in section.splitlines()
    assert "- Variant, dataset 6-is (`results/crossval_variants/dmpnn/dataset6-is-v/crossval.json`): " \
           "window AUC 0.123" in section
    assert "![inherent structures](reproduction_figures/inherent_structures.png)" in section
    assert (tmp_path / "reproduction_figures" / "inherent_structures.png").stat().st_size > 0


@pytest.mark.tensorflow
def test_cnn_crossval_with_the_pooled_head_records_it_and_writes_pooled_fold_models(tmp_path):
    """The campaign's CNN jobs run ``--space pooled_head=1`` (scripts/crossval_campaign.sh):
    every trial and fold model has the pooled head, and the report lists it as a change."""
    pytest.importorskip("tensorflow")
    from ovito_glassml.cli import main
    from ovito_glassml.models.cnn import head_of

    out = tmp_path / "cv"
    assert main(["crossval", "--model", "cnn", "--data", str(DATASETS / "dataset1.npz"),
                 "--out", str(out), "--preset", "small", "--iterations", "2", "--epochs", "3",
                 "--space", "pooled_head=1", "--space", "batch_size=4:8:4", "--space", "dropout=0"]) == 0
    report = json.loads((out / "crossval.json").read_text())
    assert "pooled_head: 1 (paper Table 2: not searched)" in report["reductions"]
    assert report["n_folds"] == 3
    assert report["auc_mean"] == pytest.approx(np.mean([f["test"]["auc"] for f in report["folds"]]))
    for fold in report["folds"]:
        assert fold["best_params"]["pooled_head"] == 1
        classifier = load_classifier(fold["model_dir"])
        assert head_of(classifier.model) == "pooled"
        assert classifier.config["hyperparameters"]["head"] == "pooled"
        # the frame offset is fitted on the fold's outer train images and read on its test images
        assert classifier.config["calibration"]["n_frames"] == len(fold["outer_train_indices"])
        assert set(fold["test"]["uncalibrated"]) == {"auc", "accuracy"}
        assert fold["test"]["uncalibrated"]["auc"] == pytest.approx(fold["test"]["auc"])
    from ovito_glassml.training.report import write_report

    text = write_report(tmp_path, tmp_path / "REPRODUCTION.md").read_text()
    assert "- CNN on dataset(s) 1: our pooled head (`pooled_head: 1`)" in text
    assert "- CNN accuracy is read with each fold model's frame offset" in text
    assert "without it (mean, per fold): dataset 1 " in text
    script = (ROOT / "scripts" / "crossval_campaign.sh").read_text()
    assert 'cnn:*)      extra="--preset campaign --space pooled_head=1"' in script


def test_the_campaign_queue_gives_inherent_structure_jobs_their_window_range(tmp_path):
    """scripts/crossval_campaign.sh runs each job once, the -is jobs with IS_WINDOWS (3D: up to
    l_win 0.35, the particle count of 2D's 0.5) and the others with the preset's range. The
    command it runs is a recorder here: the queue's shell logic is what is tested."""
    import os
    import subprocess

    data = tmp_path / "datasets"
    data.mkdir()
    for name in ("dataset6.npz", "dataset6-is.npz"):
        (data / name).write_bytes(b"")
    calls = tmp_path / "calls.txt"
    recorder = tmp_path / "record.sh"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    recorder.chmod(0o755)
    out = tmp_path / "crossval"
    env = {**os.environ, "GLASSML": str(recorder), "IS_WINDOWS": "0.1:0.35:0.05",
           "JOBS": "dmpnn:dataset1 dmpnn:dataset5-is"}
    subprocess.run(["sh", str(ROOT / "scripts" / "crossval_campaign.sh"), str(data), str(out),
                    str(tmp_path)], env=env, check=True, capture_output=True, timeout=60)
    thermal, inherent = calls.read_text().splitlines()
    assert thermal.startswith("crossval --model dmpnn") and "dataset1.npz" in thermal
    assert "window_length" not in thermal and "--preset campaign" in thermal
    assert "dataset5-is.npz" in inherent
    assert "--space readout_norm=1 --space window_length=0.1:0.35:0.05" in inherent
    assert not (out / ".locks" / "dmpnn-dataset1").exists()    # locks are released
