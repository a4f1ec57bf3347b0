"""What the reproduction campaign holds and what it cost: results/paper/campaign/campaign.json.

Reads the two manifests (slow: t_cool 2e5, 17 temperatures; fast: t_cool 5e4, T = 0.05) and
writes, per rate, the runs, seeds and temperatures, the unshifted-potential E_IS of the glass at
T = 0.05 (mean and standard deviation over runs), the slow liquid whose mean E_IS is nearest the
fast glass's (dataset 6's pairing), and the compute: a run's wall time is the time between its
private copy of the LAMMPS input (written when it starts) and its run.csv (written when it ends),
so it is known only on the machine that ran it. There the times are also written to
`<rate>/run_times.csv`, which is committed with the campaign: a fresh clone, whose files all carry
the checkout time, reads them from it (a run timed by neither is counted as unknown, never as
zero). Also copies both manifests beside it and draws the E_IS distributions behind the
dataset-6 pairing (campaign.png).

    python scripts/campaign_summary.py [--data data/paper] [--out results/paper/campaign]
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import numpy as np

from ovito_glassml.datasets import matched_liquid_temperature
from ovito_glassml.fileio import write_json_atomic

GLASS_T = 0.05


def read_rows(manifest: Path) -> list[dict]:
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("temperature", "e_is", "e_inst"):
            row[key] = float(row[key])
        for key in ("seed", "t_cool", "n_particles"):
            row[key] = int(row[key])
    return rows


def run_seconds(folder: Path) -> float | None:
    """Wall seconds of one finished run, or None when its files no longer carry the times."""
    start, end = folder / "ka2d_cool.in", folder / "run.csv"
    if not (start.exists() and end.exists()):
        return None
    seconds = end.stat().st_mtime - start.stat().st_mtime
    return seconds if seconds > 1.0 else None


def run_times(rows: list[dict], root: Path) -> dict[str, float | None]:
    """Wall seconds per run folder (relative to root): from the committed run_times.csv, else
    from the files where they carry the times (a checkout's file times are not run times, so
    the record comes first); the record is rewritten when it learns more."""
    record = root / "run_times.csv"
    recorded: dict[str, float] = {}
    if record.exists():
        with open(record, newline="") as handle:
            recorded = {row["run"]: float(row["seconds"]) for row in csv.DictReader(handle)}
    times: dict[str, float | None] = {}
    for r in rows:
        run = Path(r["path"]).parent.as_posix()
        if run not in times:
            times[run] = recorded.get(run) or run_seconds(root / run)
    known = {run: s for run, s in times.items() if s is not None}
    if known and known != recorded:
        with open(record, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["run", "seconds"])
            writer.writerows([run, f"{s:.1f}"] for run, s in sorted(known.items()))
    return times


def summarise_rate(rows: list[dict], root: Path) -> dict:
    seeds = sorted({r["seed"] for r in rows})
    t_cool = sorted({r["t_cool"] for r in rows})
    glass = np.array([r["e_is"] for r in rows if abs(r["temperature"] - GLASS_T) < 1e-9])
    times = run_times(rows, root)
    known = [s for s in times.values() if s is not None]
    return {
        "n_runs": len(seeds), "seeds": f"{seeds[0]}-{seeds[-1]}" if seeds else "",
        "t_cool": t_cool, "n_particles": sorted({r["n_particles"] for r in rows}),
        "temperatures": sorted({r["temperature"] for r in rows}, reverse=True),
        "e_is_glass_mean": float(glass.mean()), "e_is_glass_std": float(glass.std(ddof=1)),
        "n_glass_frames": int(len(glass)),
        "runs_timed": len(known), "run_minutes_median": float(np.median(known) / 60) if known else None,
        "run_minutes_range": [float(min(known) / 60), float(max(known) / 60)] if known else None,
        "core_hours_timed": float(sum(known) / 3600),
        # the untimed runs at the median of the timed ones: the campaign's total cost
        "core_hours_estimated_all": float(np.median(known) * len(times) / 3600) if known else None,
    }


def plot(slow: list[dict], fast: list[dict], matched: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    series = [("fast glass, T = 0.05 (t_cool 5e4)", [r["e_is"] for r in fast
                                                   if abs(r["temperature"] - GLASS_T) < 1e-9]),
              ("slow glass, T = 0.05 (t_cool 2e5)", [r["e_is"] for r in slow
                                                   if abs(r["temperature"] - GLASS_T) < 1e-9])]
    for t in sorted({r["temperature"] for r in slow if 0.4 < r["temperature"] < 0.9}):
        label = f"slow liquid, T = {t:g}" + ("  (dataset 6's liquid)" if t == matched else "")
        series.append((label, [r["e_is"] for r in slow if r["temperature"] == t]))
    bins = np.linspace(min(min(v) for _, v in series), max(max(v) for _, v in series), 40)
    for label, values in series:
        ax.hist(values, bins=bins, histtype="step", linewidth=2 if "dataset 6" in label or
                "fast" in label else 1, label=f"{label} (n={len(values)})")
    ax.set_xlabel("E_IS per particle (unshifted Kob-Andersen potential)")
    ax.set_ylabel("runs")
    ax.set_title("Dataset 6: fast glass and the slow liquid of the same mean E_IS")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/paper", help="folder with slow/ and fast/")
    parser.add_argument("--out", default="results/paper/campaign")
    args = parser.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    slow = read_rows(data / "slow" / "manifest.csv")
    fast = read_rows(data / "fast" / "manifest.csv")
    matched = matched_liquid_temperature(slow, fast)
    result = {"kind": "campaign", "slow": summarise_rate(slow, data / "slow"),
              "fast": summarise_rate(fast, data / "fast"),
              "dataset6_liquid_temperature": matched,
              "e_is_slow_liquid_at_matched_mean": float(np.mean(
                  [r["e_is"] for r in slow if r["temperature"] == matched])),
              "energy": "unshifted Kob-Andersen potential",
              "command": "python scripts/campaign_summary.py",
              "made_by": ["sh scripts/campaign.sh data/paper slow",
                          "sh scripts/campaign.sh data/paper fast"]}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / "slow" / "manifest.csv", out / "slow_manifest.csv")
    shutil.copyfile(data / "fast" / "manifest.csv", out / "fast_manifest.csv")
    plot(slow, fast, matched, out / "campaign.png")
    write_json_atomic(out / "campaign.json", result)
    for rate in ("slow", "fast"):
        r = result[rate]
        timing = (f"median {r['run_minutes_median']:.1f} min, {r['core_hours_timed']:.1f} core-h"
                  if r["runs_timed"] else "wall times unknown")
        print(f"{rate}: {r['n_runs']} runs (seeds {r['seeds']}), E_IS at 0.05 = "
              f"{r['e_is_glass_mean']:.4f} ± {r['e_is_glass_std']:.4f}; {r['runs_timed']} runs "
              f"timed, {timing}")
    print(f"dataset 6's liquid: T = {matched:g}; wrote {out / 'campaign.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
