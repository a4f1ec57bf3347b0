"""The paper's three-fold nested cross-validation with a TPE search inside (paper §2.5).

For each of ``folds`` disjoint outer test sets of ``test_fraction`` of the runs (paper: three of
20%), the rest (the outer train set) is split 80/10/10 into inner train, validation and test sets;
``iterations`` TPE trials of ``epochs`` epochs each train on the inner train set and are scored by
their AUC on the inner validation set (the inner test AUC of every trial is recorded too); a
model with the best trial's hyperparameters is then trained on the whole outer train set and
scored on the outer test set. AUC and accuracy are reported as mean and standard deviation
(``ddof=1``) over the folds.

Every split is by *run* (``PackedDataset.run_ids``: one cooling run is never on two sides), and
stratified by class: runs are grouped by what they hold (glass only, liquid only, both) and each
group is split with the same fractions, so every part holds both classes even when, as in
dataset 6, glass and liquid come from different runs.

Output folder::

    crossval.json             the result (kind "crossval"): per-fold scores, mean +/- std,
                              settings, wall time and command line
    fold<i>/search.json       the TPE trial log (resumable, see training/search.py)
    fold<i>/model/            the model retrained on the outer train set
    fold<i>/result.json       the fold's outer-test scores and its split (runs and indices)

Everything resumes: a finished fold is read back, a search continues from its log, and a final
training continues from its epoch checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from ovito_glassml.errors import InputError
from ovito_glassml.fileio import write_json_atomic

from .cache import cached_dataset
from .evaluate import classification_scores
from .objective import TrialObjective, fit_cnn_model, fit_dmpnn, score_dmpnn
from .presets import MODELS, PRESETS, CrossValPreset, space_for_dimension
from .provenance import provenance
from .search import EXTRA_SETTINGS, GridRange, best_trial, run_search, space_to_json, space_with
from .splits import nested_folds


# ----------------------------------------------------------------------------- the protocol

def run_crossval(model: str, dataset_path, out, preset: CrossValPreset = PRESETS["small"],
                 seed: int = 0, device: str = "cpu", ray_address: str | None = None,
                 resources_per_trial: dict | None = None, space_overrides=(),
                 command: str | None = None, log=print) -> dict:
    """Run (or resume) nested cross-validation of ``model`` on a dataset; write ``out/crossval.json``.

    Parameters
    ----------
    model : "dmpnn" or "cnn".
    dataset_path : packed dataset (.npz) or labelled manifest (.csv).
    out : output folder (see the module docstring).
    preset : protocol settings (:data:`PRESETS`, optionally modified with ``dataclasses.replace``).
    seed : seeds the splits, the searches and the trainings.
    device : torch device for the D-MPNN ("cpu", "cuda").
    ray_address, resources_per_trial : run the TPE trials on Ray (see :func:`run_search`).
    space_overrides : ``NAME=LOW:HIGH:STEP`` strings changing the preset's search space.
    command : the command line to record (default: this process's).

    Returns
    -------
    The result dict written to ``out/crossval.json``.
    """
    started = time.time()
    if model not in MODELS:
        raise InputError(f"--model must be one of {MODELS}, got {model!r}")
    if preset.iterations < 1 or preset.epochs < 1 or preset.final_epochs < 1:
        raise InputError("iterations and epochs must be positive")
    dataset_path = Path(dataset_path)
    dataset = cached_dataset(dataset_path)
    space = preset.space(model)
    if model == "dmpnn":
        space = space_for_dimension(space, dataset.dimension, space_overrides)
    space = space_with(space, space_overrides, EXTRA_SETTINGS[model])
    splits = nested_folds(dataset, preset.folds, preset.test_fraction, preset.inner_fractions, seed)
    out = Path(out)
    _check_protocol(out / "protocol.json", {
        # relative to the output folder: no machine's path in a committed protocol, and a
        # checkout elsewhere resumes it
        "model": model, "dataset": _relative_to(dataset_path, out), "preset": preset.as_dict(),
        "space": space_to_json(space), "seed": seed})
    runs = np.stack([dataset.t_cool, dataset.seed], axis=1)

    fold_results = []
    for fold in splits:
        fold_dir = out / f"fold{fold.fold}"
        result_path = fold_dir / "result.json"
        if result_path.exists():
            fold_results.append(json.loads(result_path.read_text()))
            log(f"fold {fold.fold}: done before, test AUC {fold_results[-1]['test']['auc']:.4f}")
            continue
        fold_started = time.time()
        log(f"fold {fold.fold + 1}/{preset.folds}: inner train {len(fold.inner_train)}, validation "
            f"{len(fold.inner_validation)}, inner test {len(fold.inner_test)}, outer test "
            f"{len(fold.outer_test)} configurations")
        objective = TrialObjective(model, str(dataset_path.resolve()), tuple(fold.inner_train.tolist()),
                                   tuple(fold.inner_validation.tolist()), tuple(fold.inner_test.tolist()),
                                   preset.epochs, seed + fold.fold, str((fold_dir / "trials").resolve()),
                                   device, preset.windows_per_config)
        # a resumed fold also counts the trials its earlier sessions ran
        earlier = _logged_trial_seconds(fold_dir / "search.json")
        records = run_search(objective, space, fold_dir / "search.json", preset.iterations,
                             seed=seed + fold.fold, startup_trials=preset.startup_trials,
                             ray_address=ray_address, resources_per_trial=resources_per_trial,
                             log=log)
        best = best_trial(records[:preset.iterations])
        log(f"fold {fold.fold + 1}: best trial {best['tid'] + 1} (validation AUC {best['auc']:.4f}); "
            f"retraining on the outer train set ({len(fold.outer_train)} configurations)")
        test_set = dataset.subset(fold.outer_test)
        model_dir = fold_dir / "model"
        if model == "dmpnn":
            classifier = fit_dmpnn(dataset, fold.outer_train, best["params"], preset.final_epochs,
                                   seed + fold.fold, model_dir, device,
                                   {"dataset": str(dataset_path), "dataset_meta": dataset.meta,
                                    "train_indices": fold.outer_train.tolist(), "fold": fold.fold})
            test = score_dmpnn(classifier, test_set, preset.windows_per_config, rng=seed, frame=True)
        else:
            from .cnn import write_cnn_folder

            net, history = fit_cnn_model(dataset, fold.outer_train, best["params"],
                                         preset.final_epochs, seed + fold.fold,
                                         model_dir / "checkpoint", log=log)
            write_cnn_folder(model_dir, net, history, dataset, dataset_path, fold.outer_train,
                             np.zeros(0, dtype=np.int64), dropout=best["params"]["dropout"],
                             batch_size=best["params"]["batch_size"],
                             epochs=preset.final_epochs, seed=seed + fold.fold)
            shutil.rmtree(model_dir / "checkpoint", ignore_errors=True)
            test, _ = _calibrated_cnn_scores(model_dir, dataset.subset(fold.outer_train), test_set)
        shutil.rmtree(fold_dir / "trials", ignore_errors=True)
        result = {"fold": fold.fold, "best_params": best["params"], "best_trial": best["tid"],
                  "best_validation_auc": best["auc"],
                  "best_inner_test_auc": best.get("inner_test_auc"), "test": test,
                  "model_dir": str(model_dir),
                  "outer_test_indices": fold.outer_test.tolist(),
                  "outer_train_indices": fold.outer_train.tolist(),
                  "train_runs": np.unique(runs[fold.outer_train], axis=0).tolist(),
                  "test_runs": np.unique(runs[fold.outer_test], axis=0).tolist(),
                  "wall_seconds": round(time.time() - fold_started + earlier, 1)}
        write_json_atomic(result_path, result)
        if model == "dmpnn":
            from .dmpnn import CHECKPOINT_NAME

            # the optimiser state is only for resuming the final training, which is now done
            (model_dir / CHECKPOINT_NAME).unlink(missing_ok=True)
        fold_results.append(result)
        log(f"fold {fold.fold + 1}: outer test AUC {test['auc']:.4f}, accuracy {test['accuracy']:.3f}")

    summary = summarise_folds(fold_results)
    n_particles = np.diff(dataset.offsets)
    report = {
        "kind": "crossval", "model": model, "dataset": str(dataset_path),
        "dataset_number": dataset.meta.get("dataset"), "dataset_meta": dataset.meta,
        "scale": {"n_configurations": len(dataset), "n_runs": int(len(np.unique(dataset.run_ids()))),
                  "particles_per_configuration": int(np.median(n_particles)),
                  "box": np.asarray(dataset.box[0]).tolist()},
        "preset": preset.as_dict(), "space": space_to_json(space),
        "reductions": protocol_changes(model, preset.as_dict(), space_to_json(space)),
        "seed": seed, "device": device,
        "ray_address": ray_address, **summary, "folds": fold_results,
        # every session's work on the folds (provenance's wall time is this session's only)
        "compute_seconds": round(sum(f.get("wall_seconds", 0.0) for f in fold_results), 1),
        "provenance": provenance(started, command),
    }
    write_json_atomic(out / "crossval.json", report)
    log(f"{model} on {dataset_path}: AUC {summary['auc_mean']:.4f} ± {summary['auc_std']:.4f}, "
        f"accuracy {summary['accuracy_mean']:.3f} ± {summary['accuracy_std']:.3f} over "
        f"{len(fold_results)} folds -> {out / 'crossval.json'}")
    return report


def calibrate_crossval(out, progress: bool = True, log=print) -> list[dict]:
    """Fit the whole-frame calibration of every finished fold model of a crossval folder (D-MPNN
    or CNN) on its own outer train frames, and re-score the fold's outer test frames with it.

    For fold models trained before training fitted the offsets itself; running it again refits
    the same offsets. The frame scores without the offsets go in its result as ``uncalibrated``, and
    ``crossval.json`` (when the folder is finished) gets the new scores and means. Returns the
    updated fold results.
    """
    from ovito_glassml.models.classifier import load_classifier

    from .calibration import calibrate_model
    from .objective import frame_scores

    out = Path(out)
    protocol_path = out / "protocol.json"
    if not protocol_path.exists():
        raise InputError(f"{out} is not a crossval folder (no protocol.json); give the --out "
                         "folder of `glassml crossval`")
    protocol = json.loads(protocol_path.read_text())
    dataset = cached_dataset((out / protocol["dataset"]).resolve())
    results = []
    for path in sorted(out.glob("fold*/result.json")):
        result = json.loads(path.read_text())
        model_dir = path.parent / "model"
        if protocol["model"] == "cnn":
            result["test"], result["calibration"] = _calibrated_cnn_scores(
                model_dir, dataset.subset(result["outer_train_indices"]),
                dataset.subset(result["outer_test_indices"]))
            write_json_atomic(path, result)
            results.append(result)
            log(f"fold {result['fold']}: offset {result['calibration']['frame']:+.3f}; outer test "
                f"AUC {result['test']['auc']:.3f}, accuracy {result['test']['accuracy']:.3f} "
                f"(uncalibrated {result['test']['uncalibrated']['accuracy']:.3f})")
            continue
        section = calibrate_model(model_dir, dataset.subset(result["outer_train_indices"]),
                                  progress, {"fitted_on": "the fold's outer train frames"})
        classifier = load_classifier(model_dir)
        test_set = dataset.subset(result["outer_test_indices"])
        test = result["test"]
        test.update(frame_scores(classifier, test_set),
                    uncalibrated=frame_scores(classifier.uncalibrated(), test_set))
        result["calibration"] = section
        write_json_atomic(path, result)
        results.append(result)
        log(f"fold {result['fold']}: offsets frame {section['frame']:+.3f}, tiles "
            f"{section['tiles']:+.3f}; outer test frame accuracy {test['frame_accuracy']:.3f}, "
            f"tiles {test['tiles_accuracy']:.3f}")
    if not results:
        raise InputError(f"{out} has no finished fold yet (fold*/result.json)")
    report_path = out / "crossval.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        report.update(summarise_folds(results), folds=results)
        write_json_atomic(report_path, report)
    return results


def _calibrated_cnn_scores(model_dir: Path, train_set, test_set) -> tuple[dict, dict]:
    """Fit a CNN fold model's frame offset on its outer train images, then score the outer test
    images with it (the scores without it go under ``uncalibrated``); (scores, calibration)."""
    from ovito_glassml.models.classifier import load_classifier

    from .calibration import calibrate_model

    section = calibrate_model(model_dir, train_set, progress=False,
                              provenance={"fitted_on": "the fold's outer train frames"})
    classifier = load_classifier(model_dir)
    test = classification_scores(test_set.label, classifier.glass_probability(test_set))
    raw = classification_scores(test_set.label, classifier.uncalibrated().glass_probability(test_set))
    test["uncalibrated"] = {"auc": raw["auc"], "accuracy": raw["accuracy"]}
    return test, section


def _logged_trial_seconds(path: Path) -> float:
    """Seconds of the trials already in a fold's trial log (0 for a fresh fold)."""
    if not path.exists():
        return 0.0
    return float(sum(t.get("seconds", 0.0) for t in json.loads(path.read_text()).get("trials", [])))


def _relative_to(path: Path, folder: Path) -> str:
    """``path`` as seen from ``folder`` (both may be relative to the working directory)."""
    return os.path.relpath(Path(path).resolve(), Path(folder).resolve())


def _check_protocol(path: Path, protocol: dict) -> None:
    """Record the settings of a crossval folder; refuse to resume it with other settings."""
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != json.loads(json.dumps(protocol)):
            differ = sorted(k for k in protocol if saved.get(k) != json.loads(json.dumps(protocol[k])))
            raise InputError(f"{path.parent} holds a cross-validation with different "
                             f"{', '.join(differ)}; rerun with the same settings to resume it, or "
                             "choose another --out")
        return
    write_json_atomic(path, protocol)


def protocol_changes(model: str, preset: dict, space: dict) -> list[str]:
    """How a protocol (``CrossValPreset.as_dict()`` and its JSON search space) differs from the
    ``paper`` preset, one line per difference; empty for the paper's protocol as written."""
    paper = PRESETS["paper"].as_dict()
    names = {"folds": "outer folds", "test_fraction": "outer test fraction",
             "inner_fractions": "inner train/validation/test fractions",
             "iterations": "TPE trials per fold", "epochs": "epochs per trial",
             "final_epochs": "epochs of the retraining on the outer train set",
             "startup_trials": "random start-up trials", "windows_per_config":
             "random windows scored per configuration"}
    out = []
    for key, what in names.items():
        ours, theirs = preset.get(key), paper[key]
        if key == "windows_per_config" and model != "dmpnn":
            continue
        if json.loads(json.dumps(ours)) != json.loads(json.dumps(theirs)):
            out.append(f"{what}: {ours} (paper preset: {theirs})")
    if preset.get("iterations", 0) <= preset.get("startup_trials", 0):
        out.append(f"all {preset['iterations']} trials are random start-up draws (TPE models the "
                   f"results only after {preset['startup_trials']}): a random search")
    paper_space = space_to_json(PRESETS["paper"].space(model))
    for name, grid in space.items():
        theirs = paper_space.get(name)
        if theirs is None or any(float(grid[k]) != float(theirs[k]) for k in ("low", "high", "step")):
            ours_text = GridRange(**grid).describe()
            theirs_text = GridRange(**theirs).describe() if theirs else "not searched"
            out.append(f"{name}: {ours_text} (paper Table 2: {theirs_text})")
    return out


def summarise_folds(fold_results: list[dict]) -> dict:
    """Mean and standard deviation (ddof=1; 0 for one fold) of the folds' test AUC and accuracy."""
    out = {}
    for key in ("auc", "accuracy", "frame_auc", "frame_accuracy", "tiles_auc", "tiles_accuracy"):
        values = np.array([r["test"][key] for r in fold_results if key in r["test"]], dtype=float)
        if len(values):
            out[f"{key}_mean"] = float(values.mean())
            out[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    out["n_folds"] = len(fold_results)
    return out
