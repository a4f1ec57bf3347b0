"""A model measured on cooling runs it never saw: every dataset, every mode, every temperature.

For a trained D-MPNN and held-out runs of a campaign (slow runs, and fast runs for dataset 6),
:func:`held_out_report` measures

* per dataset (glass at T=0.05 against each liquid of datasets 1-5, and the fast glass against
  the slow liquid of the same mean E_IS, dataset 6): AUC and accuracy of one random window (``windows`` per frame),
  of the mean over the windows tiling each frame, and of the whole periodic frame;
* the cooling curve: the tiled and whole-frame glass probability of every saved temperature,
  averaged over the held-out runs, and the temperature where the tiled curve crosses 0.5.

This is the shipped model's evidence (its MODEL_CARD.md). For a user's own system,
:func:`labelled_held_out_report` measures the same on the held-out runs of a labelled manifest
(``path,label[,seed,temperature]``): all glass frames against all liquid frames, against the
liquid of each temperature, and the cooling curve where the manifest has temperatures.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ovito_glassml.datasets import (GLASS_TEMPERATURE, STRUCTURES, _rows_at, dataset_from_manifest,
                                    liquid_temperatures, matched_liquid_temperature,
                                    read_manifest, rows_of_seeds, use_inherent_structures,
                                    without_crystallised_glasses)
from ovito_glassml.errors import InputError
from ovito_glassml.graphs import FrameGraphs

from .evaluate import check_frames, classification_scores

MODES = ("window", "tiles", "frame")


def frame_probabilities(classifier, config, windows: int, rng) -> dict:
    """Glass probability of ``windows`` random windows, of the tiles' mean and of the frame."""
    frames = FrameGraphs(config, classifier.graph_spec)
    window = classifier.predict_graphs([frames.random_window(rng) for _ in range(windows)],
                                       batch_size=64)
    whole = classifier.frame_pass(config)  # what classify and the modifiers report
    return {"window": window, "tiles": whole.tiles_probability, "frame": whole.probability}


def _probabilities(classifier, manifest, rows, windows, rng, bar) -> list[dict]:
    dataset = dataset_from_manifest(manifest, rows=rows)
    check_frames(classifier, dataset)
    out = []
    for i in range(len(dataset)):
        out.append(dict(frame_probabilities(classifier, dataset[i], windows, rng),
                        temperature=float(dataset.temperature[i]), seed=int(dataset.seed[i])))
        bar.update()
    return out


def _scores(glass: list[dict], liquid: list[dict], windows: int) -> dict:
    labels = np.r_[np.ones(len(glass), int), np.zeros(len(liquid), int)]
    both = glass + liquid
    out = {"window": classification_scores(np.repeat(labels, windows),
                                           np.concatenate([p["window"] for p in both]))}
    for mode in ("tiles", "frame"):
        out[mode] = classification_scores(labels, [p[mode] for p in both])
    return out


