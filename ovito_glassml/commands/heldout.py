"""``glassml heldout``: a model measured on cooling runs it never saw (the model card's figures)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "heldout", help="score a D-MPNN on held-out cooling runs: datasets 1-6, every mode, every T",
        description="Per dataset (glass at 0.05 vs each liquid of datasets 1-5; fast glass vs the "
                    "slow liquid of the same mean E_IS for dataset 6): AUC and accuracy of one "
                    "random window, of the tiled frame and of the whole frame; the glass "
                    "probability along the cooling runs and where it crosses 0.5. With --data, "
                    "the same on the held-out runs of a labelled manifest of your own system. "
                    "Writes heldout.json and cooling.png.")
    p.add_argument("--model", default="",
                   help="model folder or shipped model's name, ka2d or ka3d (default: the shipped "
                        "model of the runs' dimension)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--slow", help="manifest.csv of the slow-cooling campaign")
    source.add_argument("--data", help="a labelled manifest (path,label[,seed,temperature]) of "
                                       "your own system")
    p.add_argument("--seeds", required=True, help="held-out runs, e.g. 13-16 or 5,9")
    p.add_argument("--fast", help="manifest.csv of the fast-cooling campaign (dataset 6)")
    p.add_argument("--fast-seeds", help="held-out fast runs (default: every run of --fast)")
    p.add_argument("--windows", type=int, default=20, help="random windows per frame (default 20)")
    p.add_argument("--inherent", action="store_true",
                   help="score the runs' inherent structures (datasets <k>-is) instead of the "
                        "snapshots (a campaign manifest's is_path column)")
    p.add_argument("--tg", type=float,
                   help="Tg of the runs: drawn in the figure, and the glass is also scored "
                        "against the liquid nearest it (nearest_tg: the lowest saved T at least "
                        "0.04 above Tg, the band the shipped models leave out)")
    p.add_argument("--seed", type=int, default=0, help="random windows")
    p.add_argument("--out", required=True, help="folder for heldout.json and cooling.png")
    p.add_argument("--force", action="store_true", help="replace a heldout.json already in --out")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=run)


def run(args) -> int:
    import time
    from pathlib import Path

    from ..batch import source_dimension
    from ..errors import InputError
    from ..fileio import write_json_atomic
    from ..models.classifier import load_classifier, require_dmpnn
    from ..models.shipped import named_model
    from ..modifiers.loading import model_folder
    from ..training.heldout import held_out_report, labelled_held_out_report, plot_cooling
    from ..training.provenance import provenance
    from .simulate import parse_seeds

    started = time.time()
    if args.windows < 1:
        raise InputError(f"--windows must be at least 1, got {args.windows}")
    if (Path(args.out) / "heldout.json").exists() and not args.force:
        raise InputError(f"{Path(args.out) / 'heldout.json'} exists; give --force to replace it, "
                         "or another --out")
    if args.data and args.inherent:
        raise InputError("--inherent reads a campaign's inherent structures (--slow); a labelled "
                         "manifest (--data) names its frames itself: list the minimised ones")
    if args.data and (args.fast or args.fast_seeds):
        raise InputError("--fast and --fast-seeds belong to a campaign (--slow); a labelled "
                         "manifest (--data) holds its glass and liquid frames itself")
    model = args.model
    if not model:
        # no model named: the shipped model of the runs' dimension
        model = named_model(model, source_dimension(args.data or args.slow))
    require_dmpnn(model_folder(model), "heldout (windows, tiles and whole frames)")
    classifier = load_classifier(model_folder(model))
    if args.data:
        report = labelled_held_out_report(classifier, args.data, parse_seeds(args.seeds),
                                          windows=args.windows, rng=args.seed,
                                          progress=args.progress)
    else:
        fast_seeds = parse_seeds(args.fast_seeds) if args.fast_seeds else None
        report = held_out_report(classifier, args.slow, parse_seeds(args.seeds), args.fast,
                                 fast_seeds, windows=args.windows, rng=args.seed,
                                 progress=args.progress,
                                 structure="inherent" if args.inherent else "instantaneous",
                                 tg=args.tg)
    out = Path(args.out)
    write_json_atomic(out / "heldout.json", dict(report, kind="heldout", tg=args.tg,
                                                  model=args.model or f"shipped {model}",
                                                  provenance=provenance(started)))
    plot_cooling(report, out / "cooling.png", args.tg)
    for name, scores in report["datasets"].items():
        print(name, "  ".join(f"{mode}: AUC {s['auc']:.3f} acc {s['accuracy']:.3f}"
                              for mode, s in scores.items()))
    print(f"tiled probability crosses 0.5 at T = {report['crossing_temperature']}")
    print(f"wrote {out / 'heldout.json'} and {out / 'cooling.png'}")
    return 0
