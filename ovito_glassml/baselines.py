"""Physics baselines beside the learned classifiers: per-particle hexatic order and Voronoi topology.

The ``glassml experiment baselines`` study (:mod:`ovito_glassml.training.experiments`) scores
them as one-number classifiers on frames and windows; they need no model and no training code.
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


def window_means(config: Configuration, values: np.ndarray, side, windows: int,
                 rng) -> tuple[np.ndarray, float]:
    """Means of per-particle ``values`` over ``windows`` random windows of scaled side ``side``.

    Windows are drawn as the D-MPNN's (lower corner uniform in ``[0, 1 - side]``). Returns the
    per-window means and the mean number of particles per window.
    """
    side = np.broadcast_to(np.asarray(side, dtype=float), (2,))
    origins = rng.uniform(0.0, 1.0, size=(windows, 2)) * (1.0 - side)
    inside = window_members(config.scaled_positions(), origins, side)
    count = inside.sum(axis=1)
    return (inside @ values) / np.maximum(count, 1), float(count.mean())
