"""One D-MPNN per paper dataset, scored on held-out runs in every mode and at every size.

Issue 11, item 2: is the model calibrated at every size? For each of datasets 1-6, train the
shipped model's recipe (invariant features, RBF edges in sigma, neighbours from the periodic
frame, l_win 0.2, h 32) on that dataset's frames from the training runs, then score it on the
same dataset built from runs it never saw:

* one random window of l_win 0.2 (``--windows`` per frame), the mean over the windows tiling the
  frame, and the whole periodic frame (what ``glassml classify`` reports);
* the size-transfer table: random windows of l_win 0.1 ... 0.5 and the whole frame, AUC and
  accuracy at the fixed threshold 0.5.

Writes ``OUT/per_dataset.json`` and ``OUT/per_dataset.png`` (accuracy against window size, one
line per dataset). The trained folders go to ``MODELS/dataset<k>`` (resumable: a finished
dataset is not trained again).

    python scripts/per_dataset_models.py --train-seeds 1-6,10-35 --test-seeds 7-9 \\
        --fast-train-seeds 1013-1064 --fast-test-seeds 1001-1012 \\
        --models runs/per_dataset --out results/model/per_dataset
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ovito_glassml.commands.simulate import parse_seeds
from ovito_glassml.datasets import build_datasets
from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.models.classifier import load_classifier
from ovito_glassml.training.dmpnn import DMPNNTrainingConfig, train_dmpnn
from ovito_glassml.training.evaluate import classification_scores
from ovito_glassml.training.experiments import size_transfer
from ovito_glassml.training.heldout import frame_probabilities

SLOW = "data/paper/slow/manifest.csv"
FAST = "data/paper/fast/manifest.csv"
SIZES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.5)


def score_modes(classifier, test, windows: int, rng) -> dict:
    """AUC and accuracy of one window, the tiles' mean and the whole frame on ``test``."""
    probs = [frame_probabilities(classifier, test[i], windows, rng) for i in range(len(test))]
    labels = np.asarray(test.label, dtype=int)
    out = {"window": classification_scores(np.repeat(labels, windows),
                                           np.concatenate([p["window"] for p in probs]))}
    for mode in ("tiles", "frame"):
        out[mode] = classification_scores(labels, [p[mode] for p in probs])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seeds", required=True)
    parser.add_argument("--test-seeds", required=True)
    parser.add_argument("--fast-train-seeds", required=True)
    parser.add_argument("--fast-test-seeds", required=True)
    parser.add_argument("--datasets", default="1,2,3,4,5,6")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--windows-per-epoch", type=int, default=16)
    parser.add_argument("--windows", type=int, default=20, help="random windows per test frame")
    parser.add_argument("--models", required=True, help="folder for the trained models")
    parser.add_argument("--out", required=True, help="folder for per_dataset.json/.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    numbers = [int(k) for k in args.datasets.split(",")]
    train_sets = build_datasets(SLOW, FAST, numbers, seeds=parse_seeds(args.train_seeds),
                                fast_seeds=parse_seeds(args.fast_train_seeds))
    test_sets = build_datasets(SLOW, FAST, numbers, seeds=parse_seeds(args.test_seeds),
                               fast_seeds=parse_seeds(args.fast_test_seeds))
    results = {}
    for k in tqdm(numbers, desc="datasets"):
        folder = Path(args.models) / f"dataset{k}"
        train = train_sets[k]
        if not (folder / "config.json").exists():
            config = DMPNNTrainingConfig(graph=GraphSpec(), hidden_size=32, epochs=args.epochs,
                                         windows_per_epoch=args.windows_per_epoch, batch_size=32,
                                         seed=0)
            train_dmpnn(train, folder, config, progress=False,
                        data_provenance={"dataset": k, "train_seeds": sorted(set(train.seed.tolist()))})
        classifier = load_classifier(folder)
        test = test_sets[k]
        modes = score_modes(classifier, test, args.windows, np.random.default_rng(k))
        sizes = size_transfer(classifier, test, SIZES, windows_per_config=args.windows, seed=k)
        results[f"dataset{k}"] = {
            "liquid_temperature": test.meta["liquid_temperature"],
            "n_train": {"glass": train.meta["n_glass"], "liquid": train.meta["n_liquid"]},
            "n_test": {"glass": test.meta["n_glass"], "liquid": test.meta["n_liquid"]},
            "modes": modes,
            "size_transfer": sizes["rows"] + [dict(sizes["frame"], window_length="frame")],
        }
        print(k, {m: (round(s["auc"], 3), round(s["accuracy"], 3)) for m, s in modes.items()},
              [round(r["accuracy"], 3) for r in results[f"dataset{k}"]["size_transfer"]], flush=True)
    write_json_atomic(Path(args.out) / "per_dataset.json", {
        "recipe": "GraphSpec() defaults (invariant, rbf, frame neighbours, k 4, l_win 0.2), h 32, "
                  f"{args.epochs} epochs x {args.windows_per_epoch} windows, batch 32, seed 0",
        "train_seeds": args.train_seeds, "test_seeds": args.test_seeds,
        "fast_train_seeds": args.fast_train_seeds, "fast_test_seeds": args.fast_test_seeds,
        "windows_per_frame": args.windows, "datasets": results})
    plot(results, Path(args.out) / "per_dataset.png")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    labels = [str(s) for s in SIZES] + ["frame"]
    for name, r in results.items():
        ax.plot(range(len(labels)), [row["accuracy"] for row in r["size_transfer"]], "o-",
                label=f"{name} (liquid {r['liquid_temperature']})")
    ax.axhline(0.95, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("window side l_win (trained at 0.2)")
    ax.set_ylabel("held-out accuracy (threshold 0.5)")
    ax.set_ylim(0.45, 1.02)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
