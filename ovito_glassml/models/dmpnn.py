"""The paper's directed message passing neural network with edge self-attention (§2.4, Eqs. 3-11).

A batch is one disjoint union of :class:`~ovito_glassml.graphs.ParticleGraph` s (a
torch-geometric ``Batch``). With ``x_v`` the node features, ``e_vw`` the distance of edge
``v -> w`` and ``h`` the hidden size:

* Eq. 4, edge input: ``h0_vw = ReLU(W_i cat(x_v, e_vw))``.
* Eqs. 3, 5, 6, ``T - 1`` message steps: ``m_vw = sum_{k in N(v) \\ w} h_kv``, computed for all
  edges at once as ``(sum of the edges into v) - h_wv``; ``h_vw = ReLU(h0_vw + W_m m_vw)``.
* Eqs. 10-11, edge self-attention after each of those steps (switchable):
  ``sigma = softmax(ReLU(H W_attn) v_attn)`` over the edges of each configuration, then the
  edge states are rescaled by ``sigma`` (see *Attention scaling*); then dropout.
* Eq. 7, node readout: ``h_v = ReLU(W_a cat(x_v, sum_k h_kv))``.
* Eq. 8, graph readout: the sum of ``h_v`` (paper) or their mean (``aggregation``).
* Eq. 9, an FFN of ``ffn_layers`` layers, dropout before each and ReLU between, giving the two
  logits (liquid, glass).

The linear maps ``W_m``, ``W_attn`` and ``v_attn`` have no bias, as in the equations and as in the
authors' code (chemprop's ``bias=False`` default); ``W_a`` and the FFN layers have one. ``W_i``
has one when ``input_bias`` is set (the default for new models; models of format version 2 and
older have none): with non-negative inputs and no bias, a fifth to a third of its ReLU units
never switched on in our measurements (issue 11).

Attention scaling
-----------------
The paper writes ``H' = sigma H`` and leaves the scale open. The authors' code (ks8/glassML,
``mpn.py``, ``bond_attention``) multiplies the edge states by the raw softmax weights,
``message = alphas * message``, with the softmax taken over *all edges of the whole batch*
(``F.softmax(..., dim=0)``), and it reads out the graph by the *mean* of the node states, not
the sum. Weights that sum to one over hundreds of edges shrink every edge state by the number of
edges, and a batch-wide softmax makes a configuration's output depend on its batch-mates.

Here the softmax is per configuration (``torch_geometric.utils.softmax`` grouped by graph), and
by default (``attention_scaling="edges"``) ``H' = n_edges * sigma * H``, with ``n_edges`` the
number of directed edges of that configuration: uniform attention leaves the states unchanged,
the weights still sum to one per configuration (they are what :meth:`DMPNN.forward` returns),
and the state magnitude does not depend on the size of the graph, so a model trained on windows
of ~170 particles gives comparable states on a 4320-particle periodic frame.
``attention_scaling="none"`` is the paper's literal ``H' = sigma H``.

Likewise ``aggregation="mean"`` (default, the authors' code) makes the graph vector independent
of the number of particles; ``aggregation="sum"`` is the paper's Eq. 8.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property

import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.utils import softmax

from ..errors import InputError

ATTENTION_SCALINGS = ("edges", "none")
AGGREGATIONS = ("mean", "sum")


@dataclass(frozen=True)
class DMPNNHyperparameters:
    """Architecture hyperparameters (paper Table 2 ranges in brackets).

    Parameters
    ----------
    node_dim : number of node features (4 for "paper" features, 2 for "invariant").
    edge_dim : number of edge features (1 for the paper's distance, 48 for "rbf").
    hidden_size : ``h`` [300..2400].
    message_steps : ``T`` [2..6]; ``T - 1`` message-passing updates, then the node readout.
    dropout : ``p`` [0..0.5].
    ffn_layers : ``f`` [1..3].
    attention : edge self-attention in the ``T - 1`` message steps.
    attention_scaling : "edges" (``H' = n_edges sigma H``) or "none" (``H' = sigma H``).
    aggregation : "mean" or "sum" of the node states (paper Eq. 8: sum).
    input_bias : ``W_i`` has a bias (ours; the paper's Eq. 4 has none).
    readout_norm : batch-normalise the graph vector before the FFN (ours; off by default). The
        graph vectors of minimised frames differ between glass and liquid by far less than
        their common offset, so without it the FFN starts blind to the difference.
    """

    node_dim: int = 4
    edge_dim: int = 1
    hidden_size: int = 300
    message_steps: int = 3
    dropout: float = 0.0
    ffn_layers: int = 2
    attention: bool = True
    attention_scaling: str = "edges"
    aggregation: str = "mean"
    input_bias: bool = True
    readout_norm: bool = False

    def __post_init__(self):
        for name in ("node_dim", "edge_dim", "hidden_size", "ffn_layers"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if int(self.message_steps) < 2:
            raise InputError(f"message_steps (T) must be >= 2, got {self.message_steps!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.attention_scaling not in ATTENTION_SCALINGS:
            raise InputError(f"attention_scaling must be one of {ATTENTION_SCALINGS}, "
                             f"got {self.attention_scaling!r}")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DMPNNHyperparameters":
        """Build from a dict, ignoring keys this version does not know."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class GraphBatch:
    """One disjoint union of graphs as the network reads it (one typed object, not seven tensors).

    Attributes
    ----------
    x : (n, F) node features.
    edge_index : (2, E) source and target node of every directed edge.
    edge_attr : (E, D) edge features.
    rev_index : (E,) the edge in the opposite direction.
    node_graph : (n,) the graph of every node.
    num_graphs : number of graphs.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    rev_index: torch.Tensor
    node_graph: torch.Tensor
    num_graphs: int

    @classmethod
    def of(cls, batch) -> "GraphBatch":
        """From a torch-geometric ``Batch`` of :class:`~ovito_glassml.graphs.ParticleGraph` s, or
        from one graph."""
        x = batch.x
        node_graph = getattr(batch, "batch", None)
        if node_graph is None:
            node_graph = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        num_graphs = int(getattr(batch, "num_graphs", 1) or 1)
        return cls(x, batch.edge_index, batch.edge_attr, batch.rev_index, node_graph, num_graphs)

    @property
    def num_nodes(self) -> int:
        return self.x.size(0)

    @cached_property
    def edge_graph(self) -> torch.Tensor:
        """(E,) the graph of every edge."""
        return self.node_graph[self.edge_index[0]]

    @cached_property
    def edges_in_graph(self) -> torch.Tensor:
        """(E,) for every edge, the number of directed edges of its graph (as ``x``'s dtype)."""
        counts = torch.bincount(self.edge_graph, minlength=self.num_graphs).to(self.x.dtype)
        return counts[self.edge_graph]


def sum_into_nodes(H: torch.Tensor, target: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Sum the rows of ``H`` into groups: ``out[v] = sum_{e: target[e] = v} H[e]``.

    ``index_add_`` rather than ``scatter(..., reduce="sum")``: on CPU the latter broadcasts the
    index to the full (E, h) shape and ran 5-10x slower in the benchmark's profile.
    """
    return H.new_zeros((num_nodes, H.size(1))).index_add_(0, target, H)


class EdgeSelfAttention(nn.Module):
    """Eqs. 10-11: ``sigma = softmax(ReLU(H W_attn) v_attn)`` per configuration, ``H' ~ sigma H``."""

    def __init__(self, hidden_size: int, scaling: str = "edges"):
        super().__init__()
        self.W_attn = nn.Linear(hidden_size, hidden_size, bias=False)
        self.v_attn = nn.Linear(hidden_size, 1, bias=False)
        self.scaling = scaling

    def forward(self, H: torch.Tensor, batch: GraphBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(H', sigma)``; with "edges" scaling ``sigma`` is multiplied by the number of
        directed edges of each edge's configuration."""
        score = self.v_attn(F.relu(self.W_attn(H))).squeeze(-1)
        sigma = softmax(score, batch.edge_graph, num_nodes=batch.num_graphs)
        factor = sigma * batch.edges_in_graph if self.scaling == "edges" else sigma
        return H * factor.unsqueeze(-1), sigma


class DirectedMessagePassing(nn.Module):
    """Eqs. 3-7 and 10-11: edge states by directed message passing, then node states."""

    def __init__(self, hp: DMPNNHyperparameters):
        super().__init__()
        h = hp.hidden_size
        self.steps = hp.message_steps - 1
        self.W_i = nn.Linear(hp.node_dim + hp.edge_dim, h, bias=bool(hp.input_bias))
        self.W_m = nn.Linear(h, h, bias=False)
        self.W_a = nn.Linear(hp.node_dim + h, h)
        self.attention = EdgeSelfAttention(h, hp.attention_scaling) if hp.attention else None
        self.dropout = nn.Dropout(hp.dropout)

    def initial_states(self, x: torch.Tensor, edge_index: torch.Tensor,
                       edge_attr: torch.Tensor) -> torch.Tensor:
        """Eq. 4: ``h0_vw = ReLU(W_i cat(x_v, e_vw))`` for every directed edge ``v -> w``."""
        return F.relu(self.W_i(torch.cat([x.index_select(0, edge_index[0]), edge_attr], dim=1)))

    def message_step(self, H: torch.Tensor, H0: torch.Tensor, edge_index: torch.Tensor,
                     rev_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
        """Eqs. 3, 5, 6: ``h_vw <- ReLU(h0_vw + W_m sum_{k in N(v) \\ w} h_kv)`` for all edges.

        The sum over ``k != w`` is the sum of all edge states into ``v`` minus ``h_wv``, the
        reverse edge's state: one index_add, two index_selects (whose gradients are index_add and
        index_select again; plain ``H[index]`` backpropagates through a much slower scatter on
        CPU) and one matmul fused with the skip sum.
        """
        into = sum_into_nodes(H, edge_index[1], num_nodes)
        m = into.index_select(0, edge_index[0]) - H.index_select(0, rev_index)
        return F.relu(torch.addmm(H0, m, self.W_m.weight.t()))

    def node_states(self, H: torch.Tensor, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Eq. 7: ``h_v = ReLU(W_a cat(x_v, sum_k h_kv))``."""
        m_v = sum_into_nodes(H, edge_index[1], x.size(0))
        return F.relu(self.W_a(torch.cat([x, m_v], dim=1)))

    def forward(self, batch: GraphBatch) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Node states ``(n, h)`` and the attention weights ``sigma`` of each message step."""
        H0 = self.initial_states(batch.x, batch.edge_index, batch.edge_attr)
        H = H0
        weights = []
        for _ in range(self.steps):
            H = self.message_step(H, H0, batch.edge_index, batch.rev_index, batch.num_nodes)
            if self.attention is not None:
                H, sigma = self.attention(H, batch)
                weights.append(sigma)
            H = self.dropout(H)
        return self.node_states(H, batch.x, batch.edge_index), weights


class Aggregation(nn.Module):
    """Eq. 8, graph readout: the sum (paper) or the mean (authors' code) of the node states."""

    def __init__(self, mode: str = "mean"):
        super().__init__()
        self.mode = mode

    def forward(self, h_v: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        h = sum_into_nodes(h_v, batch.node_graph, batch.num_graphs)
        if self.mode == "mean":
            sizes = torch.bincount(batch.node_graph, minlength=batch.num_graphs)
            h = h / sizes.clamp_(min=1).to(h.dtype).unsqueeze(1)
        return h


class ReadoutNorm(nn.BatchNorm1d):
    """Batch normalisation of the graph vectors; a batch of one graph uses the running statistics."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.size(0) < 2:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps)
        return super().forward(x)


def feed_forward(hidden_size: int, layers: int, dropout: float, outputs: int = 2) -> nn.Sequential:
    """Eq. 9: ``layers`` linear layers, dropout before each, ReLU between them."""
    modules: list[nn.Module] = []
    for _ in range(layers - 1):
        modules += [nn.Dropout(dropout), nn.Linear(hidden_size, hidden_size), nn.ReLU()]
    modules += [nn.Dropout(dropout), nn.Linear(hidden_size, outputs)]
    return nn.Sequential(*modules)


def _stacked(weights: list[torch.Tensor], graphs: GraphBatch) -> torch.Tensor:
    """The attention of every message step as one ``(T - 1, E)`` tensor (no rows without it)."""
    return (torch.stack(weights) if weights
            else graphs.x.new_zeros((0, graphs.edge_index.size(1))))


class DMPNN(nn.Module):
    """The D-MPNN glass/liquid classifier: message passing, graph readout, FFN.

    ``model(batch)`` returns logits ``(num_graphs, 2)`` (index 1 = glass);
    ``model(batch, return_attention=True)`` returns ``(logits, attention)`` with ``attention`` a
    ``(T - 1, num_edges)`` tensor: the weight ``sigma`` of every directed edge of the batch at
    every message step (zero rows when attention is off). Weights sum to one per configuration.
    """

    def __init__(self, hp: DMPNNHyperparameters):
        super().__init__()
        self.hparams = hp
        self.encoder = DirectedMessagePassing(hp)
        self.aggregation = Aggregation(hp.aggregation)
        self.readout_norm = ReadoutNorm(hp.hidden_size) if hp.readout_norm else nn.Identity()
        self.ffn = feed_forward(hp.hidden_size, hp.ffn_layers, hp.dropout)

    def head(self, graph_vectors: torch.Tensor) -> torch.Tensor:
        """Eq. 9 on graph vectors (after the optional readout normalisation): the logits."""
        return self.ffn(self.readout_norm(graph_vectors))

    def forward(self, batch, return_attention: bool = False):
        graphs = GraphBatch.of(batch)
        if graphs.x.size(1) != self.hparams.node_dim:
            raise InputError(f"the graphs have {graphs.x.size(1)} node features but the model "
                             f"expects {self.hparams.node_dim}; build them with the model's "
                             "feature mode")
        h_v, weights = self.encoder(graphs)
        logits = self.head(self.aggregation(h_v, graphs))
        if not return_attention:
            return logits
        return logits, _stacked(weights, graphs)

    def pooled_logits(self, batch, groups: torch.Tensor):
        """Logits of node groups read out from one pass over ``batch`` (one graph).

        ``groups`` is a ``(G, n)`` 0/1 matrix: row ``g`` marks the nodes of group ``g`` (e.g. the
        windows tiling a periodic frame). Every node state is computed once, on the whole graph;
        a group's graph vector is the mean (or sum, per ``aggregation``) of its nodes' states.
        Returns ``(group_logits (G, 2), graph_logits (1, 2), attention (T - 1, E))``.
        """
        graphs = GraphBatch.of(batch)
        if graphs.num_graphs != 1:
            raise InputError("pooled_logits reads one graph at a time")
        h_v, weights = self.encoder(graphs)
        groups = groups.to(h_v.dtype)
        pooled = groups @ h_v
        if self.hparams.aggregation == "mean":
            pooled = pooled / groups.sum(dim=1, keepdim=True).clamp(min=1)
        return self.head(pooled), self.head(self.aggregation(h_v, graphs)), _stacked(weights, graphs)

    @torch.no_grad()
    def glass_probability(self, batch) -> torch.Tensor:
        """Softmax probability of the glass class per configuration (evaluation mode)."""
        was_training = self.training
        self.eval()
        try:
            return torch.softmax(self(batch), dim=1)[:, 1]
        finally:
            self.train(was_training)
