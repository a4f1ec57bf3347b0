"""From an OVITO frame to a :class:`~ovito_glassml.configuration.Configuration`, and back as bonds.

The one OVITO adapter, below the modifiers: the frame reader (:mod:`ovito_glassml.frames`), the
batch commands and the modifiers all use it. The checks here are the ones every analysis needs,
with messages that say what is wrong with the frame and what to do; they raise
:class:`~ovito_glassml.errors.InputError`, a ``ValueError``, which OVITO shows as the modifier's
status and which ``glassml`` prints as one line.

A frame is 2D when OVITO's cell says so (``is2D``) or when its particles all lie in one z plane
(a 2D LAMMPS dump of ``x y`` or ``x y z`` with z = 0, which OVITO reads as a thin 3D cell); else
it is 3D and must be periodic in all three directions.
"""

from __future__ import annotations

import numpy as np

from .configuration import Configuration
from .errors import InputError

#: The paper's colours (Fig. 8): A orange, B blue; and display radii that leave bonds visible.
#: Further types take :data:`EXTRA_COLORS` in order of their type id.
KOB_ANDERSEN_STYLE = {1: ("A", (1.0, 0.55, 0.1), 0.30), 2: ("B", (0.2, 0.4, 1.0), 0.22)}
EXTRA_COLORS = ((0.25, 0.75, 0.35), (0.85, 0.25, 0.55), (0.55, 0.45, 0.85), (0.9, 0.8, 0.2),
                (0.45, 0.8, 0.85), (0.6, 0.6, 0.6))

#: A frame whose particles' z coordinates spread by more than this (relative to the cell) is 3D.
PLANAR_TOLERANCE = 1e-6


def is_planar(z: np.ndarray, z_length: float) -> bool:
    """Whether z coordinates lie in one plane: a 2D frame written with a z column."""
    return float(np.ptp(z)) <= PLANAR_TOLERANCE * max(abs(float(z_length)), 1.0)


def frame_dimension(data) -> int:
    """2 for a 2D frame (OVITO's 2D cell, or a 2D dump's particles all in one z plane), else 3."""
    if data.cell is not None and data.cell.is2D:
        return 2
    if data.particles is None or data.particles.count == 0 or data.cell is None:
        return 3
    z = np.asarray(data.particles.positions)[:, 2]
    return 2 if is_planar(z, np.asarray(data.cell)[2, 2]) else 3


def frame_configuration(data, frame: int | None = None, *, min_particles: int = 1) -> Configuration:
    """The periodic 2D or 3D configuration of an OVITO ``DataCollection``, checked.

    Particle types come from the ``Particle Type`` property with their ids and, where the file
    gives them, their names.

    Parameters
    ----------
    data : ovito.data.DataCollection
    frame : int, optional
        Only for the error messages.
    min_particles : int
        Fewest particles the caller can work with (e.g. a model's ``k + 1``).

    Raises
    ------
    InputError
        for a frame with no particles or types, a non-periodic or sheared (triclinic) cell, or
        fewer than ``min_particles`` particles.
    """
    where = "the frame" if frame is None else f"frame {frame}"
    particles = data.particles
    if particles is None or particles.count == 0:
        raise InputError(f"{where} has no particles")
    if data.cell is None:
        raise InputError(f"{where} has no simulation cell; the analyses need a periodic box")
    if "Particle Type" not in particles:
        raise InputError(f"{where} has no Particle Type property; load a dump with a 'type' "
                         "column")
    cell = np.asarray(data.cell)
    positions = np.asarray(particles.positions)
    dim = frame_dimension(data)
    matrix = cell[:dim, :dim]
    if np.any(np.abs(matrix - np.diag(np.diag(matrix))) > 1e-9):
        raise InputError(f"{where} has a sheared (triclinic) cell; the analyses need an "
                         "orthogonal periodic box: remap it (LAMMPS 'change_box all triclinic' "
                         "undone, or OVITO's Affine transformation) or use an orthogonal box")
    if not all(data.cell.pbc[:dim]):
        axes = "x and y" if dim == 2 else "x, y and z"
        raise InputError(f"{where} is not periodic in {axes}; the analyses use periodic "
                         "minimum-image distances: write the dump with 'boundary p p p'")
    if particles.count < min_particles:
        raise InputError(f"{where} has {particles.count} particles; the analysis needs at least "
                         f"{min_particles} (its number of neighbours + 1)")
    type_property = particles.particle_types
    names = {t.id: t.name for t in type_property.types if t.name}
    box = np.diag(cell)[:dim].copy()
    return Configuration(positions[:, :dim] - cell[:dim, 3], np.asarray(type_property), box,
                         names)


