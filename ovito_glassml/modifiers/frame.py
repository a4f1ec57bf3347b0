"""From an OVITO frame to a :class:`~ovito_glassml.configuration.Configuration`, and back as bonds.

The checks here are the ones every modifier needs, with messages that say what is wrong with the
frame and what to do; they raise :class:`~ovito_glassml.errors.InputError`, a ``ValueError``,
which OVITO shows as the modifier's status and which ``glassml`` prints as one line.
"""

from __future__ import annotations

import numpy as np

from ..configuration import TYPE_A, TYPE_B, Configuration
from ..errors import InputError

#: The paper's colours (Fig. 8): A orange, B blue; and display radii that leave bonds visible.
TYPE_STYLE = {TYPE_A: ("A", (1.0, 0.55, 0.1), 0.30), TYPE_B: ("B", (0.2, 0.4, 1.0), 0.22)}

#: A frame whose particles' z coordinates spread by more than this (relative to the cell) is 3D.
_PLANAR_TOLERANCE = 1e-6


def frame_configuration(data, frame: int | None = None, *, min_particles: int = 1) -> Configuration:
    """The 2D periodic configuration of an OVITO ``DataCollection``, checked for our analyses.

    Particle types are read from the ``Particle Type`` property: types named ``A``/``B`` are
    used by name, unnamed types by their LAMMPS ids 1 (A) and 2 (B).

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
        for a frame with no particles or types, a 3D or non-periodic or non-orthogonal cell,
        types other than A and B, a missing type, or fewer than ``min_particles`` particles.
    """
    where = "the frame" if frame is None else f"frame {frame}"
    particles = data.particles
    if particles is None or particles.count == 0:
        raise InputError(f"{where} has no particles")
    if data.cell is None:
        raise InputError(f"{where} has no simulation cell; the analyses need a periodic box")
    if "Particle Type" not in particles:
        raise InputError(f"{where} has no Particle Type property; load a dump with a 'type' "
                         "column (1 = A, 2 = B)")
    cell = np.asarray(data.cell)
    positions = np.asarray(particles.positions)
    z_spread = np.ptp(positions[:, 2])
    if not data.cell.is2D and z_spread > _PLANAR_TOLERANCE * max(abs(cell[2, 2]), 1.0):
        raise InputError(f"{where} is three-dimensional (z coordinates spread over {z_spread:.3g}); "
                         "the models and metrics are for the 2D Kob-Andersen mixture: give a 2D "
                         "frame (LAMMPS 'dimension 2')")
    if np.any(np.abs(cell[:2, :2] - np.diag(np.diag(cell[:2, :2]))) > 1e-9):
        raise InputError(f"{where} has a sheared (triclinic) cell; the analyses need a "
                         "rectangular periodic box")
    if not (data.cell.pbc[0] and data.cell.pbc[1]):
        raise InputError(f"{where} is not periodic in x and y; the analyses use periodic "
                         "minimum-image distances: write the dump with 'boundary p p p'")
    types = _lammps_types(particles.particle_types, where)
    missing = [name for t, (name, _, _) in TYPE_STYLE.items() if not np.any(types == t)]
    if missing:
        raise InputError(f"{where} has no type-{' or type-'.join(missing)} particles; the "
                         "Kob-Andersen analyses need both A (type 1) and B (type 2) particles")
    if particles.count < min_particles:
        raise InputError(f"{where} has {particles.count} particles; the analysis needs at least "
                         f"{min_particles} (its number of neighbours + 1)")
    box = np.diag(cell)[:2].copy()
    return Configuration(positions[:, :2] - cell[:2, 3], types, box)


def frame_data(config: Configuration, timestep: int = 0, source: str = ""):
    """An OVITO ``DataCollection`` holding ``config`` (a 2D periodic cell at the origin, types
    A = 1 and B = 2), for applying our modifiers to frames read by :mod:`ovito_glassml.frames`."""
    from ovito.data import DataCollection, ParticleType

    data = DataCollection()
    cell = data.create_cell(np.diag([config.box[0], config.box[1], 1.0]), pbc=(True, True, False))
    cell.is2D = True
    particles = data.create_particles(count=config.n_particles)
    positions = np.zeros((config.n_particles, 3))
    positions[:, :2] = config.positions
    particles.create_property("Position", data=positions)
    types = particles.create_property("Particle Type", data=config.types)
    for type_id, (name, color, radius) in TYPE_STYLE.items():
        types.types.append(ParticleType(id=type_id, name=name, color=color, radius=radius))
    data.attributes["Timestep"] = int(timestep)
    data.attributes["SourceFile"] = str(source)
    return data


def _lammps_types(type_property, where: str) -> np.ndarray:
    """Particle types as 1 (A) / 2 (B), from names A/B when the file gives names."""
    ids = np.asarray(type_property).astype(np.int64)
    names = {t.id: t.name for t in type_property.types}
    by_name = {"A": TYPE_A, "B": TYPE_B}
    present = np.unique(ids)
    if all(names.get(i) in by_name for i in present):
        lookup = np.zeros(present.max() + 1, dtype=np.int64)
        lookup[present] = [by_name[names[i]] for i in present]
        return lookup[ids]
    unknown = sorted(set(present.tolist()) - {TYPE_A, TYPE_B})
    if unknown:
        raise InputError(f"{where} has particle types {unknown}; the models know only the "
                         "Kob-Andersen types A (1) and B (2): delete or retype the others")
    return ids


def minimum_image_shifts(positions: np.ndarray, box: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Periodic image (in cell vectors) of the second particle of each pair nearest to the first.

    ``positions`` are the frame's own coordinates (a dump may hold particles slightly outside
    the box, so the wrapped coordinates of a Configuration would give OVITO the wrong images).
    Returns an ``(M, 3)`` int array, OVITO's ``Periodic Image`` bond property.
    """
    delta = positions[pairs[:, 1], :2] - positions[pairs[:, 0], :2]
    shifts = np.zeros((len(pairs), 3), dtype=np.int32)
    shifts[:, :2] = -np.round(delta / box)
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
    """Colour A orange and B blue and shrink the radii, as in the paper's Fig. 8."""
    type_property = data.particles_.particle_types_
    for type_id in [t.id for t in type_property.types]:
        style = TYPE_STYLE.get(type_id)
        if style is None:
            continue
        name, color, radius = style
        mutable = type_property.type_by_id_(type_id)
        if not mutable.name:
            # name first: naming a type "B" makes OVITO load boron's colour and radius
            mutable.name = name
        mutable.color = color
        mutable.radius = radius
