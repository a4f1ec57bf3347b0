"""Graphs for the D-MPNN: kNN union, reverse edges, windows, periodic frames, units, bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from torch_geometric.data import Batch

from ovito_glassml.configuration import Configuration
from ovito_glassml.datasets import load_dataset
from ovito_glassml.errors import InputError
from ovito_glassml.graph_spec import NUM_RBF, RBF_CENTERS
from ovito_glassml.graphs import (FrameGraphs, GraphSpec, frame_graph, knn_pairs, window_graph,
                                  window_graph_at, window_origins)

DATA = Path(__file__).resolve().parents[1] / "data" / "small" / "datasets" / "dataset1.npz"


@pytest.fixture(scope="module")
def config():
    return load_dataset(DATA)[0]


def _brute_force_pairs(points, k):
    d = cdist(points, points)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    return {tuple(sorted((i, int(j)))) for i in range(len(points)) for j in nearest[i]}


def test_knn_union_holds_each_unordered_pair_once(config):
    points = config.positions[:200]
    pairs, _ = knn_pairs(points, 3)
    assert {tuple(p) for p in pairs.tolist()} == _brute_force_pairs(points, 3)
    assert len(pairs) == len({tuple(p) for p in pairs.tolist()})


def test_every_pair_becomes_two_directed_edges_with_reverse_index(config):
    g = window_graph_at(config, (0.1, 0.2), GraphSpec(2, window_length=0.3))
    src, dst = g.edge_index
    assert torch.equal(src[g.rev_index], dst) and torch.equal(dst[g.rev_index], src)
    assert torch.equal(g.rev_index[g.rev_index], torch.arange(g.num_edges))
    assert torch.equal(g.edge_attr[g.rev_index], g.edge_attr)
    assert not torch.any(src == dst)


def test_edge_feature_is_distance_in_units_of_the_length_scale(config):
    spec = GraphSpec.paper(2, length_scale=60.0, window_length=0.2)
    g = window_graph_at(config, (0.2, 0.2), spec)
    pos = config.positions[g.particle_index.numpy()]
    src, dst = g.edge_index.numpy()
    expected = np.linalg.norm(pos[src] - pos[dst], axis=1) / 60.0
    np.testing.assert_allclose(g.edge_attr[:, 0].numpy(), expected, rtol=1e-6)


def test_default_length_scale_is_the_box_side_as_in_the_paper(config):
    g = window_graph_at(config, (0.0, 0.0), GraphSpec.paper(2, window_length=0.3))
    scaled = config.scaled_positions()[g.particle_index.numpy()]
    src, dst = g.edge_index.numpy()
    np.testing.assert_allclose(g.edge_attr[:, 0].numpy(),
                               np.linalg.norm(scaled[src] - scaled[dst], axis=1), rtol=1e-6)


def test_window_keeps_exactly_the_particles_inside_the_square(config):
    origin = np.array([0.25, 0.5])
    g = window_graph_at(config, origin, GraphSpec(2, window_length=0.3))
    s = config.scaled_positions()
    inside = np.flatnonzero(np.all((s >= origin) & (s <= origin + 0.3), axis=1))
    np.testing.assert_array_equal(np.sort(g.particle_index.numpy()), inside)


def test_window_side_is_l_win_times_the_length_scale_on_any_box(config):
    # a model trained on a 60x60 box (length scale 60) cuts 12-sigma windows from this 30x30 box
    g = window_graph_at(config, (0.0, 0.0), GraphSpec(2, length_scale=60.0, window_length=0.2))
    pos = config.positions[g.particle_index.numpy()]
    assert pos.max() <= 12.0 and pos.max() > 11.0


def test_paper_features_are_scaled_xy_and_type_and_invariant_features_type_only(config):
    origin = (0.3, 0.3)
    paper = window_graph_at(config, origin, GraphSpec.paper(2, window_length=0.3))
    invariant = window_graph_at(config, origin, GraphSpec(2, "invariant", window_length=0.3))
    idx = paper.particle_index.numpy()
    np.testing.assert_allclose(paper.x[:, :2].numpy(), config.scaled_positions()[idx], rtol=1e-6)
    is_b = (config.types[idx] == 2).astype(np.float32)
    np.testing.assert_array_equal(paper.x[:, 3].numpy(), is_b)
    np.testing.assert_array_equal(invariant.x.numpy(), paper.x[:, 2:].numpy())


def test_frame_graph_joins_neighbours_across_the_periodic_boundary():
    pos = np.array([[0.2, 5.0], [9.9, 5.0], [5.0, 5.0], [5.0, 1.0], [2.0, 8.0]])
    config = Configuration(pos, np.array([1, 2, 1, 2, 1]), np.array([10.0, 10.0]))
    g = frame_graph(config, GraphSpec.paper(1, length_scale=10.0))
    src, dst = g.edge_index.numpy()
    first = np.flatnonzero((src == 0) & (dst == 1))
    assert len(first) == 1
    assert g.edge_attr[first[0], 0].item() == pytest.approx(0.03, rel=1e-5)


def test_frame_graph_has_every_particle_as_a_node(config):
    g = frame_graph(config, GraphSpec(3))
    assert g.num_nodes == config.n_particles
    np.testing.assert_array_equal(g.particle_index.numpy(), np.arange(config.n_particles))


def test_window_origins_tile_every_particle(config):
    spec = GraphSpec(2, length_scale=60.0, window_length=0.15)
    covered = np.zeros(config.n_particles, bool)
    for origin in window_origins(config, spec):
        covered[window_graph_at(config, origin, spec).particle_index.numpy()] = True
    assert covered.all()


def test_random_window_is_repeatable_with_a_seed(config):
    a = window_graph(config, GraphSpec(2, window_length=0.2), rng=7)
    b = window_graph(config, GraphSpec(2, window_length=0.2), rng=7)
    assert torch.equal(a.particle_index, b.particle_index)


def test_batching_offsets_reverse_index_by_edges_and_keeps_particle_indices(config):
    graphs = [window_graph(config, GraphSpec(2, window_length=0.3), rng=i) for i in range(3)]
    batch = Batch.from_data_list(graphs)
    src, dst = batch.edge_index
    assert torch.equal(src[batch.rev_index], dst)
    assert torch.equal(batch.particle_index, torch.cat([g.particle_index for g in graphs]))


def test_window_with_fewer_than_k_plus_one_particles_is_rejected(config):
    with pytest.raises(InputError, match="fewer than k\\+1"):
        window_graph_at(config, (0.0, 0.0), GraphSpec(5, window_length=0.02))


def test_window_missing_one_of_the_models_types_is_read_with_that_types_one_hot_empty():
    # a window of a mixture with a rare type may hold none of it; that is not an error
    pos = np.random.default_rng(0).uniform(0, 10, (50, 2))
    config = Configuration(pos, np.ones(50, int), np.array([10.0, 10.0]))
    graph = window_graph_at(config, (0.0, 0.0), GraphSpec(2, window_length=0.9, length_scale=10))
    assert graph.x[:, 0].sum() == graph.num_nodes and graph.x[:, 1].sum() == 0


def test_frame_with_a_type_the_model_never_saw_is_refused_naming_both():
    pos = np.random.default_rng(0).uniform(0, 10, (50, 2))
    config = Configuration(pos, np.r_[np.ones(40, int), np.full(10, 3)], np.array([10.0, 10.0]))
    with pytest.raises(InputError, match=r"types 1, 3; the model was trained on 2D, types 1 \(A\), "
                                         r"2 \(B\): it does not know type 3"):
        window_graph_at(config, (0.0, 0.0), GraphSpec(2, window_length=0.9, length_scale=10))


def test_frame_of_the_other_dimension_is_refused_naming_both():
    pos = np.random.default_rng(0).uniform(0, 10, (50, 3))
    config = Configuration(pos, np.r_[np.ones(40, int), np.full(10, 2)], np.full(3, 10.0))
    with pytest.raises(InputError, match=r"is 3D; the model was trained on 2D, types 1 \(A\)"):
        window_graph_at(config, (0.0, 0.0, 0.0), GraphSpec(2, window_length=0.9, length_scale=10))


def test_nan_coordinates_are_rejected():
    pos = np.array([[1.0, 1.0], [np.nan, 2.0], [3.0, 3.0]])
    with pytest.raises(InputError, match="NaN"):
        Configuration(pos, np.array([1, 2, 1]), np.array([5.0, 5.0]))


@pytest.mark.parametrize("l_win", [0.0, -0.1, 1.5])
def test_window_length_outside_zero_one_is_rejected(l_win):
    with pytest.raises(InputError, match="l_win must be in"):
        GraphSpec(2, window_length=l_win)


def test_window_wider_than_the_box_is_rejected(config):
    with pytest.raises(InputError, match="wider than the box"):
        window_graph(config, GraphSpec(2, length_scale=60.0, window_length=0.8), rng=0)


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_k_below_one_is_rejected(k):
    with pytest.raises(InputError, match="num_neighbors"):
        GraphSpec(k)


def test_unknown_particle_type_is_rejected():
    pos = np.random.default_rng(1).uniform(0, 10, (30, 2))
    with pytest.raises(InputError, match="type 3"):
        frame_graph(Configuration(pos, np.r_[np.ones(29, int), 3], np.array([10.0, 10.0])),
                    GraphSpec(2))


def test_rbf_edges_peak_at_the_distance_in_sigma_in_the_block_of_the_pair_type(config):
    g = frame_graph(config, GraphSpec(3))
    src, dst = g.edge_index.numpy()
    d = config.positions[src] - config.positions[dst]
    d -= config.box * np.round(d / config.box)
    distance = np.linalg.norm(d, axis=1)
    pair_type = (config.types[src] == 2).astype(int) + (config.types[dst] == 2).astype(int)
    attr = g.edge_attr.numpy().reshape(len(src), 3, NUM_RBF)
    # only the block of the pair type is lit, and its largest Gaussian is the nearest centre
    lit = np.flatnonzero(attr.sum(axis=2).max(axis=0) > 0)
    assert set(np.unique(pair_type)) == set(lit)
    np.testing.assert_array_equal(attr.sum(axis=2).argmax(axis=1), pair_type)
    nearest = np.abs(distance[:, None] - RBF_CENTERS[None]).argmin(axis=1)
    np.testing.assert_array_equal(attr[np.arange(len(src)), pair_type].argmax(axis=1), nearest)


def test_frame_neighbours_window_is_the_frame_graph_inside_the_window(config):
    """With neighbours from the frame a window has no artificial edge: every edge is a frame edge
    with the frame's features, and every frame edge between two window particles is kept."""
    spec = GraphSpec(3, window_length=0.4, length_scale=30.0)
    frames = FrameGraphs(config, spec)
    whole, window = frames.whole(), frames.window_at((0.3, 0.3))

    def edges(g):
        pi = g.particle_index.numpy()
        src, dst = pi[g.edge_index.numpy()]
        return {(int(a), int(b)): tuple(f) for a, b, f in zip(src, dst, g.edge_attr.numpy())}

    frame_edges, window_edges = edges(whole), edges(window)
    members = set(window.particle_index.tolist())
    inside = {e: f for e, f in frame_edges.items() if e[0] in members and e[1] in members}
    assert window_edges == inside


def test_paper_window_neighbours_are_searched_inside_the_window(config):
    spec = GraphSpec.paper(3, window_length=0.4, length_scale=30.0)
    window = window_graph_at(config, (0.3, 0.3), spec)
    pi = window.particle_index.numpy()
    src, dst = window.edge_index.numpy()
    expected = _brute_force_pairs(config.positions[pi], 3)
    assert {tuple(sorted(p)) for p in zip(src.tolist(), dst.tolist())} == expected
