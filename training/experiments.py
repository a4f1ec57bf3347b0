"""The paper's results beyond Fig. 5: generalisation, interpretation statistics and baselines.

* :func:`cross_dataset_matrix` - models trained on dataset i scored on dataset j (paper Fig. 6).
* :func:`size_transfer` - AUC against window length for a model trained at one l_win (Fig. 7).
* :func:`attention_statistics` - the high-attention graph counts of glasses and liquids with
  one-sided Wilcoxon signed-rank tests, and whether high-attention edges touch B particles (Fig. 9).
* :func:`baselines` - what a physicist would try first: mean |psi6|, the fraction of six-sided
  Voronoi cells and the inherent-structure energy, per whole frame and per window, as AUCs.
* :func:`wilcoxon_signed_rank` - the statistics helper (scipy underneath).

Every function returns a JSON-ready dict with a ``kind`` that ``glassml report`` recognises; the
``glassml experiment`` command writes it with its wall time and command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from ovito_glassml.baselines import bond_order, favoured_cells, window_means
from ovito_glassml.datasets import GLASS, LIQUID, PackedDataset
from ovito_glassml.errors import InputError

from .cache import cached_dataset
from .evaluate import classification_scores, window_glass_probability

# ----------------------------------------------------------------------------- statistics


def wilcoxon_signed_rank(x, y, alternative: str = "less") -> dict:
    """One-sided Wilcoxon signed-rank test of paired samples (the paper's ``scipy.stats.wilcoxon``).

    ``alternative="less"`` tests whether ``x`` tends to be smaller than ``y``. Zero differences
    are dropped (scipy's default ``zero_method="wilcox"``); if every difference is zero the test
    is undefined and ``pvalue`` is NaN.

    Returns ``{"statistic", "pvalue", "n_pairs", "alternative"}``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError(f"the Wilcoxon test pairs samples of equal length, got {x.shape} and {y.shape}")
    if np.all(x == y):
        return {"statistic": float("nan"), "pvalue": float("nan"), "n_pairs": int(len(x)),
                "alternative": alternative}
    result = stats.wilcoxon(x, y, alternative=alternative)
    return {"statistic": float(result.statistic), "pvalue": float(result.pvalue),
            "n_pairs": int(len(x)), "alternative": alternative}


def glass_liquid_pairs(values, labels, run_ids) -> tuple[np.ndarray, np.ndarray, str]:
    """Pair glass and liquid values for a signed-rank test.

    Where runs hold both a glass and a liquid configuration (datasets 1-5: the same cooling run
    at T=0.05 and at the liquid temperature) the pairs are the run's glass and liquid means, the
    natural pairing. Otherwise (dataset 6) glass and liquid values are paired in dataset order,
    as a paired test on two independent samples must do; the rank-sum test in
    :func:`attention_statistics` needs no pairing.
    """
    values = np.asarray(values, dtype=float)
    labels = np.asarray(labels)
    run_ids = np.asarray(run_ids)
    runs, inverse = np.unique(run_ids, return_inverse=True)
    glass = labels == GLASS
    n_glass = np.bincount(inverse, weights=glass, minlength=len(runs))
    n_liquid = np.bincount(inverse, weights=~glass, minlength=len(runs))
    both = (n_glass > 0) & (n_liquid > 0)
    if both.any():
        sum_glass = np.bincount(inverse, weights=values * glass, minlength=len(runs))
        sum_liquid = np.bincount(inverse, weights=values * ~glass, minlength=len(runs))
        return sum_glass[both] / n_glass[both], sum_liquid[both] / n_liquid[both], "by run"
    g, l = values[glass], values[~glass]
    n = min(len(g), len(l))
    return g[:n], l[:n], "in dataset order"


# ----------------------------------------------------------------------------- model helpers

def read_crossval(crossval_dir) -> tuple[dict, list[dict]]:
    """A crossval folder's report and folds, with its dataset and fold models found from the
    folder itself (``protocol.json`` holds the dataset relative to the folder; fold ``k``'s model
    is ``fold<k>/model``), so the folder works from any working directory."""
    folder = Path(crossval_dir)
    path = folder / "crossval.json"
    if not path.exists():
        raise InputError(f"{crossval_dir} has no crossval.json; run `glassml crossval --out "
                         f"{crossval_dir}` first")
    report = json.loads(path.read_text())
    protocol = folder / "protocol.json"
    if protocol.exists():
        report["dataset"] = os.path.normpath(folder / json.loads(protocol.read_text())["dataset"])
    for fold in report["folds"]:
        model = folder / f"fold{fold['fold']}" / "model"
        if model.exists():
            fold["model_dir"] = str(model)
    return report, report["folds"]


def _glass_scores(classifier, dataset: PackedDataset, windows_per_config: int, rng,
                  window_length=None) -> dict:
    """AUC of any classifier: D-MPNN on random windows, CNN on whole frames."""
    if classifier.reads_windows:
        return classification_scores(*window_glass_probability(
            classifier, dataset, window_length, windows_per_config, rng))
    configs = [dataset[i] for i in range(len(dataset))]
    return classification_scores(dataset.label, classifier.glass_probability(configs))


def unseen_configurations(dataset: PackedDataset, seen_runs) -> PackedDataset:
    """The configurations of ``dataset`` whose run ``(t_cool, seed)`` is not in ``seen_runs``."""
    runs = np.stack([dataset.t_cool, dataset.seed], axis=1)
    seen = np.asarray(seen_runs, dtype=np.int64).reshape(-1, 2)
    hit = (runs[:, None, :] == seen[None, :, :]).all(axis=2).any(axis=1)
    return dataset.subset(np.flatnonzero(~hit))


# ----------------------------------------------------------------------------- Fig. 6

def cross_dataset_matrix(crossval_dirs: dict, windows_per_config: int = 10, seed: int = 0) -> dict:
    """AUC of the models trained on dataset i on the outer test sets of dataset j (paper Fig. 6).

    ``crossval_dirs`` maps a dataset label (e.g. 1..6) to a ``glassml crossval`` output folder.
    On the diagonal the entry is the nested cross-validation AUC. Off the diagonal, every fold's
    model of i is scored on the configurations of dataset j from cooling runs that model never
    trained on (datasets 1-5 share their glass runs, and dataset 6 its liquid runs with one of
    them, so j's outer test sets would hold configurations the model has seen), and the mean over
    folds is reported. (The paper scored on "an outer test set of dataset j".)
    """
    from ovito_glassml.models import load_classifier

    labels = list(crossval_dirs)
    reports = {k: read_crossval(crossval_dirs[k]) for k in labels}
    kinds = {reports[k][0]["model"] for k in labels}
    if len(kinds) != 1:
        raise InputError(f"the crossval folders mix models {sorted(kinds)}; give one model's folders")
    mean = np.full((len(labels), len(labels)), np.nan)
    std = np.full_like(mean, np.nan)
    n_test = np.zeros_like(mean)
    for a, i in enumerate(labels):
        report_i, folds_i = reports[i]
        for b, j in enumerate(labels):
            if i == j:
                mean[a, b], std[a, b] = report_i["auc_mean"], report_i["auc_std"]
                n_test[a, b] = np.mean([len(f["outer_test_indices"]) for f in folds_i])
                continue
            target = cached_dataset(reports[j][0]["dataset"])
            aucs, counts = [], []
            for fold_i in folds_i:
                test = unseen_configurations(target, fold_i["train_runs"])
                if len(np.unique(test.label)) < 2:
                    continue
                classifier = load_classifier(fold_i["model_dir"])
                aucs.append(_glass_scores(classifier, test, windows_per_config, seed)["auc"])
                counts.append(len(test))
            if aucs:
                mean[a, b] = np.mean(aucs)
                std[a, b] = np.std(aucs, ddof=1) if len(aucs) > 1 else 0.0
                n_test[a, b] = np.mean(counts)
    return {"kind": "cross_dataset", "model": kinds.pop(), "datasets": labels,
            "crossval_dirs": {str(k): str(v) for k, v in crossval_dirs.items()},
            "auc_mean": _nan_to_none(mean), "auc_std": _nan_to_none(std),
            "n_test": n_test.tolist(), "windows_per_config": windows_per_config}


# ----------------------------------------------------------------------------- Fig. 7

def size_transfer(classifier, dataset: PackedDataset, window_lengths, windows_per_config: int = 10,
                  seed: int = 0) -> dict:
    """AUC of one D-MPNN on windows of every length in ``window_lengths`` and on whole frames.

    A window length whose windows hold fewer than ``k + 1`` particles is reported as skipped.
    """
    if not classifier.reads_windows:
        raise InputError("size transfer needs a model that reads windows (a D-MPNN); a CNN reads "
                         "only whole images of one size")
    rows = []
    for length in window_lengths:
        try:
            labels, probs = window_glass_probability(classifier, dataset, length, windows_per_config, seed)
        except InputError as err:
            rows.append({"window_length": float(length), "skipped": str(err)})
            continue
        scores = classification_scores(labels, probs)
        sizes = _mean_window_particles(dataset, length * classifier.graph_spec.scale_for(dataset[0])
                                       / dataset.box[0], windows_per_config, seed)
        rows.append({"window_length": float(length), **scores, "mean_particles": sizes})
    configs = [dataset[i] for i in range(len(dataset))]
    frame = classification_scores(dataset.label, classifier.glass_probability(configs, "frame"))
    return {"kind": "size_transfer", "trained_window_length": classifier.window_length,
            "rows": rows, "frame": {**frame, "mean_particles": float(np.mean(np.diff(dataset.offsets)))},
            "windows_per_config": windows_per_config, "n_configurations": len(dataset)}


def _mean_window_particles(dataset: PackedDataset, side, windows: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    side = np.minimum(np.asarray(side, dtype=float), 1.0)
    counts = [window_means(dataset[i], np.ones(dataset[i].n_particles), side, windows, rng)[1]
              for i in range(len(dataset))]
    return float(np.mean(counts))


# ----------------------------------------------------------------------------- Fig. 9

def attention_counts(classifier, dataset: PackedDataset, cutoff: float = 2.0,
                     window_length: float | None = None, rng=0) -> dict[str, np.ndarray]:
    """High-attention graph counts of one random window per configuration of ``dataset``.

    Attention weights are those of the last (``T - 1``-th) message step, per pair the larger of
    the two directed weights, in *relative* units (weight times the number of directed edges of
    the graph: 1 is uniform attention; the OVITO attention modifier uses the same units). A pair
    is a high-attention edge when its relative attention exceeds ``cutoff``.

    Returns arrays (one entry per configuration) of the counts of
    :data:`~ovito_glassml.metrics.ATTENTION_COUNT_NAMES`, plus ``high_edges``, ``high_edges_touching_b``
    and ``particles``.
    """
    from ovito_glassml.graphs import window_graph
    from ovito_glassml.metrics import ATTENTION_COUNT_NAMES, AttentionGraphCounts, minority_type

    if not classifier.has_attention:
        raise InputError("attention statistics need a D-MPNN trained with self-attention")
    rng = np.random.default_rng(rng)
    spec = classifier.graph_spec
    if window_length is not None:
        spec = spec.with_window_length(window_length)
    out = {name: [] for name in (*ATTENTION_COUNT_NAMES, "high_edges", "high_edges_touching_b",
                                 "particles")}
    for i in range(len(dataset)):
        graph = window_graph(dataset[i], spec, rng)
        _, weights = classifier.attention(graph)
        edge_index = graph.edge_index.numpy()
        # B is the frame's minority type, whichever type a window happens to hold most of
        b_type = minority_type(dataset[i].types)
        types = dataset[i].types[graph.particle_index.numpy()]
        counts = AttentionGraphCounts(cutoff, b_type).compute(
            edge_index, weights[-1] * edge_index.shape[1], types)
        for name in ATTENTION_COUNT_NAMES:
            out[name].append(getattr(counts, name))
        pairs = counts.high_attention_pairs
        out["high_edges"].append(len(pairs))
        out["high_edges_touching_b"].append(int(np.any(types[pairs] == b_type, axis=1).sum()))
        out["particles"].append(len(types))
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def attention_statistics(sources, cutoff: float = 2.0, window_length: float | None = None,
                         seed: int = 0) -> dict:
    """The high-attention graphs of glasses against liquids (paper Fig. 9), with tests.

    Parameters
    ----------
    sources : list of ``(classifier, dataset)``: D-MPNNs with attention and the configurations each
        is to read, e.g. every cross-validation fold's model with its own outer test set (pooled).
    cutoff, window_length : see :func:`attention_counts` (default window: each model's l_win).
    seed : seeds the windows.

    Returns the mean counts per class, one-sided Wilcoxon signed-rank tests (glass < liquid, the
    paper's direction for all three counts; pairs from :func:`glass_liquid_pairs`), Mann-Whitney
    rank-sum tests (needing no pairing), and the share of high-attention edges with at least one
    type-B end.
    """
    from ovito_glassml.metrics import ATTENTION_COUNT_NAMES

    parts = [attention_counts(c, d, cutoff, window_length, rng=[seed, k])
             for k, (c, d) in enumerate(sources)]
    values = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    labels = np.concatenate([np.asarray(d.label) for _, d in sources])
    run_pairs = np.concatenate([np.stack([d.t_cool, d.seed], axis=1) for _, d in sources])
    runs = np.unique(run_pairs, axis=0, return_inverse=True)[1].reshape(-1)
    glass = labels == GLASS
    lengths = sorted({c.window_length if window_length is None else float(window_length)
                      for c, _ in sources})
    out = {"kind": "attention_statistics", "cutoff_relative": float(cutoff),
           "window_length": lengths[0] if len(lengths) == 1 else lengths,
           "n_models": len(sources), "n_glass": int(glass.sum()), "n_liquid": int((~glass).sum()),
           "mean_particles_per_window": float(values["particles"].mean()), "counts": {}}
    for name in ATTENTION_COUNT_NAMES:
        v = values[name]
        g, l, pairing = glass_liquid_pairs(v, labels, runs)
        ranksum = stats.mannwhitneyu(v[glass], v[~glass], alternative="less")
        out["counts"][name] = {
            "glass_mean": float(v[glass].mean()), "liquid_mean": float(v[~glass].mean()),
            "glass_std": float(v[glass].std()), "liquid_std": float(v[~glass].std()),
            "wilcoxon": {**wilcoxon_signed_rank(g, l, "less"), "pairing": pairing},
            "mannwhitney": {"statistic": float(ranksum.statistic), "pvalue": float(ranksum.pvalue),
                            "alternative": "less"}}
    total = int(values["high_edges"].sum())
    touching = int(values["high_edges_touching_b"].sum())
    out["high_attention_edges"] = {
        "total": total, "touching_b": touching,
        "share_touching_b": touching / total if total else None,
        "mean_isolated_b": float(values["num_isolated_b"].mean())}
    return out


# ----------------------------------------------------------------------------- baselines

#: The baselines per dimension: per-particle bond order (|psi6| in 2D, q6 in 3D), the favoured
#: Voronoi cell (six neighbours in 2D, the icosahedron in 3D), and the frame's E_IS.
BASELINES_BY_DIMENSION = {
    2: ("mean_abs_psi6", "six_neighbor_fraction", "inherent_structure_energy"),
    3: ("mean_q6", "icosahedral_fraction", "inherent_structure_energy"),
}
BASELINES = BASELINES_BY_DIMENSION[2]


def frame_baselines(dataset: PackedDataset) -> dict[str, np.ndarray]:
    """The three baseline values of every whole frame (names of the dataset's dimension)."""
    order, cells, energy = BASELINES_BY_DIMENSION[dataset.dimension]
    return {order: np.array([bond_order(dataset[i]).mean() for i in range(len(dataset))]),
            cells: np.array([favoured_cells(dataset[i]).mean() for i in range(len(dataset))]),
            energy: np.asarray(dataset.e_is, dtype=float)}


def _baseline_scores(values: np.ndarray, labels: np.ndarray) -> dict:
    """AUC of a one-number classifier, in the better of its two orientations.

    ``auc_glass_higher`` is the AUC of "larger value = glass"; ``auc`` is the larger of it and
    ``1 - auc_glass_higher``, i.e. a threshold whose side was chosen on the same data (one bit
    of fitting, which a physicist choosing the sign would also do; it flatters only AUCs near 0.5).
    """
    ok = np.isfinite(values)
    if not ok.any() or len(np.unique(labels[ok])) < 2:
        return {"auc": None, "note": "no finite values for both classes"}
    raw = float(roc_auc_score(labels[ok], values[ok]))
    return {"auc": max(raw, 1.0 - raw), "auc_glass_higher": raw,
            "orientation": "higher = glass" if raw >= 0.5 else "lower = glass",
            "glass_mean": float(values[ok][labels[ok] == GLASS].mean()),
            "liquid_mean": float(values[ok][labels[ok] == LIQUID].mean())}


def baselines(dataset: PackedDataset, window_lengths=(0.1, 0.2, 0.3), windows_per_config: int = 10,
              seed: int = 0) -> dict:
    """AUC of each baseline on whole frames and on random windows of each length.

    Nothing is fitted but the side of the threshold (see :func:`_baseline_scores`), so every
    configuration of ``dataset`` is scored. Window lengths are ``l_win`` in units of the length
    scale a D-MPNN trained on ``dataset`` would take (:func:`training_length_scale`: the paper's
    box of 60 sigma in 2D, 26.2 sigma for 3D Kob-Andersen), so a baseline's window is the model's
    window in any system. The inherent-structure energy is known per frame only (the manifest
    stores the frame's E_IS), so it has no window entry.
    """
    from .dmpnn import training_length_scale

    scale = training_length_scale(dataset, max(window_lengths))
    labels = np.asarray(dataset.label)
    frames = frame_baselines(dataset)
    order_name, cells_name, _ = BASELINES_BY_DIMENSION[dataset.dimension]
    out = {"kind": "baselines", "n_configurations": len(dataset),
           "frame": {name: _baseline_scores(values, labels) for name, values in frames.items()},
           "window": [], "windows_per_config": windows_per_config, "length_scale": scale}
    per_particle = [(bond_order(dataset[i]), favoured_cells(dataset[i]))
                    for i in range(len(dataset))]
    for length in window_lengths:
        rng = np.random.default_rng([seed, int(round(length * 1000))])
        psi, six, sizes = [], [], []
        for i, (p, s) in enumerate(per_particle):
            side = np.minimum(length * scale / dataset.box[i], 1.0)
            origins_state = rng.bit_generator.state
            mean_p, size = window_means(dataset[i], p, side, windows_per_config, rng)
            # the same windows for both per-particle quantities
            rng.bit_generator.state = origins_state
            mean_s, _ = window_means(dataset[i], s, side, windows_per_config, rng)
            psi.append(mean_p)
            six.append(mean_s)
            sizes.append(size)
        window_labels = np.repeat(labels, windows_per_config)
        out["window"].append({
            "window_length": float(length), "mean_particles": float(np.mean(sizes)),
            order_name: _baseline_scores(np.concatenate(psi), window_labels),
            cells_name: _baseline_scores(np.concatenate(six), window_labels)})
    return out


def _nan_to_none(matrix: np.ndarray) -> list:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in matrix]
