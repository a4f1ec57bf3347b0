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

import hashlib
import json
import os
import platform
import shlex
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from ovito_glassml import __version__
from ovito_glassml.datasets import GLASS, PackedDataset, load_dataset, split_by_seed
from ovito_glassml.errors import InputError
from ovito_glassml.fileio import write_json_atomic

from .evaluate import classification_scores
from .search import (CNN_TABLE2, DEFAULT_STARTUP_TRIALS, DMPNN_TABLE2, GridRange, best_trial,
                     run_search, space_to_json, space_with)

MODELS = ("dmpnn", "cnn")


# ----------------------------------------------------------------------------- presets

@dataclass(frozen=True)
class CrossValPreset:
    """Settings of one nested cross-validation protocol.

    Parameters
    ----------
    name : "paper" or "small".
    folds, test_fraction : outer test sets (paper: 3 of 20%).
    inner_fractions : inner train / validation / test shares of the outer train set (80/10/10).
    iterations, epochs : TPE trials and epochs per trial (paper: 15 x 10).
    final_epochs : epochs of the model retrained on the outer train set (paper: 10).
    startup_trials : random trials before TPE models the results.
    windows_per_config : random windows scored per configuration for the D-MPNN's AUC.
    dmpnn_space, cnn_space : the search spaces (paper Table 2, or small ones for tests).
    """

    name: str
    iterations: int
    epochs: int
    final_epochs: int
    dmpnn_space: dict
    cnn_space: dict
    folds: int = 3
    test_fraction: float = 0.2
    inner_fractions: tuple = (0.8, 0.1, 0.1)
    startup_trials: int = DEFAULT_STARTUP_TRIALS
    windows_per_config: int = 10

    def space(self, model: str) -> dict:
        return dict(self.dmpnn_space if model == "dmpnn" else self.cnn_space)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["dmpnn_space"] = space_to_json(self.dmpnn_space)
        out["cnn_space"] = space_to_json(self.cnn_space)
        return out


PRESETS = {
    # the paper's protocol as written (§2.5, Table 2)
    "paper": CrossValPreset("paper", iterations=15, epochs=10, final_epochs=10,
                            dmpnn_space=DMPNN_TABLE2, cnn_space=CNN_TABLE2),
    # about two minutes on one CPU thread with data/small (24 frames of 1080 particles): small
    # networks, and 60 epochs because 16 training frames give only 2-4 optimiser steps per epoch
    "small": CrossValPreset(
        "small", iterations=6, epochs=60, final_epochs=60, startup_trials=2, windows_per_config=4,
        dmpnn_space={"num_neighbors": GridRange(1, 5, 1, integer=True),
                     "window_length": GridRange(0.2, 0.3, 0.05),
                     "hidden_size": GridRange(16, 48, 16, integer=True),
                     "message_steps": GridRange(2, 3, 1, integer=True),
                     "dropout": GridRange(0.0, 0.2, 0.1),
                     "ffn_layers": GridRange(1, 2, 1, integer=True),
                     "batch_size": GridRange(4, 8, 4, integer=True)},
        cnn_space={"dropout": GridRange(0.0, 0.5, 0.05),
                   "batch_size": GridRange(4, 8, 4, integer=True)}),
}


# ----------------------------------------------------------------------------- splits

@dataclass(frozen=True)
class NestedFold:
    """Configuration indices of one outer fold and its inner split."""

    fold: int
    outer_test: np.ndarray
    inner_train: np.ndarray
    inner_validation: np.ndarray
    inner_test: np.ndarray

    @property
    def outer_train(self) -> np.ndarray:
        return np.sort(np.concatenate([self.inner_train, self.inner_validation, self.inner_test]))


def grouped_stratified_split(run_ids, labels, fractions, rng=0) -> list[np.ndarray]:
    """Split configuration indices into parts that share no run, each part holding both classes.

    Runs are grouped by content (glass only, liquid only, both classes) and every group is split
    with :func:`~ovito_glassml.datasets.split_by_seed` using ``fractions`` (of runs).
    """
    run_ids = np.asarray(run_ids)
    labels = np.asarray(labels)
    runs, inverse = np.unique(run_ids, return_inverse=True)
    glass_share = np.bincount(inverse, weights=labels == GLASS) / np.bincount(inverse)
    stratum = np.select([glass_share == 0, glass_share == 1], [0, 2], 1)[inverse]
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for s in np.unique(stratum):        # at most three groups
        members = np.flatnonzero(stratum == s)
        pieces = split_by_seed(run_ids[members], fractions, rng=[*np.atleast_1d(rng), int(s)])
        for part, piece in zip(parts, pieces):
            part.append(members[piece])
    return [np.sort(np.concatenate(p)) for p in parts]


