"""The OVITO modifiers in real OVITO pipelines on real dumps."""

import os
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest
from ovito.io import import_file

from ovito_glassml.frames import read_dump
from ovito_glassml.metrics import AttentionGraphCounts, GlassGraphMetrics
from ovito_glassml.modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier

from paths import GLASS_DUMP as GLASS
from paths import LIQUID_DUMP as LIQUID
from tiny_model import write_dump


@pytest.fixture(scope="module")
def model(tiny_model_folder):
    return tiny_model_folder


@pytest.fixture(scope="module")
def classified(model):
    pipeline = import_file(str(GLASS))
    pipeline.modifiers.append(GlassClassifierModifier(model_path=str(model)))
    return pipeline.compute()


@pytest.fixture(scope="module")
def attention(model):
    pipeline = import_file(str(LIQUID))
    pipeline.modifiers.append(AttentionModifier(model_path=str(model), cutoff=1.5))
    return pipeline.compute()


def compute(path, *modifiers):
    pipeline = import_file(str(path))
    pipeline.modifiers.extend(modifiers)
    return pipeline.compute()


def run_generator(generator):
    """The value a progress-yielding generator returns."""
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


def test_entry_points_resolve_to_the_modifier_classes():
    loaded = {ep.load() for ep in entry_points(group="OVITO.Modifier")}
    assert {GlassClassifierModifier, AttentionModifier, GlassMetricsModifier} <= loaded


def test_metrics_modifier_attributes_equal_the_metrics_module():
    data = compute(LIQUID, GlassMetricsModifier())
    expected = GlassGraphMetrics().compute(read_dump(LIQUID))
    assert data.attributes["GlassMetrics.DisjointGraphs"] == expected.num_disjoint_graphs
    assert data.attributes["GlassMetrics.BBEdges"] == expected.num_bb_edges
    assert data.attributes["GlassMetrics.IsolatedA"] == expected.num_isolated_a


def test_metrics_modifier_bonds_are_the_b_particle_graph():
    data = compute(LIQUID, GlassMetricsModifier(create_bonds=True))
    bonds = data.particles.bonds
    expected = GlassGraphMetrics().compute(read_dump(LIQUID)).edges
    assert bonds.count == len(expected)
    types = np.asarray(data.particles.particle_types)[np.asarray(bonds.topology)]
    assert np.all((types == 2).any(axis=1))  # every edge has a B end


def test_bonds_across_the_periodic_boundary_are_short():
    data = compute(LIQUID, GlassMetricsModifier(create_bonds=True))
    vectors = bond_vectors(data)
    assert np.linalg.norm(vectors, axis=1).max() < 3.0  # neighbours, never a box length apart


def bond_vectors(data):
    topology = np.asarray(data.particles.bonds.topology)
    images = np.asarray(data.particles.bonds["Periodic Image"])
    positions = np.asarray(data.particles.positions)
    return (positions[topology[:, 1]] - positions[topology[:, 0]]
            + images @ np.asarray(data.cell)[:, :3].T)


def test_classifier_writes_window_and_whole_frame_probabilities(model, classified):
    from ovito_glassml.models import load_classifier

    classifier, config = load_classifier(model), read_dump(GLASS)
    assert classified.attributes["GlassProbability"] == pytest.approx(
        classifier.glass_probability([config], "tiles")[0], rel=1e-5)
    assert classified.attributes["GlassProbability.WholeFrame"] == pytest.approx(
        classifier.glass_probability([config], "frame")[0], rel=1e-5)
    assert classified.attributes["GlassProbability.Windows"] == len(
        run_generator(classifier.classify_frame(config)).windows) > 1


def test_classifier_local_probability_is_the_mean_of_the_windows_holding_each_particle(
        model, classified):
    from ovito_glassml.models import load_classifier

    result = run_generator(load_classifier(model).classify_frame(read_dump(GLASS)))
    total, count = np.zeros(classified.particles.count), np.zeros(classified.particles.count)
    for members, probability in zip(result.windows, result.window_probabilities):
        np.add.at(total, members, probability)
        np.add.at(count, members, 1)
    assert count.min() >= 1                                 # the tiles cover every particle
    local = np.asarray(classified.particles["Glass Probability"])
    np.testing.assert_allclose(local, total / count, rtol=1e-6)


