"""The paper's three structural metrics (no machine learning) and the attention-graph counts of Fig. 9.

Both are counts on a graph whose vertices are *all* particles of a configuration, in 2D or 3D.
The paper's mixture has two types, A and B; for any mixture, **B is the species with the fewest
particles** (the minority: B in both Kob-Andersen mixtures, also the smaller particle there; on a
tie the larger type id) unless the caller names a type, and **A is every other particle**. For a
binary mixture this is the paper's definition exactly.

**B-particle graph** (paper §3.2, Fig. 10), :class:`GlassGraphMetrics`
    Every type-B particle is joined to its ``num_neighbors`` (paper: 2) nearest particles of any
    type, by periodic minimum-image distance. A type-A particle gets no joins of its own: it is
    on an edge only if it is among the nearest neighbours of some B particle. The edge set is
    the *undirected union* of these joins: when two B particles are each other's neighbours the
    pair is one edge, not two.

**High-attention graph** (paper Fig. 9), :class:`AttentionGraphCounts`
    The edges of the D-MPNN's k-nearest-neighbour graph whose attention weight is above a cutoff;
    a pair joined in both directions carries the larger of its two directed weights (the edge the
    paper draws in Fig. 8).

On either graph we count

``num_disjoint_graphs``
    connected components that contain at least one edge. A particle on no edge is *not* a graph:
    the paper defines a disjoint graph as "a subset of the particles ... connected by high
    attention edges" and counts particles on no edge separately, as isolated particles ("isolated
    from high attention weight graphs"). Counting them as one-particle graphs too would count the
    same particles twice, in two metrics.
``num_bb_edges``
    undirected edges whose two ends are both type B, each pair once.
``num_isolated_a`` (and ``num_isolated_b`` for the attention graph)
    type-A (type-B) particles on no edge. In the B-particle graph every B particle has edges, so
    only A particles can be isolated.

Everything is vectorised: one periodic neighbour query (:mod:`ovito_glassml.neighbors`) and one
:func:`scipy.sparse.csgraph.connected_components` call per configuration.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .configuration import Configuration
from .errors import InputError
from .neighbors import Neighbors, pair_keys, pairs_of_keys, unique_pairs

#: The paper's choice: k = 2 was the optimal number of neighbours of the attention D-MPNN.
PAPER_NUM_NEIGHBORS = 2


def minority_type(types: np.ndarray) -> int:
    """The type with the fewest particles (the larger id on a tie): the metrics' B by default."""
    ids, counts = np.unique(np.asarray(types), return_counts=True)
    fewest = ids[counts == counts.min()]
    return int(fewest.max())


def b_type_of(types: np.ndarray, b_type: int | None = None) -> int:
    """The metrics' B type of a frame: ``b_type`` if given (it must be present), else the
    minority type; :class:`InputError` for a frame of one type only."""
    present = np.unique(np.asarray(types))
    if b_type is not None:
        if int(b_type) not in present:
            raise InputError(f"the frame has no type-{b_type} particles (its types are "
                             f"{', '.join(str(int(t)) for t in present)}); name a type it has "
                             "as B")
        return int(b_type)
    if len(present) < 2:
        raise InputError(f"the frame has only type-{int(present[0])} particles; the metrics "
                         "join B (minority) particles to their neighbours, so they need two "
                         "types")
    return minority_type(types)


def count_graph(pairs: np.ndarray, is_b: np.ndarray) -> dict[str, int]:
    """Disjoint graphs, B-B edges and isolated A and B particles of an undirected graph.

    Parameters
    ----------
    pairs : (M, 2) int array
        Undirected edges, each pair once (see :func:`unique_pairs`).
    is_b : (N,) bool array
        Which particles are B (every other particle is A); the graph's vertices are all ``N``
        particles.

    Returns
    -------
    dict with ``num_disjoint_graphs`` (components with at least one edge), ``num_bb_edges``,
    ``num_isolated_a`` and ``num_isolated_b`` (particles on no edge).
    """
    is_b = np.asarray(is_b, dtype=bool)
    n = len(is_b)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    on_edge = np.zeros(n, dtype=bool)
    on_edge[pairs.ravel()] = True
    adjacency = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                           shape=(n, n))
    n_components, _ = connected_components(adjacency, directed=False)
    # every particle on no edge is a component of its own; those are not graphs (module docstring)
    n_isolated = int(n - on_edge.sum())
    is_bb = is_b[pairs[:, 0]] & is_b[pairs[:, 1]]
    return {
        "num_disjoint_graphs": int(n_components - n_isolated),
        "num_bb_edges": int(is_bb.sum()),
        "num_isolated_a": int(np.sum(~on_edge & ~is_b)),
        "num_isolated_b": int(np.sum(~on_edge & is_b)),
    }