def nested_folds(dataset: PackedDataset, folds: int = 3, test_fraction: float = 0.2,
                 inner_fractions=(0.8, 0.1, 0.1), seed: int = 0) -> list[NestedFold]:
    """The paper's nested splits: ``folds`` disjoint outer test sets, then 80/10/10 inside.

    Raises :class:`InputError` if the dataset has too few runs for every part to hold both
    glass and liquid configurations.
    """
    if folds < 1 or test_fraction <= 0 or folds * test_fraction > 1 + 1e-9:
        raise InputError(f"{folds} outer test sets of {test_fraction:.0%} do not fit in one dataset")
    rest = max(0.0, 1.0 - folds * test_fraction)
    fractions = [test_fraction] * folds + ([rest] if rest > 1e-9 else [])
    if np.any((dataset.label != 0) & (dataset.label != 1)):
        raise InputError("the dataset has unlabelled configurations; build it with `glassml dataset`")
    runs = dataset.run_ids()
    outer = grouped_stratified_split(runs, dataset.label, fractions, rng=seed)
    out = []
    everything = np.arange(len(dataset))
    for f in range(folds):
        train = np.setdiff1d(everything, outer[f])
        inner = grouped_stratified_split(runs[train], dataset.label[train], inner_fractions,
                                         rng=[seed, f])
        fold = NestedFold(f, outer[f], *(train[p] for p in inner))
        for name in ("outer_test", "inner_train", "inner_validation", "inner_test"):
            part = getattr(fold, name)
            if len(np.unique(dataset.label[part])) < 2:
                raise InputError(
                    f"fold {f}'s {name.replace('_', ' ')} set holds {len(part)} configuration(s) "
                    f"of one class only; the dataset's {len(np.unique(runs))} runs are too few for "
                    "nested cross-validation (simulate more seeds)")
        out.append(fold)
    return out


# ----------------------------------------------------------------------------- provenance

def provenance(started: float, command: str | None = None) -> dict:
    """Wall time since ``started`` (``time.time()``), the command line and the machine."""
    if command is None:
        argv0 = Path(sys.argv[0]).name
        command = shlex.join(["glassml", *sys.argv[1:]] if argv0 == "glassml" else sys.argv)
    import torch

    return {"command": command, "wall_seconds": round(time.time() - started, 1),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(),
            "ovito_glassml": __version__}


# ----------------------------------------------------------------------------- models

_DATASETS: dict[str, PackedDataset] = {}


def cached_dataset(path) -> PackedDataset:
    """``load_dataset(path)``, loaded once per process (Ray workers call objectives repeatedly)."""
    key = str(Path(path).resolve())
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(key)
    return _DATASETS[key]


