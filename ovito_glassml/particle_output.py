"""Per-particle results of a trajectory as one multi-frame LAMMPS text dump.

``glassml classify --per-particle`` writes ``particles.dump.gz``: every frame in input order, its
particles in the order of their ids, with the columns

``id type x y [z]``
    as read (positions wrapped into the box, whose lower corner is the origin);
``glass_probability``
    the particle's local glass probability: the mean probability of the model's windows that
    contain it (the classifier modifier's ``Glass Probability``);
``attention``
    the mean relative attention of the particle's bonds in the model's graph of the whole frame
    (1 = uniform attention; the attention modifier's ``Relative Attention``), NaN without bonds;
``high_attention_bonds``
    how many of its bonds are above the high-attention cutoff (paper Fig. 9).

OVITO opens it as a trajectory (the extra columns become particle properties to colour by) and
``glassml`` reads it back like any dump.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

#: The per-particle columns after ``id type x y [z]``.
PARTICLE_COLUMNS = ("glass_probability", "attention", "high_attention_bonds")
PARTICLES_FILE = "particles.dump.gz"


def particle_values(data, n_particles: int) -> dict[str, np.ndarray]:
    """The per-particle columns from a frame the classifier and attention modifiers ran on."""
    values = {"glass_probability": np.asarray(data.particles["Glass Probability"], dtype=float)}
    bonds = data.particles.bonds
    if bonds is not None and "Relative Attention" in bonds:
        pairs = np.asarray(bonds["Topology"]).ravel()
        relative = np.repeat(np.asarray(bonds["Relative Attention"], dtype=float), 2)
        high = np.repeat(np.asarray(bonds["High Attention"], dtype=float), 2)
        count = np.bincount(pairs, minlength=n_particles)
        with np.errstate(invalid="ignore"):
            values["attention"] = np.bincount(pairs, relative, n_particles) / count
        values["high_attention_bonds"] = np.bincount(pairs, high, n_particles).astype(int)
    return values


class ParticleDump:
    """A multi-frame LAMMPS text dump (gzipped) written frame by frame.

    Open it on a path inside a staging folder (:func:`~ovito_glassml.fileio.replaced_folder`):
    the file becomes the output together with the rest, so an interrupt leaves none half-written.
    """

    def __init__(self, path):
        self.path = Path(path)
        # mtime 0: the same frames give the same bytes
        self._raw = open(self.path, "wb")
        self._file = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        self.frames = 0

    def write(self, config, timestep: int, ids, values: dict[str, np.ndarray]) -> None:
        """One frame: ``config``'s particles with their ``ids`` and per-particle ``values``."""
        dim = config.dimension
        ids = np.arange(1, config.n_particles + 1) if ids is None else np.asarray(ids)
        names = [name for name in PARTICLE_COLUMNS if name in values]
        z_bounds = f"0 {float(config.box[2])!r}" if dim == 3 else "-0.5 0.5"
        axes = ["x", "y", "z"][:dim]
        header = ["ITEM: TIMESTEP", str(int(timestep)), "ITEM: NUMBER OF ATOMS",
                  str(config.n_particles), "ITEM: BOX BOUNDS pp pp pp",
                  f"0 {float(config.box[0])!r}", f"0 {float(config.box[1])!r}",
                  z_bounds,
                  "ITEM: ATOMS " + " ".join(["id", "type", *axes, *names])]
        columns = [ids, config.types, *config.positions.T, *(values[n] for n in names)]
        formats = ["%d", "%d"] + ["%.6f"] * dim + ["%d" if n == "high_attention_bonds" else "%.6g"
                                                  for n in names]
        self._file.write(("\n".join(header) + "\n").encode())
        np.savetxt(self._file, np.column_stack(columns), fmt=formats)
        self.frames += 1

    def close(self) -> None:
        self._file.close()
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
