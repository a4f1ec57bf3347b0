"""Put a model trained by ``scripts/retrain_shipped.sh`` into the package as a shipped model.

Copies ``WORK/model``'s weights to ``ovito_glassml/models/FOLDER/`` and writes its
``config.json`` with the provenance a user reads back: the training runs and the commands that
made the model (``data``), and the held-out figures with the command that measured them
(``metrics.heldout``, from ``WORK/heldout/heldout.json``). The weights are not touched, so the
checksum in the config still holds; the folder is loaded once to prove it.

    python scripts/ship_model.py runs/ka3d_model ka3d --campaign "data/ka3d/slow (...)" \\
        --script "SLOW=... sh scripts/retrain_shipped.sh 1-32 ..." --type-names A B
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.models import load_classifier
from ovito_glassml.training.heldout import seed_ranges

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="the WORK folder of scripts/retrain_shipped.sh")
    parser.add_argument("folder", help="folder under ovito_glassml/models/ (e.g. ka3d)")
    parser.add_argument("--campaign", required=True, help="the training runs, in words")
    parser.add_argument("--script", required=True, help="the command that made WORK")
    parser.add_argument("--type-names", nargs="+", default=None,
                        help="names of the model's types in id order (e.g. A B), for frames and "
                             "messages that name them")
    parser.add_argument("--heldout", type=Path, default=None,
                        help="the heldout.json of its card (default: WORK/heldout/heldout.json)")
    args = parser.parse_args(argv)

    config = json.loads((args.work / "model" / "config.json").read_text())
    heldout = json.loads((args.heldout or args.work / "heldout" / "heldout.json").read_text())
    tg = json.loads((args.work / "tg" / "tcool_200000.json").read_text())
    if args.type_names:
        if len(args.type_names) != len(config["system"]["type_ids"]):
            raise SystemExit(f"{len(args.type_names)} names for types {config['system']['type_ids']}")
        config["system"]["type_names"] = list(args.type_names)
    data = config["data"]
    meta = data["dataset_meta"]
    train_seeds = sorted(data.pop("seeds"))
    for key in ("train_indices", "test_indices"):
        data.pop(key, None)
    slow = meta["source"]
    seeds = seed_ranges(train_seeds)
    config["data"] = {
        "dataset": "train/tg_labelled.npz",
        "dataset_command": f"glassml dataset {slow} --by-tg {meta['tg']} --band {meta['band']} "
                           f"--seeds {seeds} --out train/",
        "tg_command": f"glassml tg {slow} --seeds {seeds} --out tg/",
        "tg": {key: tg[key] for key in ("tg", "tg_err", "method", "n_runs",
                                         "tg_leave_one_temperature_out") if key in tg},
        "dataset_meta": meta,
        "train_seeds": train_seeds,
        "campaign": args.campaign,
        "train_command": "glassml train dmpnn --data train/tg_labelled.npz --out model "
                         "--hidden-size 32 --num-neighbors 4 --window-length 0.2 --epochs 40 "
                         f"--windows-per-epoch 8 --batch-size 32 --seed {data.get('seed', 1)}",
        "script": args.script,
        "seed": data.get("seed"),
    }
    command = heldout["provenance"]["command"].replace(" --no-progress", "").replace(" --force", "")
    config["metrics"]["heldout"] = {
        "command": command,
        **{key: heldout[key] for key in ("seeds", "fast_seeds", "datasets", "crossing_temperature",
                                         "dataset6_liquid_temperature")},
    }
    if set(train_seeds) & set(heldout["seeds"]):
        raise SystemExit(f"held-out seeds {heldout['seeds']} overlap the training seeds")

    out = ROOT / "ovito_glassml" / "models" / args.folder
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.work / "model" / "weights.safetensors", out / "weights.safetensors")
    write_json_atomic(out / "config.json", config)
    classifier = load_classifier(out)   # the checksum and the format are checked here
    print(f"shipped {args.work / 'model'} as {out.relative_to(ROOT)} "
          f"({classifier.system.label()}, trained on {len(train_seeds)} runs)")


if __name__ == "__main__":
    main()
