"""How many cooling runs a Tg needs: Tg of disjoint groups of 1, 2, 4, 8, ... runs of a campaign.

The campaign's runs (``--seeds``, default all) are cut, in seed order, into disjoint groups of
each size, and each group gets its own Tg by the project's definition (``glassml tg``: the lower
break of three straight pieces over every saved temperature). The spread of those Tg across groups
is what a user with that many runs of their own can expect; the mean tells whether few runs bias it.

    python scripts/tg_by_runs.py data/ka3d/slow/manifest.csv --seeds 1-32 --out results/ka3d/tg/by_runs.json
    python scripts/tg_by_runs.py data/paper/slow/manifest.csv --out results/paper/tg/by_runs.json

Prints one line per group size and writes the groups' Tg and their summary to ``--out`` (JSON),
beside a figure (same name, .png).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ovito_glassml.commands.simulate import parse_seeds
from ovito_glassml.datasets import read_manifest, rows_of_seeds
from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.glass_transition import glass_transition


def group_tgs(rows: list[dict], seeds: list[int], size: int) -> list[dict]:
    """Tg of each disjoint group of ``size`` consecutive seeds (a last, smaller group is dropped)."""
    groups = [seeds[i:i + size] for i in range(0, len(seeds) - size + 1, size)]
    return [{"seeds": group,
             "tg": glass_transition(rows_of_seeds(rows, group), n_bootstrap=0).tg}
            for group in groups]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", help="manifest.csv of one cooling rate's campaign")
    parser.add_argument("--seeds", help="runs to use, e.g. 1-32 (default: all)")
    parser.add_argument("--sizes", default="1,2,4,8,16", help="group sizes (comma-separated)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    rows = read_manifest(args.manifest)
    rows = rows_of_seeds(rows, parse_seeds(args.seeds) if args.seeds else None)
    seeds = sorted({int(r["seed"]) for r in rows})
    everything = glass_transition(rows, n_bootstrap=200)
    result = {"kind": "tg_by_runs", "manifest": Path(args.manifest).as_posix(), "n_runs": len(seeds),
              "t_cool": everything.t_cool, "tg_all_runs": everything.tg,
              "tg_all_runs_bootstrap_std": everything.tg_err, "by_size": []}
    print(f"{len(seeds)} runs: Tg = {everything.tg:.3f} +/- {everything.tg_err:.3f}")
    for size in (int(s) for s in args.sizes.split(",")):
        groups = group_tgs(rows, seeds, size)
        if len(groups) < 2:
            continue
        tg = np.array([g["tg"] for g in groups])
        summary = {"runs_per_group": size, "groups": len(groups), "mean": float(tg.mean()),
                   "std": float(tg.std(ddof=1)), "min": float(tg.min()), "max": float(tg.max()),
                   "tg": groups}
        result["by_size"].append(summary)
        print(f"{size:3d} runs per group, {len(groups):2d} groups: Tg {tg.mean():.3f} +/- "
              f"{tg.std(ddof=1):.3f} (range {tg.min():.3f}-{tg.max():.3f})")
    out = Path(args.out)
    write_json_atomic(out, result)
    plot(result, out.with_suffix(".png"))
    print(f"-> {out}")
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for row in result["by_size"]:
        tg = [g["tg"] for g in row["tg"]]
        ax.plot([row["runs_per_group"]] * len(tg), tg, "o", color="0.5", ms=4)
        ax.errorbar(row["runs_per_group"], row["mean"], yerr=row["std"], fmt="s", color="C0",
                    capsize=4)
    ax.axhline(result["tg_all_runs"], color="C3", lw=1,
               label=f"all {result['n_runs']} runs: {result['tg_all_runs']:.3f}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("runs per group")
    ax.set_ylabel("Tg of the group")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