#: Column names of the three metrics, in the paper's order.
METRIC_NAMES = ("num_disjoint_graphs", "num_bb_edges", "num_isolated_a")
#: Column names of the attention-graph counts of Fig. 9 (plus isolated B particles).
ATTENTION_COUNT_NAMES = ("num_disjoint_graphs", "num_bb_edges", "num_isolated_a", "num_isolated_b")


class _CountedGraph:
    """Read-only results shared by the structural metrics and the attention-graph counts."""

    _NAMES: tuple[str, ...] = ()
    _COMPUTE_HINT = "compute(...)"

    def __init__(self):
        self._graph_edges = None
        self._counts = None
        self._b_type = None

    def _result(self, name):
        if self._counts is None:
            raise RuntimeError(f"call {self._COMPUTE_HINT} before reading the results")
        return self._counts[name]

    def _edges_or_raise(self) -> np.ndarray:
        if self._graph_edges is None:
            raise RuntimeError(f"call {self._COMPUTE_HINT} before reading the results")
        return self._graph_edges

    @property
    def num_disjoint_graphs(self) -> int:
        """Connected components with at least one edge (metric 1)."""
        return self._result("num_disjoint_graphs")

    @property
    def num_bb_edges(self) -> int:
        """Edges joining two B particles, each pair once (metric 2)."""
        return self._result("num_bb_edges")

    @property
    def num_isolated_a(self) -> int:
        """Type-A particles on no edge (metric 3)."""
        return self._result("num_isolated_a")

    @property
    def b_type(self) -> int:
        """The type id counted as B in the last :meth:`compute`."""
        if self._b_type is None:
            raise RuntimeError(f"call {self._COMPUTE_HINT} before reading the results")
        return self._b_type

    def as_dict(self) -> dict[str, int]:
        """The counts by name, e.g. for one row of a table."""
        return {name: self._result(name) for name in self._NAMES}


class GlassGraphMetrics(_CountedGraph):
    """The paper's three structural metrics of one configuration (Fig. 10, Eq. 12).

    Join every type-B particle to its ``num_neighbors`` nearest particles (periodic, minimum
    image) and count the disjoint graphs, the B-B edges and the A particles on no edge; the exact
    definitions are in the module docstring.

    Parameters
    ----------
    num_neighbors : int
        Nearest neighbours joined to each B particle (paper: 2).
    b_type : int, optional
        The type id that is B; default the minority type of each frame.

    Examples
    --------
    >>> metrics = GlassGraphMetrics().compute(read_dump("T0.05.dump"))  # doctest: +SKIP
    >>> metrics.num_disjoint_graphs, metrics.num_bb_edges, metrics.num_isolated_a  # doctest: +SKIP
    """

    _NAMES = METRIC_NAMES
    _COMPUTE_HINT = "compute(configuration)"

    def __init__(self, num_neighbors: int = PAPER_NUM_NEIGHBORS, b_type: int | None = None):
        if int(num_neighbors) != num_neighbors or num_neighbors < 1:
            raise InputError(f"num_neighbors must be a positive integer, got {num_neighbors}")
        super().__init__()
        self._num_neighbors = int(num_neighbors)
        self._chosen_b = None if b_type is None else int(b_type)

    @property
    def num_neighbors(self) -> int:
        """Nearest neighbours joined to each B particle."""
        return self._num_neighbors

    def compute(self, config: Configuration) -> "GlassGraphMetrics":
        """Build the B-particle graph of ``config`` and count it; returns ``self``.

        Raises
        ------
        InputError
            if the configuration has one type only, not the B type named, or fewer than
            ``num_neighbors + 1`` particles.
        """
        types = config.types
        n = config.n_particles
        k = self._num_neighbors
        b_type = b_type_of(types, self._chosen_b)
        is_b = types == b_type
        b_index = np.flatnonzero(is_b)
        if n < k + 1:
            raise InputError(f"the configuration has {n} particles; joining each B particle to "
                             f"{k} neighbours needs at least {k + 1}")
        sources, targets, _ = Neighbors.of(config).knn(k, query_index=b_index)
        self._graph_edges = unique_pairs(sources, targets, n)
        self._counts = count_graph(self._graph_edges, is_b)
        self._b_type = b_type
        return self

    @property
    def edges(self) -> np.ndarray:
        """(M, 2) particle-index pairs ``i < j`` of the B-particle graph, each once."""
        return self._edges_or_raise()


