"""``glassml tg``: the glass transition temperature from a campaign's inherent-structure energies."""

from __future__ import annotations

from pathlib import Path

def register(sub) -> None:
    p = sub.add_parser("tg", help="fit Tg from mean E_IS vs T (paper Fig. 1)",
                       description="Tg is the lower break of three straight pieces (glass, "
                                   "supercooled liquid, high-temperature liquid) fitted by least "
                                   "squares to the mean inherent-structure energy against T over "
                                   "every saved temperature; bootstrap error over runs, and the "
                                   "paper's two-line fit at several upper limits beside it.")
    p.add_argument("manifest", help="manifest.csv of a cooling campaign")
    p.add_argument("--t-cool", type=int, action="append",
                   help="cooling rate(s) to fit (default: every rate in the manifest)")
    p.add_argument("--method", choices=["regimes", "two-line"], default="regimes",
                   help="regimes: three pieces over every temperature (default, no range to "
                        "choose); two-line: the paper's two lines on T <= --t-max")
    p.add_argument("--t-max", type=float,
                   help="highest temperature in the fit (default: all for regimes, 1.0 for "
                        "two-line)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the runs")
    p.add_argument("--seeds", help="only these runs, e.g. 1-32 (default: all)")
    p.add_argument("--out", required=True,
                   help="output folder (nothing is written into the campaign's own folder)")
    p.add_argument("--force", action="store_true", help="replace a Tg fit already in --out")
    p.set_defaults(func=run)


#: Fewer runs than this get a note: one or two runs of the 3D campaign gave Tg within +/- 0.05 and
#: 0.04 across independent sets, four within +/- 0.01 (2D: 0.07, 0.05, 0.04; results/*/tg/by_runs.json)
FEW_RUNS = 4


def run(args) -> int:
    from ..glass_transition import fit_campaign
    from .simulate import parse_seeds

    from ..errors import InputError
    from ..fileio import refuse_existing

    if args.bootstrap < 2:
        raise InputError(f"--bootstrap must be at least 2 (the error is their spread), got "
                         f"{args.bootstrap}")
    out = Path(args.out)
    refuse_existing([out / "tg.json", *out.glob("tcool_*.json")], args.force)
    results = fit_campaign(args.manifest, out, t_cool=args.t_cool, method=args.method,
                           t_max=args.t_max,
                           n_bootstrap=args.bootstrap,
                           seeds=parse_seeds(args.seeds) if args.seeds else None)
    for res in results:
        onset = f", onset of the liquid's fall {res.fit.onset:.2f}" if res.fit.onset else ""
        lo, hi = res.leave_one_out_tg.min(), res.leave_one_out_tg.max()
        print(f"t_cool={res.t_cool}: Tg = {res.tg:.3f} ± {res.tg_err:.3f} from {res.n_runs} runs "
              f"({res.method}{onset}; {lo:.3f}-{hi:.3f} with any one temperature left out) "
              f"-> {out / f'tcool_{res.t_cool}.json'}")
        if res.n_runs < FEW_RUNS:
            print(f"note: a Tg from {res.n_runs} run{'s' if res.n_runs > 1 else ''} scatters by "
                  "0.04-0.07 between independent sets of that many runs of the Kob-Andersen "
                  "campaigns (scripts/tg_by_runs.py, docs/ka3d.md); the ± above, a bootstrap over "
                  f"these runs, does not show it: fit {FEW_RUNS} runs or more")
        if not res.settled:
            print(f"warning: these {res.n_runs} runs do not settle Tg: leaving out one temperature "
                  f"moves it from {lo:.3f} to {hi:.3f}; add runs (or temperatures near Tg)")
    print(f"figure -> {out / 'tg.png'}")
    return 0
