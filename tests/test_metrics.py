"""The three structural metrics and the attention-graph counts, against a plain networkx version."""

from pathlib import Path

import numpy as np
import pytest

import networkx_reference as reference
from ovito_glassml.configuration import Configuration
from ovito_glassml.frames import read_dump
from ovito_glassml.errors import InputError
from ovito_glassml.metrics import AttentionGraphCounts, GlassGraphMetrics, pair_attention

ROOT = Path(__file__).resolve().parents[1]
REAL_FRAMES = sorted((ROOT / "data" / "small" / "slow" / "tcool20000" / "seed1").glob("T*.dump"))


def random_configuration(seed, n=400, box=(20.0, 17.0), fraction_b=0.35):
    rng = np.random.default_rng(seed)
    types = np.where(rng.random(n) < fraction_b, 2, 1)
    return Configuration(rng.random((n, len(box))) * box, types, box)


def ternary_configuration(seed, n=500, box=(7.0, 8.0, 9.5)):
    """A 3D ternary mixture with type ids that are not 1..n (5, 8, 13), 60:25:15."""
    rng = np.random.default_rng(seed)
    types = rng.choice([5, 8, 13], size=n, p=[0.6, 0.25, 0.15])
    return Configuration(rng.random((n, 3)) * box, types, box)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("num_neighbors", [1, 2, 3])
def test_metrics_equal_networkx_reference_on_random_frames(seed, num_neighbors):
    # B named: from seed 3 on type 2 is the majority, which the default would not take as B
    config = random_configuration(seed, fraction_b=0.2 + 0.1 * seed)
    ours = GlassGraphMetrics(num_neighbors, b_type=2).compute(config).as_dict()
    assert ours == reference.glass_graph_metrics(config.positions, config.types, config.box,
                                                 num_neighbors)


@pytest.mark.parametrize("seed", range(3))
def test_metrics_equal_networkx_reference_in_3d_with_three_types(seed):
    # B defaults to the minority (type 13); A is every other particle, types 5 and 8
    config = ternary_configuration(seed)
    metrics = GlassGraphMetrics().compute(config)
    assert metrics.b_type == 13
    assert metrics.as_dict() == reference.glass_graph_metrics(
        config.positions, config.types, config.box, 2, b_type=13)


def test_a_named_b_type_replaces_the_minority():
    config = ternary_configuration(0)
    named = GlassGraphMetrics(b_type=8).compute(config)
    assert named.b_type == 8
    assert named.as_dict() == reference.glass_graph_metrics(
        config.positions, config.types, config.box, 2, b_type=8)


def test_the_default_b_is_the_minority_type_in_a_binary_frame():
    config = random_configuration(0, fraction_b=0.7)   # type 1 is now the minority
    assert GlassGraphMetrics().compute(config).b_type == 1


def test_a_named_b_type_the_frame_lacks_is_refused():
    with pytest.raises(InputError, match="no type-3 particles"):
        GlassGraphMetrics(b_type=3).compute(random_configuration(0))


@pytest.mark.parametrize("path", REAL_FRAMES, ids=lambda p: p.stem)
def test_metrics_equal_networkx_reference_on_real_frames(path):
    config = read_dump(path)
    ours = GlassGraphMetrics().compute(config).as_dict()
    assert ours == reference.glass_graph_metrics(config.positions, config.types, config.box)


def test_mutual_b_neighbours_make_one_edge():
    # two B particles are each other's nearest neighbour: the pair is one edge, not two
    positions = [[1.0, 1.0], [1.5, 1.0], [5.0, 1.0], [5.0, 5.0]]
    config = Configuration(positions, [2, 2, 1, 1], [10.0, 10.0])
    metrics = GlassGraphMetrics(num_neighbors=1).compute(config)
    assert metrics.edges.tolist() == [[0, 1]]
    assert metrics.num_bb_edges == 1


def test_particles_on_no_edge_are_isolated_not_graphs():
    # one B joined to its two neighbours; the far A particle is on no edge
    positions = [[1.0, 1.0], [1.5, 1.0], [1.0, 1.6], [6.0, 6.0]]
    config = Configuration(positions, [2, 1, 1, 1], [12.0, 12.0])
    metrics = GlassGraphMetrics().compute(config)
    assert metrics.num_disjoint_graphs == 1
    assert metrics.num_isolated_a == 1


def test_neighbours_are_found_across_the_periodic_boundary():
    # the B particle at x=0.2 is nearest to the A particle at x=9.9 through the boundary
    positions = [[0.2, 5.0], [9.9, 5.0], [4.0, 5.0], [6.0, 2.0]]
    config = Configuration(positions, [2, 1, 1, 1], [10.0, 10.0])
    metrics = GlassGraphMetrics(num_neighbors=1).compute(config)
    assert metrics.edges.tolist() == [[0, 1]]


def test_metrics_need_two_types():
    config = Configuration([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], [1, 1, 1], [10.0, 10.0])
    with pytest.raises(InputError, match="only type-1 particles"):
        GlassGraphMetrics().compute(config)


def test_metrics_need_more_particles_than_neighbours():
    config = Configuration([[1.0, 1.0], [2.0, 2.0]], [1, 2], [10.0, 10.0])
    with pytest.raises(InputError, match="needs at least 3"):
        GlassGraphMetrics().compute(config)


def test_metric_results_are_read_only():
    metrics = GlassGraphMetrics().compute(random_configuration(0))
    with pytest.raises(AttributeError):
        metrics.num_bb_edges = 0


def directed_knn_edges(config, k):
    """Directed kNN edges of a periodic frame, both directions of every pair (like the D-MPNN)."""
    from scipy.spatial import cKDTree

    _, idx = cKDTree(config.positions, boxsize=config.box).query(config.positions, k=k + 1)
    source = np.repeat(np.arange(config.n_particles), k)
    target = idx[:, 1:].ravel()
    return np.concatenate([np.stack([source, target]), np.stack([target, source])], axis=1)


@pytest.mark.parametrize("seed", range(4))
def test_attention_counts_equal_networkx_reference(seed):
    config = random_configuration(seed, n=300)
    edges = directed_knn_edges(config, k=2)
    weights = np.random.default_rng(seed).exponential(size=edges.shape[1])
    cutoff = float(np.median(weights))
    ours = AttentionGraphCounts(cutoff).compute(edges, weights, config.types).as_dict()
    assert ours == reference.attention_graph_counts(edges, weights, config.types, cutoff)


@pytest.mark.parametrize("seed", range(2))
def test_attention_counts_equal_networkx_reference_in_3d_with_three_types(seed):
    config = ternary_configuration(seed, n=300)
    edges = directed_knn_edges(config, k=3)
    weights = np.random.default_rng(seed).exponential(size=edges.shape[1])
    cutoff = float(np.median(weights))
    ours = AttentionGraphCounts(cutoff).compute(edges, weights, config.types).as_dict()
    assert ours == reference.attention_graph_counts(edges, weights, config.types, cutoff,
                                                    b_type=13)


def test_pair_attention_is_the_larger_directed_weight():
    edges = np.array([[0, 1, 2, 1], [1, 0, 1, 2]])
    pairs, weights = pair_attention(edges, np.array([0.1, 0.4, 0.3, 0.2]), 3)
    assert pairs.tolist() == [[0, 1], [1, 2]]
    assert weights.tolist() == [0.4, 0.3]
