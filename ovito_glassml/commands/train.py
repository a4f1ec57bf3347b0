"""``glassml train dmpnn|cnn``: train a classifier on a packed dataset and write a model folder."""

from __future__ import annotations


def register(sub) -> None:
    from ..graph_spec import EDGE_FEATURE_MODES, FEATURE_MODES, NEIGHBOR_MODES, GraphSpec
    from ..models.cnn import HEADS, PRECISIONS
    from ..training import presets
    from ..training.schedule import PEAK_LR

    recipe = GraphSpec()
    p = sub.add_parser("train", help="train a D-MPNN or CNN glass/liquid classifier",
                       description="Train a classifier on a dataset (packed .npz or manifest .csv "
                                   "with a label column) and write a model folder.")
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")

    d = models.add_parser("dmpnn", help="D-MPNN with edge self-attention (paper §2.4)",
                          description="Random windows of side l_win, kNN graphs, cross-entropy, "
                                      "Adam with the paper's learning-rate schedule.")
    d.add_argument("--data", required=True, help="training dataset (.npz or manifest .csv)")
    d.add_argument("--out", required=True, help="model folder to write (also holds checkpoint.pt)")
    d.add_argument("--seeds", help="train on these runs only, e.g. 1-10 (the rest held out for "
                                   "`glassml heldout`); default: every run of --data")
    d.add_argument("--window-length", type=float, default=recipe.window_length,
                   help="l_win in (0, 1] (paper 0.1-0.3)")
    d.add_argument("--num-neighbors", type=int, default=recipe.num_neighbors,
                   help="k nearest neighbours (paper 1-5)")
    d.add_argument("--features", choices=tuple(FEATURE_MODES), default=recipe.features,
                   help="node features: type only (default; rotation-, reflection- and "
                        "translation-invariant), or the paper's (x, y, type), which ties the model "
                        "to where a window sits and learns worse")
    d.add_argument("--edge-features", choices=tuple(EDGE_FEATURE_MODES),
                   default=recipe.edge_features,
                   help="rbf (default): Gaussians of the distance in the length unit, per pair of "
                        "types; distance: the paper's distance / box (the network learns to ignore it)")
    d.add_argument("--neighbors", choices=NEIGHBOR_MODES, default=recipe.neighbors,
                   help="frame (default): kNN in the whole periodic frame, windows cut from it, "
                        "so windows and frames read alike; window: the paper's kNN inside the window")
    d.add_argument("--length-scale", type=float,
                   help="length that is 1 in l_win (and in the paper's distance edges), in the "
                        "frames' unit; default: 5 x the side holding 173 particles at the training "
                        "density (60 sigma for the paper's 2D mixture), so l_win 0.2 holds ~173 "
                        "particles in 2D and 3D")
    d.add_argument("--length-unit", type=float,
                   help="length that is 1 in the rbf distance features, in the frames' unit "
                        "(1 = sigma for Kob-Andersen); default: the training frames' mean "
                        "nearest-neighbour distance")
    d.add_argument("--hidden-size", type=int, default=300, help="h (paper 300-2400)")
    d.add_argument("--message-steps", type=int, default=3, help="T (paper 2-6)")
    d.add_argument("--dropout", type=float, default=0.0, help="p (paper 0-0.5)")
    d.add_argument("--ffn-layers", type=int, default=2, help="f (paper 1-3)")
    d.add_argument("--batch-size", type=int, default=10, help="configurations per batch (paper 10-100)")
    d.add_argument("--no-attention", dest="attention", action="store_false",
                   help="switch the edge self-attention off")
    d.add_argument("--attention-scaling", choices=("edges", "none"), default="edges",
                   help="H' = n_edges*sigma*H (default) or the literal H' = sigma*H")
    d.add_argument("--aggregation", choices=("mean", "sum"), default="mean",
                   help="graph readout over particles (paper Eq. 8: sum)")
    d.add_argument("--no-input-bias", dest="input_bias", action="store_false",
                   help="no bias on the input layer W_i (the paper's Eq. 4)")
    d.add_argument("--readout-norm", action="store_true",
                   help="batch-normalise the graph vector before the FFN (for inherent "
                        "structures, whose classes differ by little against a large common offset)")
    d.add_argument("--epochs", type=int, default=10)
    d.add_argument("--windows-per-epoch", type=int, default=1,
                   help="random windows per configuration per epoch (paper: 1)")
    d.add_argument("--peak-lr", type=float, default=1e-3,
                   help="schedule peak; it starts and ends at peak/10 (paper 1e-3)")
    d.add_argument("--test-fraction", type=float, default=0.0,
                   help="fraction of runs held out and scored (AUC, accuracy) into the model's metrics")
    d.add_argument("--device", default="cpu", help="cpu or cuda")
    d.add_argument("--seed", type=int, default=0, help="makes the run repeatable")
    d.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    d.add_argument("--force", action="store_true",
                   help="replace a model already in OUT (the old one stays whole until the new "
                        "one is finished)")
    d.add_argument("--stop-after", type=int, metavar="EPOCHS",
                   help="stop after this many epochs (time-limited jobs); finish later with --resume")
    d.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    d.set_defaults(func=run_dmpnn)

    c = models.add_parser("cnn", help="CNN on rendered images (paper §2.3)",
                          description="Train the paper's CNN on images rendered on the fly, "
                                      "augmented by the square's symmetries (and periodic shifts), "
                                      "with the paper's learning-rate schedule.")
    c.add_argument("--data", required=True, metavar="DATASET",
                   help="training dataset (.npz or manifest .csv with a label column)")
    c.add_argument("--out", required=True, metavar="DIR",
                   help="model folder to write (holds checkpoint/ while training)")
    c.add_argument("--dropout", type=float, default=presets.CNN_DROPOUT,
                   help="dropout after the 80-neuron layer "
                        f"(paper 0-0.5; default {presets.CNN_DROPOUT})")
    c.add_argument("--batch-size", type=int, default=presets.CNN_BATCH_SIZE,
                   help=f"images per batch (paper 10-100; default {presets.CNN_BATCH_SIZE})")
    c.add_argument("--epochs", type=int, default=presets.CNN_EPOCHS,
                   help=f"passes over the training set (paper 10; default {presets.CNN_EPOCHS})")
    c.add_argument("--peak-lr", type=float, default=PEAK_LR,
                   help="schedule peak; it starts and ends at peak/10 (paper 1e-3)")
    c.add_argument("--no-shift", action="store_true",
                   help="augment with the paper's rotations and flips only, without the random "
                        "periodic shifts")
    c.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="mixed_bfloat16 computes in bfloat16 with float32 weights: ~1.5x faster "
                        "on CPUs with AVX-512 BF16 (default: float32, the paper's)")
    c.add_argument("--head", choices=HEADS, default="dense",
                   help="dense: the paper's flatten + 80 ReLUs (71.9 M weights); pooled: the mean "
                        "of each conv2 map, batch-normalised, into the 80 ReLUs (5.8 k weights), "
                        "which learns from a few dozen images (docs/cnn.md)")
    c.add_argument("--test-fraction", type=float, default=0.0,
                   help="fraction of runs held out and scored (AUC, accuracy) into the model's "
                        "metrics")
    c.add_argument("--seed", type=int, default=0, help="makes the run repeatable")
    c.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint (same data and settings)")
    c.add_argument("--force", action="store_true",
                   help="replace a model already in OUT (the old one stays whole until the new "
                        "one is finished)")
    c.add_argument("--stop-after", type=int, metavar="EPOCHS",
                   help="stop after this many epochs (time-limited jobs); finish later with --resume")
    c.set_defaults(func=run_cnn)


