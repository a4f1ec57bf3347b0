"""Neighbour queries shared by the graphs, the metrics, the baselines and the windows.

In freud's spirit: build a :class:`Neighbors` once from positions (and a periodic box), then
query it. Every k-nearest-neighbour query drops the particle itself *by index*, never by rank:
two particles on the same spot can come back in either order, so "the first hit is the particle
itself" is not guaranteed.

* :meth:`Neighbors.knn` - the directed joins ``i -> its k nearest others``, with distances.
* :meth:`Neighbors.knn_pairs` - the unordered pairs in the union of those relations.
* :meth:`Neighbors.pairs_within` - the unordered pairs closer than a radius (pair potentials).
* :func:`pair_keys` / :func:`pairs_of_keys` - one integer per unordered pair, so a union or a
  group-by over pairs is one ``np.unique`` call.
* :func:`window_members` - which particles lie in square windows of the scaled box.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def pair_keys(sources: np.ndarray, targets: np.ndarray, n_particles: int) -> np.ndarray:
    """One int64 key per unordered pair: ``min(i, j) * n + max(i, j)``."""
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    return np.minimum(sources, targets) * n_particles + np.maximum(sources, targets)


def pairs_of_keys(keys: np.ndarray, n_particles: int) -> np.ndarray:
    """The ``(M, 2)`` pairs ``i <= j`` behind keys from :func:`pair_keys`."""
    keys = np.asarray(keys, dtype=np.int64)
    return np.stack([keys // n_particles, keys % n_particles], axis=1)


def unique_pairs(sources: np.ndarray, targets: np.ndarray, n_particles: int) -> np.ndarray:
    """The undirected union of directed joins: an ``(M, 2)`` array of pairs ``i < j``, each once.

    Self-joins are dropped. Pairs are sorted by ``(i, j)``.
    """
    keys = pair_keys(sources, targets, n_particles)
    keep = np.asarray(sources) != np.asarray(targets)
    return pairs_of_keys(np.unique(keys[keep]), n_particles)


class Neighbors:
    """Nearest-neighbour queries over a fixed set of points, open or periodic.

    Parameters
    ----------
    points : (n, d) array of positions.
    box : None for open boundaries, or the periodic box side lengths; the points must then lie
        in ``[0, box)`` (a :class:`~ovito_glassml.configuration.Configuration` guarantees it).
    """

    def __init__(self, points: np.ndarray, box=None):
        self._points = np.asarray(points, dtype=np.float64)
        self._tree = cKDTree(self._points, boxsize=box)

    @classmethod
    def of(cls, config) -> "Neighbors":
        """The periodic neighbours of a configuration (minimum-image distances)."""
        return cls(config.positions, config.box)

    @property
    def n_points(self) -> int:
        return len(self._points)

    def knn(self, k: int, query_index=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``k`` nearest other points of each queried point.

        Parameters
        ----------
        k : neighbours per point.
        query_index : indices of the points to query; None = all.

        Returns
        -------
        sources, targets : (Q * k,) int64, the directed joins ``source -> target``, grouped by
            source in query order, nearest first.
        distances : (Q * k,) float64 (minimum-image when periodic).
        """
        index = (np.arange(self.n_points) if query_index is None
                 else np.asarray(query_index, dtype=np.int64))
        dist, idx = self._tree.query(self._points[index], k=k + 1)
        # drop the point itself wherever it appears and keep the first k others
        keep = idx != index[:, None]
        keep &= np.cumsum(keep, axis=1) <= k
        sources = np.broadcast_to(index[:, None], idx.shape)[keep]
        return sources.astype(np.int64), idx[keep].astype(np.int64), dist[keep]

    def knn_pairs(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Unordered pairs ``(i < j)`` in the union of the k-nearest-neighbour relations.

        Returns
        -------
        pairs : (P, 2) int64, sorted rows ``i < j``, each unordered pair once.
        distance : (P,) float64.
        """
        sources, targets, distance = self.knn(k)
        keys, first = np.unique(pair_keys(sources, targets, self.n_points), return_index=True)
        return pairs_of_keys(keys, self.n_points), distance[first]


    def pairs_within(self, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """Unordered pairs ``(i < j)`` closer than ``radius`` and their (minimum-image) distances."""
        pairs = self._tree.query_pairs(radius, output_type="ndarray")
        d = self._points[pairs[:, 0]] - self._points[pairs[:, 1]]
        if self._tree.boxsize is not None:
            box = self._tree.boxsize[: self._points.shape[1]]
            d -= box * np.round(d / box)
        return pairs.astype(np.int64), np.sqrt((d * d).sum(axis=1))


def knn_pairs(points: np.ndarray, k: int, boxsize=None) -> tuple[np.ndarray, np.ndarray]:
    """Unordered kNN pairs and their distances of ``points`` (see :meth:`Neighbors.knn_pairs`)."""
    return Neighbors(points, boxsize).knn_pairs(k)


def window_members(scaled: np.ndarray, origins, side) -> np.ndarray:
    """Which points lie in square windows: ``origin <= x <= origin + side`` in every axis.

    Parameters
    ----------
    scaled : (n, d) scaled positions.
    origins : (d,) one lower corner, or (w, d) several.
    side : the windows' side(s) in scaled coordinates, a number or (d,).

    Returns
    -------
    (n,) bool for one origin, (w, n) bool for several.
    """
    origins = np.asarray(origins, dtype=np.float64)
    lower = np.atleast_2d(origins)[:, None, :]
    inside = np.all((scaled[None] >= lower) & (scaled[None] <= lower + side), axis=2)
    return inside[0] if origins.ndim == 1 else inside
