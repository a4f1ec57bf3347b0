"""``glassml calibrate``: fit a model's whole-frame probability offsets on labelled frames."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="fit a model's whole-frame calibration on labelled frames",
        description="A D-MPNN learns on windows; read on a whole frame (or as the mean over the "
                    "windows tiling it) its glass probability can sit off the 0.5 threshold, and "
                    "a briefly trained CNN can rank frames right with all of them on one side. "
                    "This fits one logit offset per reading on labelled frames and stores it in "
                    "the model's config.json; the ranking (AUC) does not change. D-MPNN training "
                    "and cross-validation fold models do this on their training frames; use this "
                    "command for other models or frames of your own, or --crossval for every "
                    "fold model of a crossval folder.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="model folder (from `glassml train dmpnn|cnn`)")
    what.add_argument("--crossval", metavar="DIR",
                      help="a `glassml crossval` folder: calibrate each fold model on its outer "
                           "train frames and re-score its outer test frames")
    p.add_argument("--data", help="with --model: dataset (.npz) or manifest (.csv) with labels")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from ..errors import InputError

    if args.crossval:
        from ..training.crossval import calibrate_crossval

        calibrate_crossval(args.crossval, log=lambda line: print(line, flush=True))
        return 0
    if not args.data:
        raise InputError("--model needs --data: the labelled frames to fit the offsets on")
    from ..datasets import load_dataset
    from ..training.calibration import calibrate_model

    section = calibrate_model(args.model, load_dataset(args.data), provenance={"fitted_on": str(args.data)})
    print(json.dumps(section))
    return 0
