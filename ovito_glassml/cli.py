"""The ``glassml`` command line: one subcommand per module in ``ovito_glassml.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
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
    "calibrate",
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


#: Optional module -> the extra of ovito-glassml that installs it (see pyproject.toml).
EXTRAS = {"lammps": "lammps", "tensorflow": "cnn", "keras": "cnn", "PIL": "cnn",
          "sklearn": "train", "statsmodels": "train", "hyperopt": "train", "ray": "ray",
          "chemprop": "bench"}

#: What is true after Ctrl-C, per command (default: :data:`NOTHING_WRITTEN`).
NOTHING_WRITTEN = "nothing new was written; earlier results in --out are unchanged"
INTERRUPTED = {
    "simulate": "the runs finished so far are kept in --out; rerun the same command to resume",
    "train": "the epochs finished so far are in --out's checkpoint; continue with --resume",
    "crossval": "the trials finished so far are kept in --out; rerun the same command to resume",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        _keep_sigint_ignored()
    try:
        code = args.func(args)
    except InputError as err:
        # a mistake in the user's input: one sentence, no traceback, non-zero exit
        print(f"glassml {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        top = (err.name or "").split(".")[0]
        if top not in EXTRAS:
            raise
        print(f"glassml {args.command}: error: this needs {top}, which the base install leaves "
              f"out: pip install 'ovito-glassml[{EXTRAS[top]}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        note = INTERRUPTED.get(args.command, NOTHING_WRITTEN)
        print(f"glassml {args.command}: interrupted; {note}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # whoever read the output (`glassml ... | head`) has stopped reading: no traceback; the
        # interpreter's last flush of stdout must not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return int(code or 0)


def _keep_sigint_ignored() -> None:
    """A background job (``cmd &``) starts with SIGINT ignored; importing ``ovito.io`` installs a
    C handler over that which crashes the process when a SIGINT arrives. Import it now and put
    the ignore back."""
    import ovito.io  # noqa: F401

    signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
