"""What a cooling campaign holds and what it cost: results/<paper|ka3d>/campaign/campaign.json.

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

For the 3D campaign (``--system ka3d``: data/ka3d -> results/ka3d/campaign) every glass frame
(T = 0.05, as cooled and minimised) is checked for crystals: the fcc/hcp/bcc fraction from OVITO's
adaptive common neighbour analysis (:func:`ovito_glassml.baselines.crystalline_fraction`); runs
above :data:`ovito_glassml.crystals.CRYSTAL_THRESHOLD` are listed as crystallised, to be kept out of the glass classes.
A campaign still under way (no fast runs yet) is summarised as far as it goes.

    python scripts/campaign_summary.py [--system ka2d|ka3d] [--data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import numpy as np

from ovito_glassml.crystals import CRYSTAL_THRESHOLD
from ovito_glassml.datasets import matched_liquid_temperature
from ovito_glassml.fileio import write_json_atomic

GLASS_T = 0.05
DEFAULTS = {"ka2d": ("data/paper", "results/paper/campaign", "scripts/campaign.sh"),
            "ka3d": ("data/ka3d", "results/ka3d/campaign", "scripts/campaign_ka3d.sh")}


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
    inputs = sorted(folder.glob("*_cool.in"))
    start, end = (inputs[0] if inputs else folder / "ka2d_cool.in"), folder / "run.csv"
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
    rate = lambda rows: "/".join(f"{t:.0e}".replace("e+0", "e") for t in sorted({r["t_cool"] for r in rows}))
    glass = lambda rows: [r["e_is"] for r in rows if abs(r["temperature"] - GLASS_T) < 1e-9]
    series = ([(f"fast glass, T = 0.05 (t_cool {rate(fast)})", glass(fast))] if fast else [])
    series.append((f"slow glass, T = 0.05 (t_cool {rate(slow)})", glass(slow)))
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


def crystal_check(rows: list[dict], root: Path) -> dict:
    """The crystalline fraction of every glass frame (as cooled and minimised) of a 3D rate."""
    from ovito_glassml.crystals import crystal_record, glass_crystal_fractions

    absolute = [dict(r, path=root / r["path"], is_path=root / r["is_path"]) for r in rows]
    per_run = glass_crystal_fractions(absolute, GLASS_T)
    return dict(crystal_record(per_run),
                per_seed={str(seed): round(f, 5) for seed, f in sorted(per_run.items())})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=sorted(DEFAULTS), default="ka2d")
    parser.add_argument("--data", help="folder with slow/ and fast/ (default per system)")
    parser.add_argument("--out", help="output folder (default per system)")
    args = parser.parse_args(argv)
    default_data, default_out, script = DEFAULTS[args.system]
    data, out = Path(args.data or default_data), Path(args.out or default_out)
    slow = read_rows(data / "slow" / "manifest.csv")
    fast_manifest = data / "fast" / "manifest.csv"
    fast = read_rows(fast_manifest) if fast_manifest.exists() else []
    fast = fast if any(abs(r["temperature"] - GLASS_T) < 1e-9 for r in fast) else []
    matched = matched_liquid_temperature(slow, fast) if fast else None
    result = {"kind": "campaign", "system": args.system,
              "slow": summarise_rate(slow, data / "slow"),
              "fast": summarise_rate(fast, data / "fast") if fast else None,
              "dataset6_liquid_temperature": matched,
              "e_is_slow_liquid_at_matched_mean": float(np.mean(
                  [r["e_is"] for r in slow if r["temperature"] == matched])) if fast else None,
              "energy": "unshifted Kob-Andersen potential",
              "command": f"python scripts/campaign_summary.py --system {args.system}",
              "made_by": [f"sh {script} {data} slow", f"sh {script} {data} fast"]}
    if args.system == "ka3d":
        result["crystals"] = {"slow": crystal_check(slow, data / "slow"),
                              "fast": crystal_check(fast, data / "fast") if fast else None}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / "slow" / "manifest.csv", out / "slow_manifest.csv")
    if fast:
        shutil.copyfile(fast_manifest, out / "fast_manifest.csv")
    plot(slow, fast, matched, out / "campaign.png")
    write_json_atomic(out / "campaign.json", result)
    for rate in ("slow", "fast"):
        r = result[rate]
        if r is None:
            print(f"{rate}: no finished runs yet")
            continue
        timing = (f"median {r['run_minutes_median']:.1f} min, {r['core_hours_timed']:.1f} core-h"
                  if r["runs_timed"] else "wall times unknown")
        print(f"{rate}: {r['n_runs']} runs (seeds {r['seeds']}), E_IS at 0.05 = "
              f"{r['e_is_glass_mean']:.4f} ± {r['e_is_glass_std']:.4f}; {r['runs_timed']} runs "
              f"timed, {timing}")
        crystals = (result.get("crystals") or {}).get(rate)
        if crystals:
            print(f"  crystals: {len(crystals['crystallised_seeds'])} of {crystals['n_checked']} "
                  f"glasses above {CRYSTAL_THRESHOLD:.0%} (median fraction "
                  f"{crystals['fraction_median']:.4f}, max {crystals['fraction_max']:.4f})")
    print(f"dataset 6's liquid: T = {matched}; wrote {out / 'campaign.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
