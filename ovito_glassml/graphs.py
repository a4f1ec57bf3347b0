"""Particle configurations as k-nearest-neighbour graphs for the D-MPNN (paper §2.4.2).

A graph is one :class:`ParticleGraph` (a torch-geometric ``Data``): every particle a node, every
unordered pair in the union of the kNN relations two directed edges, the edge feature their
distance. Three ways to cut a configuration into a graph:

* :func:`window_graph` - the paper's augmentation: a random square (2D) or cubic (3D) window of
  side ``l_win``.
* :func:`window_graph_at` - the same window at a given origin (used to tile a frame, see
  :func:`window_origins`).
* :func:`frame_graph` - the whole periodic frame, neighbours and distances by minimum image.

Units (one definition for windows, frames and boxes of any size)
----------------------------------------------------------------
Window lengths are measured in a *length scale* ``L`` fixed by the model, not by the frame:
``GraphSpec.length_scale`` (``None`` means the frame's own box side, the geometric mean of its
sides). Distances in the default "rbf" edges are measured in the system's length unit
(:class:`~ovito_glassml.system.System`); the paper's "distance" edge is the distance over ``L``.

* A window of length ``l_win`` is a square (2D) or cube (3D) of physical side ``l_win * L``. In
  the paper ``L`` is the box, so the window is ``l_win`` of the box side in scaled coordinates.
* The trainer stores ``L`` in the model folder's recipe: the side of the square or cube that
  holds 4320 particles at the training frames' density, 5 x the side holding 173 (60 sigma for
  the paper's 2D mixture, its box; 26 sigma for 3D Kob-Andersen), so ``l_win = 0.2`` holds about
  173 particles in 2D and in 3D.

So the same model sees the same physical neighbourhoods and the same edge-feature values on a
window of its training box, on a whole periodic frame, and on a smaller or larger box: a window
is always ``l_win * L`` wide, never a fixed fraction of whatever box it is cut from.

The recipe (``k``, node features, length scale, ``l_win``) is one
:class:`~ovito_glassml.graph_spec.GraphSpec`; node-feature modes are listed in
:data:`~ovito_glassml.graph_spec.FEATURE_MODES`, and neighbours come from
:mod:`ovito_glassml.neighbors`.

Every graph keeps ``particle_index``: for node ``i``, the index of its particle in the source
:class:`~ovito_glassml.configuration.Configuration`. Edge ``e`` joins particles
``particle_index[edge_index[0, e]] -> particle_index[edge_index[1, e]]``; edges ``e`` and
``rev_index[e]`` are the two directions of one pair. Batching with
``torch_geometric.data.Batch.from_data_list`` offsets ``rev_index`` by edges and leaves
``particle_index`` untouched.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from .configuration import Configuration
from .errors import InputError
from .graph_spec import FEATURE_MODES, GraphSpec, node_feature_dim
from .neighbors import Neighbors, knn_pairs, window_members

__all__ = ["FEATURE_MODES", "FrameGraphs", "GraphSpec", "ParticleGraph", "frame_graph", "knn_pairs",
           "node_feature_dim", "window_graph", "window_graph_at", "window_origins", "window_side"]


class ParticleGraph(Data):
    """A torch-geometric ``Data`` whose ``rev_index`` batches by edges, ``particle_index`` not at all.

    Attributes
    ----------
    x : (n, F) float32 node features.
    edge_index : (2, E) int64, source and target node of every directed edge.
    edge_attr : (E, edge_dim) float32, the pair features of the recipe (see
        :mod:`ovito_glassml.graph_spec`).
    rev_index : (E,) int64, the edge in the opposite direction.
    particle_index : (n,) int64, the particle of the source configuration behind each node.
    """

    def __inc__(self, key, value, *args, **kwargs):
        if key == "rev_index":
            return self.num_edges
        if key == "particle_index":
            return 0
        return super().__inc__(key, value, *args, **kwargs)


def _assemble(pairs: np.ndarray, pair_attr: np.ndarray, x: np.ndarray,
              particle_index: np.ndarray) -> ParticleGraph:
    """Directed edges: all pairs ``i -> j`` first, then the same pairs ``j -> i``.

    ``pair_attr`` is ``(P, D)``: the features of each unordered pair, symmetric in ``i, j``.
    """
    n_pairs = len(pairs)
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    rev = np.concatenate([np.arange(n_pairs, 2 * n_pairs), np.arange(n_pairs)])
    edge_attr = np.concatenate([pair_attr, pair_attr]).astype(np.float32, copy=False)
    return ParticleGraph(
        x=torch.from_numpy(np.ascontiguousarray(x)),
        edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
        edge_attr=torch.from_numpy(np.ascontiguousarray(edge_attr)),
        rev_index=torch.from_numpy(rev.astype(np.int64)),
        particle_index=torch.from_numpy(np.asarray(particle_index, dtype=np.int64)),
        num_nodes=len(x),
    )


def _check_config(config: Configuration) -> None:
    if not np.all(np.isfinite(config.positions)):
        raise InputError("the configuration has NaN or infinite coordinates; fix the input file")


def window_side(config: Configuration, spec: GraphSpec) -> np.ndarray:
    """The window's side in scaled coordinates of ``config`` (per axis), ``l_win * L / box``.

    Raises :class:`InputError` if the window is wider than the box.
    """
    scale = spec.scale_for(config)
    side = spec.window_length * scale / config.box
    if np.any(side > 1.0 + 1e-12):
        raise InputError(
            f"a window of l_win={spec.window_length} x length scale {scale:g} is wider than the "
            f"box {config.box.tolist()}; use a smaller l_win or a larger box")
    return np.minimum(side, 1.0)


class FrameGraphs:
    """Every graph a model reads from one configuration, sharing one neighbour search.

    With ``spec.neighbors == "frame"`` the k-nearest-neighbour pairs of the whole periodic frame
    and their distances are computed once, on first use; the whole frame, a window and the
    windows tiling the frame are then cut from them (a window keeps the pairs whose two
    particles lie inside it). With ``"window"`` (the paper's) every window searches its own
    particles' neighbours with open boundaries.

    Parameters
    ----------
    config : the configuration; one written in other length units than the model's training
        frames is read in the model's (:meth:`~ovito_glassml.system.System.in_units_of`).
    spec : the graph recipe.
    """

    def __init__(self, config: Configuration, spec: GraphSpec):
        _check_config(config)
        config = spec.system.in_units_of(config)
        self.config = config
        self.spec = spec
        # the model's system refuses a frame of another dimension or with a type it never saw
        self._type_index = spec.system.check(config)
        self._scale = spec.scale_for(config)
        self._scaled = config.scaled_positions()
        self._x = None
        self._pairs = None
        self._distance = None

    def _node_features(self, index=None) -> np.ndarray:
        if self._x is None:
            self._x = self.spec.node_features(self._type_index, self._scaled)
        return self._x if index is None else self._x[index]

    def _frame_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        if self._pairs is None:
            k = self.spec.num_neighbors
            if self.config.n_particles < k + 1:
                raise InputError(f"the frame has {self.config.n_particles} particles, fewer than "
                                 f"k+1={k + 1}")
            self._pairs, self._distance = Neighbors.of(self.config).knn_pairs(k)
        return self._pairs, self._distance

    def _graph(self, pairs, distance, index, local_pairs) -> ParticleGraph:
        """``pairs`` in particle indices (for the types), ``local_pairs`` in node indices."""
        index_of = self._type_index
        attr = self.spec.edge_attributes(distance, index_of[pairs[:, 0]], index_of[pairs[:, 1]],
                                         self._scale)
        return _assemble(local_pairs, attr, self._node_features(index), index)

    def whole(self) -> ParticleGraph:
        """The whole periodic frame: every particle a node, minimum-image neighbours."""
        pairs, distance = self._frame_pairs()
        index = np.arange(self.config.n_particles)
        return self._graph(pairs, distance, index, pairs)

    def side(self) -> np.ndarray:
        """The windows' side in scaled coordinates (see :func:`window_side`)."""
        return window_side(self.config, self.spec)

    def window_at(self, origin) -> ParticleGraph:
        """The window whose lower corner is ``origin`` (scaled, each in ``[0, 1 - side]``).

        Particles with ``origin <= x <= origin + side`` in every axis are kept; the window does
        not wrap around the box (paper).
        """
        side = self.side()
        dim = self.config.dimension
        origin = np.asarray(origin, dtype=np.float64).reshape(-1)
        if origin.shape != (dim,) or not np.all(np.isfinite(origin)):
            raise InputError(f"window origin must be {dim} finite scaled coordinates, got {origin}")
        if np.any(origin < -1e-12) or np.any(origin > 1.0 - side + 1e-12):
            raise InputError(f"window origin {origin.tolist()} puts the window outside the box; "
                             f"each coordinate must be in [0, {(1.0 - side).round(6).tolist()}]")
        inside = window_members(self._scaled, origin, side)
        index = np.flatnonzero(inside)
        k = self.spec.num_neighbors
        where = f"the window at {origin.round(4).tolist()} (l_win={self.spec.window_length})"
        if len(index) < k + 1:
            raise InputError(f"{where} holds {len(index)} particles, fewer than k+1={k + 1}; use a "
                             "larger l_win or a smaller k")
        if self.spec.neighbors == "window":
            local_pairs, distance = Neighbors(self.config.positions[index]).knn_pairs(k)
            return self._graph(index[local_pairs], distance, index, local_pairs)
        frame_pairs, frame_distance = self._frame_pairs()
        keep = inside[frame_pairs[:, 0]] & inside[frame_pairs[:, 1]]
        local = np.full(self.config.n_particles, -1, dtype=np.int64)
        local[index] = np.arange(len(index))
        pairs = frame_pairs[keep]
        return self._graph(pairs, frame_distance[keep], index, local[pairs])

    def random_window(self, rng=None) -> ParticleGraph:
        """The paper's augmentation: a window whose corner is uniform in ``[0, 1 - side]``."""
        return self.window_at(random_origin(np.random.default_rng(rng), self.side()))

    def tiles(self) -> list[ParticleGraph]:
        """The windows tiling the frame (see :func:`window_origins`)."""
        return [self.window_at(o) for o in window_origins(self.config, self.spec)]

    def tile_members(self) -> np.ndarray:
        """``(W, N)`` float32 0/1 matrix: which particles lie in each tiling window."""
        origins = window_origins(self.config, self.spec)
        return window_members(self._scaled, origins, self.side()).astype(np.float32)


def random_origin(rng: np.random.Generator, side) -> np.ndarray:
    """One random window corner (scaled), uniform in ``[0, 1 - side]`` per axis: the draw of
    :meth:`FrameGraphs.random_window`, shared by whatever must see the same windows."""
    side = np.asarray(side, dtype=np.float64)
    return rng.uniform(0.0, 1.0, size=side.shape) * (1.0 - side)


def window_graph_at(config: Configuration, origin, spec: GraphSpec) -> ParticleGraph:
    """The graph of the particles in the square window whose lower corner is ``origin``.

    Parameters
    ----------
    config : the configuration.
    origin : (d,) lower corner in scaled coordinates of ``config``, each in ``[0, 1 - side]``
        (``side`` from :func:`window_side`); the window does not wrap around the box (paper).
    spec : graph recipe; the window is ``spec.window_length * L`` wide (see module docstring).

    To cut several windows from one frame, build one :class:`FrameGraphs` and reuse it.
    """
    return FrameGraphs(config, spec).window_at(origin)


def window_graph(config: Configuration, spec: GraphSpec, rng=None) -> ParticleGraph:
    """The paper's augmentation: the graph of a random square or cubic window of length ``l_win``.

    The lower corner is drawn uniformly from ``[0, 1 - side]`` in each axis independently
    (paper §2.4.2); ``rng`` is a ``numpy.random.Generator`` or a seed.
    """
    return FrameGraphs(config, spec).random_window(rng)


def window_origins(config: Configuration, spec: GraphSpec) -> np.ndarray:
    """Lower corners (scaled) of windows that tile ``config`` completely, overlapping evenly.

    ``ceil(1 / side)`` windows per axis, spread from 0 to ``1 - side``; every particle lies in at
    least one window. Returns an (n, d) array; x varies fastest, then y (then z).
    """
    side = window_side(config, spec)
    counts = np.ceil(1.0 / side - 1e-9).astype(int)
    axes = [np.linspace(0.0, 1.0 - s, c) if c > 1 else np.zeros(1) for s, c in zip(side, counts)]
    grids = np.meshgrid(*axes[::-1], indexing="ij")[::-1]
    return np.stack([g.ravel() for g in grids], axis=1)


def frame_graph(config: Configuration, spec: GraphSpec) -> ParticleGraph:
    """The graph of the whole periodic frame: minimum-image neighbours and distances.

    Every particle is a node (``particle_index`` is ``0..N-1``).
    """
    return FrameGraphs(config, spec).whole()