def test_classifier_calls_the_glass_a_glass_and_the_liquid_a_liquid(model, classified):
    liquid = compute(LIQUID, GlassClassifierModifier(model_path=str(model), whole_frame=False,
                                                     local_probability=False))
    assert classified.attributes["GlassProbability"] > 0.5 > liquid.attributes["GlassProbability"]


def test_attention_bonds_are_the_model_graph_pairs(model, attention):
    from ovito_glassml.modifiers.loading import cached_classifier

    graph = cached_classifier(str(model)).graph(read_dump(LIQUID))
    assert attention.particles.bonds.count == graph.num_edges // 2


def test_attention_bond_weight_is_the_larger_directed_weight(model, attention):
    from ovito_glassml.modifiers.loading import cached_classifier

    classifier = cached_classifier(str(model))
    graph = classifier.graph(read_dump(LIQUID))
    _, weights = classifier.attention(graph)
    directed = weights[-1]
    larger = np.maximum(directed, directed[graph.rev_index.numpy()])
    edges = graph.edge_index.numpy()
    forward = edges[0] < edges[1]
    expected = dict(zip(map(tuple, edges[:, forward].T), larger[forward]))
    topology = np.asarray(attention.particles.bonds.topology)
    got = np.asarray(attention.particles.bonds["Attention"])
    assert np.allclose(got, [expected[tuple(p)] for p in topology], rtol=1e-6)


def test_attention_count_attributes_equal_the_metrics_module(model, attention):
    from ovito_glassml.modifiers.loading import cached_classifier

    classifier = cached_classifier(str(model))
    config = read_dump(LIQUID)
    graph = classifier.graph(config)
    _, weights = classifier.attention(graph)
    counts = AttentionGraphCounts(1.5).compute(graph.edge_index.numpy(),
                                               weights[-1] * graph.num_edges, config.types)
    assert attention.attributes["Attention.DisjointGraphs"] == counts.num_disjoint_graphs
    assert attention.attributes["Attention.BBEdges"] == counts.num_bb_edges
    assert attention.attributes["Attention.IsolatedA"] == counts.num_isolated_a
    assert attention.attributes["Attention.IsolatedB"] == counts.num_isolated_b


def test_attention_bond_width_follows_attention(attention):
    bonds = attention.particles.bonds
    width, weight = np.asarray(bonds["Width"]), np.asarray(bonds["Attention"])
    assert np.allclose(width / width.max(), weight / weight.max())
    assert "Color" in bonds


RENDER = """
import sys
from ovito_glassml.render import render_attention
render_attention(sys.argv[1], sys.argv[2], model_path=sys.argv[3], size=(240, 240))
"""


