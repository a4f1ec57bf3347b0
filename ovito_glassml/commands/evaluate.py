"""``glassml evaluate``: AUC and accuracy of a trained model on a labelled dataset."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="AUC and accuracy of a model folder on a labelled dataset",
                       description="Score a D-MPNN or CNN model folder on a packed dataset or a "
                                   "manifest CSV with a label column (glass/liquid).")
    p.add_argument("--model", required=True,
                   help="model folder (from `glassml train`) or a shipped model's name")
    p.add_argument("--data", required=True, help="dataset (.npz) or manifest (.csv) with labels")
    p.add_argument("--json", help="also write the scores to this JSON file")
    p.add_argument("--force", action="store_true", help="replace an existing --json file")
    p.add_argument("--mode", choices=("frame", "window", "tiles"), default="frame",
                   help="the whole periodic frame (default; the only mode of the CNN), one "
                        "random window of the training l_win (the paper's test), or the mean "
                        "over windows tiling the frame")
    p.add_argument("--seed", type=int, default=0, help="random windows for --mode window")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from ..datasets import load_dataset
    from ..fileio import write_json_atomic
    from ..models.classifier import load_classifier
    from ..training.evaluate import evaluate

    from ..fileio import refuse_existing

    if args.json:
        refuse_existing([args.json], args.force)
    from ..models.shipped import model_folder

    classifier = load_classifier(model_folder(args.model))
    dataset = load_dataset(args.data)
    scores = evaluate(classifier, dataset, mode=args.mode, rng=args.seed)
    print(json.dumps(scores))
    if args.json:
        write_json_atomic(args.json, dict(scores, model=str(args.model), data=str(args.data),
                                          mode=args.mode))
    return 0