def fit_dmpnn(dataset: PackedDataset, indices, params: dict, epochs: int, seed: int, out,
              device: str = "cpu", provenance_data: dict | None = None):
    """Train the D-MPNN with hyperparameters ``params`` on ``dataset[indices]``; the classifier.

    Resumes from ``out``'s epoch checkpoint when one with the same settings exists.
    """
    from ovito_glassml.models import load_classifier

    from .dmpnn import DMPNNTrainingConfig, train_dmpnn

    known = {f.name for f in fields(DMPNNTrainingConfig)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(f"the D-MPNN trainer has no hyperparameter(s) {unknown}")
    config = DMPNNTrainingConfig(**params, epochs=int(epochs), seed=int(seed))
    train_dmpnn(dataset.subset(indices), out, config, device=device, resume=True, progress=False,
                data_provenance=provenance_data)
    return load_classifier(out)


def window_glass_probability(classifier, dataset: PackedDataset, window_length: float | None = None,
                             windows_per_config: int = 10, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """Glass probability of ``windows_per_config`` random windows of every configuration.

    The D-MPNN reads windows of side ``l_win`` (its training one unless ``window_length`` is
    given), as in training and in the paper's Fig. 7. Returns ``(labels, probabilities)``, one
    entry per window.
    """
    from ovito_glassml.graphs import window_graph

    rng = np.random.default_rng(rng)
    length = classifier.window_length if window_length is None else float(window_length)
    graphs = [window_graph(dataset[i], length, classifier.graph_spec, rng)
              for i in range(len(dataset)) for _ in range(windows_per_config)]
    labels = np.repeat(np.asarray(dataset.label, dtype=int), windows_per_config)
    return labels, classifier.predict_graphs(graphs)


def score_dmpnn(classifier, dataset: PackedDataset, windows_per_config: int = 10, rng=0,
                frame: bool = False) -> dict:
    """Window-level AUC and accuracy (and, with ``frame``, those of whole periodic frames)."""
    scores = classification_scores(*window_glass_probability(classifier, dataset, None,
                                                             windows_per_config, rng))
    if frame:
        configs = [dataset[i] for i in range(len(dataset))]
        whole = classification_scores(dataset.label, classifier.glass_probability(configs, "frame"))
        scores.update(frame_auc=whole["auc"], frame_accuracy=whole["accuracy"])
    return scores


def fit_cnn_model(dataset: PackedDataset, indices, params: dict, epochs: int, seed: int,
                  checkpoint_dir, log=None):
    """Train the CNN with ``params`` (dropout, batch size) on ``dataset[indices]``; Keras model."""
    from .cnn import fit_cnn

    unknown = sorted(set(params) - {"dropout", "batch_size"})
    if unknown:
        raise InputError(f"the CNN has no hyperparameter(s) {unknown}; its search space is "
                         "dropout and batch_size")
    model, history = fit_cnn(dataset, indices, None, dropout=float(params["dropout"]),
                             batch_size=int(params["batch_size"]), epochs=int(epochs),
                             seed=int(seed), checkpoint_dir=checkpoint_dir, resume=True,
                             log=log or (lambda line: None))
    return model, history


def score_cnn(model, dataset: PackedDataset) -> dict:
    """AUC and accuracy of a Keras CNN on every configuration of ``dataset``."""
    from ovito_glassml.models.cnn import glass_probability_of_logits

    from .cnn import predict_logits

    return classification_scores(dataset.label, glass_probability_of_logits(predict_logits(model, dataset)))


def _trial_dir(work_dir, params: dict) -> Path:
    """A folder named by the hyperparameters, so an interrupted trial finds its checkpoint."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return Path(work_dir) / f"trial_{digest}"


@dataclass(frozen=True)
class TrialObjective:
    """One TPE trial: train on the inner train set, score inner validation (and inner test).

    Picklable (paths and index tuples only), so Ray can ship it to its workers.
    """

    model: str
    dataset: str
    train: tuple
    validation: tuple
    test: tuple
    epochs: int
    seed: int
    work_dir: str
    device: str = "cpu"
    windows_per_config: int = 10

    def __call__(self, params: dict) -> dict:
        data = cached_dataset(self.dataset)
        folder = _trial_dir(self.work_dir, params)
        validation = data.subset(list(self.validation))
        test = data.subset(list(self.test))
        if self.model == "dmpnn":
            classifier = fit_dmpnn(data, list(self.train), params, self.epochs, self.seed, folder,
                                   self.device)
            val = score_dmpnn(classifier, validation, self.windows_per_config, rng=self.seed)
            inner = score_dmpnn(classifier, test, self.windows_per_config, rng=self.seed)
        else:
            model, _ = fit_cnn_model(data, list(self.train), params, self.epochs, self.seed,
                                     folder / "checkpoint")
            val, inner = score_cnn(model, validation), score_cnn(model, test)
        # trial models are only a means to a score; keeping 45 of them would cost gigabytes
        shutil.rmtree(folder, ignore_errors=True)
        return {"auc": val["auc"], "accuracy": val["accuracy"],
                "inner_test_auc": inner["auc"], "inner_test_accuracy": inner["accuracy"]}


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
    space = space_with(preset.space(model), space_overrides)
    dataset_path = Path(dataset_path)
    dataset = cached_dataset(dataset_path)
    splits = nested_folds(dataset, preset.folds, preset.test_fraction, preset.inner_fractions, seed)
    out = Path(out)
    _check_protocol(out / "protocol.json", {
        "model": model, "dataset": str(dataset_path.resolve()), "preset": preset.as_dict(),
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
            test = score_cnn(net, test_set)
        shutil.rmtree(fold_dir / "trials", ignore_errors=True)
        result = {"fold": fold.fold, "best_params": best["params"], "best_trial": best["tid"],
                  "best_validation_auc": best["auc"],
                  "best_inner_test_auc": best.get("inner_test_auc"), "test": test,
                  "model_dir": str(model_dir),
                  "outer_test_indices": fold.outer_test.tolist(),
                  "outer_train_indices": fold.outer_train.tolist(),
                  "train_runs": np.unique(runs[fold.outer_train], axis=0).tolist(),
                  "test_runs": np.unique(runs[fold.outer_test], axis=0).tolist(),
                  "wall_seconds": round(time.time() - fold_started, 1)}
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
        "provenance": provenance(started, command),
    }
    write_json_atomic(out / "crossval.json", report)
    log(f"{model} on {dataset_path}: AUC {summary['auc_mean']:.4f} ± {summary['auc_std']:.4f}, "
        f"accuracy {summary['accuracy_mean']:.3f} ± {summary['accuracy_std']:.3f} over "
        f"{len(fold_results)} folds -> {out / 'crossval.json'}")
    return report


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
    for key in ("auc", "accuracy", "frame_auc", "frame_accuracy"):
        values = np.array([r["test"][key] for r in fold_results if key in r["test"]], dtype=float)
        if len(values):
            out[f"{key}_mean"] = float(values.mean())
            out[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    out["n_folds"] = len(fold_results)
    return out


def preset_with(name: str, iterations: int | None = None, epochs: int | None = None,
                folds: int | None = None) -> CrossValPreset:
    """A preset by name with optional changes of iterations, epochs (search and final) and folds."""
    if name not in PRESETS:
        raise InputError(f"--preset must be one of {', '.join(PRESETS)}, got {name!r}")
    preset = PRESETS[name]
    changes = {}
    if iterations is not None:
        changes["iterations"] = int(iterations)
    if epochs is not None:
        changes.update(epochs=int(epochs), final_epochs=int(epochs))
    if folds is not None:
        changes["folds"] = int(folds)
    return replace(preset, **changes)
