"""One-number baselines per window, on the windows and folds of a nested cross-validation.

What do the deep models add? Each baseline reduces a window to one number computed from its
particles, with no learning beyond a threshold:

* ``pair_energy``: mean Kob-Andersen pair energy per particle (unshifted, :mod:`ovito_glassml.potential`);
  on an inherent-structure dataset (``dataset<k>-is``) this is the window's E_IS. Only where the
  potential is known: frames of the Kob-Andersen types 1 and 2 without other names (2D or 3D);
* ``nn_distance_std``: standard deviation of the nearest-neighbour distance;
* 2D: ``mean_abs_psi6``, the mean hexatic order |psi6| (six nearest neighbours), and
  ``six_neighbor_fraction``, the fraction of particles with six Voronoi neighbours;
* 3D: ``mean_q6``, the mean Steinhardt q6 (12 nearest neighbours), and
  ``icosahedral_fraction``, the fraction of particles in <0,0,12,0> Voronoi cells.

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

from ovito_glassml.baselines import bond_order, favoured_cells
from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError
from ovito_glassml.graphs import random_origin, window_side
from ovito_glassml.neighbors import Neighbors, window_members
from ovito_glassml.potential import pair_energy_per_particle

from .cache import cached_dataset
from .evaluate import classification_scores

#: The baselines of each dimension, the bond order and the favoured Voronoi cell third and fourth.
BASELINES_BY_DIMENSION = {
    2: ("pair_energy", "nn_distance_std", "mean_abs_psi6", "six_neighbor_fraction"),
    3: ("pair_energy", "nn_distance_std", "mean_q6", "icosahedral_fraction"),
}
WINDOW_BASELINES = BASELINES_BY_DIMENSION[2]


def window_baselines(config) -> tuple[str, ...]:
    """The baselines that apply to ``config``: its dimension's, the pair energy only where the
    Kob-Andersen potential is known."""
    names = BASELINES_BY_DIMENSION[config.dimension]
    return names if has_known_potential(config) else names[1:]


def has_known_potential(config) -> bool:
    """Whether the frame is a Kob-Andersen mixture: types 1 and 2 only, not named otherwise."""
    return (set(config.type_ids()) <= {1, 2}
            and all(config.type_names.get(t, "") in ("", "A", "B") for t in config.type_ids()))


def particle_values(config) -> dict[str, np.ndarray]:
    """The per-particle quantities the window baselines average (or spread)."""
    _, _, nn = Neighbors.of(config).knn(1)
    names = window_baselines(config)
    values = {"nn_distance": np.asarray(nn, dtype=float), names[-2]: bond_order(config),
              names[-1]: favoured_cells(config)}
    if "pair_energy" in names:
        values["pair_energy"] = pair_energy_per_particle(config)
    return values


def window_values(config, values: dict, origins: np.ndarray, side) -> dict[str, np.ndarray]:
    """Every baseline of the windows with lower corners ``origins`` (scaled) and side ``side``."""
    inside = window_members(config.scaled_positions(), origins, side).astype(float)
    count = np.maximum(inside.sum(axis=1), 1.0)
    mean_nn = inside @ values["nn_distance"] / count
    mean_sq = inside @ values["nn_distance"] ** 2 / count
    out = {"nn_distance_std": np.sqrt(np.maximum(mean_sq - mean_nn ** 2, 0.0))}
    for name in window_baselines(config):
        if name != "nn_distance_std":
            out[name] = inside @ values[name] / count
    return out


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
    labels, out = [], {name: [] for name in window_baselines(dataset[0])}
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
                                    for name in train_x}})
    summary = {}
    for name in window_baselines(dataset[0]):
        for metric in ("auc", "accuracy"):
            v = np.array([f["baselines"][name][metric] for f in folds], dtype=float)
            summary.setdefault(name, {})[f"{metric}_mean"] = float(v.mean())
            summary[name][f"{metric}_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"kind": "window_baselines", "crossval": str(result_path.name),
            "windows_per_test_config": windows, "windows_per_train_config": windows_train,
            "folds": folds, "summary": summary}
