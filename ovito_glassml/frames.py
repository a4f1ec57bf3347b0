"""The one frame reader: every command, dataset and modifier run gets its configurations here.

Two paths give identical :class:`~ovito_glassml.configuration.Configuration` objects, 2D or 3D:

* LAMMPS text dumps (plain or gzipped, as ``dump custom`` and ``dump custom/gz`` write them),
  one or many frames per file, with ``x y [z]``, scaled ``xs ys [zs]`` or unwrapped ``xu yu [zu]``
  coordinates and an optional ``element`` column (the types' names), are parsed here, streaming
  one frame at a time: the dataset builder reads thousands of dumps and OVITO's importer costs
  ~0.7 s to import.
* Every other format OVITO reads (LAMMPS data files, extended XYZ, ...) goes through OVITO's
  ``import_file`` and :func:`ovito_glassml.ovito_data.frame_configuration`, the checks the
  modifiers run on frames in OVITO's GUI.

A frame is 2D when it has no z column or all its z coordinates are equal (a LAMMPS 'dimension 2'
run), else 3D. Both paths refuse, with :class:`~ovito_glassml.errors.InputError` naming the file
and the frame, a non-periodic or sheared (triclinic) cell and NaN coordinates. Which types a
model or metric needs is checked later, by the model's :class:`~ovito_glassml.system.System`.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .configuration import Configuration
from .errors import InputError
from .ovito_data import is_planar

#: Names under which a trajectory may carry the temperature: a global attribute, or a
#: per-particle column (e.g. ``dump ... v_T``) whose mean is the frame's temperature.
TEMPERATURE_NAMES = ("temperature", "temp", "t", "v_temp", "v_t", "c_temp", "c_t")


@dataclass(frozen=True)
class Frame:
    """One checked frame of a file: the configuration and where it came from."""

    configuration: Configuration
    source: str
    index: int
    timestep: int
    temperature: float = float("nan")
    #: the particles' ids in the file (LAMMPS ``id``, OVITO's ``Particle Identifier``), in the
    #: configuration's order; None where the file has none
    ids: np.ndarray | None = None


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


def read_dump(path) -> Configuration:
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


_COORDINATES = (("x", "y", "z", False), ("xu", "yu", "zu", False), ("xs", "ys", "zs", True),
                ("xsu", "ysu", "zsu", True))


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
    lo, lengths = _box_bounds(flags, bounds)
    flags = [f for f in flags if f not in ("xy", "xz", "yz", "abc", "origin")]
    if "type" not in header:
        raise InputError("has no 'type' column; dump with 'id type x y [z]'")
    body = lines[9:9 + n]
    if n < 1:
        raise InputError("has no particles")
    if len(body) < n:
        raise InputError(f"is truncated: {len(body)} of {n} atom lines; rerun or rewrite it")
    col = {name: i for i, name in enumerate(header)}
    element = col.pop("element", None)
    numeric = [i for i in range(len(header)) if i != element]
    try:
        table = np.loadtxt(body, ndmin=2, usecols=numeric) if element is not None else \
            np.loadtxt(body, ndmin=2)
        elements = (np.loadtxt(body, ndmin=1, usecols=[element], dtype=str)
                    if element is not None else None)
    except ValueError as err:
        raise InputError(f"has unreadable atom lines ({err})") from err
    if table.shape != (n, len(numeric)):
        raise InputError(f"is truncated: expected {n} rows of {len(header)} columns")
    col = {name: numeric.index(i) for name, i in col.items()}
    for x, y, z, scaled in _COORDINATES:
        if x in col and y in col:
            break
    else:
        raise InputError("has no x/y coordinate columns")
    dim = 3 if z in col and not is_planar(table[:, col[z]] * (lengths[2] if scaled else 1.0),
                                          lengths[2]) else 2
    names = [x, y, z][:dim]
    periodic = flags[:dim] if len(flags) >= dim else ["pp"] * dim
    if any(f != "pp" for f in periodic):
        axes = "x and y" if dim == 2 else "x, y and z"
        raise InputError(f"is not periodic in {axes}; the analyses use periodic minimum-image "
                         "distances: write the dump with 'boundary p p p'")
    coords = table[:, [col[c] for c in names]]
    positions = coords * lengths[:dim] if scaled else coords - lo[:dim]
    box = lengths[:dim]
    types = table[:, col["type"]]
    order = np.argsort(table[:, col["id"]], kind="stable") if "id" in col else np.arange(n)
    temperature = float("nan")
    for name, i in col.items():
        if name.lower() in TEMPERATURE_NAMES:
            temperature = float(np.mean(table[:, i]))
    ids = table[order, col["id"]].astype(np.int64) if "id" in col else None
    return Frame(checked_configuration(positions[order], types[order], box,
                                       _element_names(types, elements)),
                 str(path), index, timestep, temperature, ids)


def _box_bounds(flags: list[str], bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower corner and side lengths of an orthogonal box from a dump's ``BOX BOUNDS`` lines:
    ``lo hi`` rows, ``lo hi tilt`` rows (restricted triclinic) or ``a b c`` vectors with their
    ``origin`` (LAMMPS' general triclinic format, which OVITO writes). A sheared box is refused."""
    triclinic = InputError("has a sheared (triclinic) cell; the analyses need an orthogonal "
                           "periodic box: write the frames from an orthogonal box (LAMMPS "
                           "'change_box all ortho') or use OVITO's Affine transformation")
    if "abc" in flags:
        if bounds.shape != (3, 4):
            raise InputError("has a malformed 'abc origin' box; rewrite the dump")
        vectors = bounds[:, :3]
        if np.any(vectors != np.diag(np.diag(vectors))):
            raise triclinic
        return bounds[:, 3], np.diag(vectors).copy()
    if "xy" in flags or bounds.shape[1] > 2:
        if bounds.shape[1] > 2 and np.any(bounds[:, 2] != 0):
            raise triclinic
    return bounds[:, 0], bounds[:, 1] - bounds[:, 0]


def _element_names(types: np.ndarray, elements) -> dict:
    """Type id -> name from an ``element`` column; refused if one id carries two names."""
    if elements is None:
        return {}
    pairs = set(zip(types.astype(np.int64).tolist(), elements.tolist()))
    names = dict(pairs)
    if len(names) != len(pairs):
        raise InputError("gives one type id two different element names; fix the dump's "
                         "'element' column (dump_modify element)")
    return names


def checked_configuration(positions, types, box, type_names=None) -> Configuration:
    """A configuration from raw arrays after the checks every analysis needs (see module doc)."""
    positions = np.asarray(positions, dtype=np.float64)
    types = np.asarray(types, dtype=np.float64)
    if not np.all(np.isfinite(positions)):
        raise InputError("has NaN or infinite coordinates")
    if not np.all(np.isfinite(types)) or np.any(types != np.round(types)) or np.any(types < 0):
        raise InputError("has particle types that are not non-negative integers")
    return Configuration(positions, types.astype(np.int64), box, type_names or {})


def _ovito_frames(path: Path) -> Iterator[Frame | BadFrame]:
    """Frames of any other format through OVITO's importer and the modifiers' own checks."""
    from ovito.io import import_file

    from .ovito_data import frame_configuration

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
        ids = (np.asarray(data.particles["Particle Identifier"], dtype=np.int64)
               if "Particle Identifier" in data.particles else None)
        yield Frame(config, str(path), index, int(data.attributes.get("Timestep", index)),
                    data_temperature(data), ids)


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