def frame_data(config: Configuration, timestep: int = 0, source: str = ""):
    """An OVITO ``DataCollection`` holding ``config`` (a periodic cell at the origin, 2D or 3D,
    the configuration's type ids and names), for applying our modifiers to frames read by
    :mod:`ovito_glassml.frames`."""
    from ovito.data import DataCollection, ParticleType

    data = DataCollection()
    dim = config.dimension
    lengths = np.ones(3)
    lengths[:dim] = config.box
    cell = data.create_cell(np.diag(lengths), pbc=(True, True, dim == 3))
    cell.is2D = dim == 2
    particles = data.create_particles(count=config.n_particles)
    positions = np.zeros((config.n_particles, 3))
    positions[:, :dim] = config.positions
    particles.create_property("Position", data=positions)
    types = particles.create_property("Particle Type", data=config.types)
    for type_id in config.type_ids():
        name = config.type_names.get(type_id) or ""
        _, color, radius = type_style(type_id, config.type_ids(), name)
        # the frame's own names only: a name given here ("A" for an unnamed type 1) would be
        # read back as the frame's, and a model would match types by it, not by abundance
        types.types.append(ParticleType(id=type_id, name=name, color=color, radius=radius))
    data.attributes["Timestep"] = int(timestep)
    data.attributes["SourceFile"] = str(source)
    return data


def type_style(type_id: int, type_ids, name: str | None = None) -> tuple[str, tuple, float]:
    """``(name, colour, radius)`` of a type: the paper's A/B for the Kob-Andersen types 1 and 2
    of a binary frame, distinct colours in order of the type id for any other set of types."""
    type_ids = sorted(int(t) for t in type_ids)
    if tuple(type_ids) == (1, 2) and (not name or name in ("A", "B")):
        return KOB_ANDERSEN_STYLE[type_id]
    rank = type_ids.index(int(type_id)) if int(type_id) in type_ids else 0
    radius = 0.30 if rank == 0 else 0.24
    return name or "", EXTRA_COLORS[rank % len(EXTRA_COLORS)], radius


def minimum_image_shifts(positions: np.ndarray, box: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Periodic image (in cell vectors) of the second particle of each pair nearest to the first.

    ``positions`` are the frame's own coordinates (a dump may hold particles slightly outside
    the box, so the wrapped coordinates of a Configuration would give OVITO the wrong images).
    Returns an ``(M, 3)`` int array, OVITO's ``Periodic Image`` bond property.
    """
    dim = len(box)
    delta = positions[pairs[:, 1], :dim] - positions[pairs[:, 0], :dim]
    shifts = np.zeros((len(pairs), 3), dtype=np.int32)
    shifts[:, :dim] = -np.round(delta / box)
    return shifts


def replace_bonds(data, config: Configuration, pairs: np.ndarray, *, width: float = 0.12,
                  color=(0.1, 0.7, 0.2)):
    """Make ``pairs`` the frame's bonds (drawn across the periodic boundary by minimum image).

    Bonds are one uniform ``color`` unless a later step sets a per-bond ``Color``. Returns the
    new modifiable ``Bonds`` object so the caller can add per-bond properties.
    """
    from ovito.vis import BondsVis

    particles = data.particles_
    if particles.bonds is not None:
        # the graph replaces any bonds from upstream: mixing them would break the counts' picture
        # (Particles.bonds has no deleter; assigning None removes the Bonds object)
        particles.bonds = None
    bonds = particles.create_bonds(count=len(pairs), vis_params={
        "width": width, "color": color, "coloring_mode": BondsVis.ColoringMode.Uniform})
    bonds.create_property("Topology", data=pairs)
    shifts = minimum_image_shifts(np.asarray(data.particles.positions), config.box, pairs)
    bonds.create_property("Periodic Image", data=shifts)
    return bonds


def style_particle_types(data) -> None:
    """Colour the types of the frame: A orange and B blue in a Kob-Andersen binary (the paper's
    Fig. 8), distinct colours for other types; shrink the radii so bonds stay visible."""
    type_property = data.particles_.particle_types_
    type_ids = [t.id for t in type_property.types]
    for type_id in type_ids:
        mutable = type_property.type_by_id_(type_id)
        _, color, radius = type_style(type_id, type_ids, mutable.name)
        # no name is given to an unnamed type: a later modifier would take it for the frame's
        mutable.color = color
        mutable.radius = radius