def test_attention_picture_renders_headless_to_png(model, tmp_path):
    # a fresh process: OVITO's renderer cannot share one with TensorFlow (the CNN test loads it)
    from PIL import Image

    path = tmp_path / "glass.png"
    subprocess.run([sys.executable, "-c", RENDER, str(GLASS), str(path), str(model)], check=True,
                   env={**os.environ, "DISPLAY": ""})
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape == (240, 240, 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10  # particles and bonds, not blank


@pytest.fixture(scope="module")
def bad_frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    positions = rng.random((60, 2)) * 8.0
    types = np.where(np.arange(60) % 3 == 0, 2, 1)
    return {
        "3d": write_dump(folder / "3d.dump", positions, types, (8.0, 8.0),
                         z=rng.random(60) * 8.0),
        "one type": write_dump(folder / "noB.dump", positions, np.ones(60, int), (8.0, 8.0)),
        "two particles": write_dump(folder / "two.dump", positions[:2], [1, 2], (8.0, 8.0)),
        # a third type beside A and B (a model matches two unknown ids by abundance)
        "type 3": write_dump(folder / "type3.dump", positions,
                             np.where(np.arange(60) == 5, 3, types), (8.0, 8.0)),
        "untyped": write_dump(folder / "untyped.dump", positions, types, (8.0, 8.0),
                              with_types=False),
    }


#: (frame, modifier) -> the refusal; the metrics read 3D frames and any types, a model refuses a
#: frame of another dimension or with a type it was not trained on.
REFUSALS = {
    ("3d", "classifier"): "is 3D; the model was trained on 2D, types 1.*2",
    ("3d", "attention"): "is 3D; the model was trained on 2D",
    ("one type", "metrics"): "only type-1 particles",
    ("two particles", "metrics"): "at least \\d",
    ("two particles", "classifier"): "at least \\d",
    ("two particles", "attention"): "at least \\d",
    ("type 3", "classifier"): "types 1, 2, 3; the model was trained on .*does not know type 3",
    ("type 3", "attention"): "does not know type 3",
    ("untyped", "metrics"): "no Particle Type",
    ("untyped", "classifier"): "no Particle Type",
    ("untyped", "attention"): "no Particle Type",
}


def _modifier(kind, model):
    return {"metrics": lambda: GlassMetricsModifier(),
            "classifier": lambda: GlassClassifierModifier(model_path=str(model)),
            "attention": lambda: AttentionModifier(model_path=str(model))}[kind]()


@pytest.mark.parametrize("frame, modifier", sorted(REFUSALS))
def test_bad_frames_give_a_clear_error_in_the_pipeline(bad_frames, model, frame, modifier):
    with pytest.raises(ValueError, match=REFUSALS[frame, modifier]):
        compute(bad_frames[frame], _modifier(modifier, model))


@pytest.mark.parametrize("frame, modifier", [("3d", "metrics"), ("type 3", "metrics")])
def test_the_metrics_read_3d_frames_and_any_types(bad_frames, model, frame, modifier):
    data = compute(bad_frames[frame], _modifier(modifier, model))
    expected = GlassGraphMetrics().compute(read_dump(bad_frames[frame]))
    assert data.attributes["GlassMetrics.IsolatedA"] == expected.num_isolated_a
    assert data.attributes["GlassMetrics.BBEdges"] == expected.num_bb_edges
    assert data.attributes["GlassMetrics.DisjointGraphs"] == expected.num_disjoint_graphs


def test_missing_model_folder_is_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        compute(GLASS, GlassClassifierModifier(model_path=str(tmp_path / "nowhere")))


def test_attention_and_metrics_modifiers_stack_in_one_pipeline(model):
    # both replace the frame's bonds: the last one in the pipeline owns them, and the attributes
    # of both survive
    metrics_last = compute(LIQUID, AttentionModifier(model_path=str(model), cutoff=1.5),
                           GlassMetricsModifier(create_bonds=True))
    attention_last = compute(LIQUID, GlassMetricsModifier(create_bonds=True),
                             AttentionModifier(model_path=str(model), cutoff=1.5))
    b_graph = GlassGraphMetrics().compute(read_dump(LIQUID)).edges
    assert metrics_last.particles.bonds.count == len(b_graph)
    assert "Attention" not in metrics_last.particles.bonds
    assert "Attention" in attention_last.particles.bonds
    assert attention_last.particles.bonds.count != len(b_graph)
    for data in (metrics_last, attention_last):
        assert "GlassMetrics.BBEdges" in data.attributes
        assert "Attention.BBEdges" in data.attributes
        assert data.attributes["GlassMetrics.BBEdges"] == metrics_last.attributes["GlassMetrics.BBEdges"]
        assert data.attributes["Attention.BBEdges"] == attention_last.attributes["Attention.BBEdges"]


def test_a_modifier_gives_the_same_result_on_every_invocation(model):
    # OVITO calls modify again for every frame and every parameter change
    pipeline = import_file(str(GLASS))
    modifier = GlassClassifierModifier(model_path=str(model), whole_frame=False)
    pipeline.modifiers.append(modifier)
    first = pipeline.compute().attributes["GlassProbability"]
    assert pipeline.compute().attributes["GlassProbability"] == first
    modifier.whole_frame = True
    again = pipeline.compute()
    assert again.attributes["GlassProbability"] == first
    assert "GlassProbability.WholeFrame" in again.attributes
    modifier.whole_frame = False
    assert "GlassProbability.WholeFrame" not in pipeline.compute().attributes


def test_a_model_folder_loads_once(model):
    from ovito_glassml.modifiers.loading import cached_classifier

    assert cached_classifier(str(model)) is cached_classifier(str(model))


@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory):
    """The paper's CNN with the pooled head, untrained, saved as a model folder: enough to prove
    the CNN path (the modifiers never look at the head; the dense one is 72 M weights)."""
    from ovito_glassml.models.cnn import build_cnn, save_cnn_weights
    from ovito_glassml.models.store import save_model

    folder = tmp_path_factory.mktemp("cnn")
    save_cnn_weights(build_cnn(head="pooled"), folder)
    return save_model(folder, "cnn", {"dropout": 0.0, "head": "pooled"})


