"""``glassml classify``: glass probability, the three metrics and attention counts for every frame."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "classify", help="glass probability (+ metrics, attention counts) of every frame",
        description="Run the glass classifier, the three structural metrics and (for a D-MPNN "
                    "with attention) the attention-graph counts over every frame of a "
                    "trajectory, through an OVITO pipeline, one frame at a time. TRAJ is any "
                    "trajectory OVITO reads (a multi-frame dump, a quoted pattern such as "
                    "'run/T*.dump') or a `glassml simulate` manifest.csv. Writes OUT/frames.csv "
                    "and one plot per column against temperature (if the input carries it) or "
                    "frame.")
    p.add_argument("trajectory", metavar="TRAJ",
                   help="trajectory file, quoted file pattern, or manifest.csv")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default="",
                   help="model folder (default: the model shipped in the package)")
    p.add_argument("--cutoff", type=float, default=None,
                   help="high-attention cutoff on the relative attention (default: 2)")
    p.add_argument("--no-attention", action="store_true", help="skip the attention-graph counts")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's; 1 is faster on a busy machine)")
    p.set_defaults(func=run)


def _columns(kind: str, attention: bool) -> dict[str, str]:
    """frames.csv column -> the pipeline's global attribute holding it, in table order."""
    from ..metrics import METRIC_NAMES
    from ..modifiers.attention import ATTENTION_ATTRIBUTES
    from ..modifiers.classifier import PROBABILITY_ATTRIBUTE, WHOLE_FRAME_ATTRIBUTE
    from ..modifiers.metrics import METRIC_ATTRIBUTES

    columns = {"glass_probability": PROBABILITY_ATTRIBUTE}
    if kind == "dmpnn":
        columns["glass_probability_whole_frame"] = WHOLE_FRAME_ATTRIBUTE
    columns.update({name: METRIC_ATTRIBUTES[name] for name in METRIC_NAMES})
    if attention:
        columns.update({f"attention_{name}": attribute
                        for name, attribute in ATTENTION_ATTRIBUTES.items()})
    return columns


def run(args) -> int:
    from ..batch import base_row, open_trajectory, plot_columns, run_frames, write_frames_table
    from ..errors import InputError
    from ..modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier
    from ..modifiers.loading import cached_classifier

    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    # load the model first: a wrong --model is reported before any frame is read
    classifier = cached_classifier(args.model)
    attention = (not args.no_attention and classifier.kind == "dmpnn"
                 and classifier.hyperparameters.attention)
    trajectory = open_trajectory(args.trajectory)
    modifiers = [GlassClassifierModifier(model_path=args.model, local_probability=False),
                 GlassMetricsModifier()]
    if attention:
        attention_modifier = AttentionModifier(model_path=args.model)
        if args.cutoff is not None:
            attention_modifier.cutoff = args.cutoff
        modifiers.append(attention_modifier)
    columns = _columns(classifier.kind, attention)

    def row_of(data, frame):
        row = base_row(data, trajectory, frame)
        row.update({name: data.attributes[attribute] for name, attribute in columns.items()})
        return row

    rows = run_frames(trajectory, modifiers, row_of, progress="classify")
    out = Path(args.out)
    table = write_frames_table(out, rows)
    plot_columns(out, rows, list(columns))
    print(f"{len(rows)} frames -> {table} and plots in {out}")
    return 0
