"""``glassml demo``: the main job end to end on a small built-in default (``make demo``)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job end to end on a small default (a few minutes)",
                       description="Cool four small 2D Kob-Andersen systems with LAMMPS, fit Tg "
                                   "(on the committed 64-run campaign at the paper's size when "
                                   "it is there), then classify and measure every saved frame.")
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--seeds", default="1-4")
    p.add_argument("--campaign", default=str(CAMPAIGN),
                   help="a `glassml simulate` manifest to fit Tg on (default: the committed "
                        "paper-size campaign, data/paper/slow/manifest.csv)")
    p.set_defaults(func=run)


#: The committed reproduction campaign: 64 runs of N=4320 at the paper's t_cool = 2e5.
CAMPAIGN = Path(__file__).resolve().parents[2] / "data" / "paper" / "slow" / "manifest.csv"


def run(args) -> int:
    import torch

    from ..batch import classify_trajectory
    from ..metrics_vs_t import metrics_vs_temperature
    from ..simulation import Campaign, config_from_preset
    from .simulate import parse_seeds

    out = Path(args.out)
    print("simulating the demo preset with LAMMPS", flush=True)
    manifest = Campaign(config_from_preset("demo"), seeds=parse_seeds(args.seeds),
                        outdir=out / "simulation").run()
    print(f"wrote {manifest}", flush=True)
    tg = _fit_tg(manifest, Path(args.campaign), out / "tg")
    # one torch thread: faster than two on a busy machine (as `glassml classify --threads 1`)
    torch.set_num_threads(1)
    rows = classify_trajectory(str(manifest), out / "classify", force=True)
    print(f"{len(rows)} frames classified -> {out / 'classify'}", flush=True)
    crossing = _crossing(rows)
    if crossing is None:
        print("the shipped model's mean glass probability does not cross 0.5 on these frames")
    else:
        print(f"the shipped model's mean glass probability crosses 0.5 at T = {crossing:.3f} "
              f"(Tg = {tg.tg:.3f})", flush=True)
    metrics_vs_temperature(out / "classify" / "frames.csv", tg.tg, out / "metrics_vs_t")
    print(f"metrics against T and the Eq. 12 fit -> {out / 'metrics_vs_t'}", flush=True)
    _render_liquid_and_glass(manifest, out / "attention")
    print(f"demo finished: see {out}")
    return 0


def _fit_tg(demo_manifest: Path, campaign: Path, out: Path):
    """Tg from the inherent-structure energies: of the committed paper-size campaign when it is
    there (the demo's four small, fast-cooled runs alone place the break far too high), else of
    the demo's runs, saying so."""
    from ..glass_transition import fit_campaign

    if campaign.exists():
        (tg,) = fit_campaign(campaign, out, t_cool=[200_000])
        print(f"Tg = {tg.tg:.3f} ± {tg.tg_err:.3f} from the {tg.n_runs} committed runs of "
              f"N=4320 at t_cool=2e5 (paper: 0.39) -> {out}", flush=True)
        return tg
    (tg,) = fit_campaign(demo_manifest, out, method="two-line")
    print(f"Tg = {tg.tg:.3f} ± {tg.tg_err:.3f} from the {tg.n_runs} demo runs (N=1080, cooled "
          f"10x faster than the paper; {campaign} is not here) -> {out}", flush=True)
    return tg


def _crossing(rows: list[dict]):
    """Where the mean glass probability over the runs crosses 0.5 against temperature."""
    import numpy as np

    from ..training.heldout import crossing_temperature

    temperatures = sorted({r["temperature"] for r in rows})
    means = [np.mean([r["glass_probability"] for r in rows if r["temperature"] == t])
             for t in temperatures]
    return crossing_temperature(temperatures, means)


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
        print(f"attention picture of the {name} frame at T={row['temperature']:g} -> {path}")