def pair_attention(edge_index: np.ndarray, weights: np.ndarray, n_particles: int):
    """Per-pair attention: the larger of the two directed weights of each joined pair.

    Parameters
    ----------
    edge_index : (2, E) int array
        Directed edges ``source -> target``.
    weights : (E,) float array
        The attention weight of each directed edge.
    n_particles : int

    Returns
    -------
    pairs : (M, 2) int array, ``i < j``, each pair once, sorted.
    pair_weights : (M,) float array, the maximum weight over the directed edges of each pair.
    """
    edge_index = np.asarray(edge_index, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2 or edge_index.shape[1] != len(weights):
        raise InputError(f"edge_index must have shape (2, E) with E = {len(weights)} weights, "
                         f"got {edge_index.shape}")
    keys, inverse = np.unique(pair_keys(edge_index[0], edge_index[1], n_particles),
                              return_inverse=True)
    pair_weights = np.full(len(keys), -np.inf)
    np.maximum.at(pair_weights, inverse, weights)
    return pairs_of_keys(keys, n_particles), pair_weights


class AttentionGraphCounts(_CountedGraph):
    """The counts of the paper's Fig. 9 on the high-attention graph of one configuration.

    Parameters
    ----------
    cutoff : float
        A pair is a high-attention edge when its attention (the larger of its two directed
        weights) is strictly greater than ``cutoff``, in the same units as the weights given to
        :meth:`compute`.
    b_type : int, optional
        The type id that is B; default the minority type of each frame.
    """

    _NAMES = ATTENTION_COUNT_NAMES
    _COMPUTE_HINT = "compute(edge_index, weights, types)"

    def __init__(self, cutoff: float, b_type: int | None = None):
        if not np.isfinite(cutoff):
            raise InputError(f"the attention cutoff must be a finite number, got {cutoff}")
        super().__init__()
        self._cutoff = float(cutoff)
        self._chosen_b = None if b_type is None else int(b_type)

    @property
    def cutoff(self) -> float:
        return self._cutoff

    def compute(self, edge_index: np.ndarray, weights: np.ndarray,
                types: np.ndarray) -> "AttentionGraphCounts":
        """Count the high-attention graph of the directed edges ``edge_index`` with ``weights``.

        Parameters
        ----------
        edge_index : (2, E) int array of directed edges between particles ``0..N-1``.
        weights : (E,) float array of attention weights.
        types : (N,) int array of type ids (B: the minority or the type named when built);
            every particle is a vertex, edge or not.
        """
        types = np.asarray(types)
        b_type = b_type_of(types, self._chosen_b)
        pairs, pair_weights = pair_attention(edge_index, weights, len(types))
        self._graph_edges = pairs[pair_weights > self._cutoff]
        self._counts = count_graph(self._graph_edges, types == b_type)
        self._b_type = b_type
        return self

    @property
    def high_attention_pairs(self) -> np.ndarray:
        """(M, 2) particle pairs ``i < j`` whose attention is above the cutoff."""
        return self._edges_or_raise()

    @property
    def num_isolated_b(self) -> int:
        """Type-B particles on no high-attention edge (paper: about 0)."""
        return self._result("num_isolated_b")
