"""A particle configuration (positions, types, box); :func:`read_dump` reads one from a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError

TYPE_A = 1
TYPE_B = 2


@dataclass(frozen=True)
class Configuration:
    """One 2D configuration in a periodic rectangular box whose lower corner is the origin.

    Attributes
    ----------
    positions : (N, 2) float array, wrapped into ``[0, box)``.
    types : (N,) int array, LAMMPS types: 1 = A (large), 2 = B (small).
    box : (2,) float array, the box side lengths.
    """

    positions: np.ndarray
    types: np.ndarray
    box: np.ndarray

    def __post_init__(self):
        pos = np.asarray(self.positions, dtype=np.float64)
        types = np.asarray(self.types).astype(np.int64, copy=False)
        box = np.asarray(self.box, dtype=np.float64).reshape(-1)
        if pos.ndim != 2 or pos.shape[1] != 2:
            raise InputError(f"positions must have shape (N, 2), got {pos.shape}")
        if len(pos) == 0:
            raise InputError("the configuration is empty: it has no particles")
        if types.shape != (len(pos),):
            raise InputError(f"{len(pos)} positions but {types.size} types")
        if box.shape != (2,) or not np.all(box > 0):
            raise InputError(f"box must be two positive side lengths, got {box}")
        if not np.all(np.isfinite(pos)):
            raise InputError("the configuration has NaN or infinite coordinates")
        object.__setattr__(self, "positions", wrap_into_box(pos, box))
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "box", box)

    @property
    def n_particles(self) -> int:
        return len(self.positions)

    def scaled_positions(self) -> np.ndarray:
        """Positions divided by the box side lengths: every coordinate in [0, 1)."""
        return self.positions / self.box


def wrap_into_box(positions: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Periodic images of ``positions`` with every coordinate in ``[0, box)``.

    ``np.mod`` alone is not enough: for a tiny negative coordinate (x = -1e-17) it rounds up to
    exactly ``box``, which periodic neighbour searches reject; that image is 0.
    """
    wrapped = np.mod(positions, box)
    return np.where(wrapped >= box, wrapped - box, wrapped)


def read_dump(path: str | Path) -> Configuration:
    """The checked configuration of a one-frame file: a LAMMPS text dump (plain or gzipped) or
    anything OVITO reads. See :mod:`ovito_glassml.frames`, the one reader every path uses.

    Raises :class:`InputError` naming the file for a missing, multi-frame or bad file.
    """
    from .frames import read_configuration

    return read_configuration(path)
