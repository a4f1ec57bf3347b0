"""The 2D Kob-Andersen pair potential, evaluated from a configuration (no LAMMPS needed).

The parameters are those of ``lammps_scripts/ka2d_cool.in`` (LJ units): eps_AA=1.0 sig_AA=1.0,
eps_AB=1.5 sig_AB=0.80, eps_BB=0.5 sig_BB=0.88, cut-offs 2.5 sig_ij, potential not shifted.
:func:`pair_energy_per_particle` gives every particle half of its pair energies, so the mean over
a frame is the potential energy per particle that LAMMPS reports (``e_inst``; ``e_is`` for an
inherent structure), and the mean over a window is the per-window baseline of the reproduction.
"""

from __future__ import annotations

import numpy as np

from .configuration import TYPE_A, TYPE_B, Configuration
from .neighbors import Neighbors

#: (epsilon, sigma) per unordered type pair; cut-off 2.5 sigma.
KOB_ANDERSEN_2D = {(TYPE_A, TYPE_A): (1.0, 1.0), (TYPE_A, TYPE_B): (1.5, 0.80),
                   (TYPE_B, TYPE_B): (0.5, 0.88)}
CUTOFF = 2.5


def pair_energy_per_particle(config: Configuration) -> np.ndarray:
    """Half the unshifted Kob-Andersen pair energy of every particle with all others, ``(N,)``.

    Minimum-image distances in the periodic box; ``mean()`` of the result is the potential energy
    per particle (LAMMPS' ``pe`` with ``thermo_modify norm yes``).
    """
    reach = CUTOFF * max(sigma for _, sigma in KOB_ANDERSEN_2D.values())
    pairs, r = Neighbors.of(config).pairs_within(reach)
    t_lo = np.minimum(config.types[pairs[:, 0]], config.types[pairs[:, 1]])
    t_hi = np.maximum(config.types[pairs[:, 0]], config.types[pairs[:, 1]])
    eps = np.zeros(len(r))
    sig = np.ones(len(r))
    for (a, b), (e, s) in KOB_ANDERSEN_2D.items():
        mask = (t_lo == a) & (t_hi == b)
        eps[mask], sig[mask] = e, s
    inside = r < CUTOFF * sig
    sr6 = (sig / r) ** 6
    energy = np.where(inside, 4.0 * eps * (sr6 * sr6 - sr6), 0.0)
    per = np.zeros(config.n_particles)
    np.add.at(per, pairs[:, 0], 0.5 * energy)
    np.add.at(per, pairs[:, 1], 0.5 * energy)
    return per
