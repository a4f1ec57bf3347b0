"""``glassml tg``: the glass transition temperature from a campaign's inherent-structure energies."""

from __future__ import annotations

from pathlib import Path

#: The paper's values (Swanson et al. 2020, §2.2) for the figure's labels.
PAPER_TG = {200_000: 0.39, 20_000_000: 0.37}


def register(sub) -> None:
    p = sub.add_parser("tg", help="fit Tg from mean E_IS vs T (paper Fig. 1)",
                       description="Two lines with a least-squares breakpoint fitted to the mean "
                                   "inherent-structure energy vs T; bootstrap error over runs.")
    p.add_argument("manifest", help="manifest.csv of a cooling campaign")
    p.add_argument("--t-cool", type=int, action="append",
                   help="cooling rate(s) to fit (default: every rate in the manifest)")
    p.add_argument("--t-max", type=float, default=1.0,
                   help="highest temperature in the fit (default 1.0; E_IS saturates above)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the runs")
    p.add_argument("--out", help="output folder (default: beside the manifest)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..datasets import read_manifest
    from ..errors import InputError
    from ..fileio import atomic_path, write_json_atomic
    from ..glass_transition import glass_transition, plot_glass_transitions

    rows = read_manifest(args.manifest)
    if "e_is" not in rows[0] or "t_cool" not in rows[0]:
        raise InputError(f"{args.manifest} has no e_is/t_cool columns; is it a `glassml simulate` manifest?")
    rates = sorted({r["t_cool"] for r in rows}, reverse=True)
    chosen = args.t_cool or rates
    missing = set(chosen) - set(rates)
    if missing:
        raise InputError(f"no rows with t_cool={sorted(missing)}; the manifest has {rates}")
    results = [glass_transition([r for r in rows if r["t_cool"] == tc], t_max=args.t_max,
                                n_bootstrap=args.bootstrap) for tc in chosen]
    out = Path(args.out) if args.out else Path(args.manifest).parent
    out.mkdir(parents=True, exist_ok=True)
    for res in results:
        info = res.as_dict()
        if res.t_cool in PAPER_TG:
            info["paper_tg"] = PAPER_TG[res.t_cool]
        write_json_atomic(out / f"tcool_{res.t_cool}.json", info)
        print(f"t_cool={res.t_cool}: Tg = {res.tg:.3f} ± {res.tg_err:.3f} from {res.n_runs} runs "
              f"-> {out / f'tcool_{res.t_cool}.json'}")
    if len(results) == 1:
        write_json_atomic(out / "tg.json", results[0].as_dict())
    with atomic_path(out / "tg.png") as tmp:
        plot_glass_transitions(results, str(tmp) + ".png", PAPER_TG)
        Path(str(tmp) + ".png").replace(tmp)
    print(f"figure -> {out / 'tg.png'}")
    return 0