def crossing_temperature(temperatures, probabilities) -> float | None:
    """Where a glass probability falling with temperature first crosses 0.5 (linear between
    the two saved temperatures around it), or None if it never does."""
    t = np.asarray(temperatures, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    order = np.argsort(t)
    t, p = t[order], p[order]
    for i in range(len(t) - 1):
        if p[i] >= 0.5 > p[i + 1]:
            return float(t[i] + (p[i] - 0.5) / (p[i] - p[i + 1]) * (t[i + 1] - t[i]))
    return None


#: How far above Tg the liquid of ``nearest_tg`` is at least: the shipped models' band.
NEAREST_TG_BAND = 0.04


def held_out_report(classifier, slow_manifest, seeds, fast_manifest=None, fast_seeds=None,
                    windows: int = 20, rng=0, progress: bool = True,
                    structure: str = "instantaneous", tg: float | None = None,
                    band: float = NEAREST_TG_BAND) -> dict:
    """Scores of ``classifier`` on the held-out runs ``seeds`` (and ``fast_seeds``).

    ``structure="inherent"`` scores the runs' inherent structures (datasets ``<k>-is``) in
    place of their snapshots. With ``tg``, ``nearest_tg`` scores the glass against the liquid
    nearest Tg: the lowest saved temperature at least ``band`` above it (the hardest liquid a
    model labelled by that Tg with that band was trained on). In a 3D campaign the glass frames
    of crystallised runs are left out, as in the datasets. Returns ``{"datasets": {name: {mode: {"auc", "accuracy", "n"}}},
    "cooling": [...], "crossing_temperature": T or None, "seeds": ..., "fast_seeds": ...}``.
    """
    if structure not in STRUCTURES:
        raise InputError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    rng = np.random.default_rng(rng)
    seeds = {int(s) for s in seeds}
    campaign = read_manifest(slow_manifest)
    slow = rows_of_seeds(campaign, seeds)
    if not slow:
        raise InputError(f"{slow_manifest} has no runs with seeds {sorted(seeds)}")
    seeds = {int(r["seed"]) for r in slow}     # the runs there are (a campaign may still be running)
    fast, matched = [], None
    if fast_manifest is not None:
        fast_campaign = read_manifest(fast_manifest)
        fast = rows_of_seeds(_rows_at(fast_campaign, GLASS_TEMPERATURE), fast_seeds)
        missing = sorted(set(fast_seeds or ()) - {int(r["seed"]) for r in fast})
        if missing:
            raise InputError(f"{fast_manifest} has no glass of the fast runs {missing}; its "
                             f"seeds are {sorted({int(r['seed']) for r in fast_campaign})[:8]}...")
        # dataset 6's liquid: the temperature whose mean E_IS over the whole campaign matches
        # the fast glass's (the paper's definition), not a fixed one
        matched = matched_liquid_temperature(campaign, fast_campaign)
    slow, fast, crystals = without_crystallised_glasses(slow, fast or None)
    fast = fast or []
    if structure == "inherent":
        slow = use_inherent_structures(slow, slow_manifest)
        fast = use_inherent_structures(fast, fast_manifest) if fast else []
    bar = tqdm(total=len(slow) + len(fast), desc="held-out frames", unit="frame",
               disable=not progress)
    per_frame = _probabilities(classifier, slow_manifest, slow, windows, rng, bar)
    fast_frames = _probabilities(classifier, fast_manifest, fast, windows, rng, bar) if fast else []
    bar.close()

    def at(temperature):
        return [p for p in per_frame if abs(p["temperature"] - temperature) < 1e-6]

    glass = at(GLASS_TEMPERATURE)
    datasets = {}
    suffix = "" if structure == "instantaneous" else "-is"
    for number, temperature in liquid_temperatures(campaign).items():
        if glass and at(temperature):
            datasets[f"dataset{number}{suffix}"] = _scores(glass, at(temperature), windows)
    if fast_frames and at(matched):
        datasets[f"dataset6{suffix}"] = _scores(fast_frames, at(matched), windows)
    temperatures = sorted({p["temperature"] for p in per_frame}, reverse=True)
    nearest = min((t for t in temperatures if t >= tg + band - 1e-9), default=None) \
        if tg is not None else None
    if glass and nearest is not None:
        datasets[f"nearest_tg{suffix}"] = _scores(glass, at(nearest), windows)
    cooling = [{"temperature": t,
                "tiles": float(np.mean([p["tiles"] for p in at(t)])),
                "frame": float(np.mean([p["frame"] for p in at(t)])),
                "window": float(np.mean(np.concatenate([p["window"] for p in at(t)]))),
                "n_frames": len(at(t))} for t in temperatures]
    return {"datasets": datasets, "cooling": cooling,
            "crossing_temperature": crossing_temperature(
                [c["temperature"] for c in cooling], [c["tiles"] for c in cooling]),
            "seeds": sorted(seeds), "fast_seeds": sorted({int(r["seed"]) for r in fast}),
            "dataset6_liquid_temperature": matched,
            **({"nearest_tg_liquid_temperature": nearest} if nearest is not None else {}),
            "windows_per_frame": windows, "structure": structure,
            **({"crystals": crystals} if crystals else {})}


def labelled_held_out_report(classifier, manifest, seeds, windows: int = 20, rng=0,
                             progress: bool = True) -> dict:
    """Scores of ``classifier`` on the runs ``seeds`` of a labelled manifest (a user's system).

    ``datasets`` holds ``all`` (every glass frame against every liquid frame) and, where the
    manifest gives temperatures, ``liquid T=<t>`` (the glass frames against the liquid frames at
    ``t``); ``cooling`` and ``crossing_temperature`` as in :func:`held_out_report`.
    """
    rng = np.random.default_rng(rng)
    seeds = {int(s) for s in seeds}
    rows = rows_of_seeds(read_manifest(manifest), seeds)
    if not rows:
        raise InputError(f"{manifest} has no rows with seeds {sorted(seeds)}")
    seeds = {int(r["seed"]) for r in rows}
    labels = {str(r.get("label", "")).strip().lower() for r in rows}
    if not {"glass", "liquid"} <= labels:
        raise InputError(f"the held-out rows of {manifest} need a label column with both glass "
                         "and liquid frames")
    bar = tqdm(total=len(rows), desc="held-out frames", unit="frame", disable=not progress)
    per_frame = _probabilities(classifier, manifest, rows, windows, rng, bar)
    bar.close()
    for p, row in zip(per_frame, rows):
        p["label"] = str(row["label"]).strip().lower()
    glass = [p for p in per_frame if p["label"] == "glass"]
    liquid = [p for p in per_frame if p["label"] == "liquid"]
    datasets = {"all": _scores(glass, liquid, windows)}
    temperatures = sorted({p["temperature"] for p in per_frame if np.isfinite(p["temperature"])},
                          reverse=True)
    for t in temperatures:
        at_t = [p for p in liquid if p["temperature"] == t]
        if at_t and len(temperatures) > 1:
            datasets[f"liquid T={t:g}"] = _scores(glass, at_t, windows)
    cooling = [{"temperature": t,
                "tiles": float(np.mean([p["tiles"] for p in per_frame if p["temperature"] == t])),
                "frame": float(np.mean([p["frame"] for p in per_frame if p["temperature"] == t])),
                "window": float(np.mean(np.concatenate([p["window"] for p in per_frame
                                                        if p["temperature"] == t]))),
                "n_frames": sum(p["temperature"] == t for p in per_frame)} for t in temperatures]
    crossing = crossing_temperature([c["temperature"] for c in cooling],
                                    [c["tiles"] for c in cooling]) if cooling else None
    return {"datasets": datasets, "cooling": cooling, "crossing_temperature": crossing,
            "seeds": sorted(seeds), "fast_seeds": [], "windows_per_frame": windows}


def seed_ranges(seeds) -> str:
    """Seeds as ranges, the way ``--seeds`` takes them: [1, 2, 3, 7, 9, 10] -> ``1-3,7,9-10``."""
    parts, run = [], []
    for seed in sorted(set(int(s) for s in seeds)):
        if run and seed != run[-1] + 1:
            parts.append(run)
            run = []
        run.append(seed)
    if run:
        parts.append(run)
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in parts)


def plot_cooling(report: dict, path, tg: float | None = None) -> None:
    """The held-out cooling curve: glass probability (tiles, whole frame) against T."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ovito_glassml.fileio import atomic_path

    t = [c["temperature"] for c in report["cooling"]]
    if not t:
        return
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for mode, style in (("tiles", "o-"), ("frame", "s--"), ("window", "^:")):
        ax.plot(t, [c[mode] for c in report["cooling"]], style, ms=4,
                label={"tiles": "tiled frame", "frame": "whole frame",
                       "window": "one window (mean)"}[mode])
    ax.axhline(0.5, color="k", lw=0.8)
    if tg is not None:
        ax.axvline(tg, color="r", lw=0.8, ls="--", label=f"Tg = {tg:.3f}")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("glass probability")
    ax.set_title(f"held-out runs: seeds {seed_ranges(report['seeds'])}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