@pytest.mark.tensorflow
def test_both_models_answer_the_classifier_protocol_with_their_own_readings(model, cnn_model):
    from ovito_glassml.errors import InputError
    from ovito_glassml.modifiers.loading import cached_classifier

    config = read_dump(GLASS)
    dmpnn, cnn = cached_classifier(str(model)), cached_classifier(str(cnn_model))
    assert (dmpnn.kind, dmpnn.reads_windows, dmpnn.has_attention) == ("dmpnn", True, True)
    assert (cnn.kind, cnn.reads_windows, cnn.has_attention) == ("cnn", False, False)
    # the frame's reading is the tile mean for the D-MPNN, the one image for the CNN
    for classifier, mode in ((dmpnn, "tiles"), (cnn, "frame")):
        result = run_generator(classifier.classify_frame(config))
        assert result.probability == pytest.approx(
            classifier.glass_probability([config], mode)[0], rel=1e-5)
    attention = dmpnn.frame_attention(config)     # a weight per directed edge, one per step
    assert attention.weights.shape[1] == attention.edge_index.shape[1] > config.n_particles
    np.testing.assert_allclose(attention.weights.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(InputError, match="no attention"):
        cnn.frame_attention(config)


@pytest.mark.tensorflow
def test_classifier_reads_a_cnn_model_folder_too(cnn_model):
    from ovito_glassml.modifiers.loading import cached_classifier

    data = compute(GLASS, GlassClassifierModifier(model_path=str(cnn_model)))
    expected = cached_classifier(str(cnn_model)).glass_probability([read_dump(GLASS)])[0]
    assert data.attributes["GlassProbability"] == pytest.approx(expected, rel=1e-5)
    assert "GlassProbability.WholeFrame" not in data.attributes  # a D-MPNN-only reading


@pytest.mark.tensorflow
def test_attention_refuses_a_model_without_attention(cnn_model):
    with pytest.raises(ValueError, match="no edge self-attention"):
        compute(GLASS, AttentionModifier(model_path=str(cnn_model)))


@pytest.mark.tensorflow
def test_rendering_beside_tensorflow_is_refused_not_crashed(cnn_model, tmp_path):
    from ovito_glassml.render import render_pipeline

    assert "tensorflow" in sys.modules  # loaded by the CNN model fixture
    with pytest.raises(RuntimeError, match="separate process"):
        render_pipeline(import_file(str(GLASS)), tmp_path / "x.png")


OVITO_SIDE = """
import sys
from ovito.io import import_file
from ovito_glassml.modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier
pipeline = import_file(sys.argv[1])
pipeline.modifiers.extend([GlassClassifierModifier(model_path=sys.argv[2]), GlassMetricsModifier(),
                           AttentionModifier(model_path=sys.argv[2])])
pipeline.compute()
training = sorted(m for m in sys.modules if m.startswith("ovito_glassml.training")
                  or m.split(".")[0] in ("hyperopt", "sklearn", "tensorflow"))
print(",".join(training))
"""


def test_the_ovito_side_never_imports_the_training_code(model):
    # a fresh process: this one has imported everything
    result = subprocess.run([sys.executable, "-c", OVITO_SIDE, str(GLASS), str(model)],
                            check=True, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1:] in ([], [""])
