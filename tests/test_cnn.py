"""The paper's CNN (§2.3): architecture, augmentation, schedule, training, model folder, errors."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ovito_glassml.datasets import load_dataset, split_by_run
from ovito_glassml.errors import InputError
from ovito_glassml.images import render_image
from ovito_glassml.models import load_classifier

DATASET1 = Path(__file__).resolve().parents[1] / "data" / "small" / "datasets" / "dataset1.npz"

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from ovito_glassml.models.cnn import build_cnn, check_images, load_cnn  # noqa: E402
from ovito_glassml.training import cnn as training  # noqa: E402


def test_importing_the_model_package_does_not_import_tensorflow():
    code = ("import sys, ovito_glassml.models, ovito_glassml.models.cnn, ovito_glassml.images; "
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_parameter_count_equals_the_paper_architecture_arithmetic():
    conv1 = 10 * 10 * 3 * 6 + 6          # 6 kernels 10x10x3 + biases
    conv2 = 5 * 5 * 6 * 16 + 16          # 16 kernels 5x5x6 + biases
    side = 250 - 10 + 1 - 5 + 1          # two valid convolutions, stride 1: 237
    dense = 16 * side * side * 80 + 80   # flatten 16x237x237 -> 80
    output = 80 * 2 + 2
    model = build_cnn(0.2)
    assert model.count_params() == conv1 + conv2 + dense + output == 71_900_784
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (241, 241, 6)
    assert shapes["conv2"] == (237, 237, 16)
    assert shapes["flatten"] == (16 * 237 * 237,)
    assert shapes["dense"] == (80,) and shapes["output"] == (2,)


def test_all_four_layers_carry_l2_of_0p01_and_relu_where_the_paper_has_it():
    model = build_cnn(0.3)
    weighted = [layer for layer in model.layers if layer.weights]
    assert [layer.name for layer in weighted] == ["conv1", "conv2", "dense", "output"]
    for layer in weighted:
        assert isinstance(layer.kernel_regularizer, keras.regularizers.L2)
        assert np.isclose(layer.kernel_regularizer.l2, 0.01)
    activations = {layer.name: layer.activation.__name__ for layer in weighted}
    assert activations == {"conv1": "relu", "conv2": "relu", "dense": "relu", "output": "linear"}
    assert model.get_layer("dropout").rate == pytest.approx(0.3)
    assert model.get_layer("conv1").padding == model.get_layer("conv2").padding == "valid"


def test_augmentation_gives_all_eight_dihedral_images_and_keeps_every_pixel():
    image = render_image(load_dataset(DATASET1)[0])
    dihedral = {np.ascontiguousarray(np.flipud(np.rot90(image, k)) if flip else np.rot90(image, k))
                .tobytes() for k in range(4) for flip in (False, True)}
    assert len(dihedral) == 8
    pixels = np.sort(image.reshape(-1, 3).view("V3").ravel())
    seen = set()
    for seed in range(64):
        out = training.augment(tf.constant(image), tf.constant([seed, 7], dtype=tf.int64)).numpy()
        assert out.shape == image.shape
        np.testing.assert_array_equal(np.sort(out.reshape(-1, 3).view("V3").ravel()), pixels)
        seen.add(np.ascontiguousarray(out).tobytes())
    assert seen == dihedral


def test_augmentation_is_a_function_of_its_seed():
    image = tf.constant(render_image(load_dataset(DATASET1)[3]))
    seed = tf.constant([11, 5], dtype=tf.int64)
    np.testing.assert_array_equal(training.augment(image, seed), training.augment(image, seed))


def test_learning_rate_at_epoch_boundaries_follows_the_paper():
    steps_per_epoch, epochs = 7, 10
    schedule = training.paper_learning_rate(steps_per_epoch, epochs)
    at = [float(schedule(epoch * steps_per_epoch)) for epoch in range(epochs + 1)]
    # 1e-4 rising linearly to 1e-3 over two epochs, then exponential decay to 1e-4 at the end
    decay = [1e-3 * 0.1 ** ((e - 2) / (epochs - 2)) for e in range(2, epochs + 1)]
    expected = [1e-4, 5.5e-4] + decay
    np.testing.assert_allclose(at, expected, rtol=1e-6)
    assert float(schedule(3)) == pytest.approx(1e-4 + 9e-4 * 3 / 14, rel=1e-6)
    assert float(schedule(10_000)) == pytest.approx(1e-4, rel=1e-6)


def test_model_refuses_images_of_the_wrong_size():
    with pytest.raises(InputError, match="250x250"):
        check_images(np.zeros((2, 128, 128, 3), dtype=np.uint8))
    with pytest.raises(InputError, match="250x250"):
        check_images(np.zeros((2, 250, 250), dtype=np.uint8))


def test_loading_a_folder_without_weights_says_so(tmp_path):
    with pytest.raises(InputError, match="model.keras"):
        load_cnn(tmp_path, {"kind": "cnn"})


# ----------------------------------------------------------------------------- training

# A brief training: the 16 configurations of 8 runs, 6 epochs of batch 4 (24 Adam steps) at 3% of
# the paper's rates. At the paper's 1e-3, Adam's sign-like first steps on the 71.9 M weights of the
# 80-neuron layer silence its ReLUs within a few steps on so few images (measured: constant output
# for 30 steps). What so brief a training can show is that the network learns its training runs;
# held-out runs need the paper's thousands of steps on thousands of configurations (docs/cnn.md).
BRIEF = ["--epochs", "6", "--batch-size", "4", "--dropout", "0", "--peak-lr", "3e-5", "--seed", "0"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``glassml train cnn`` on the training runs of dataset 1; (folder, train, held-out)."""
    from ovito_glassml.cli import main

    root = tmp_path_factory.mktemp("cnn")
    dataset = load_dataset(DATASET1)
    train_idx, test_idx = split_by_run(dataset, [2 / 3, 1 / 3], rng=0)
    train, held_out = dataset.subset(train_idx), dataset.subset(test_idx)
    train.save(root / "train.npz")
    folder = root / "model"
    assert main(["train", "cnn", "--data", str(root / "train.npz"), "--out", str(folder),
                 *BRIEF]) == 0
    return folder, train, held_out


