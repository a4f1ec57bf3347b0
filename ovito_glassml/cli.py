"""The ``glassml`` command line: one subcommand per module in ``ovito_glassml.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import InputError

#: Subcommand modules; each defines ``register(subparsers)`` that adds its parser and sets
#: ``func`` (taking the parsed arguments, returning an exit code or None).
COMMANDS = (
    "simulate",
    "tg",
    "dataset",
    "demo",
    "metrics",
    "metrics_vs_t",
    "classify",
    "train",
    "evaluate",
    "heldout",
    "crossval",
    "report",
    "experiment",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassml",
        description="Classify liquids and glasses and measure the glass transition "
                    "(Swanson et al., Soft Matter 2020) with LAMMPS and OVITO.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"ovito_glassml.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except InputError as err:
        # a mistake in the user's input: one sentence, no traceback, non-zero exit
        print(f"glassml {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"glassml {args.command}: interrupted; finished work is kept, rerun to resume",
              file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
