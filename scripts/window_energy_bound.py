"""How well can any one-window classifier with labels from Tg do? The pair-energy yardstick.

For equilibrium liquids the configuration's potential energy is the statistic that tells two
temperatures apart (the Boltzmann factor depends on the positions only through it), so the mean
KA pair energy of a window is a strong yardstick for a window classifier of temperature. This
script fits its threshold exactly as the shipped model's labels are made (glass: T <= Tg - band,
liquid: T >= Tg + band, all saved temperatures of the training runs) and scores it on random
windows of held-out runs: the fraction of windows at each temperature called glass, and the
accuracy on each paper dataset (glass at 0.05 against its liquid). A model labelled by Tg
cannot call liquid windows just above Tg liquid much more often than this number does.

    python scripts/window_energy_bound.py --train-seeds 1-6,10-35 --test-seeds 7-9 --tg 0.39 \\
        --out results/model/energy_bound.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ovito_glassml.baselines import window_means
from ovito_glassml.commands.simulate import parse_seeds
from ovito_glassml.datasets import LIQUID_TEMPERATURES, dataset_from_manifest, read_manifest
from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.graphs import window_side
from ovito_glassml.potential import pair_energy_per_particle
from ovito_glassml.training.window_baselines import fitted_scores

SLOW = "data/paper/slow/manifest.csv"


def window_energies(rows, windows: int, window_length: float, rng) -> dict[float, np.ndarray]:
    """Mean pair energy of ``windows`` random windows of each frame, by temperature."""
    spec = GraphSpec(window_length=window_length)
    dataset = dataset_from_manifest(SLOW, rows=rows)
    out: dict[float, list] = {}
    for i in tqdm(range(len(dataset)), desc="frames", leave=False):
        config = dataset[i]
        energy, _ = window_means(config, pair_energy_per_particle(config),
                                 window_side(config, spec), windows, rng)
        out.setdefault(round(float(dataset.temperature[i]), 4), []).append(energy)
    return {t: np.concatenate(v) for t, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seeds", required=True)
    parser.add_argument("--test-seeds", required=True)
    parser.add_argument("--tg", type=float, required=True)
    parser.add_argument("--band", type=float, default=0.05)
    parser.add_argument("--window-length", type=float, default=0.2)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = read_manifest(SLOW)
    train_seeds, test_seeds = set(parse_seeds(args.train_seeds)), set(parse_seeds(args.test_seeds))
    rng = np.random.default_rng(0)
    train = window_energies([r for r in rows if r["seed"] in train_seeds], args.windows,
                            args.window_length, rng)
    glass = [t for t in train if t <= args.tg - args.band + 1e-9]
    liquid = [t for t in train if t >= args.tg + args.band - 1e-9]
    x = np.concatenate([train[t] for t in glass + liquid])
    y = np.concatenate([np.full(len(train[t]), int(t in glass)) for t in glass + liquid])
    test = window_energies([r for r in rows if r["seed"] in test_seeds], args.windows,
                           args.window_length, rng)
    fit = fitted_scores(x, y, x, y)
    threshold = fit["threshold"]
    called_glass = {str(t): float(np.mean(v < threshold)) for t, v in sorted(test.items())}
    datasets = {}
    for number, t_liquid in LIQUID_TEMPERATURES.items():
        key = round(float(t_liquid), 4)
        if key in test and 0.05 in test:
            g, lq = test[0.05], test[key]
            datasets[f"dataset{number}"] = fitted_scores(x, y, np.r_[g, lq],
                                                         np.r_[np.ones(len(g)), np.zeros(len(lq))])
    result = {"kind": "window_energy_bound", "tg": args.tg, "band": args.band,
              "window_length": args.window_length, "windows_per_frame": args.windows,
              "train_seeds": args.train_seeds, "test_seeds": args.test_seeds,
              "glass_temperatures": glass, "liquid_temperatures": liquid,
              "threshold_pair_energy": threshold,
              "fraction_called_glass": called_glass, "datasets": datasets}
    write_json_atomic(Path(args.out), result)
    print("threshold", round(threshold, 4))
    for t, f in called_glass.items():
        print(f"T={t}: {f:.3f} of windows called glass")
    for name, s in datasets.items():
        print(f"{name}: AUC {s['auc']:.3f}, accuracy {s['accuracy']:.3f}")


if __name__ == "__main__":
    main()
