"""Plain networkx implementations of the metrics, written for clarity, not speed.

Used only by the tests (to hold the vectorised ``ovito_glassml.metrics`` against) and by
``benchmarks/bench_ovito.py`` (to measure the speed-up). Loops over particles are the point here:
every step is the paper's sentence, spelled out.
"""

import networkx as nx
import numpy as np

TYPE_A, TYPE_B = 1, 2


def minimum_image_distances(positions, box, i):
    """Distances from particle ``i`` to every particle, through the periodic boundaries."""
    delta = positions - positions[i]
    delta -= box * np.round(delta / box)
    return np.sqrt((delta ** 2).sum(axis=1))


def b_particle_graph(positions, types, box, num_neighbors=2, b_type=TYPE_B):
    """Join every B particle to its ``num_neighbors`` nearest particles; all particles are nodes."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(types)))
    for i in range(len(types)):
        if types[i] != b_type:
            continue
        distances = minimum_image_distances(positions, box, i)
        distances[i] = np.inf
        for j in np.argsort(distances, kind="stable")[:num_neighbors]:
            graph.add_edge(i, int(j))
    return graph


def graph_counts(graph, types, b_type=TYPE_B):
    """Disjoint graphs (components with an edge), B-B edges, isolated A (every particle not B)
    and B particles."""
    components = [c for c in nx.connected_components(graph) if len(c) > 1]
    bb_edges = [(i, j) for i, j in graph.edges if types[i] == b_type and types[j] == b_type]
    isolated = [i for i in graph.nodes if graph.degree[i] == 0]
    return {
        "num_disjoint_graphs": len(components),
        "num_bb_edges": len(bb_edges),
        "num_isolated_a": sum(1 for i in isolated if types[i] != b_type),
        "num_isolated_b": sum(1 for i in isolated if types[i] == b_type),
    }


def glass_graph_metrics(positions, types, box, num_neighbors=2, b_type=TYPE_B):
    """The three metrics of the paper's Fig. 10."""
    counts = graph_counts(b_particle_graph(positions, types, box, num_neighbors, b_type), types,
                          b_type)
    return {k: counts[k] for k in ("num_disjoint_graphs", "num_bb_edges", "num_isolated_a")}


def attention_graph_counts(edge_index, weights, types, cutoff, b_type=TYPE_B):
    """Fig. 9 counts: pairs whose larger directed weight is above ``cutoff`` are edges."""
    best = {}
    for (i, j), w in zip(zip(edge_index[0], edge_index[1]), weights):
        pair = (min(int(i), int(j)), max(int(i), int(j)))
        best[pair] = max(best.get(pair, -np.inf), float(w))
    graph = nx.Graph()
    graph.add_nodes_from(range(len(types)))
    graph.add_edges_from(pair for pair, w in best.items() if w > cutoff and pair[0] != pair[1])
    return graph_counts(graph, types, b_type)
