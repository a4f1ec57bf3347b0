"""``glassml demo``: the main job end to end on a small built-in default (``make demo``)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job end to end on a small default (a few minutes)",
                       description="Cool four small 2D Kob-Andersen systems with LAMMPS, fit Tg, then "
                                   "classify and measure every saved frame.")
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--seeds", default="1-4")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..batch import classify_trajectory
    from ..glass_transition import fit_campaign
    from ..metrics_vs_t import metrics_vs_temperature
    from ..simulation import Campaign, config_from_preset
    from .simulate import parse_seeds

    out = Path(args.out)
    print("simulating the demo preset with LAMMPS", flush=True)
    manifest = Campaign(config_from_preset("demo"), seeds=parse_seeds(args.seeds),
                        outdir=out / "simulation").run()
    print(f"wrote {manifest}", flush=True)
    (tg,) = fit_campaign(manifest, out / "tg")
    print(f"Tg = {tg.tg:.3f} ± {tg.tg_err:.3f} from {tg.n_runs} runs -> {out / 'tg'}", flush=True)
    # one torch thread: faster than two on a busy machine (as `glassml classify --threads 1`)
    torch.set_num_threads(1)
    rows = classify_trajectory(str(manifest), out / "classify", force=True)
    print(f"{len(rows)} frames classified -> {out / 'classify'}", flush=True)
    metrics_vs_temperature(out / "classify" / "frames.csv", tg.tg, out / "metrics_vs_t")
    print(f"metrics against T and the Eq. 12 fit -> {out / 'metrics_vs_t'}", flush=True)
    _render_liquid_and_glass(manifest, out / "attention")
    print(f"demo finished: see {out}")
    return 0


def _render_liquid_and_glass(manifest: Path, out: Path) -> None:
    """The paper's Fig. 8 for the hottest and the coldest frame of the first run."""
    from ..datasets import read_manifest
    from ..render import render_attention

    rows = read_manifest(manifest)
    first = [r for r in rows if r["seed"] == rows[0]["seed"]]
    out.mkdir(parents=True, exist_ok=True)
    for name, row in (("liquid", max(first, key=lambda r: r["temperature"])),
                      ("glass", min(first, key=lambda r: r["temperature"]))):
        path = out / f"{name}_T{row['temperature']:g}.png"
        _, attributes = render_attention(str(row["path"]), str(path))
        print(f"{name} frame at T={row['temperature']:g} -> {path}")
