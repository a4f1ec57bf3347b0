"""``glassml crossval``: the paper's nested cross-validation with a TPE search (paper §2.5)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "crossval", help="nested cross-validation with hyperopt TPE (paper §2.5, Fig. 5)",
        description="Three disjoint 20%% outer test sets (split by cooling run); inside each outer "
                    "train set an 80/10/10 split, a TPE search over the paper's Table 2 ranges "
                    "scored by inner-validation AUC, then the best hyperparameters retrained on "
                    "the outer train set and scored on the outer test set. Prints and writes AUC "
                    "and accuracy as mean ± std over folds. Interrupted runs resume.")
    p.add_argument("--model", required=True, choices=("dmpnn", "cnn"))
    p.add_argument("--data", required=True, metavar="DATASET",
                   help="packed dataset (.npz) or labelled manifest (.csv)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (resumed if it exists)")
    p.add_argument("--preset", default="small", choices=("small", "paper", "campaign"),
                   help="paper: 15 TPE iterations x 10 epochs over Table 2; campaign: the "
                        "reproduction's CPU protocol (10 trials x 10 epochs of 8 windows per "
                        "configuration, hidden size 16-64, 30 final epochs); small: a few tiny "
                        "trials for a laptop (default)")
    p.add_argument("--iterations", type=int, help="TPE trials per fold (overrides the preset)")
    p.add_argument("--epochs", type=int, help="epochs per trial and of the final training")
    p.add_argument("--folds", type=int, help="outer folds (default 3)")
    p.add_argument("--space", action="append", default=[], metavar="NAME=LOW:HIGH:STEP",
                   help="change one search range, or fix it with NAME=VALUE (repeatable), e.g. "
                        "--space hidden_size=300:1200:100 --space batch_size=5")
    p.add_argument("--seed", type=int, default=0, help="seeds splits, searches and trainings")
    p.add_argument("--device", default="cpu", help="torch device of the D-MPNN (cpu, cuda)")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="run the trials as Ray Tune trials on this cluster ('auto' inside a "
                        "cluster job, ray://HOST:10001, or 'local' for a Ray instance here)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="Ray CPUs per trial")
    p.add_argument("--gpus-per-trial", type=float, default=0.0,
                   help="Ray GPUs per trial (use with --device cuda)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import InputError
    from ..training.crossval import run_crossval
    from ..training.presets import preset_with

    if args.gpus_per_trial > 0 and not str(args.device).startswith("cuda"):
        raise InputError("--gpus-per-trial needs --device cuda")
    if args.ray_address is None and (args.gpus_per_trial > 0 or args.cpus_per_trial != 1.0):
        raise InputError("--cpus-per-trial/--gpus-per-trial apply to Ray trials; add --ray-address")
    preset = preset_with(args.preset, args.iterations, args.epochs, args.folds)
    resources = {"cpu": args.cpus_per_trial, "gpu": args.gpus_per_trial}
    run_crossval(args.model, args.data, args.out, preset, seed=args.seed, device=args.device,
                 ray_address=args.ray_address, resources_per_trial=resources,
                 space_overrides=args.space, log=lambda line: print(line, flush=True))
    return 0
