"""The D-MPNN: the paper's equations by hand, attention per configuration, invariances, storage."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from ovito_glassml.configuration import Configuration
from ovito_glassml.datasets import load_dataset
from ovito_glassml.errors import InputError
from ovito_glassml.graphs import GraphSpec, ParticleGraph, frame_graph, window_graph, window_graph_at
from ovito_glassml.models import load_classifier
from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
from ovito_glassml.models.dmpnn_classifier import save_dmpnn
from ovito_glassml.models.store import CONFIG_NAME, WEIGHTS_NAME

DATA = Path(__file__).resolve().parents[1] / "data" / "small" / "datasets" / "dataset1.npz"
SMALL = dict(hidden_size=16, message_steps=3, ffn_layers=2)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(DATA)


def _model(node_dim=4, seed=0, **kw):
    torch.manual_seed(seed)
    return DMPNN(DMPNNHyperparameters(node_dim=node_dim, **dict(SMALL, **kw))).eval()


def _four_node_graph():
    """A path 0-1-2-3 plus the chord 1-3: five pairs, ten directed edges."""
    pairs = np.array([[0, 1], [1, 2], [2, 3], [1, 3], [0, 2]])
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    dist = np.array([1.0, 1.1, 0.9, 1.3, 1.7])
    return ParticleGraph(
        x=torch.tensor([[0.1, 0.2, 1, 0], [0.3, 0.1, 0, 1], [0.5, 0.4, 1, 0], [0.2, 0.6, 0, 1]],
                       dtype=torch.float32),
        edge_index=torch.tensor(np.stack([src, dst])),
        edge_attr=torch.tensor(np.r_[dist, dist], dtype=torch.float32)[:, None],
        rev_index=torch.tensor(np.r_[np.arange(5, 10), np.arange(5)]),
        particle_index=torch.arange(4), num_nodes=4)


def test_message_step_equals_the_equations_by_hand():
    g = _four_node_graph()
    enc = _model(attention=False).encoder
    H0 = enc.initial_states(g.x, g.edge_index, g.edge_attr)
    H = torch.rand_like(H0)
    got = enc.message_step(H, H0, g.edge_index, g.rev_index, 4)
    src, dst = g.edge_index.tolist()
    W_m = enc.W_m.weight
    for e, (v, w) in enumerate(zip(src, dst)):
        # m_vw = sum over k in N(v) \ w of h_kv: edges k -> v whose source is not w
        m = sum(H[f] for f in range(10) if dst[f] == v and src[f] != w)
        h0 = torch.relu(enc.W_i.weight @ torch.cat([g.x[v], g.edge_attr[e]]) + enc.W_i.bias)
        assert torch.allclose(H0[e], h0, atol=1e-6)
        assert torch.allclose(got[e], torch.relu(h0 + W_m @ m), atol=1e-6)


def test_full_forward_equals_the_equations_by_hand():
    g = _four_node_graph()
    model = _model(message_steps=2, ffn_layers=1, aggregation="sum", attention_scaling="edges")
    enc = model.encoder
    H0 = enc.initial_states(g.x, g.edge_index, g.edge_attr)
    H1 = enc.message_step(H0, H0, g.edge_index, g.rev_index, 4)
    score = torch.relu(H1 @ enc.attention.W_attn.weight.t()) @ enc.attention.v_attn.weight[0]
    sigma = torch.softmax(score, 0)
    H1 = 10 * sigma[:, None] * H1  # ten directed edges: uniform attention would be the identity
    dst = g.edge_index[1].tolist()
    h_v = torch.stack([torch.relu(enc.W_a(torch.cat([g.x[v], sum(H1[e] for e in range(10)
                                                                 if dst[e] == v)])))
                       for v in range(4)])
    logits = model.ffn(h_v.sum(0, keepdim=True))
    got, attention = model(Batch.from_data_list([g]), return_attention=True)
    assert torch.allclose(got, logits, atol=1e-5)
    assert torch.allclose(attention[0], sigma, atol=1e-6)


def test_attention_weights_sum_to_one_per_configuration(dataset):
    spec = GraphSpec.paper(2, window_length=0.3)
    batch = Batch.from_data_list([window_graph(dataset[i], spec, rng=i) for i in range(4)])
    _, attention = _model()(batch, return_attention=True)
    assert attention.shape == (2, batch.num_edges)
    per_graph = scatter(attention, batch.batch[batch.edge_index[0]], dim=1, reduce="sum")
    assert torch.allclose(per_graph, torch.ones(2, 4), atol=1e-5)


def test_output_is_invariant_to_particle_permutation(dataset):
    config = dataset[3]
    perm = np.random.default_rng(0).permutation(config.n_particles)
    shuffled = Configuration(config.positions[perm], config.types[perm], config.box)
    model, spec = _model(), GraphSpec.paper(2)
    a = model(Batch.from_data_list([frame_graph(config, spec)]))
    b = model(Batch.from_data_list([frame_graph(shuffled, spec)]))
    assert torch.allclose(a, b, atol=1e-5)


def test_invariant_mode_ignores_rotation_reflection_translation_of_a_window(dataset):
    config = dataset[5]
    inside = window_graph_at(config, (0.3, 0.3), GraphSpec(2, window_length=0.3)).particle_index.numpy()
    pos, types = config.positions[inside], config.types[inside]
    centred = pos - pos.mean(0)
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (centred @ rot.T) * np.array([-1.0, 1.0]) + np.array([21.3, 18.9])
    spec = GraphSpec(2, "invariant", length_scale=40.0, window_length=1.0)
    box = np.array([40.0, 40.0])
    model = _model(node_dim=2, edge_dim=spec.edge_dim)
    # l_win = 1 with the box as length scale: the whole (open-boundary) window as one graph
    a = model(Batch.from_data_list([window_graph_at(Configuration(centred + 20.0, types, box),
                                                     (0, 0), spec)]))
    b = model(Batch.from_data_list([window_graph_at(Configuration(moved, types, box), (0, 0),
                                                     spec)]))
    assert torch.allclose(a, b, atol=1e-5)


def test_invariant_mode_ignores_symmetries_of_the_periodic_frame(dataset):
    config = dataset[7]
    box = config.box
    # a quarter turn, a mirror and a shift map the periodic square box onto itself
    moved = np.stack([config.positions[:, 1], config.positions[:, 0]], axis=1)
    moved = (moved * np.array([-1.0, 1.0]) + np.array([7.7, 3.1])) % box
    spec = GraphSpec(2, "invariant")
    model = _model(node_dim=2, edge_dim=spec.edge_dim)
    a = model(Batch.from_data_list([frame_graph(config, spec)]))
    b = model(Batch.from_data_list([frame_graph(Configuration(moved, config.types, box), spec)]))
    assert torch.allclose(a, b, atol=1e-5)


def test_a_configuration_gives_the_same_output_alone_and_in_a_batch(dataset):
    spec = GraphSpec.paper(2, window_length=0.3)
    graphs = [window_graph(dataset[i], spec, rng=i) for i in range(5)]
    model = _model()
    alone_logits, alone_attention = model(Batch.from_data_list([graphs[2]]), return_attention=True)
    batch = Batch.from_data_list(graphs)
    logits, attention = model(batch, return_attention=True)
    mine = batch.batch[batch.edge_index[0]] == 2
    assert torch.allclose(logits[2], alone_logits[0], atol=1e-5)
    assert torch.allclose(attention[:, mine], alone_attention, atol=1e-6)


def test_paper_attention_scaling_shrinks_states_by_the_weights(dataset):
    g = Batch.from_data_list([window_graph(dataset[0], GraphSpec.paper(2, window_length=0.3), rng=0)])
    scaled = _model(attention_scaling="edges")
    literal = _model(attention_scaling="none")
    assert not torch.allclose(scaled(g), literal(g))


def test_save_then_load_gives_identical_outputs(dataset, tmp_path):
    spec = GraphSpec.paper(2, length_scale=30.0, window_length=0.3)
    model = _model()
    save_dmpnn(tmp_path / "m", model, spec, data={"dataset": str(DATA)})
    clf = load_classifier(tmp_path / "m")
    graph = Batch.from_data_list([frame_graph(dataset[1], spec)])
    with torch.no_grad():
        assert torch.equal(model(graph), clf.module(graph))
    # the whole-frame reading is the softmax of the saved network's logits (no calibration)
    frames = Batch.from_data_list([frame_graph(dataset[i], spec) for i in (1, 2)])
    with torch.no_grad():
        expected = torch.softmax(model(frames), dim=1)[:, 1].numpy()
    np.testing.assert_allclose(clf.glass_probability([dataset[1], dataset[2]]), expected, rtol=1e-5)
    assert clf.kind == "dmpnn" and clf.graph_spec == spec and clf.window_length == 0.3


def test_model_folder_is_json_and_safetensors(tmp_path):
    save_dmpnn(tmp_path, _model(), GraphSpec.paper(2, length_scale=30.0, window_length=0.2))
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["kind"] == "dmpnn"
    assert config["graph"] == {"num_neighbors": 2, "features": "paper", "length_scale": 30.0,
                               "window_length": 0.2, "edge_features": "distance",
                               "neighbors": "window"}
    assert not {"num_neighbors", "window_length"} & set(config["hyperparameters"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_NAME, WEIGHTS_NAME]


def test_attention_of_one_graph_is_returned_per_directed_edge(dataset, tmp_path):
    spec = GraphSpec.paper(2, length_scale=30.0, window_length=0.3)
    save_dmpnn(tmp_path, _model(), spec)
    clf = load_classifier(tmp_path)
    graph = clf.graph(dataset[0], origin=(0.1, 0.1))
    prob, attention = clf.attention(graph)
    assert 0 <= prob <= 1 and attention.shape == (2, graph.num_edges)


def test_loading_a_folder_without_config_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        load_classifier(tmp_path)


def test_loading_a_newer_format_version_is_a_clear_error(tmp_path):
    save_dmpnn(tmp_path, _model(), GraphSpec.paper(2, length_scale=30.0))
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    config["format_version"] = 99
    (tmp_path / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(InputError, match="newer"):
        load_classifier(tmp_path)


def test_loading_an_unknown_model_kind_is_a_clear_error(tmp_path):
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"kind": "svm", "format_version": 1}))
    with pytest.raises(InputError, match="kind"):
        load_classifier(tmp_path)


def test_graphs_with_the_wrong_feature_mode_are_rejected(dataset):
    graph = Batch.from_data_list([window_graph(dataset[0], GraphSpec(2, "invariant", window_length=0.3), rng=0)])
    with pytest.raises(InputError, match="node features"):
        _model(node_dim=4, edge_dim=graph.edge_attr.size(1))(graph)


def test_geometry_model_reads_the_distances_not_only_the_graph_shape(dataset):
    """Same graph, every distance 3% longer: the prediction moves (the paper's distance / box
    edges left it unchanged to three decimals)."""
    spec = GraphSpec(3, window_length=0.4, length_scale=30.0)
    graph = frame_graph(dataset[0], spec)
    src, dst = graph.edge_index.numpy()
    config = dataset[0]
    d = config.positions[src] - config.positions[dst]
    d -= config.box * np.round(d / config.box)
    distance = np.linalg.norm(d, axis=1)
    stretched = graph.clone()
    index = spec.system.type_index(config.types)
    stretched.edge_attr = torch.from_numpy(spec.edge_attributes(
        1.03 * distance, index[src], index[dst], 30.0))
    model = _model(node_dim=spec.node_dim, edge_dim=spec.edge_dim, seed=3)
    a = model(Batch.from_data_list([graph]))
    b = model(Batch.from_data_list([stretched]))
    assert not torch.allclose(a, b, atol=1e-4)


def test_input_layer_has_a_bias_unless_the_paper_is_asked_for():
    assert _model().encoder.W_i.bias is not None
    assert _model(input_bias=False).encoder.W_i.bias is None


def test_readout_norm_trains_on_one_graph_and_round_trips_through_a_folder(dataset, tmp_path):
    spec = GraphSpec(window_length=0.3, length_scale=30.0)
    model = _model(node_dim=spec.node_dim, edge_dim=spec.edge_dim, readout_norm=True)
    assert isinstance(model.readout_norm, torch.nn.BatchNorm1d)
    graphs = [window_graph(dataset[i], spec, np.random.default_rng(i)) for i in range(4)]
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for batch in (graphs[:3], graphs[3:]):              # the last batch holds a single graph
        loss = model(Batch.from_data_list(batch)).logsumexp(dim=1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    assert int(model.readout_norm.num_batches_tracked) == 1   # the one-graph batch left the stats alone
    save_dmpnn(tmp_path / "m", model, spec, data={"dataset": str(DATA)})
    clf = load_classifier(tmp_path / "m")
    both = Batch.from_data_list(graphs)
    with torch.no_grad():
        assert torch.equal(model(both), clf.module(both))
    # evaluation normalises with the running statistics: a graph alone reads as in a batch
    alone = Batch.from_data_list(graphs[:1])
    with torch.no_grad():
        assert torch.allclose(clf.module(alone), clf.module(both)[:1], atol=1e-5)
