"""The D-MPNN's input recipe: how a configuration becomes the graph a model reads.

One :class:`GraphSpec` holds everything that must be the same when a model is trained and when
it is used: the system it reads (:class:`~ovito_glassml.system.System`: dimension, types, length
unit), the number of neighbours ``k``, the node-feature mode, the length scale and the window
length ``l_win``. It is validated once, when it is made, travels as one object through
training, the model folder (the ``graph`` section of ``config.json``, see
:mod:`ovito_glassml.models.store`) and inference, and has its defaults here only.

This module imports neither torch nor scipy, so the model folder can be read cheaply.

Node features
-------------
A feature mode is one entry of :data:`FEATURE_MODES`: its number of features and the function
that computes them from the particle types and scaled positions. A new mode is one new entry.

* ``"paper"``: ``(x, y, [z,] one-hot type)``, with ``x, y, z`` the scaled coordinates of the
  particle in its frame (position / box side, in [0, 1)) and the particle type one-hot encoded
  over the system's types. As in the paper, this makes the model depend on where a particle
  sits in the box.
* ``"invariant"``: the one-hot type only. Edges carry the distance, so the model is exactly
  invariant to rotations, reflections and translations (which the paper's ``x, y`` break).
  The default.

Edge features
-------------
A mode of :data:`EDGE_FEATURE_MODES`:

* ``"rbf"`` (default): the distance in the system's length unit (sigma_AA for Kob-Andersen, the
  mean nearest-neighbour distance for a user's system; *not* divided by the length scale)
  expanded in :data:`NUM_RBF` Gaussians with centres from :data:`RBF_MIN` to :data:`RBF_MAX`,
  one block of them per unordered pair of types (A-A, A-B, B-B for a binary; ``n (n + 1) / 2``
  for ``n`` types): ``n_pair_types * NUM_RBF`` features, of which the block of the edge's pair
  type is non-zero. A network
  reads the shape of the pair-distance distribution per pair type from these directly (a linear
  layer on them is any smooth function of the distance, per pair type); the paper's one number
  per edge, the distance divided by the box (~0.017 for neighbours), it learns to ignore.
* ``"distance"``: the paper's single feature, the distance divided by the length scale.

Neighbours
----------
A mode of :data:`NEIGHBOR_MODES`:

* ``"frame"`` (default): the k nearest neighbours are found in the whole periodic frame; a window
  is the part of that graph inside it. A particle at the edge of a window keeps the distances to
  its true neighbours, so a window, the windows tiling a frame and the whole frame read the same
  local structure, and the model's output does not depend on the graph's size.
* ``"window"``: the paper's: the k nearest neighbours among the particles of the cut-out window
  (open boundaries), so a window's edge has neighbours a whole frame does not.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable

import numpy as np

from .errors import InputError
from .system import KOB_ANDERSEN_2D, System


def _type_one_hot(type_index: np.ndarray, system: System) -> np.ndarray:
    return np.eye(system.n_types, dtype=np.float32)[type_index]


def _paper_features(type_index: np.ndarray, scaled: np.ndarray, system: System) -> np.ndarray:
    return np.concatenate([scaled.astype(np.float32), _type_one_hot(type_index, system)], axis=1)


def _invariant_features(type_index: np.ndarray, scaled: np.ndarray, system: System) -> np.ndarray:
    return _type_one_hot(type_index, system)


@dataclass(frozen=True)
class FeatureMode:
    """A node-feature mode: its number of features for a system, and how they are computed."""

    dim: Callable[[System], int]
    compute: Callable[[np.ndarray, np.ndarray, System], np.ndarray]


#: Node-feature modes by name; ``compute(type_index, scaled_positions, system) -> (n, dim)``.
FEATURE_MODES: dict[str, FeatureMode] = {
    "paper": FeatureMode(lambda system: system.dimension + system.n_types, _paper_features),
    "invariant": FeatureMode(lambda system: system.n_types, _invariant_features),
}


#: Gaussian radial basis of the "rbf" edge features, in the simulation's length unit (sigma_AA).
NUM_RBF = 16
RBF_MIN = 0.6
RBF_MAX = 2.0
RBF_CENTERS = np.linspace(RBF_MIN, RBF_MAX, NUM_RBF)
RBF_WIDTH = float(RBF_CENTERS[1] - RBF_CENTERS[0])


def _distance_edges(distance: np.ndarray, index_i: np.ndarray, index_j: np.ndarray,
                    scale: float, system: System) -> np.ndarray:
    return (distance / scale).astype(np.float32)[:, None]


def _rbf_edges(distance: np.ndarray, index_i: np.ndarray, index_j: np.ndarray,
               scale: float, system: System) -> np.ndarray:
    r = distance / system.length_unit
    rbf = np.exp(-np.square((r[:, None] - RBF_CENTERS[None, :]) / RBF_WIDTH))
    pair_type = system.pair_type(index_i, index_j)
    out = np.zeros((len(distance), system.n_pair_types, NUM_RBF), dtype=np.float32)
    out[np.arange(len(distance)), pair_type] = rbf
    return out.reshape(len(distance), system.n_pair_types * NUM_RBF)


@dataclass(frozen=True)
class EdgeFeatureMode:
    """An edge-feature mode: its width for a system, and
    ``compute(distance, type_index_i, type_index_j, length_scale, system) -> (E, dim)``."""

    dim: Callable[[System], int]
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray, float, System], np.ndarray]


#: Edge-feature modes by name.
EDGE_FEATURE_MODES: dict[str, EdgeFeatureMode] = {
    "rbf": EdgeFeatureMode(lambda system: system.n_pair_types * NUM_RBF, _rbf_edges),
    "distance": EdgeFeatureMode(lambda system: 1, _distance_edges),
}
#: Where the k nearest neighbours of a window's particles are looked for.
NEIGHBOR_MODES = ("frame", "window")


def _feature_mode(features: str) -> FeatureMode:
    if features not in FEATURE_MODES:
        raise InputError(f"node features must be one of {tuple(FEATURE_MODES)}, got {features!r}")
    return FEATURE_MODES[features]


def node_feature_dim(features: str, system: System = KOB_ANDERSEN_2D) -> int:
    """Number of node features of a feature mode for a system (2D binary: 4 for "paper", 2 for
    "invariant")."""
    return _feature_mode(features).dim(system)


@dataclass(frozen=True)
class GraphSpec:
    """How a configuration becomes a graph (the model's input recipe).

    Parameters
    ----------
    num_neighbors : int
        ``k``: each particle is joined to its ``k`` nearest neighbours (paper: 1..5).
    features : str
        Node-feature mode, a key of :data:`FEATURE_MODES` ("invariant" or "paper"; the paper's
        (x, y) make the model depend on where a window sits and it learns worse).
    edge_features : str
        Edge-feature mode, a key of :data:`EDGE_FEATURE_MODES` ("rbf" or the paper's "distance").
    neighbors : str
        "frame" (neighbours from the whole periodic frame) or "window" (the paper's: inside the
        cut-out window); see :data:`NEIGHBOR_MODES`.
    length_scale : float or None
        The length that is 1 in window lengths and the paper's distance edges (see
        :mod:`ovito_glassml.graphs`), in the frames' own unit. ``None``: the configuration's own
        box side (the geometric mean of its sides), which is the paper's scaled coordinates.
    window_length : float
        ``l_win`` in (0, 1]: the side of the square (2D) or cubic (3D) windows, in units of the
        length scale (paper: 0.1-0.3).
    system : the :class:`~ovito_glassml.system.System` the model reads (dimension, type ids and
        names, length unit); default the paper's 2D Kob-Andersen mixture in sigma units.

    Raises :class:`InputError` for a value outside these ranges.
    """

    num_neighbors: int = 4
    features: str = "invariant"
    length_scale: float | None = None
    window_length: float = 0.2
    edge_features: str = "rbf"
    neighbors: str = "frame"
    system: System = KOB_ANDERSEN_2D

    def __post_init__(self):
        if not isinstance(self.system, System):
            raise InputError(f"system must be a System, got {self.system!r}")
        k = self.num_neighbors
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"num_neighbors (k) must be an integer >= 1, got {k!r}")
        object.__setattr__(self, "num_neighbors", int(k))
        _feature_mode(self.features)
        if self.edge_features not in EDGE_FEATURE_MODES:
            raise InputError(f"edge features must be one of {tuple(EDGE_FEATURE_MODES)}, got "
                             f"{self.edge_features!r}")
        if self.neighbors not in NEIGHBOR_MODES:
            raise InputError(f"neighbors must be one of {NEIGHBOR_MODES}, got {self.neighbors!r}")
        if self.length_scale is not None:
            try:
                scale = float(self.length_scale)
            except (TypeError, ValueError):
                scale = float("nan")
            if not np.isfinite(scale) or scale <= 0:
                raise InputError(f"length_scale must be a positive length, got {self.length_scale!r}")
            object.__setattr__(self, "length_scale", scale)
        try:
            l_win = float(self.window_length)
        except (TypeError, ValueError):
            l_win = float("nan")
        if not (0.0 < l_win <= 1.0):
            raise InputError(f"window length l_win must be in (0, 1], got {self.window_length!r}")
        object.__setattr__(self, "window_length", l_win)

    @property
    def node_dim(self) -> int:
        """Number of node features."""
        return node_feature_dim(self.features, self.system)

    @classmethod
    def paper(cls, num_neighbors: int = 2, **changes) -> "GraphSpec":
        """The paper's recipe: (x, y, type) nodes, distance / box edges, kNN inside the window."""
        return cls(num_neighbors, **dict(dict(features="paper", edge_features="distance",
                                              neighbors="window"), **changes))

    @property
    def edge_dim(self) -> int:
        """Number of edge features."""
        return EDGE_FEATURE_MODES[self.edge_features].dim(self.system)

    def edge_attributes(self, distance: np.ndarray, index_i: np.ndarray, index_j: np.ndarray,
                        scale: float) -> np.ndarray:
        """``(E, edge_dim)`` float32 edge features of pairs at ``distance`` (physical units)
        between particles of type indices ``index_i`` and ``index_j`` (see
        :meth:`~ovito_glassml.system.System.type_index`)."""
        return EDGE_FEATURE_MODES[self.edge_features].compute(
            np.asarray(distance, dtype=np.float64), index_i, index_j, float(scale), self.system)

    def node_features(self, type_index: np.ndarray, scaled: np.ndarray) -> np.ndarray:
        """``(n, node_dim)`` float32 node features from type indices and scaled positions."""
        return _feature_mode(self.features).compute(type_index, scaled, self.system)

    def scale_for(self, config) -> float:
        """The length scale ``L`` used for ``config``."""
        if self.length_scale is not None:
            return self.length_scale
        return float(np.prod(config.box) ** (1.0 / config.dimension))

    def with_window_length(self, window_length: float) -> "GraphSpec":
        """The same recipe with another ``l_win`` (e.g. to test a model on other window sizes)."""
        return replace(self, window_length=window_length)

    def with_system(self, system: System) -> "GraphSpec":
        """The same recipe for another system (e.g. the one measured from training data)."""
        return replace(self, system=system)

    def to_dict(self) -> dict:
        """The ``graph`` section of a model folder's ``config.json`` (the system is its own
        section, :meth:`System.to_dict <ovito_glassml.system.System.to_dict>`)."""
        return {name: getattr(self, name) for name in self.field_names()}

    @classmethod
    def from_dict(cls, values, system: System = KOB_ANDERSEN_2D) -> "GraphSpec":
        """Read a ``graph`` section back; missing keys take the defaults, unknown keys are errors."""
        if not isinstance(values, dict):
            raise InputError(f"the graph recipe must be a JSON object, got {values!r}")
        names = set(cls.field_names())
        unknown = sorted(set(values) - names)
        if unknown:
            raise InputError(f"the graph recipe has unknown keys {unknown}; known are "
                             f"{sorted(names)} (written by a newer ovito-glassml?)")
        return cls(**values, system=system)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The recipe's own fields (the ``graph`` section), without the system."""
        return tuple(f.name for f in fields(cls) if f.name != "system")
