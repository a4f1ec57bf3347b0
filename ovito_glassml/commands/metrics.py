"""``glassml metrics``: the paper's three structural metrics for every frame of a trajectory."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    from ..metrics import PAPER_NUM_NEIGHBORS
    from .classify import add_b_type_argument, add_output_arguments, add_parallel_arguments

    p = sub.add_parser(
        "metrics", help="the three structural metrics (Fig. 10) for every frame of a trajectory",
        description="Join every type-B particle (by default the minority type) to its nearest "
                    "neighbours and count disjoint graphs, B-B edges and isolated A (every other "
                    "type) particles in every frame, 2D or 3D, through an OVITO "
                    "pipeline. TRAJ is any trajectory OVITO reads (a multi-frame dump, a pattern "
                    "such as 'run/T*.dump' - quote it) or a `glassml simulate` manifest.csv. "
                    "Writes OUT/frames.csv and one plot per metric against temperature (if the "
                    "input carries it) or frame.")
    p.add_argument("trajectory", metavar="TRAJ",
                   help="trajectory file, quoted file pattern, or manifest.csv")
    add_output_arguments(p)
    p.add_argument("--num-neighbors", type=int, default=PAPER_NUM_NEIGHBORS,
                   help="nearest neighbours joined to each B particle (paper: 2)")
    add_b_type_argument(p)
    add_parallel_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..batch import metrics_rows, write_results
    from ..fileio import replaced_folder
    from ..metrics import METRIC_NAMES
    from .classify import report_skipped

    out = Path(args.out)
    with replaced_folder(out, args.force) as staging:
        skipped = []
        rows = metrics_rows(args.trajectory, args.num_neighbors, skip_bad=args.skip_bad_frames,
                            skipped=skipped, b_type=args.b_type, workers=args.workers,
                            ray_address=args.ray_address)
        write_results(staging, rows, list(METRIC_NAMES), skipped,
                      args.workers if not args.ray_address else 1)
    print(f"{len(rows)} frames -> {out / 'frames.csv'} and plots in {out}")
    report_skipped(out)
    return 0