def run_dmpnn(args) -> int:
    from ..errors import InputError

    if args.epochs < 1 or args.batch_size < 1:
        raise InputError("--epochs and --batch-size must be at least 1")
    if not 0.0 <= args.test_fraction < 1.0:
        raise InputError(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
    with training_folder(args, "dmpnn") as out:
        return _train_dmpnn(args, out)


def _train_dmpnn(args, out) -> int:
    import numpy as np

    from ..datasets import load_dataset, split_by_run
    from ..errors import InputError
    from ..graph_spec import GraphSpec
    from ..training.dmpnn import DMPNNTrainingConfig, train_dmpnn

    dataset = load_dataset(args.data)
    if args.seeds:
        from .simulate import parse_seeds

        wanted = parse_seeds(args.seeds)
        keep = np.flatnonzero(np.isin(dataset.seed, wanted))
        if len(keep) == 0:
            raise InputError(f"{args.data} has no runs with seeds {args.seeds}; its seeds are "
                             f"{sorted(set(dataset.seed.tolist()))[:20]}")
        dataset = dataset.subset(keep)
    train_idx = np.arange(len(dataset))
    test_idx = np.zeros(0, dtype=np.int64)
    if args.test_fraction > 0:
        train_idx, test_idx = split_by_run(dataset, [1 - args.test_fraction, args.test_fraction],
                                           rng=args.seed)
    graph = GraphSpec(num_neighbors=args.num_neighbors, features=args.features,
                      length_scale=args.length_scale, window_length=args.window_length,
                      edge_features=args.edge_features, neighbors=args.neighbors)
    config = DMPNNTrainingConfig(
        graph=graph, hidden_size=args.hidden_size,
        message_steps=args.message_steps, dropout=args.dropout, ffn_layers=args.ffn_layers,
        attention=args.attention, attention_scaling=args.attention_scaling,
        aggregation=args.aggregation, input_bias=args.input_bias,
        readout_norm=args.readout_norm, batch_size=args.batch_size,
        epochs=args.epochs, windows_per_epoch=args.windows_per_epoch, seed=args.seed,
        initial_lr=args.peak_lr / 10, peak_lr=args.peak_lr, final_lr=args.peak_lr / 10,
        length_unit=args.length_unit)
    provenance = {"dataset": str(args.data), "dataset_meta": dataset.meta,
                  "seeds": sorted(set(dataset.seed.tolist())),
                  "train_indices": train_idx, "test_indices": test_idx, "seed": args.seed}
    train = dataset.subset(train_idx)
    _, history = train_dmpnn(train, out, config, device=args.device, resume=args.resume,
                             progress=args.progress, data_provenance=provenance,
                             stop_after=args.stop_after)
    if len(history) < args.epochs:
        print(f"stopped after epoch {len(history)} of {args.epochs}; continue with --resume")
        return 0
    print(f"trained {args.epochs} epochs on {len(train)} configurations; final loss "
          f"{history[-1]['loss']:.4f}; model in {args.out}")
    from ..models.store import read_config, read_graph_spec

    spec = read_graph_spec(read_config(out))
    print(f"the model reads {spec.system.label()}; length unit {spec.system.length_unit:.4g}, "
          f"windows {spec.window_length:g} x {spec.length_scale:.4g} = "
          f"{spec.window_length * spec.length_scale:.4g} wide (frames' units)")
    if len(test_idx):
        _score_held_out(out, dataset.subset(test_idx), args.seed)
    return 0


def _score_held_out(folder, test, seed) -> None:
    from ..training.evaluate import score_held_out

    for name, s in score_held_out(folder, test, seed).items():
        print(f"{name}: AUC {s['auc']:.3f}, accuracy {s['accuracy']:.3f} (n={s['n']})")


def run_cnn(args) -> int:
    from pathlib import Path

    from ..errors import InputError

    out = Path(args.out)
    if not 0.0 <= args.dropout < 1.0:
        raise InputError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.batch_size < 1 or args.epochs < 1:
        raise InputError("--batch-size and --epochs must be at least 1")
    if not args.peak_lr > 0:
        raise InputError(f"--peak-lr must be positive, got {args.peak_lr}")
    if not 0.0 <= args.test_fraction < 1.0:
        raise InputError(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
    if args.stop_after is not None and args.stop_after < 1:
        raise InputError("--stop-after must be at least 1")
    with training_folder(args, "cnn") as staging:
        return _train_cnn(args, staging, out)


def _train_cnn(args, out, final_out) -> int:
    import numpy as np

    from ..datasets import load_dataset, split_by_run
    from ..errors import InputError
    from ..training.cnn import train_cnn

    dataset = load_dataset(args.data)
    if np.any((dataset.label != 0) & (dataset.label != 1)) or len(np.unique(dataset.label)) < 2:
        raise InputError(f"{args.data} needs labelled glass and liquid configurations; build it "
                         "with `glassml dataset`")
    train_idx = np.arange(len(dataset))
    test_idx = np.zeros(0, dtype=np.int64)
    if args.test_fraction > 0:
        train_idx, test_idx = split_by_run(dataset, [1 - args.test_fraction, args.test_fraction],
                                           rng=args.seed)
    print(f"training the CNN on {len(train_idx)} configurations for {args.epochs} epochs of batch "
          f"size {args.batch_size}", flush=True)
    history = train_cnn(dataset, args.data, out, train_idx, test_idx, dropout=args.dropout,
                        batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                        peak_lr=args.peak_lr, translate=not args.no_shift,
                        precision=args.precision, head=args.head, resume=args.resume,
                        stop_after=args.stop_after,
                        log=lambda line: print(line, flush=True))
    if len(history) < args.epochs:
        print(f"stopped after epoch {len(history)} of {args.epochs}; continue with --resume")
        return 0
    if len(test_idx):
        from ..models.store import read_config

        test = read_config(out)["metrics"]["test"]
        print(f"held-out runs: AUC {test['auc']:.3f}, accuracy {test['accuracy']:.3f} "
              f"(n={test['n']})")
    print(f"trained {args.epochs} epochs on {len(train_idx)} configurations; final loss "
          f"{history[-1]['loss']:.4f}; model in {final_out}")
    return 0


#: Written in a training's --out before any work: the model kind and the SHA-256 of --data,
#: so --resume can refuse another kind or other data (no paths: model folders get committed).
TRAINING_RECORD = "training_run.json"


def training_folder(args, kind: str):
    """Where to train: ``--out`` itself when it is new, empty or resumed (checked to be the same
    kind and data); a temporary folder that replaces it at the end with ``--force``.

    Raises :class:`InputError`, before any work, for an ``--out`` that holds a model or
    checkpoint and neither ``--resume`` nor ``--force``, for ``--resume`` of another kind or with
    other ``--data``, and for an ``--out`` that cannot be written.
    """
    import contextlib
    from pathlib import Path

    from ..errors import InputError
    from ..fileio import replaced_folder, write_json_atomic
    from ..models.store import file_sha256

    out = Path(args.out)
    data = Path(args.data)
    if not data.is_file():
        raise InputError(f"--data {data} does not exist; build it with `glassml dataset`")
    if args.resume and args.force:
        raise InputError("--resume continues the model in --out and --force replaces it: give one")
    record = {"kind": kind, "data_sha256": file_sha256(data), "data_name": data.name}
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder; choose a folder")
    used = out.is_dir() and any(out.iterdir())
    if used and args.resume:
        previous = _previous_training(out)
        if previous.get("kind", kind) != kind:
            raise InputError(f"{out} holds a {previous['kind']} model; --resume continues the same "
                             f"kind: train {previous['kind']} or choose another --out")
        if previous.get("data_sha256", record["data_sha256"]) != record["data_sha256"]:
            raise InputError(f"{out} was trained on other data ({previous.get('data_name')}); "
                             "--resume needs the same --data: give it, or start a new --out")
        return contextlib.nullcontext(out)
    if used and not args.force:
        raise InputError(f"{out} already holds a model or checkpoint; add --resume to continue "
                         "it, --force to replace it, or choose another --out")
    if used:
        staged = replaced_folder(out, force=True)

        @contextlib.contextmanager
        def replacing():
            with staged as tmp:
                write_json_atomic(tmp / TRAINING_RECORD, record)
                yield tmp

        return replacing()
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / TRAINING_RECORD, record)
    except OSError as err:
        raise InputError(f"cannot write --out {out} ({err.strerror}); choose a writable "
                         "folder") from err
    return contextlib.nullcontext(out)


def _previous_training(out) -> dict:
    """The kind (and data checksum, if recorded) of the training in ``out``."""
    import json

    from ..models.store import CONFIG_NAME

    for name in (TRAINING_RECORD, CONFIG_NAME):
        path = out / name
        if path.exists():
            try:
                saved = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            return {k: saved[k] for k in ("kind", "data_sha256", "data_name") if k in saved}
    return {}
