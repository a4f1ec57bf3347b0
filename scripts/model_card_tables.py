"""Print the shipped model card's tables (markdown) from the JSON files that measured them.

    python scripts/model_card_tables.py results/model/shipped
    python scripts/model_card_tables.py results/ka3d/model ka3d     (the 3D datasets' liquids)
reads ``heldout.json`` and ``energy_bound.json`` (each when present) in that folder,
``../per_dataset/per_dataset.json`` beside it, and ``results/paper/experiments/size_transfer_shipped_dataset*.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATASET_NAMES = {"dataset1": "1: liquid 1.99", "dataset2": "2: liquid 1.76",
                 "dataset3": "3: liquid 0.96", "dataset4": "4: liquid 0.55",
                 "dataset5": "5: liquid 0.44"}
DATASET_NAMES_3D = {"dataset1": "1: liquid 1.99", "dataset2": "2: liquid 1.0",
                    "dataset3": "3: liquid 0.7", "dataset4": "4: liquid 0.55",
                    "dataset5": "5: liquid 0.5 (just above T_c)"}


def cell(scores: dict, n: bool = False) -> str:
    text = f"{scores['auc']:.3f} / {scores['accuracy']:.3f}"
    return text + (f" (n={scores['n']})" if n else "")


def dataset_label(name: str, report: dict, names: dict) -> str:
    if name == "nearest_tg":
        return f"liquid nearest Tg: {report['nearest_tg_liquid_temperature']:g}"
    if name == "dataset6":
        return f"6: fast glass vs slow liquid {report['dataset6_liquid_temperature']:g}"
    return names.get(name, name)


def heldout_tables(report: dict, names: dict = DATASET_NAMES) -> None:
    print("| dataset (glass at T = 0.05) | one window | tiled frame | whole frame |")
    print("|---|---|---|---|")
    for name, modes in report["datasets"].items():
        label = dataset_label(name, report, names)
        print(f"| {label} | {cell(modes['window'], True)} | {cell(modes['tiles'])} | "
              f"{cell(modes['frame'], True)} |")
    print(f"\ncrossing of the tiled probability: T = {report['crossing_temperature']:.3f}\n")
    print("| T | one window (mean) | tiled frame | whole frame |")
    print("|---|---|---|---|")
    for row in report["cooling"]:
        print(f"| {row['temperature']:g} | {row['window']:.3f} | {row['tiles']:.3f} | {row['frame']:.3f} |")


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/model/shipped")
    names = DATASET_NAMES_3D if sys.argv[2:3] == ["ka3d"] else DATASET_NAMES
    for path in (folder / "heldout.json", folder / "heldout" / "heldout.json"):
        if path.exists():
            heldout_tables(json.loads(path.read_text()), names)
            break
    bound = folder / "energy_bound.json"
    if bound.exists():
        data = json.loads(bound.read_text())
        print("\nwindow pair-energy yardstick (threshold from the training runs' Tg labels):")
        print(" ".join(f"{t}:{f:.3f}" for t, f in data["fraction_called_glass"].items()))
        print(" ".join(f"{k}: {cell(v)}" for k, v in data["datasets"].items()))
    per = folder.parent / "per_dataset" / "per_dataset.json"   # results/model/per_dataset
    if per.exists():
        data = json.loads(per.read_text())
        print("\n| dataset | window | tiles | frame | accuracy at l_win 0.1 / 0.15 / 0.2 / 0.25 / 0.3 / 0.5 / frame |")
        print("|---|---|---|---|---|")
        for name, r in data["datasets"].items():
            sizes = " / ".join(f"{row['accuracy']:.3f}" for row in r["size_transfer"])
            print(f"| {name} (liquid {r['liquid_temperature']}) | {cell(r['modes']['window'])} | "
                  f"{cell(r['modes']['tiles'])} | {cell(r['modes']['frame'])} | {sizes} |")
    for path in sorted(Path("results/paper/experiments").glob("size_transfer_shipped_dataset*.json")):
        data = json.loads(path.read_text())
        rows = [f"{r['window_length']:g}: {r['auc']:.3f}/{r['accuracy']:.3f}" for r in data["rows"]]
        print(f"\n{path.name}: " + ", ".join(rows)
              + f", frame: {data['frame']['auc']:.3f}/{data['frame']['accuracy']:.3f}")


if __name__ == "__main__":
    main()
