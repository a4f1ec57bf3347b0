"""The OVITO modifier for the paper's three structural metrics (Fig. 10)."""

from __future__ import annotations

from ovito.pipeline import ModifierInterface
from traits.api import Bool, Range

from ..metrics import PAPER_NUM_NEIGHBORS, GlassGraphMetrics
from ..ovito_data import frame_configuration, replace_bonds, style_particle_types

#: Global attributes written by :class:`GlassMetricsModifier`, keyed by metric name.
METRIC_ATTRIBUTES = {
    "num_disjoint_graphs": "GlassMetrics.DisjointGraphs",
    "num_bb_edges": "GlassMetrics.BBEdges",
    "num_isolated_a": "GlassMetrics.IsolatedA",
}


class GlassMetricsModifier(ModifierInterface):
    """Join every type-B particle to its nearest neighbours and count the paper's three metrics,
    in 2D or 3D, for any mixture (B: the minority type unless named; A: every other type).

    Writes the global attributes ``GlassMetrics.DisjointGraphs`` (connected components with at
    least one edge), ``GlassMetrics.BBEdges`` (edges joining two B particles, each pair once) and
    ``GlassMetrics.IsolatedA`` (A particles on no edge); with ``create_bonds`` the graph itself
    becomes the frame's bonds (drawn by minimum image across the periodic boundary). The exact
    definitions are in :mod:`ovito_glassml.metrics`.

    Parameters
    ----------
    num_neighbors : int
        Nearest neighbours joined to each B particle (paper: 2).
    b_type : int
        The type id counted as B; 0 (default) = the minority type of each frame (B in the
        Kob-Andersen mixtures, 2D and 3D). Every other type counts as A.
    create_bonds : bool
        Emit the B-particle graph as bonds, replacing any bonds already in the frame.
    """

    num_neighbors = Range(low=1, high=12, value=PAPER_NUM_NEIGHBORS,
                          label="Neighbours per B particle", ovito_group="B-particle graph")
    b_type = Range(low=0, high=10**6, value=0, label="B type id (0: the minority type)",
                   ovito_group="B-particle graph")
    create_bonds = Bool(False, label="Show the graph as bonds", ovito_group="Output")

    def modify(self, data, *, frame=None, **kwargs):
        yield "Glass metrics: reading the frame"
        config = frame_configuration(data, frame, min_particles=self.num_neighbors + 1)
        yield "Glass metrics: joining B particles to their nearest neighbours"
        metrics = GlassGraphMetrics(self.num_neighbors, self.b_type or None).compute(config)
        for name, attribute in METRIC_ATTRIBUTES.items():
            data.attributes[attribute] = getattr(metrics, name)
        if self.create_bonds:
            yield "Glass metrics: creating bonds"
            replace_bonds(data, config, metrics.edges)
            style_particle_types(data)
