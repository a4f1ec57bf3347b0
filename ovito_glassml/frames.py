"""The one frame reader: every command, dataset and modifier run gets its configurations here.

Two paths give identical :class:`~ovito_glassml.configuration.Configuration` objects:

* LAMMPS text dumps (plain or gzipped, as ``dump custom`` and ``dump custom/gz`` write them),
  one or many frames per file, are parsed here, streaming one frame at a time: the dataset
  builder reads thousands of dumps and OVITO's importer costs ~0.7 s to import.
* Every other format OVITO reads (LAMMPS data files, extended XYZ, ...) goes through OVITO's
  ``import_file`` and :func:`ovito_glassml.modifiers.frame.frame_configuration`, the checks the
  modifiers run on frames in OVITO's GUI.

Both refuse, with :class:`~ovito_glassml.errors.InputError` naming the file and the frame, a 3D,
non-periodic or tilted (triclinic) cell, NaN coordinates, types other than 1 (A) and 2 (B), or
a frame without A or B particles.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .configuration import TYPE_A, TYPE_B, Configuration
from .errors import InputError

#: Names under which a trajectory may carry the temperature: a global attribute, or a
#: per-particle column (e.g. ``dump ... v_T``) whose mean is the frame's temperature.
TEMPERATURE_NAMES = ("temperature", "temp", "t", "v_temp", "v_t", "c_temp", "c_t")

#: A frame whose z coordinates spread by more than this (relative to the z box, at least 1) is 3D.
PLANAR_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Frame:
    """One checked frame of a file: the configuration and where it came from."""

    configuration: Configuration
    source: str
    index: int
    timestep: int
    temperature: float = float("nan")


@dataclass(frozen=True)
class BadFrame:
    """A frame that could not be used (only yielded with ``skip_bad=True``)."""

    source: str
    index: int
    reason: str


def read_frames(path, *, skip_bad: bool = False) -> Iterator[Frame | BadFrame]:
    """Every frame of one file, in order, one at a time.

    Parameters
    ----------
    path : a LAMMPS text dump (``.gz`` too) or any file OVITO's ``import_file`` reads.
    skip_bad : yield a :class:`BadFrame` for a frame that fails its checks instead of raising.

    Raises
    ------
    InputError
        naming the file and the frame, for a missing or unreadable file or a bad frame.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    frames = _dump_frames(path) if is_lammps_dump(path) else _ovito_frames(path)
    for item in frames:
        if isinstance(item, BadFrame) and not skip_bad:
            raise InputError(f"{item.source}, frame {item.index}: {item.reason}")
        yield item


def read_configuration(path) -> Configuration:
    """The configuration of a file that holds exactly one frame (a manifest row, a dataset entry).

    Raises :class:`InputError` for a multi-frame file, naming it.
    """
    frames = read_frames(path)
    first = next(frames, None)
    if first is None:
        raise InputError(f"{path} holds no frame")
    if next(frames, None) is not None:
        raise InputError(f"{path} holds more than one frame; a manifest row or dataset entry is "
                         "one configuration: split the trajectory into one file per frame (or give "
                         "it to `glassml classify`/`metrics`, which read every frame)")
    return first.configuration


def is_lammps_dump(path) -> bool:
    """Whether ``path`` is a LAMMPS text dump (plain or gzipped): its first line is ``ITEM:``."""
    try:
        with _open_text(Path(path)) as fh:
            return fh.readline().startswith("ITEM:")
    except (OSError, EOFError, UnicodeDecodeError):
        return False


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _dump_frames(path: Path) -> Iterator[Frame | BadFrame]:
    """Split the dump at ``ITEM: TIMESTEP`` lines and parse each frame on its own."""
    index = 0
    block: list[str] = []
    try:
        with _open_text(path) as fh:
            for line in fh:
                if line.startswith("ITEM: TIMESTEP") and block:
                    yield _parse_dump_frame(block, path, index)
                    index += 1
                    block = []
                block.append(line)
    except (OSError, EOFError, UnicodeDecodeError) as err:
        # a truncated gzip stream: the frames before it were fine, this one is cut
        yield BadFrame(str(path), index, f"the file is damaged or cut off ({err})")
        return
    if block:
        yield _parse_dump_frame(block, path, index)


def _parse_dump_frame(lines: list[str], path: Path, index: int) -> Frame | BadFrame:
    try:
        return _dump_frame(lines, path, index)
    except InputError as err:
        return BadFrame(str(path), index, str(err))


