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
    add_output_arguments(p)
    p.add_argument("--model", default="",
                   help="model folder, or a shipped model's name: ka2d (the 2D Kob-Andersen "
                        "D-MPNN) or ka3d (3D); default: the shipped model of the frames' "
                        "dimension")
    add_b_type_argument(p)
    add_parallel_arguments(p)
    p.add_argument("--cutoff", type=float, default=None,
                   help="high-attention cutoff on the relative attention (default: 2)")
    p.add_argument("--no-attention", action="store_true", help="skip the attention-graph counts")
    p.add_argument("--per-particle", action="store_true",
                   help="also write OUT/particles.dump.gz: every frame's particles (id type x y "
                        "[z]) with their local glass probability and attention, for OVITO")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads of this process (default 1: faster on a busy machine, "
                        "and the same numbers as --workers, whose processes use one each)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..batch import classify_trajectory
    from ..errors import InputError

    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    rows = classify_trajectory(args.trajectory, out, model=args.model, cutoff=args.cutoff,
                               attention=not args.no_attention, force=args.force,
                               skip_bad=args.skip_bad_frames, b_type=args.b_type,
                               per_particle=args.per_particle, workers=args.workers,
                               ray_address=args.ray_address)
    print(f"{len(rows)} frames -> {out / 'frames.csv'} and plots in {out}")
    report_skipped(out)
    return 0


def add_b_type_argument(p) -> None:
    """--b-type of the commands that count the B-particle graph."""
    p.add_argument("--b-type", type=int, default=None,
                   help="type id counted as B by the metrics (default: each frame's minority "
                        "type, B in the Kob-Andersen mixtures); every other type counts as A")


def add_parallel_arguments(p) -> None:
    """--workers and --ray-address of the commands that run every frame."""
    p.add_argument("--workers", type=int, default=1,
                   help="frames run in this many local processes, one torch thread each "
                        "(default 1); the output is the same, in input order")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="run every frame as a Ray task on this cluster ('local' starts one with "
                        "--workers CPUs; pip install 'ovito-glassml[ray]')")


def add_output_arguments(p) -> None:
    """--out, --force and --skip-bad-frames of the commands that tabulate every frame."""
    p.add_argument("--out", required=True,
                   help="output folder; written whole when every frame succeeded, or not at all")
    p.add_argument("--force", action="store_true",
                   help="replace an --out that already holds results")
    p.add_argument("--skip-bad-frames", action="store_true",
                   help="skip frames that fail (listed in OUT/skipped_frames.csv) instead of "
                        "stopping with exit 2 and no output")


def report_skipped(out: Path) -> None:
    """Say on the terminal which frames --skip-bad-frames left out."""
    skipped = out / "skipped_frames.csv"
    if skipped.exists():
        count = len(skipped.read_text().splitlines()) - 1
        print(f"{count} bad frames skipped: see {skipped}")
