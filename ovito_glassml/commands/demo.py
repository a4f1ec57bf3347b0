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
    manifest = out / "simulation" / "manifest.csv"
    steps = [
        ["simulate", "--preset", "demo", "--seeds", args.seeds, "--out", str(out / "simulation")],
        ["tg", str(manifest), "--out", str(out / "tg")],
        ["classify", str(manifest), "--out", str(out / "classify"), "--threads", "1"],
        ["metrics-vs-t", str(out / "classify" / "frames.csv"), "--tg", str(out / "tg" / "tg.json"),
         "--out", str(out / "metrics_vs_t")],
    ]
    for step in steps:
        print("glassml " + " ".join(step), flush=True)
        code = glassml(step)
        if code:
            return code
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
