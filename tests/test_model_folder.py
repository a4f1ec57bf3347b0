"""The model folder: one graph recipe, old folders still load and give what they gave.

``data/dmpnn-0.1`` is the model shipped with ovito-glassml 0.1 as it was shipped (format version
1); ``data/default_model_config_v2.json`` its config as format version 2 wrote it.
``data/shipped_model_probabilities.json`` holds that model's probabilities on the demo preset's
frames (data/small, 1080 particles, t_cool = 2e4), recorded with version 1's code; read as any
later format version they must not move by more than 1e-6.
"""

import json
import shutil

import numpy as np
import pytest

from ovito_glassml.frames import read_dump
from ovito_glassml.errors import InputError
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.models import load_classifier
from ovito_glassml.models.store import CONFIG_NAME, FORMAT_VERSION, read_config, upgrade_config
from ovito_glassml.modifiers.loading import DEFAULT_MODEL

from paths import ROOT, TEST_DATA

REFERENCE = json.loads((TEST_DATA / "shipped_model_probabilities.json").read_text())
OLD_MODEL = TEST_DATA / "dmpnn-0.1"
V2_CONFIG = TEST_DATA / "default_model_config_v2.json"
V3_CONFIG = TEST_DATA / "default_model_config_v3.json"
#: the shipped model's probabilities as ovito-glassml read its format-3 folder, before format 4
V3_REFERENCE = json.loads((TEST_DATA / "shipped_model_v3_probabilities.json").read_text())


@pytest.fixture(scope="module")
def old_model():
    return load_classifier(OLD_MODEL)


@pytest.fixture(scope="module")
def demo_frames():
    return [read_dump(ROOT / name) for name in REFERENCE["frames"]]


def test_the_format_1_model_gives_the_recorded_frame_probabilities(old_model, demo_frames):
    np.testing.assert_allclose(old_model.glass_probability(demo_frames, mode="frame"),
                               REFERENCE["frame"], atol=1e-6, rtol=0)


