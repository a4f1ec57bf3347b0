"""``glassml metrics-vs-t``: the paper's Fig. 10 and the Eq. 12 change-of-slope test at Tg."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "metrics-vs-t", help="three metrics against T (Fig. 10) and the Eq. 12 fit at Tg",
        description="Average the three structural metrics at each temperature and fit "
                    "y = a0 + a1 T + a2 1[T>Tg] + a3 1[T>Tg] T by ordinary least squares over "
                    "every frame (paper Eq. 12): a3 > 0 with a small p-value means the metric "
                    "falls faster above Tg than below it. INPUT is a `glassml simulate` "
                    "manifest.csv (the metrics are computed through OVITO) or a frames.csv "
                    "written by `glassml metrics`/`glassml classify` with a temperature column.")
    p.add_argument("input", metavar="MANIFEST_OR_FRAMES", help="manifest.csv or frames.csv")
    p.add_argument("--tg", required=True,
                   help="tg.json written by `glassml tg` (its 'tg' value), or a number")
    p.add_argument("--out", required=True,
                   help="output folder (nothing is written into the input's own folder)")
    p.add_argument("--structure", choices=["instantaneous", "inherent"], default="instantaneous",
                   help="inherent: the metrics of each snapshot's inherent structure (the "
                        "manifest's is_path column), where thermal noise is gone")
    p.add_argument("--force", action="store_true", help="replace a fit already in --out")
    p.set_defaults(func=run)


def run(args) -> int:
    import time

    from ..fileio import refuse_existing
    from ..metrics_vs_t import metrics_vs_temperature, pvalue_text
    from ..training.provenance import provenance

    started = time.time()
    tg = read_tg(args.tg)
    source = Path(args.input)
    out = Path(args.out)
    refuse_existing([out / "fit.json"], args.force)
    result = metrics_vs_temperature(source, tg, out, structure=args.structure,
                                    annotate=lambda: {"provenance": provenance(started)})
    for name, fit in result["metrics"].items():
        print(f"{name}: a3 = {fit['a3']:.4g} ± {fit['a3_stderr']:.2g}, p = {pvalue_text(fit['a3_pvalue'])}")
    print(f"{result['n_frames']} frames at {result['n_temperatures']} temperatures, Tg = {tg:g} "
          f"-> {out}")
    return 0


def read_tg(value: str) -> float:
    """Tg from a number or from the ``tg`` entry of a JSON file written by ``glassml tg``."""
    from ..errors import InputError

    try:
        return float(value)
    except ValueError:
        pass
    path = Path(value)
    if not path.exists():
        raise InputError(f"--tg {value}: no such file, and not a number")
    try:
        tg = float(json.loads(path.read_text())["tg"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path} has no numeric 'tg' entry; write it with `glassml tg`") from err
    return tg
