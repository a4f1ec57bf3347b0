"""A particle configuration (positions, types, box) and the LAMMPS dump reader that makes one."""

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
    """Read the last frame of a LAMMPS text dump (plain or gzipped) with ``id type x y`` (or xs/ys, or xu/yu) columns.

    Raises :class:`InputError` for a missing, truncated or type-less dump.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"dump file {path} does not exist")
    try:
        if path.suffix == ".gz":
            import gzip
            with gzip.open(path, "rt") as fh:
                lines = fh.read().splitlines()
        else:
            lines = path.read_text().splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path} as a LAMMPS text dump ({err})") from err
    starts = [i for i, line in enumerate(lines) if line.startswith("ITEM: TIMESTEP")]
    if not starts:
        raise InputError(f"{path} is not a LAMMPS dump (no 'ITEM: TIMESTEP' line)")
    return _parse_frame(lines[starts[-1]:], path)


def _parse_frame(lines: list[str], path: Path) -> Configuration:
    try:
        n = int(lines[3])
        bounds = np.array([[float(v) for v in lines[5 + d].split()[:2]] for d in range(2)])
        header = lines[8].split()[2:]
    except (IndexError, ValueError) as err:
        raise InputError(f"{path} is truncated or malformed in its header; rewrite the dump") from err
    if "type" not in header:
        raise InputError(f"{path} has no 'type' column; dump with 'id type x y'")
    body = lines[9:9 + n]
    if len(body) < n:
        raise InputError(f"{path} is truncated: {len(body)} of {n} atom lines; rerun or rewrite it")
    try:
        table = np.loadtxt(body, ndmin=2)
    except ValueError as err:
        raise InputError(f"{path} has unreadable atom lines ({err})") from err
    if table.shape != (n, len(header)):
        raise InputError(f"{path} is truncated: expected {n} rows of {len(header)} columns")
    col = {name: i for i, name in enumerate(header)}
    box = bounds[:, 1] - bounds[:, 0]
    if "x" in col:
        pos = table[:, [col["x"], col["y"]]] - bounds[:, 0]
    elif "xu" in col:
        pos = table[:, [col["xu"], col["yu"]]] - bounds[:, 0]
    elif "xs" in col:
        pos = table[:, [col["xs"], col["ys"]]] * box
    else:
        raise InputError(f"{path} has no x/y coordinate columns")
    order = np.argsort(table[:, col["id"]]) if "id" in col else np.arange(n)
    return Configuration(pos[order], table[order, col["type"]].astype(np.int64), box)
