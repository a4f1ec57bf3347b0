"""The model folder: one graph recipe, old folders still load, the shipped model is unchanged.

``data/shipped_model_probabilities.json`` holds the shipped model's probabilities on the demo
preset's frames (data/small, 1080 particles, t_cool = 2e4), recorded before the model folder
moved to format version 2; they must not move by more than 1e-6.
"""

import json
import shutil

import numpy as np
import pytest

from ovito_glassml.configuration import read_dump
from ovito_glassml.errors import InputError
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.models import load_classifier
from ovito_glassml.models.store import CONFIG_NAME, FORMAT_VERSION, read_config, upgrade_config
from ovito_glassml.modifiers.loading import DEFAULT_MODEL

from paths import ROOT, TEST_DATA

REFERENCE = json.loads((TEST_DATA / "shipped_model_probabilities.json").read_text())
V1_CONFIG = TEST_DATA / "default_model_config_v1.json"


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def demo_frames():
    return [read_dump(ROOT / name) for name in REFERENCE["frames"]]


def test_shipped_model_gives_the_recorded_frame_probabilities(shipped, demo_frames):
    np.testing.assert_allclose(shipped.glass_probability(demo_frames, mode="frame"),
                               REFERENCE["frame"], atol=1e-6, rtol=0)


@pytest.mark.slow
def test_shipped_model_gives_the_recorded_tile_window_and_attention_values(shipped, demo_frames):
    np.testing.assert_allclose(shipped.glass_probability(demo_frames, mode="tiles"),
                               REFERENCE["tiles"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(shipped.glass_probability(demo_frames, mode="window", rng=0),
                               REFERENCE["window_rng0"], atol=1e-6, rtol=0)
    attention = shipped.frame_attention(demo_frames[0])
    assert attention.probability == pytest.approx(REFERENCE["attention_frame0_probability"],
                                                  abs=1e-6)
    top = np.sort(attention.weights[-1])[::-1][:10]
    np.testing.assert_allclose(top, REFERENCE["attention_frame0_last_step_sorted_top10"],
                               atol=1e-9, rtol=1e-5)


def test_shipped_model_folder_is_the_current_format_with_one_graph_section():
    config = json.loads((DEFAULT_MODEL / CONFIG_NAME).read_text())
    assert config["format_version"] == FORMAT_VERSION
    assert GraphSpec.from_dict(config["graph"]) == GraphSpec(2, "invariant", 60.0, 0.2)
    assert not {"num_neighbors", "window_length"} & set(config["hyperparameters"])
    assert not {"features", "length_scale"} & set(config)


def test_a_format_1_folder_loads_with_the_same_recipe_and_probabilities(tmp_path, shipped,
                                                                         demo_frames):
    shutil.copy(DEFAULT_MODEL / "weights.safetensors", tmp_path)
    shutil.copy(V1_CONFIG, tmp_path / CONFIG_NAME)
    old = load_classifier(tmp_path)
    assert old.graph_spec == shipped.graph_spec
    assert old.hyperparameters == shipped.hyperparameters
    np.testing.assert_allclose(old.glass_probability(demo_frames[:3]), REFERENCE["frame"][:3],
                               atol=1e-6, rtol=0)


def test_format_1_defaults_fill_a_recipe_the_old_folder_left_out():
    config = {"kind": "dmpnn", "format_version": 1, "hyperparameters": {"hidden_size": 8}}
    upgraded = upgrade_config(config)
    assert upgraded["graph"] == {} and upgraded["format_version"] == FORMAT_VERSION
    assert GraphSpec.from_dict(upgraded["graph"]) == GraphSpec()


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
