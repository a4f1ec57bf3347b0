"""How a model's glass probability moves when a frame's lengths are stretched by a few tenths of a
percent: what a frame at another density (a constant-pressure run, another state point) gets.

Every frame is scaled uniformly (positions and box) by each factor and classified whole and
tiled; factors within 25% of 1 are not undone by the model's unit conversion
(``System.in_units_of``), so this is what such a frame is given. Writes a JSON and a figure.

    python scripts/density_sensitivity.py --model ka3d --frames \\
        data/ka3d/n1000/tcool200000/seed501/T{0.05,0.39,0.55}.dump.gz \\
        --out results/ka3d/model/density_sensitivity.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ovito_glassml.configuration import Configuration
from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.frames import read_dump
from ovito_glassml.models import load_classifier
from ovito_glassml.models.shipped import model_folder

FACTORS = (0.99, 0.995, 0.998, 0.999, 1.0, 1.001, 1.002, 1.005, 1.01)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder or shipped model's name")
    parser.add_argument("--frames", nargs="+", required=True, help="dump files (T in the name)")
    parser.add_argument("--out", required=True, type=Path, help="JSON file (and .png beside it)")
    args = parser.parse_args(argv)

    classifier = load_classifier(model_folder(args.model))
    rows = []
    for path in args.frames:
        frame = read_dump(path)
        for factor in FACTORS:
            scaled = Configuration(frame.positions * factor, frame.types,
                                   np.asarray(frame.box) * factor, type_names=frame.type_names)
            result = classifier.frame_pass(scaled)
            rows.append({"frame": Path(path).name, "factor": factor,
                         "density_change": factor ** -frame.dimension - 1.0,
                         "whole_frame": round(float(result.probability), 4),
                         "tiled": round(float(result.tiles_probability), 4)})
            print(f"{Path(path).name:>16}  length x {factor:<6}  whole {rows[-1]['whole_frame']:.3f}"
                  f"  tiled {rows[-1]['tiled']:.3f}")
    write_json_atomic(args.out, {"model": str(args.model), "frames": [str(p) for p in args.frames],
                                 "factors": list(FACTORS), "rows": rows})
    plot(rows, args.out.with_suffix(".png"), str(args.model))


def plot(rows: list[dict], path: Path, model: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for name in dict.fromkeys(r["frame"] for r in rows):
        mine = [r for r in rows if r["frame"] == name]
        ax.plot([100 * (r["factor"] - 1) for r in mine], [r["whole_frame"] for r in mine], "o-",
                ms=3, label=name.replace(".dump.gz", ""))
    ax.axhline(0.5, color="k", lw=0.5)
    ax.set_xlabel("lengths stretched by (%)")
    ax.set_ylabel("glass probability (whole frame)")
    ax.set_title(f"model {model}: frames at another density", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
