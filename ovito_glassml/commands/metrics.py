"""``glassml metrics``: the paper's three structural metrics for every frame of a trajectory."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    from ..metrics import PAPER_NUM_NEIGHBORS

    p = sub.add_parser(
        "metrics", help="the three structural metrics (Fig. 10) for every frame of a trajectory",
        description="Join every type-B particle to its nearest neighbours and count disjoint "
                    "graphs, B-B edges and isolated A particles in every frame, through an OVITO "
                    "pipeline. TRAJ is any trajectory OVITO reads (a multi-frame dump, a pattern "
                    "such as 'run/T*.dump' - quote it) or a `glassml simulate` manifest.csv. "
                    "Writes OUT/frames.csv and one plot per metric against temperature (if the "
                    "input carries it) or frame.")
    p.add_argument("trajectory", metavar="TRAJ",
                   help="trajectory file, quoted file pattern, or manifest.csv")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--num-neighbors", type=int, default=PAPER_NUM_NEIGHBORS,
                   help="nearest neighbours joined to each B particle (paper: 2)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..batch import metrics_rows, plot_columns, write_frames_table
    from ..metrics import METRIC_NAMES

    rows = metrics_rows(args.trajectory, args.num_neighbors)
    out = Path(args.out)
    table = write_frames_table(out, rows)
    plot_columns(out, rows, list(METRIC_NAMES))
    print(f"{len(rows)} frames -> {table} and plots in {out}")
    return 0
