"""``glassml report``: REPRODUCTION.md from the committed results, beside the paper's numbers."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("report", help="write REPRODUCTION.md: our results beside the paper's",
                       description="Read every results JSON under --results (crossval, "
                                   "experiments, Tg, metrics fits), draw the paper's figures from "
                                   "them and write a Markdown report. Results that are missing "
                                   "are listed as not run, with the command that makes them.")
    p.add_argument("--results", default="results", metavar="DIR", help="results folder (default results/)")
    p.add_argument("--out", default="REPRODUCTION.md", metavar="FILE.md")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..training.report import write_report

    from ..fileio import refuse_existing

    refuse_existing([args.out], args.force)
    if not Path(args.results).is_dir():
        raise InputError(f"--results {args.results} is not a folder; give the results folder "
                         "the experiments wrote (default results/)")
    path = write_report(args.results, args.out)
    print(f"-> {path}")
    return 0
