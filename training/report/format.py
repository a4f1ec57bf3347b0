"""How the report writes numbers, p-values, paths and missing results."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _pm(mean, std, digits=3) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _p(value) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.2g}"


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(Path(path).resolve(), base.resolve())


def _not_run(command: str) -> str:
    return f"not run (`{command}`)"
