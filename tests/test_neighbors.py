"""The neighbour layer: kNN without self, unordered pairs, window members, periodic wrapping."""

import numpy as np
import pytest

from ovito_glassml.baselines import psi6_magnitude
from ovito_glassml.configuration import Configuration, wrap_into_box
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.graphs import frame_graph
from ovito_glassml.metrics import GlassGraphMetrics
from ovito_glassml.neighbors import Neighbors, pair_keys, pairs_of_keys, unique_pairs, window_members


def _random_config(n=60, box=10.0, seed=0):
    rng = np.random.default_rng(seed)
    types = np.where(rng.random(n) < 0.65, 1, 2)
    return Configuration(rng.uniform(0, box, (n, 2)), types, np.array([box, box]))


def test_knn_never_returns_a_particle_as_its_own_neighbour_even_on_top_of_another():
    pos = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [3.0, 1.0], [1.0, 4.0]])
    sources, targets, _ = Neighbors(pos, np.array([6.0, 6.0])).knn(2)
    assert not np.any(sources == targets)
    assert np.all(np.bincount(sources) == 2)


def test_knn_distances_are_minimum_image_distances():
    pos = np.array([[0.1, 5.0], [9.9, 5.0], [5.0, 5.0]])
    _, targets, distance = Neighbors(pos, np.array([10.0, 10.0])).knn(1, query_index=[0])
    assert targets.tolist() == [1] and distance[0] == pytest.approx(0.2)


def test_pair_keys_are_the_same_in_both_directions_and_round_trip():
    keys = pair_keys([3, 7, 2], [7, 3, 9], 10)
    assert keys[0] == keys[1]
    assert pairs_of_keys(keys, 10).tolist() == [[3, 7], [3, 7], [2, 9]]


def test_unique_pairs_drop_self_joins_and_duplicates():
    pairs = unique_pairs([0, 1, 2, 2], [1, 0, 2, 0], 3)
    assert pairs.tolist() == [[0, 1], [0, 2]]


def test_window_members_for_one_and_for_several_origins_agree():
    scaled = np.random.default_rng(1).random((200, 2))
    origins = np.array([[0.1, 0.2], [0.5, 0.5]])
    several = window_members(scaled, origins, 0.3)
    for row, origin in zip(several, origins):
        expected = np.all((scaled >= origin) & (scaled <= origin + 0.3), axis=1)
        np.testing.assert_array_equal(row, expected)
        np.testing.assert_array_equal(window_members(scaled, origin, 0.3), expected)


def test_configuration_keeps_a_tiny_negative_coordinate_inside_the_box():
    box = np.array([10.0, 10.0])
    assert np.mod(-1e-17, 10.0) == 10.0          # the rounding the wrap must undo
    config = _random_config()
    pos = config.positions.copy()
    pos[0] = [-1e-17, -1e-17]
    wrapped = Configuration(pos, config.types, box)
    assert np.all(wrapped.positions >= 0) and np.all(wrapped.positions < box)
    np.testing.assert_array_equal(wrap_into_box(np.array([[10.0, 25.0]]), box), [[0.0, 5.0]])


def test_metrics_and_graphs_accept_a_particle_a_rounding_error_below_zero():
    config = _random_config()
    pos = config.positions.copy()
    pos[0] = [-1e-17, 3.0]
    edge = Configuration(pos, config.types, config.box)
    GlassGraphMetrics(2).compute(edge)
    assert frame_graph(edge, GraphSpec(2)).num_nodes == edge.n_particles
    assert np.all(np.isfinite(psi6_magnitude(edge)))


def test_psi6_ignores_a_particle_sitting_on_another_one():
    # a triangular crystal plus one particle exactly on top of particle 0: psi6 of particle 0
    # counts that twin as a neighbour at distance 0, never particle 0 itself
    nx, ny = 12, 8
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    x = (i + 0.5 * (j % 2)).ravel()
    y = (j * np.sqrt(3) / 2).ravel()
    pos = np.vstack([np.stack([x, y], axis=1), [[x[0], y[0]]]])
    types = np.r_[np.ones(len(x), int), 2]
    config = Configuration(pos, types, np.array([nx, ny * np.sqrt(3) / 2]))
    psi = psi6_magnitude(config)
    far = np.linalg.norm(pos - pos[0], axis=1) > 3
    np.testing.assert_allclose(psi[:-1][far[:-1]], 1.0, atol=1e-9)
    # the twins see each other and the same other neighbours, whichever the tree returns first
    assert psi[0] == pytest.approx(psi[-1])


def test_pairs_within_a_radius_use_minimum_image_distances():
    points = np.array([[0.1, 5.0], [9.8, 5.0], [5.0, 5.0]])
    pairs, distance = Neighbors(points, np.array([10.0, 10.0])).pairs_within(1.0)
    assert pairs.tolist() == [[0, 1]] and distance[0] == pytest.approx(0.3)
    pairs, _ = Neighbors(points).pairs_within(1.0)
    assert len(pairs) == 0