def _dump_frame(lines: list[str], path: Path, index: int) -> Frame:
    try:
        timestep = int(lines[1])
        n = int(lines[3])
        box_header = lines[4].split()
        bounds = np.array([[float(v) for v in lines[5 + d].split()] for d in range(3)])
        header = lines[8].split()[2:]
    except (IndexError, ValueError) as err:
        raise InputError("the header is truncated or malformed; rewrite the dump") from err
    flags = box_header[3:]
    if "xy" in flags or bounds.shape[1] > 2:
        tilts = bounds[:, 2] if bounds.shape[1] > 2 else np.zeros(3)
        if np.any(tilts != 0):
            raise InputError("has a sheared (triclinic) cell; the analyses need a rectangular "
                             "periodic box")
        flags = [f for f in flags if f not in ("xy", "xz", "yz")]
    if len(flags) >= 2 and (flags[0] != "pp" or flags[1] != "pp"):
        raise InputError("is not periodic in x and y; the analyses use periodic minimum-image "
                         "distances: write the dump with 'boundary p p p'")
    if "type" not in header:
        raise InputError("has no 'type' column; dump with 'id type x y'")
    body = lines[9:9 + n]
    if n < 1:
        raise InputError("has no particles")
    if len(body) < n:
        raise InputError(f"is truncated: {len(body)} of {n} atom lines; rerun or rewrite it")
    try:
        table = np.loadtxt(body, ndmin=2)
    except ValueError as err:
        raise InputError(f"has unreadable atom lines ({err})") from err
    if table.shape != (n, len(header)):
        raise InputError(f"is truncated: expected {n} rows of {len(header)} columns")
    col = {name: i for i, name in enumerate(header)}
    lo = bounds[:2, 0]
    box = bounds[:2, 1] - lo
    for x, y, scaled in (("x", "y", False), ("xu", "yu", False), ("xs", "ys", True),
                         ("xsu", "ysu", True)):
        if x in col and y in col:
            xy = table[:, [col[x], col[y]]]
            positions = xy * box if scaled else xy - lo
            z_name = x.replace("x", "z", 1)
            break
    else:
        raise InputError("has no x/y coordinate columns")
    if z_name in col:
        z = table[:, col[z_name]] * ((bounds[2, 1] - bounds[2, 0]) if scaled else 1.0)
        spread = np.ptp(z)
        if spread > PLANAR_TOLERANCE * max(abs(bounds[2, 1] - bounds[2, 0]), 1.0):
            raise InputError(f"is three-dimensional (z coordinates spread over {spread:.3g}); the "
                             "models and metrics are for the 2D Kob-Andersen mixture: give a 2D "
                             "frame (LAMMPS 'dimension 2')")
    types = table[:, col["type"]]
    order = np.argsort(table[:, col["id"]], kind="stable") if "id" in col else np.arange(n)
    temperature = float("nan")
    for name, i in col.items():
        if name.lower() in TEMPERATURE_NAMES:
            temperature = float(np.mean(table[:, i]))
    return Frame(checked_configuration(positions[order], types[order], box), str(path), index,
                 timestep, temperature)


def checked_configuration(positions, types, box) -> Configuration:
    """A configuration from raw arrays after the checks every analysis needs (see module doc)."""
    positions = np.asarray(positions, dtype=np.float64)
    types = np.asarray(types, dtype=np.float64)
    if not np.all(np.isfinite(positions)):
        raise InputError("has NaN or infinite coordinates")
    if not np.all(np.isfinite(types)) or np.any(types != np.round(types)):
        raise InputError("has non-integer particle types")
    unknown = sorted(set(np.unique(types).astype(int).tolist()) - {TYPE_A, TYPE_B})
    if unknown:
        raise InputError(f"has particle types {unknown}; the models know only the Kob-Andersen "
                         "types A (1) and B (2): delete or retype the others")
    missing = [name for t, name in ((TYPE_A, "A"), (TYPE_B, "B")) if not np.any(types == t)]
    if missing:
        raise InputError(f"has no type-{' or type-'.join(missing)} particles; the Kob-Andersen "
                         "analyses need both A (type 1) and B (type 2) particles")
    return Configuration(positions, types.astype(np.int64), box)


def _ovito_frames(path: Path) -> Iterator[Frame | BadFrame]:
    """Frames of any other format through OVITO's importer and the modifiers' own checks."""
    from ovito.io import import_file

    from .modifiers.frame import frame_configuration

    try:
        pipeline = import_file(str(path))
    except (RuntimeError, KeyError, ValueError) as err:
        raise InputError(f"OVITO cannot read {path}: {first_line(err)}") from err
    for index in range(pipeline.num_frames):
        try:
            data = pipeline.compute(index)
            config = frame_configuration(data)
        except (RuntimeError, ValueError) as err:
            reason = first_line(err).removeprefix("the frame ")
            yield BadFrame(str(path), index, reason)
            continue
        yield Frame(config, str(path), index, int(data.attributes.get("Timestep", index)),
                    data_temperature(data))


def data_temperature(data) -> float:
    """A frame's temperature from a global attribute or per-particle column; NaN if none."""
    for name, value in data.attributes.items():
        if name.lower() in TEMPERATURE_NAMES:
            return float(value)
    for name in data.particles.keys():
        if name.lower() in TEMPERATURE_NAMES:
            return float(np.mean(data.particles[name]))
    return float("nan")


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
