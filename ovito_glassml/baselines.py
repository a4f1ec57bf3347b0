"""Physics baselines beside the learned classifiers: per-particle bond order and Voronoi topology.

In 2D the hexatic order |psi6| and six-neighbour Voronoi cells; in 3D their counterparts, the
Steinhardt order q6 (freud's :class:`freud.order.Steinhardt` over the 12 nearest neighbours) and
the icosahedral Voronoi cells, index <0,0,12,0> (OVITO's Voronoi analysis). The ``glassml
experiment`` studies (:mod:`ovito_glassml.training.experiments`,
:mod:`ovito_glassml.training.window_baselines`) score them as one-number classifiers on frames
and windows; they need no model and no training code.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import Voronoi

from .configuration import Configuration
from .neighbors import Neighbors, window_members


def psi6_magnitude(config: Configuration, num_neighbors: int = 6) -> np.ndarray:
    """|psi6| of every particle over its ``num_neighbors`` nearest neighbours (periodic).

    ``psi6_j = (1/k) sum_k exp(6 i theta_jk)``, with ``theta_jk`` the angle of the minimum-image
    bond from j to neighbour k.
    """
    pos = config.positions
    # the particle itself is dropped by index, not by rank (coincident particles)
    _, nbr, _ = Neighbors.of(config).knn(num_neighbors)
    nbr = nbr.reshape(len(pos), num_neighbors)
    d = pos[nbr] - pos[:, None, :]
    d -= config.box * np.round(d / config.box)
    theta = np.arctan2(d[..., 1], d[..., 0])
    return np.abs(np.exp(6j * theta).mean(axis=1))


def voronoi_neighbor_counts(config: Configuration, margin: float = 4.0) -> np.ndarray:
    """Number of Voronoi neighbours (cell edges) of every particle, with periodic images.

    Images of the particles within ``margin`` of a box edge are added around the box (all eight
    neighbouring copies), which completes the cells of the particles near the edges.
    """
    pos = np.asarray(config.positions, dtype=float)
    box = np.asarray(config.box, dtype=float)
    n = len(pos)
    margin = float(min(margin, box.min() / 2))
    shifts = np.array([(sx, sy) for sx in (-1, 0, 1) for sy in (-1, 0, 1) if (sx, sy) != (0, 0)])
    images = pos[None, :, :] + shifts[:, None, :] * box            # (8, n, 2)
    keep = np.all((images > -margin) & (images < box + margin), axis=2)
    points = np.concatenate([pos, images[keep]])
    ridges = Voronoi(points).ridge_points
    ridges = ridges[(ridges < n).any(axis=1)]
    return np.bincount(ridges[ridges < n], minlength=n)


def steinhardt_q6(config: Configuration, num_neighbors: int = 12) -> np.ndarray:
    """Steinhardt's q6 of every particle over its ``num_neighbors`` nearest neighbours (periodic,
    3D; freud). About 0.57 in an fcc crystal, 0.66 in an icosahedron, ~0.3-0.4 in a liquid."""
    import freud

    if config.dimension != 3:
        raise ValueError("q6 is the 3D bond order; use psi6_magnitude for 2D frames")
    box = freud.box.Box(*config.box)
    points = config.positions - config.box / 2    # freud's boxes are centred on the origin
    steinhardt = freud.order.Steinhardt(l=6)
    steinhardt.compute((box, points), neighbors={"num_neighbors": int(num_neighbors),
                                                 "exclude_ii": True})
    return np.asarray(steinhardt.particle_order, dtype=float)


def icosahedral_cells(config: Configuration) -> np.ndarray:
    """Whether each particle's Voronoi cell is an icosahedron, index <0,0,12,0> (3D, periodic;
    OVITO's Voronoi analysis): the locally favoured structure of Kob-Andersen and metallic glasses."""
    from ovito.modifiers import VoronoiAnalysisModifier

    from .ovito_data import frame_data

    if config.dimension != 3:
        raise ValueError("Voronoi indices are 3D; use voronoi_neighbor_counts for 2D frames")
    data = frame_data(config)
    data.apply(VoronoiAnalysisModifier(compute_indices=True))
    # the index is (n1, n2, n3, n4, n5, n6, ...): faces with 1, 2, 3, ... edges
    index = np.asarray(data.particles["Voronoi Index"])
    wanted = np.zeros(index.shape[1], dtype=index.dtype)
    wanted[4] = 12
    return np.all(index == wanted, axis=1)


def crystalline_fraction(config: Configuration) -> float:
    """Fraction of particles in an fcc, hcp or bcc environment (3D; OVITO's adaptive common
    neighbour analysis): how much of a Kob-Andersen glass has crystallised (A-rich fcc regions
    grow below T = 0.4 on slow cooling). 0 for a glass, ~1 for a crystal."""
    from ovito.modifiers import CommonNeighborAnalysisModifier

    from .ovito_data import frame_data

    if config.dimension != 3:
        raise ValueError("the common neighbour analysis here is the 3D one")
    data = frame_data(config)
    data.apply(CommonNeighborAnalysisModifier())
    kind = np.asarray(data.particles["Structure Type"])
    crystal = [CommonNeighborAnalysisModifier.Type.FCC, CommonNeighborAnalysisModifier.Type.HCP,
               CommonNeighborAnalysisModifier.Type.BCC]
    return float(np.isin(kind, [int(t) for t in crystal]).mean())


def bond_order(config: Configuration) -> np.ndarray:
    """The per-particle bond order of the frame's dimension: |psi6| in 2D, q6 in 3D."""
    return psi6_magnitude(config) if config.dimension == 2 else steinhardt_q6(config)


def favoured_cells(config: Configuration) -> np.ndarray:
    """1.0 where a particle's Voronoi cell is the locally favoured one (six neighbours in 2D,
    an icosahedron in 3D), else 0.0."""
    if config.dimension == 2:
        return (voronoi_neighbor_counts(config) == 6).astype(float)
    return icosahedral_cells(config).astype(float)


def window_means(config: Configuration, values: np.ndarray, side, windows: int,
                 rng) -> tuple[np.ndarray, float]:
    """Means of per-particle ``values`` over ``windows`` random windows of scaled side ``side``.

    Windows are drawn as the D-MPNN's (lower corner uniform in ``[0, 1 - side]``). Returns the
    per-window means and the mean number of particles per window.
    """
    dim = config.dimension
    side = np.broadcast_to(np.asarray(side, dtype=float), (dim,))
    origins = rng.uniform(0.0, 1.0, size=(windows, dim)) * (1.0 - side)
    inside = window_members(config.scaled_positions(), origins, side)
    count = inside.sum(axis=1)
    return (inside @ values) / np.maximum(count, 1), float(count.mean())
