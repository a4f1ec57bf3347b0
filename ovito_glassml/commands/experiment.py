"""``glassml experiment``: generalisation, size transfer, attention statistics, baselines."""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_HELP = ("a `glassml crossval` output folder: its fold's model is scored on that fold's "
               "outer test set")


def register(sub) -> None:
    p = sub.add_parser("experiment", help="the paper's Figs. 6, 7, 9 and physics baselines",
                       description="Experiments on trained models and datasets; each writes one "
                                   "JSON file that `glassml report` reads.")
    kinds = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")

    c = kinds.add_parser("cross-dataset", help="models of dataset i on dataset j (Fig. 6)")
    c.add_argument("--crossval", nargs="+", required=True, metavar="DIR",
                   help="crossval folders, one per dataset, all of one model")
    _common(c)

    for name, text in (("size-transfer", "AUC against window length (Fig. 7)"),
                       ("attention", "high-attention graph counts, glass vs liquid (Fig. 9)")):
        s = kinds.add_parser(name, help=text)
        s.add_argument("--crossval", metavar="DIR", help=SOURCE_HELP)
        s.add_argument("--fold", default="0",
                       help="which fold of --crossval (default 0)" + (
                           "; 'all' pools every fold's model on its own outer test set"
                           if name == "attention" else ""))
        s.add_argument("--model", metavar="MODEL_DIR",
                       help="or: a D-MPNN model folder (or a shipped model's name) ...")
        s.add_argument("--data", metavar="DATASET", help="... and a labelled dataset to test on")
        if name == "size-transfer":
            s.add_argument("--window-lengths", type=float, nargs="+",
                           default=[0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])
        else:
            s.add_argument("--cutoff", type=float, default=2.0,
                           help="high attention: weight x number of directed edges above this "
                                "(1 = uniform attention; default 2)")
            s.add_argument("--window-length", type=float,
                           help="window side l_win (default: the model's; the paper's Fig. 9 used 0.3)")
        _common(s)

    b = kinds.add_parser("baselines", help="mean |psi6|, six-sided Voronoi cells, E_IS as AUCs")
    b.add_argument("--data", required=True, metavar="DATASET")
    b.add_argument("--window-lengths", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    _common(b)

    w = kinds.add_parser("window-baselines",
                         help="one-number baselines per window on a D-MPNN crossval's own windows and folds",
                         description="Window mean pair energy (E_IS on -is datasets), NN-distance "
                                     "std, mean |psi6| and six-neighbour Voronoi fraction, each a "
                                     "threshold fitted on the outer train set and scored on the "
                                     "same outer-test windows as the fold's D-MPNN.")
    w.add_argument("--crossval", required=True, metavar="DIR", help="a finished D-MPNN crossval folder")
    w.add_argument("--out", required=True, metavar="FILE.json",
                   help="output file (nothing is written into the crossval folder); it records "
                        "the crossval's path relative to itself")
    w.add_argument("--windows-per-train-config", type=int, default=10,
                   help="random outer-train windows per configuration for the threshold fit")
    w.add_argument("--force", action="store_true", help="replace an existing --out")
    p.set_defaults(func=run)


def _common(p) -> None:
    p.add_argument("--out", required=True, metavar="FILE.json")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--windows-per-config", type=int, default=10,
                   help="random windows scored per configuration (D-MPNN, baselines)")
    p.add_argument("--seed", type=int, default=0)


def _models_and_data(args, allow_all: bool):
    """``[(classifier, test set), ...]`` and a provenance dict, from --crossval/--fold or --model/--data."""
    import json

    import numpy as np

    from ..errors import InputError
    from ..models import load_classifier
    from ..models.classifier import require_dmpnn
    from ..training.cache import cached_dataset

    if args.crossval:
        from ..training.experiments import read_crossval

        report, _ = read_crossval(args.crossval)
        folds = {str(f["fold"]): f for f in report["folds"]}
        if args.fold == "all" and allow_all:
            chosen = list(folds.values())
        elif args.fold in folds:
            chosen = [folds[args.fold]]
        else:
            raise InputError(f"{args.crossval} has folds {sorted(folds)}"
                             f"{' (or all)' if allow_all else ''}, not {args.fold}")
        for f in chosen:
            require_dmpnn(f["model_dir"], f"experiment {args.experiment}")
        data = cached_dataset(report["dataset"])
        pairs = [(load_classifier(f["model_dir"]), data.subset(np.asarray(f["outer_test_indices"])))
                 for f in chosen]
        source = {"crossval": str(args.crossval), "fold": args.fold, "dataset": report["dataset"],
                  "dataset_number": report.get("dataset_number"),
                  "model_dir": [f["model_dir"] for f in chosen]}
        return pairs, source
    if not (args.model and args.data):
        raise InputError("give --crossval DIR, or both --model and --data")
    from ..models.shipped import model_folder

    folder = model_folder(args.model)   # a folder or a shipped model's name
    require_dmpnn(folder, f"experiment {args.experiment}")
    data = cached_dataset(args.data)
    source = {"model_dir": args.model, "dataset": args.data,
              "dataset_number": data.meta.get("dataset")}
    return [(load_classifier(folder), data)], source


