"""One-number baselines per window, on the windows and folds of a nested cross-validation.

What do the deep models add? Each baseline reduces a window to one number computed from its
particles, with no learning beyond a threshold:

* ``pair_energy``: mean Kob-Andersen pair energy per particle (unshifted, :mod:`ovito_glassml.potential`);
  on an inherent-structure dataset (``dataset<k>-is``) this is the window's E_IS;
* ``nn_distance_std``: standard deviation of the nearest-neighbour distance;
* ``mean_abs_psi6``: mean hexatic order |psi6| (six nearest neighbours);
* ``six_neighbor_fraction``: fraction of particles with six Voronoi neighbours.

For every fold of a cross-validation folder the baseline sees exactly what the fold's D-MPNN saw:
the outer-test windows are the same windows (same origins, same side: the fold model's l_win,
drawn from the same random stream as :func:`training.evaluate.window_glass_probability` with the
crossval's seed), and its threshold (a one-feature logistic regression) is fitted on random
windows of the outer train set only. AUC and accuracy at that threshold are reported per fold
and as mean +/- std over folds, like the models.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ovito_glassml.baselines import psi6_magnitude, voronoi_neighbor_counts
from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError
from ovito_glassml.graphs import random_origin, window_side
from ovito_glassml.neighbors import Neighbors, window_members
from ovito_glassml.potential import pair_energy_per_particle

from .cache import cached_dataset
from .evaluate import classification_scores

WINDOW_BASELINES = ("pair_energy", "nn_distance_std", "mean_abs_psi6", "six_neighbor_fraction")


def particle_values(config) -> dict[str, np.ndarray]:
    """The per-particle quantities the window baselines average (or spread)."""
    _, _, nn = Neighbors.of(config).knn(1)
    return {"pair_energy": pair_energy_per_particle(config),
            "nn_distance": np.asarray(nn, dtype=float),
            "mean_abs_psi6": psi6_magnitude(config),
            "six_neighbor_fraction": (voronoi_neighbor_counts(config) == 6).astype(float)}


def window_values(config, values: dict, origins: np.ndarray, side) -> dict[str, np.ndarray]:
    """Every baseline of the windows with lower corners ``origins`` (scaled) and side ``side``."""
    inside = window_members(config.scaled_positions(), origins, side).astype(float)
    count = np.maximum(inside.sum(axis=1), 1.0)
    mean_nn = inside @ values["nn_distance"] / count
    mean_sq = inside @ values["nn_distance"] ** 2 / count
    return {"pair_energy": inside @ values["pair_energy"] / count,
            "nn_distance_std": np.sqrt(np.maximum(mean_sq - mean_nn ** 2, 0.0)),
            "mean_abs_psi6": inside @ values["mean_abs_psi6"] / count,
            "six_neighbor_fraction": inside @ values["six_neighbor_fraction"] / count}


def random_origins(dataset: PackedDataset, indices, spec, windows: int, rng):
    """``(index, origins)`` of ``windows`` random windows of each ``dataset[index]``, drawn in the
    order and from the random stream of :func:`training.evaluate.window_glass_probability`
    (each origin is :meth:`FrameGraphs.random_window`'s draw), so both see the same windows."""
    rng = np.random.default_rng(rng)
    for i in indices:
        side = window_side(dataset[int(i)], spec)
        yield int(i), np.array([random_origin(rng, side) for _ in range(windows)])


def draw_window_values(dataset: PackedDataset, indices, values: list[dict], spec, windows: int,
                       rng) -> tuple[np.ndarray, dict]:
    """Labels and baseline values of the windows of :func:`random_origins`."""
    labels, out = [], {name: [] for name in WINDOW_BASELINES}
    for i, origins in random_origins(dataset, indices, spec, windows, rng):
        config = dataset[i]
        for name, v in window_values(config, values[i], origins, window_side(config, spec)).items():
            out[name].append(v)
        labels.append(np.full(windows, int(dataset.label[i])))
    return np.concatenate(labels), {k: np.concatenate(v) for k, v in out.items()}


def fitted_scores(train_x, train_y, test_x, test_y) -> dict:
    """A threshold on one number, fitted on the train windows, scored on the test windows."""
    mean, std = float(np.mean(train_x)), float(np.std(train_x)) or 1.0
    fit = LogisticRegression().fit(((train_x - mean) / std)[:, None], train_y)
    prob = fit.predict_proba(((test_x - mean) / std)[:, None])[:, list(fit.classes_).index(1)]
    scores = classification_scores(test_y, prob)
    scores["threshold"] = float(mean - std * fit.intercept_[0] / fit.coef_[0, 0])
    scores["glass_side"] = "above" if fit.coef_[0, 0] > 0 else "below"
    return scores


def crossval_window_baselines(crossval_dir, windows_train: int = 10, progress: bool = True) -> dict:
    """Every baseline on the outer folds of a finished D-MPNN cross-validation folder."""
    from tqdm.auto import tqdm

    from ovito_glassml.models import load_classifier

    crossval_dir = Path(crossval_dir)
    result_path = crossval_dir / "crossval.json"
    if not result_path.exists():
        raise InputError(f"{crossval_dir} holds no crossval.json; run glassml crossval first")
    result = json.loads(result_path.read_text())
    if result.get("model") != "dmpnn":
        raise InputError(f"{result_path} is a {result.get('model')} cross-validation; the window "
                         "baselines follow a D-MPNN's windows")
    protocol = json.loads((crossval_dir / "protocol.json").read_text())
    data_path = crossval_dir / protocol["dataset"]  # stored relative to the folder
    if not data_path.exists():
        raise InputError(f"{result_path} was made from {data_path}, which is not here; rebuild it "
                         "with glassml dataset")
    dataset = cached_dataset(data_path)
    seed = int(result["seed"])
    windows = int(result["preset"]["windows_per_config"])
    folds = []
    values: list = [None] * len(dataset)
    fold_dirs = sorted(crossval_dir.glob("fold*/result.json"))
    for fold_path in tqdm(fold_dirs, desc="baseline folds", disable=not progress):
        fold = json.loads(fold_path.read_text())
        spec = load_classifier(fold_path.parent / "model").graph_spec
        train_idx = np.asarray(fold["outer_train_indices"], dtype=int)
        test_idx = np.asarray(fold["outer_test_indices"], dtype=int)
        for i in np.r_[train_idx, test_idx]:
            if values[i] is None:
                values[i] = particle_values(dataset[int(i)])
        train_y, train_x = draw_window_values(dataset, train_idx, values, spec, windows_train,
                                              [seed, 7919])
        test_y, test_x = draw_window_values(dataset, test_idx, values, spec, windows, seed)
        folds.append({"fold": fold_path.parent.name, "window_length": spec.window_length,
                      "n_test_windows": int(len(test_y)),
                      "baselines": {name: fitted_scores(train_x[name], train_y, test_x[name], test_y)
                                    for name in WINDOW_BASELINES}})
    summary = {}
    for name in WINDOW_BASELINES:
        for metric in ("auc", "accuracy"):
            v = np.array([f["baselines"][name][metric] for f in folds], dtype=float)
            summary.setdefault(name, {})[f"{metric}_mean"] = float(v.mean())
            summary[name][f"{metric}_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"kind": "window_baselines", "crossval": str(result_path.name),
            "windows_per_test_config": windows, "windows_per_train_config": windows_train,
            "folds": folds, "summary": summary}