@pytest.mark.slow
def test_the_format_1_model_gives_the_recorded_tile_window_and_attention_values(old_model,
                                                                                demo_frames):
    np.testing.assert_allclose(old_model.glass_probability(demo_frames, mode="tiles"),
                               REFERENCE["tiles"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(old_model.glass_probability(demo_frames, mode="window", rng=0),
                               REFERENCE["window_rng0"], atol=1e-6, rtol=0)
    attention = old_model.frame_attention(demo_frames[0])
    assert attention.probability == pytest.approx(REFERENCE["attention_frame0_probability"],
                                                  abs=1e-6)
    top = np.sort(attention.weights[-1])[::-1][:10]
    np.testing.assert_allclose(top, REFERENCE["attention_frame0_last_step_sorted_top10"],
                               atol=1e-9, rtol=1e-5)


def test_old_models_read_the_paper_recipe_they_were_trained_with(old_model):
    assert old_model.graph_spec == GraphSpec(2, "invariant", 60.0, 0.2, edge_features="distance",
                                             neighbors="window")
    assert old_model.hyperparameters.input_bias is False


def test_a_format_2_folder_loads_with_the_same_recipe_and_probabilities(tmp_path, old_model,
                                                                         demo_frames):
    shutil.copy(OLD_MODEL / "weights.safetensors", tmp_path)
    shutil.copy(V2_CONFIG, tmp_path / CONFIG_NAME)
    assert json.loads(V2_CONFIG.read_text())["format_version"] == 2
    v2 = load_classifier(tmp_path)
    assert v2.graph_spec == old_model.graph_spec
    assert v2.hyperparameters == old_model.hyperparameters
    np.testing.assert_allclose(v2.glass_probability(demo_frames[:3]), REFERENCE["frame"][:3],
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize("folder", ["format 3 copy", "shipped format 4"])
def test_the_shipped_model_gives_the_probabilities_it_gave_as_a_format_3_folder(tmp_path, folder):
    if folder == "format 3 copy":
        shutil.copy(DEFAULT_MODEL / "weights.safetensors", tmp_path)
        shutil.copy(V3_CONFIG, tmp_path / CONFIG_NAME)
        assert json.loads(V3_CONFIG.read_text())["format_version"] == 3
        model = load_classifier(tmp_path)
    else:
        model = load_classifier(DEFAULT_MODEL)
    assert model.system.label() == "2D, types 1 (A), 2 (B)" and model.system.length_unit == 1.0
    frames = [read_dump(ROOT / name) for name in V3_REFERENCE["frames"]]
    np.testing.assert_allclose(model.glass_probability(frames, mode="frame"),
                               V3_REFERENCE["frame"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(model.glass_probability(frames, mode="tiles"),
                               V3_REFERENCE["tiles"], atol=1e-6, rtol=0)


def test_shipped_model_folder_is_the_current_format_with_one_graph_section():
    config = json.loads((DEFAULT_MODEL / CONFIG_NAME).read_text())
    assert config["format_version"] == FORMAT_VERSION
    # the density of its training frames (4320 in 60 x 60): frames in other units are scaled to
    # it; their composition (2808 A, 1512 B): frames numbering the types otherwise are matched
    assert config["system"] == {"dimension": 2, "type_ids": [1, 2], "type_names": ["A", "B"],
                                "length_unit": 1.0, "number_density": 1.2,
                                "fractions": [0.65, 0.35]}
    spec = GraphSpec.from_dict(config["graph"])
    assert spec.features == "invariant" and spec.window_length <= 0.2
    assert not {"num_neighbors", "window_length"} & set(config["hyperparameters"])
    assert not {"features", "length_scale"} & set(config)


def test_format_1_defaults_fill_a_recipe_the_old_folder_left_out():
    config = {"kind": "dmpnn", "format_version": 1, "hyperparameters": {"hidden_size": 8}}
    upgraded = upgrade_config(config)
    assert upgraded["format_version"] == FORMAT_VERSION
    assert GraphSpec.from_dict(upgraded["graph"]) == GraphSpec.paper(2, window_length=0.2)
    assert upgraded["hyperparameters"] == {"hidden_size": 8, "input_bias": False}


def test_a_recipe_with_an_unknown_key_is_a_clear_error():
    with pytest.raises(InputError, match="unknown keys"):
        GraphSpec.from_dict({"num_neighbors": 2, "cutoff_radius": 1.5})


def test_reading_the_shipped_config_does_not_change_it():
    before = (DEFAULT_MODEL / CONFIG_NAME).read_text()
    read_config(DEFAULT_MODEL)
    assert (DEFAULT_MODEL / CONFIG_NAME).read_text() == before


def test_only_the_loader_looks_at_a_model_folders_kind():
    # callers ask a Classifier what it can do (reads_windows, has_attention), not what it is;
    # the folder format (store.py, whose format-1 converter knows that only a D-MPNN has a
    # graph recipe) and the loader (classifier.py) are the places that may
    package = ROOT / "ovito_glassml"
    allowed = {package / "models" / "store.py", package / "models" / "classifier.py"}
    switches = [str(path.relative_to(ROOT)) for path in package.rglob("*.py")
                if path not in allowed
                for line in path.read_text().splitlines()
                if ".kind ==" in line or ".kind !=" in line or '["kind"] ==' in line]
    assert switches == []


@pytest.mark.parametrize("temperature, is_glass", [(0.05, True), (0.26, True), (0.55, False),
                                                   (1.99, False)])
def test_shipped_model_classifies_a_cooling_run_it_never_saw(temperature, is_glass):
    # a run of the campaign held out of the shipped model's training (its config.json, MODEL_CARD.md)
    config = json.loads((DEFAULT_MODEL / "config.json").read_text())
    seed = config["metrics"]["heldout"]["seeds"][-1]
    assert seed not in config["data"]["train_seeds"]
    frame = read_dump(ROOT / f"data/paper/slow/tcool200000/seed{seed}/T{temperature:g}.dump.gz")
    shipped = load_classifier(DEFAULT_MODEL)
    result = shipped.frame_pass(frame)
    for probability in (result.probability, float(result.tiles.mean())):
        assert (probability > 0.5) == is_glass


def test_the_cnn_refuses_a_3d_frame_in_one_line_naming_the_dmpnn():
    # the check needs no network: the CNN reads pictures of 2D Kob-Andersen frames only
    from ovito_glassml.configuration import Configuration
    from ovito_glassml.errors import InputError
    from ovito_glassml.models.cnn import CNNClassifier

    cnn = CNNClassifier(None, upgrade_config({"kind": "cnn", "format_version": 3}))
    rng = np.random.default_rng(0)
    three_d = Configuration(rng.random((50, 3)) * 5, np.r_[np.ones(40), np.full(10, 2)], [5.0] * 3)
    with pytest.raises(InputError, match="is 3D; the CNN reads pictures of 2D frames: classify "
                                         "3D frames with a D-MPNN model") as refused:
        cnn.glass_probability([three_d])
    assert "\n" not in str(refused.value)
    with pytest.raises(InputError, match="does not know type 3"):
        cnn.check(Configuration(rng.random((50, 2)) * 5, np.r_[np.ones(40), np.full(10, 3)],
                                [5.0, 5.0]))


def test_the_same_weights_give_the_same_file_bytes(tmp_path):
    # safetensors writes several metadata keys in a random order (it varies even within one
    # process), so two keys made equal models differ in bytes and in weights_sha256
    from ovito_glassml.models.store import WEIGHTS_NAME, load_weights, save_model

    weights = {f"layer{i}.weight": np.full((3, 4), i, dtype=np.float32) for i in range(12)}
    files = set()
    for repeat in range(12):
        folder = save_model(tmp_path / f"m{repeat}", "dmpnn", {"hidden": 4}, weights)
        files.add((folder / WEIGHTS_NAME).read_bytes())
        assert read_config(folder)["weights_sha256"] == read_config(tmp_path / "m0")["weights_sha256"]
    assert len(files) == 1
    loaded = load_weights(tmp_path / "m0")
    assert sorted(loaded) == sorted(weights)
    assert all(np.array_equal(loaded[name], weights[name]) for name in weights)