def _check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, an --out that holds results, unless --force."""
    from ..errors import InputError

    if out.exists() and not force:
        raise InputError(f"{out} exists; give --force to replace it, or another --out")


def _check_values(args) -> None:
    """Refuse values out of range before any work: window lengths in (0, 1], a cutoff >= 0."""
    from ..errors import InputError

    lengths = list(getattr(args, "window_lengths", None) or [])
    if getattr(args, "window_length", None) is not None:
        lengths.append(args.window_length)
    bad = [w for w in lengths if not 0.0 < w <= 1.0]
    if bad:
        raise InputError(f"window lengths must be in (0, 1] (l_win, in units of the model's "
                         f"length scale), got {bad}")
    if getattr(args, "cutoff", 0.0) < 0:
        raise InputError(f"--cutoff is a relative attention (1 = uniform) and must be >= 0, "
                         f"got {args.cutoff}")
    if getattr(args, "windows_per_config", 1) < 1:
        raise InputError(f"--windows-per-config must be at least 1, got {args.windows_per_config}")


def run(args) -> int:
    import json
    import time

    from ..errors import InputError
    from ..fileio import write_json_atomic
    from ..training import experiments
    from ..training.cache import cached_dataset
    from ..training.provenance import provenance

    started = time.time()
    _check_values(args)
    if args.experiment == "window-baselines":
        from ..training.window_baselines import crossval_window_baselines

        out = Path(args.out)
        if out.suffix != ".json":
            raise InputError(f"--out {out} should be a .json file")
        _check_out(out, args.force)
        result = crossval_window_baselines(args.crossval, args.windows_per_train_config)
        # resolved against the file that holds it, wherever the command was run
        result["crossval"] = os.path.relpath(Path(args.crossval) / "crossval.json", out.parent)
        result["provenance"] = provenance(started)
        write_json_atomic(out, result)
        for name, s in result["summary"].items():
            print(f"{name:>22}: AUC {s['auc_mean']:.3f} ± {s['auc_std']:.3f}, "
                  f"accuracy {s['accuracy_mean']:.3f} ± {s['accuracy_std']:.3f}")
        print(f"-> {out}")
        return 0
    out = Path(args.out)
    if out.suffix != ".json":
        raise InputError(f"--out {out} should be a .json file")
    _check_out(out, args.force)
    if args.experiment == "cross-dataset":
        dirs = {}
        for folder in args.crossval:
            path = Path(folder) / "crossval.json"
            if not path.exists():
                raise InputError(f"{folder} has no crossval.json; run `glassml crossval` first")
            number = json.loads(path.read_text()).get("dataset_number") or Path(folder).name
            dirs[number] = folder
        result = experiments.cross_dataset_matrix(dirs, args.windows_per_config, args.seed)
    elif args.experiment == "baselines":
        data = cached_dataset(args.data)
        result = experiments.baselines(data, args.window_lengths, args.windows_per_config, args.seed)
        result.update(dataset=args.data, dataset_number=data.meta.get("dataset"))
    else:
        pairs, source = _models_and_data(args, allow_all=args.experiment == "attention")
        if args.experiment == "size-transfer":
            result = experiments.size_transfer(*pairs[0], args.window_lengths,
                                               args.windows_per_config, args.seed)
        else:
            result = experiments.attention_statistics(pairs, args.cutoff, args.window_length,
                                                      args.seed)
        result.update(source)
    result["provenance"] = provenance(started)
    write_json_atomic(out, result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("provenance",)}, indent=1)[:3000])
    print(f"-> {out}")
    return 0
