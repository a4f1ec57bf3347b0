"""A particle configuration (positions, types, box) in two or three dimensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .system import DIMENSIONS, System

#: The Kob-Andersen types: 1 = A (large, the majority), 2 = B (small).
TYPE_A = 1
TYPE_B = 2


@dataclass(frozen=True)
class Configuration:
    """One configuration in a periodic orthogonal box whose lower corner is the origin.

    Attributes
    ----------
    positions : (N, d) float array, d = 2 or 3, wrapped into ``[0, box)``.
    types : (N,) int array of LAMMPS type ids (any non-negative integers).
    box : (d,) float array, the box side lengths (any, cubic or not).
    type_names : type id -> name where the file names its types (an ``element`` column,
        OVITO's type names), else empty.
    """

    positions: np.ndarray
    types: np.ndarray
    box: np.ndarray
    type_names: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        pos = np.asarray(self.positions, dtype=np.float64)
        types = np.asarray(self.types).astype(np.int64, copy=False)
        box = np.asarray(self.box, dtype=np.float64).reshape(-1)
        if pos.ndim != 2 or pos.shape[1] not in DIMENSIONS:
            raise InputError(f"positions must have shape (N, 2) or (N, 3), got {pos.shape}")
        if len(pos) == 0:
            raise InputError("the configuration is empty: it has no particles")
        if types.shape != (len(pos),):
            raise InputError(f"{len(pos)} positions but {types.size} types")
        if box.shape != (pos.shape[1],) or not np.all(box > 0):
            raise InputError(f"box must be {pos.shape[1]} positive side lengths, got {box}")
        if not np.all(np.isfinite(pos)):
            raise InputError("the configuration has NaN or infinite coordinates")
        if np.any(types < 0):
            raise InputError(f"particle types must be non-negative integers, got {types.min()}")
        names = {int(k): str(v) for k, v in (self.type_names or {}).items() if v}
        object.__setattr__(self, "positions", wrap_into_box(pos, box))
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "type_names", names)

    @property
    def n_particles(self) -> int:
        return len(self.positions)

    @property
    def dimension(self) -> int:
        return self.positions.shape[1]

    @property
    def volume(self) -> float:
        """The box's area (2D) or volume (3D)."""
        return float(np.prod(self.box))

    def type_ids(self) -> tuple[int, ...]:
        """The type ids present, ascending."""
        return tuple(int(t) for t in np.unique(self.types))

    def system(self, length_unit: float = 1.0) -> System:
        """This configuration's :class:`~ovito_glassml.system.System` (types present, names)."""
        ids = self.type_ids()
        return System(self.dimension, ids, tuple(self.type_names.get(t, "") for t in ids),
                      length_unit)

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
