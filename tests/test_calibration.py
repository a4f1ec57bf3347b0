"""Whole-frame calibration: the offsets fitted after training and every reading that applies them."""

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ovito_glassml.cli import main
from ovito_glassml.models import load_classifier
from ovito_glassml.models.classifier import shift_logit
from ovito_glassml.training.calibration import fit_logit_offset
from paths import DATASET1


def test_fitted_offset_undoes_a_known_shift_of_the_logits():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 500)
    logits = np.where(labels == 1, 1.0, -1.0) + rng.normal(0, 1, labels.size)
    shifted = 1 / (1 + np.exp(-(logits - 2.5)))         # every frame pushed towards liquid
    assert fit_logit_offset(labels, shifted) == pytest.approx(2.5, abs=0.2)
    assert fit_logit_offset(labels, 1 / (1 + np.exp(-logits))) == pytest.approx(0.0, abs=0.2)


def test_frames_the_network_already_separates_keep_an_offset_near_zero():
    # both sides sure, glass surer: the loss alone would centre the offset between them (-7)
    labels = np.repeat([1, 0], 50)
    probabilities = np.where(labels == 1, 1 - 1e-9, 1e-3)
    assert abs(fit_logit_offset(labels, probabilities)) < 0.5
    assert fit_logit_offset(labels, probabilities, prior_std=1e6) < -5


def test_shifting_keeps_the_order_of_probabilities():
    p = np.array([0.01, 0.2, 0.5, 0.9, 0.999])
    for offset in (-3.0, 0.0, 4.0):
        assert np.all(np.diff(shift_logit(p, offset)) > 0)
    assert shift_logit(0.5, np.log(3.0)) == pytest.approx(0.75)


def test_training_stores_offsets_that_the_frame_and_tile_readings_apply(tiny_model_folder, dataset1):
    config = json.loads((tiny_model_folder / "config.json").read_text())
    section = config["calibration"]
    assert section["fitted_on"] == "the training frames" and section["n_frames"] > 0
    classifier = load_classifier(tiny_model_folder)
    raw = classifier.uncalibrated()
    assert (raw.calibration.frame, raw.calibration.tiles) == (0.0, 0.0)
    configs = [dataset1[i] for i in range(0, len(dataset1), 3)]
    for mode in ("frame", "tiles"):
        got = classifier.glass_probability(configs, mode)
        expected = shift_logit(raw.glass_probability(configs, mode), section[mode])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # what classify and the OVITO modifier read: the same calibrated numbers
    generator = classifier.classify_frame(configs[0])
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        result = stop.value
    assert result.probability == pytest.approx(classifier.glass_probability(configs[:1], "tiles")[0], rel=1e-5)
    assert result.whole_frame == pytest.approx(classifier.glass_probability(configs[:1], "frame")[0], rel=1e-5)
    # a window is what the model was trained on: no offset
    np.testing.assert_allclose(classifier.glass_probability(configs, "window", rng=3),
                               raw.glass_probability(configs, "window", rng=3))


def test_calibrate_command_recentres_frames_that_a_wrong_offset_put_on_one_side(tiny_model_folder,
                                                                              dataset1, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_folder, model)
    config = json.loads((model / "config.json").read_text())
    config["calibration"] = {"frame": -12.0, "tiles": -12.0}
    (model / "config.json").write_text(json.dumps(config))
    configs = [dataset1[i] for i in range(len(dataset1))]
    wrong = load_classifier(model).glass_probability(configs, "frame")
    assert np.all(wrong < 0.5)                         # every glass called liquid
    assert main(["calibrate", "--model", str(model), "--data", str(DATASET1)]) == 0
    section = json.loads((model / "config.json").read_text())["calibration"]
    assert section["frame_accuracy_before"] == pytest.approx(np.mean(
        (load_classifier(model).uncalibrated().glass_probability(configs, "frame") >= 0.5) == dataset1.label))
    right = load_classifier(model).glass_probability(configs, "frame")
    assert roc_auc_score(dataset1.label, right) == pytest.approx(roc_auc_score(dataset1.label, wrong))
    assert np.mean((right >= 0.5) == dataset1.label) == section["frame_accuracy_after"] >= 0.9
    # fitted on the network's own output, not on top of the offset it replaces
    assert main(["calibrate", "--model", str(model), "--data", str(DATASET1)]) == 0
    again = json.loads((model / "config.json").read_text())["calibration"]
    assert (again["frame"], again["tiles"]) == (section["frame"], section["tiles"])


def test_calibrate_needs_labelled_frames_of_both_classes(tiny_model_folder, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_folder, model)
    from ovito_glassml.datasets import load_dataset

    glass_only = tmp_path / "glass.npz"
    data = load_dataset(DATASET1)
    data.subset(np.flatnonzero(data.label == 1)).save(glass_only)
    assert main(["calibrate", "--model", str(model), "--data", str(glass_only)]) == 2
    assert "both classes" in capsys.readouterr().err
    assert main(["calibrate", "--model", str(model)]) == 2
    assert "--data" in capsys.readouterr().err
