"""The report's summary figures (Figs. 5, 6, 7, 9 and the baselines), drawn from its numbers
into ``reproduction_figures/``; each is written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ovito_glassml.fileio import atomic_path

from .format import _p
from .paper import FRAME_BASELINE_NAMES, MODEL_NAMES, PAPER


def _figure(path: Path, fig) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_auc(table: dict, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    numbers = sorted({k[0] for k in table if k[0] is not None}, key=str)
    x = np.arange(len(numbers))
    for offset, model in ((-0.2, "cnn"), (0.2, "dmpnn")):
        mean = [table[(n, model)]["auc_mean"] if (n, model) in table else np.nan for n in numbers]
        std = [table[(n, model)]["auc_std"] if (n, model) in table else 0 for n in numbers]
        ax.bar(x + offset, mean, 0.4, yerr=std, capsize=3, label=MODEL_NAMES[model])
    ax.axhline(PAPER["auc_threshold"], color="k", ls="--", lw=1, label="paper: > 0.98")
    ax.set_xticks(x, [str(n) for n in numbers])
    ax.set_xlim(-0.6, len(numbers) - 0.4)
    ax.set_xlabel("dataset")
    ax.set_ylabel("AUC (mean ± std over folds)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    _figure(path, fig)


def _plot_window_baselines(bars: list, baseline_names: list, path: Path) -> None:
    """Per dataset: the D-MPNN's outer-test window AUC beside each baseline's on the same windows."""
    series = [("D-MPNN", [b[1] for b in bars])] + [
        (name, [b[2][i] for b in bars]) for i, name in enumerate(baseline_names)]
    _grouped_bars([number for number, _, _ in bars], series, "window AUC (mean over folds)", path,
                  outline_first=True)


def _plot_frame_baselines(bars: list, path: Path) -> None:
    """Whole-frame AUC per dataset: each one-number baseline beside the D-MPNN and the CNN."""
    series = [(name, [b[1][i] for b in bars]) for i, name in enumerate(FRAME_BASELINE_NAMES.values())]
    series += [("D-MPNN", [b[2] for b in bars]), ("CNN", [b[3] for b in bars])]
    _grouped_bars([label for label, _, _, _ in bars], series, "whole-frame AUC", path,
                  tick_size=8)


def _grouped_bars(labels: list, series: list, ylabel: str, path: Path,
                  outline_first: bool = False, tick_size=None) -> None:
    """One group of bars per label, one bar per ``(name, values)`` series (None: no bar), with
    chance (0.5) dotted and the legend above the axes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 3.6))
    x = np.arange(len(labels))
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series):
        values = [np.nan if v is None else v for v in values]
        outline = outline_first and i == 0
        ax.bar(x - 0.4 + width * (i + 0.5), values, width, label=name,
               edgecolor="k" if outline else None, linewidth=1.0 if outline else 0)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_xticks(x, labels, fontsize=tick_size)
    ax.set_xlabel("dataset")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0.3, 1.02)
    ax.legend(fontsize=7, ncol=len(series), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)
    fig.tight_layout()
    _figure(path, fig)


def _plot_inherent(bars: list, path: Path) -> None:
    """Per -is dataset: D-MPNN window AUC (+- std over folds), whole-frame AUC, the best
    baseline's window AUC, and the goals as short black lines."""
    plt = _pyplot()
    labels = [b[0] for b in bars]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 3.6))
    x = np.arange(len(labels))
    ax.bar(x - 0.27, [b[1] for b in bars], 0.26, yerr=[b[2] for b in bars], capsize=3,
           label="D-MPNN, window")
    ax.bar(x, [b[3] for b in bars], 0.26, label="D-MPNN, whole frame")
    ax.bar(x + 0.27, [b[4] for b in bars], 0.26, label="best baseline, window")
    for xi, (_, _, _, _, _, window_goal, frame_goal) in zip(x, bars):
        for offset, goal in ((-0.27, window_goal), (0.0, frame_goal)):
            if goal is not None:
                ax.plot([xi + offset - 0.13, xi + offset + 0.13], [goal, goal], "k-", lw=2)
    ax.plot([], [], "k-", lw=2, label="goal (issue 12)")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_xticks(x, labels)
    ax.set_xlabel("dataset (inherent structures)")
    ax.set_ylabel("AUC")
    ax.set_ylim(0.3, 1.05)
    ax.legend(fontsize=7, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    _figure(path, fig)


def _plot_matrix(data: dict, path: Path) -> None:
    plt = _pyplot()
    matrix = np.array([[np.nan if v is None else v for v in row] for row in data["auc_mean"]])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.imshow(matrix, vmin=0.5, vmax=1.0, cmap="viridis")
    labels = [str(d) for d in data["datasets"]]
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    for (i, j), v in np.ndenumerate(matrix):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="w" if v < 0.8 else "k")
    ax.set_xlabel("tested on dataset")
    ax.set_ylabel("trained on dataset")
    ax.set_title(f"{MODEL_NAMES.get(data['model'], data['model'])} AUC")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    _figure(path, fig)


def _plot_size_transfer(data: dict, path: Path) -> None:
    plt = _pyplot()
    rows = [r for r in data["rows"] if "auc" in r]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    lengths = [r["window_length"] for r in rows]
    ax.plot(lengths, [r["auc"] for r in rows], "o-", label="AUC")
    ax.plot(lengths, [r["accuracy"] for r in rows], "s--", label="accuracy")
    ax.axvline(data["trained_window_length"], color="purple", lw=1, label="trained l_win")
    ax.axhline(data["frame"]["auc"], color="grey", ls=":", label="whole frame (AUC)")
    ax.axhline(data["frame"]["accuracy"], color="k", ls="-.", lw=0.8,
               label="whole frame (accuracy)")
    ax.set_xlabel("l_win")
    ax.set_ylabel("AUC, accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _figure(path, fig)


def _plot_attention(data: dict, path: Path) -> None:
    plt = _pyplot()
    names = list(data["counts"])
    fig, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 3))
    for ax, name in zip(np.atleast_1d(axes), names):
        c = data["counts"][name]
        ax.bar([0, 1], [c["glass_mean"], c["liquid_mean"]], yerr=[c["glass_std"], c["liquid_std"]],
               color=["tab:blue", "tab:orange"], capsize=3)
        ax.set_xticks([0, 1], ["glass", "liquid"])
        ax.set_title(f"{name.replace('num_', '').replace('_', ' ')}\np = {_p(c['wilcoxon']['pvalue'])}",
                     fontsize=9)
    fig.tight_layout()
    _figure(path, fig)