def test_train_command_writes_a_cnn_model_folder(trained):
    folder, train, _ = trained
    config = load_classifier(folder).config
    assert config["kind"] == "cnn" and config["weights_file"] == "model.keras"
    assert config["hyperparameters"]["batch_size"] == 4
    assert len(config["history"]) == 6
    assert not (folder / "checkpoint").exists()
    assert len(config["data"]["train_indices"]) == len(train)


def test_brief_training_learns_to_separate_its_training_runs(trained):
    from ovito_glassml.training.evaluate import evaluate

    folder, train, _ = trained
    history = load_classifier(folder).config["history"]
    assert history[-1]["loss"] < history[0]["loss"]
    assert evaluate(load_classifier(folder), train)["auc"] >= 0.75


def test_evaluate_command_scores_a_cnn_folder_on_held_out_runs(trained, tmp_path, capsys):
    import json

    from ovito_glassml.cli import main

    folder, _, held_out = trained
    held_out.save(tmp_path / "held_out.npz")
    assert main(["evaluate", "--model", str(folder), "--data", str(tmp_path / "held_out.npz"),
                 "--json", str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["n"] == len(held_out) and 0.0 <= scores["auc"] <= 1.0
    assert set(scores) >= {"auc", "accuracy", "n"}


def test_saved_model_loads_with_identical_outputs(tmp_path):
    from ovito_glassml.models.cnn import save_cnn_weights
    from ovito_glassml.models.store import save_model

    keras.utils.set_random_seed(3)
    model = build_cnn(0.25)
    save_cnn_weights(model, tmp_path)
    save_model(tmp_path, "cnn", {"dropout": 0.25}, weights={})
    loaded = load_classifier(tmp_path)
    assert loaded.kind == "cnn"
    dataset = load_dataset(DATASET1).subset([0, 13])
    images = np.stack([render_image(dataset[i]) for i in range(2)])
    np.testing.assert_array_equal(loaded.logits(images), np.asarray(model(images, training=False)))
    probability = loaded.glass_probability(dataset)
    assert probability.shape == (2,) and np.all((probability > 0) & (probability < 1))


def test_resumed_training_ends_where_an_uninterrupted_one_does(tmp_path):
    dataset = load_dataset(DATASET1)
    runs = dataset.run_ids()
    idx = np.flatnonzero(np.isin(runs, runs[[0, 1]]))           # 2 runs, 4 configurations
    options = dict(dropout=0.5, batch_size=2, epochs=2, seed=5, log=lambda line: None)
    whole, _ = training.fit_cnn(dataset, idx, **options)
    training.fit_cnn(dataset, idx, checkpoint_dir=tmp_path, stop_after=1, **options)
    resumed, history = training.fit_cnn(dataset, idx, checkpoint_dir=tmp_path, resume=True,
                                        **options)
    assert [h["epoch"] for h in history] == [1, 2]
    assert int(resumed.optimizer.iterations) == 4
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_resume_with_other_settings_is_refused(tmp_path):
    dataset = load_dataset(DATASET1)
    idx = np.array([0, 12])
    training.fit_cnn(dataset, idx, batch_size=2, epochs=2, checkpoint_dir=tmp_path, stop_after=1,
                     log=lambda line: None)
    with pytest.raises(InputError, match="different"):
        training.fit_cnn(dataset, idx, batch_size=1, epochs=2, checkpoint_dir=tmp_path,
                         resume=True, log=lambda line: None)
