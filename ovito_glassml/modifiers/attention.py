"""The OVITO modifier that draws the D-MPNN's edge self-attention as bonds (paper Figs. 8-9)."""

from __future__ import annotations

import numpy as np
from ovito.pipeline import ModifierInterface
from ovito.traits import FilePath
from traits.api import Bool, Enum, Range

from ..models.shipped import AUTO, SHIPPED_MODELS
from ..ovito_data import frame_configuration, replace_bonds, style_particle_types

#: Global attributes of the high-attention graph (paper Fig. 9), keyed by count name.
ATTENTION_ATTRIBUTES = {
    "num_disjoint_graphs": "Attention.DisjointGraphs",
    "num_bb_edges": "Attention.BBEdges",
    "num_isolated_a": "Attention.IsolatedA",
    "num_isolated_b": "Attention.IsolatedB",
}
HIGH_EDGES_ATTRIBUTE = "Attention.HighAttentionEdges"


class AttentionModifier(ModifierInterface):
    """The D-MPNN's graph of the whole periodic frame as bonds that carry its attention weights.

    The model reads the frame as one periodic k-nearest-neighbour graph; every joined pair
    becomes one bond. Bond properties:

    ``Attention``
        the larger of the pair's two directed attention weights at the last message step (the
        weight the paper draws in Fig. 8). The weights of all directed edges sum to one.
    ``Relative Attention``
        ``Attention`` times the number of directed edges: 1 is uniform attention, and with the
        D-MPNN's default edge scaling it is exactly the factor the attention multiplies that edge
        state by (>1 amplified, <1 damped). It does not shrink as frames grow, so the cutoff
        means the same on any frame size.
    ``High Attention``
        1 where ``Relative Attention`` is above the cutoff.
    ``Width``, ``Color``
        bond width proportional to ``Attention`` (widest = ``max_bond_width``) and colour by
        OVITO's colour coding of ``Relative Attention``.

    Particles are coloured by type (A orange, B blue in a Kob-Andersen binary; distinct colours
    for other types). The counts of the high-attention graph
    (paper Fig. 9; definitions in :mod:`ovito_glassml.metrics`) are the global attributes
    ``Attention.DisjointGraphs``, ``Attention.BBEdges``, ``Attention.IsolatedA``,
    ``Attention.IsolatedB`` and ``Attention.HighAttentionEdges``.

    Parameters
    ----------
    shipped_model : str
        The shipped model to use when ``model_path`` is empty, by name, or ``auto`` (default):
        the shipped model of the frame's dimension.
    model_path : str
        D-MPNN model folder trained with self-attention; empty = ``shipped_model``.
    cutoff : float
        High-attention threshold on ``Relative Attention``.
    max_bond_width : float
        Width of the bond with the largest attention, in length units.
    only_high_attention : bool
        Keep only the bonds above the cutoff.
    color_bonds : bool
        Colour bonds by ``Relative Attention``; off: one green, as in the paper's Fig. 8.
    b_type : int
        The type id counted as B in the counts; 0 (default) = the frame's minority type.
    """

    shipped_model = Enum(AUTO, *SHIPPED_MODELS,
                         label="Shipped model (auto: by the frame's dimension)", ovito_group="Model")
    model_path = FilePath("", label="Model folder (empty: the shipped model)", ovito_group="Model")
    cutoff = Range(low=0.0, high=1000.0, value=2.0, label="High-attention cutoff (relative)",
                   ovito_group="High-attention graph")
    max_bond_width = Range(low=0.0, high=5.0, value=0.35, label="Widest bond",
                           ovito_group="Appearance")
    only_high_attention = Bool(False, label="Show only high-attention bonds",
                               ovito_group="Appearance")
    color_bonds = Bool(True, label="Colour bonds by attention (else green, as in the paper)",
                       ovito_group="Appearance")
    b_type = Range(low=0, high=10**6, value=0, label="B type id (0: the minority type)",
                   ovito_group="High-attention graph")

    def modify(self, data, *, frame=None, **kwargs):
        from ..errors import InputError
        from ..metrics import AttentionGraphCounts, pair_attention
        from .loading import cached_classifier, model_folder, modifier_model

        yield "Attention: loading the model"
        model = modifier_model(self.model_path, self.shipped_model, data)
        classifier = cached_classifier(model)
        if not classifier.has_attention:
            raise InputError(f"the model in {model_folder(model)} has no edge self-attention; "
                             "choose a D-MPNN trained with attention")
        config = frame_configuration(data, frame, min_particles=classifier.min_particles)
        yield "Attention: message passing over the periodic frame"
        frame_attention = classifier.frame_attention(config)
        # the paper's Fig. 8 shows the weights of the last (T-1th) message step
        last = frame_attention.weights[-1]
        edge_index = frame_attention.edge_index
        pairs, attention = pair_attention(edge_index, last, config.n_particles)
        relative = attention * edge_index.shape[1]
        high = relative > self.cutoff

        yield "Attention: counting the high-attention graph"
        counts = AttentionGraphCounts(self.cutoff, self.b_type or None).compute(
            edge_index, last * edge_index.shape[1], config.types)
        for name, attribute in ATTENTION_ATTRIBUTES.items():
            data.attributes[attribute] = getattr(counts, name)
        data.attributes[HIGH_EDGES_ATTRIBUTE] = int(high.sum())

        keep = high if self.only_high_attention else np.ones(len(pairs), dtype=bool)
        bonds = replace_bonds(data, config, pairs[keep])
        bonds.create_property("Attention", data=attention[keep])
        bonds.create_property("Relative Attention", data=relative[keep])
        bonds.create_property("High Attention", data=high[keep].astype(np.int32))
        top = attention.max() if len(attention) else 1.0
        bonds.create_property("Width", data=self.max_bond_width * attention[keep] / top)
        style_particle_types(data)
        if self.color_bonds and keep.any():
            from ovito.modifiers import ColorCodingModifier

            # the 99th percentile, not the maximum: one outlier would darken every other bond
            top_colour = float(np.percentile(relative, 99))
            data.apply(ColorCodingModifier(property="Relative Attention", operate_on="bonds",
                                           start_value=0.0, end_value=top_colour,
                                           gradient=ColorCodingModifier.Viridis()))
