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
    from ..cli import main as glassml

    out = Path(args.out)
    steps = [
        ["simulate", "--preset", "demo", "--seeds", args.seeds, "--out", str(out / "simulation")],
        ["tg", str(out / "simulation" / "manifest.csv"), "--out", str(out / "tg")],
    ]
    for step in steps:
        print("glassml " + " ".join(step), flush=True)
        code = glassml(step)
        if code:
            return code
    print(f"demo finished: see {out}")
    return 0
