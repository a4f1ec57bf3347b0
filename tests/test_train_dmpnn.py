"""Training and evaluating the D-MPNN: schedule, learning, repeatability, resume, CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ovito_glassml.cli import main
from ovito_glassml.datasets import load_dataset, split_by_run
from ovito_glassml.errors import InputError
from ovito_glassml.models import load_classifier
from ovito_glassml.training.dmpnn import DMPNNTrainingConfig, train_dmpnn
from ovito_glassml.training.evaluate import evaluate
from ovito_glassml.training.schedule import learning_rate, torch_scheduler

DATA = Path(__file__).resolve().parents[1] / "data" / "small" / "datasets" / "dataset1.npz"
# small and fast; the learning rate is raised because a dozen configurations give few steps
QUICK = dict(window_length=0.3, hidden_size=32, batch_size=4, features="invariant",
             initial_lr=1e-3, peak_lr=1e-2, final_lr=1e-3)


def quick(**changes) -> DMPNNTrainingConfig:
    """The quick settings with ``changes``, as one training config."""
    return DMPNNTrainingConfig.from_params(dict(QUICK, **changes))


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(DATA)


@pytest.fixture(scope="module")
def split(dataset):
    return split_by_run(dataset, [0.5, 0.5], rng=0)


@pytest.fixture(scope="module")
def trained(dataset, split, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    _, history = train_dmpnn(dataset.subset(split[0]), out, quick(epochs=12),
                             progress=False, data_provenance={"dataset": str(DATA)})
    return out, history


def test_learning_rate_rises_linearly_for_two_epochs_then_decays_exponentially():
    lr = [learning_rate(s, 10, 6) for s in range(61)]
    assert lr[0] == pytest.approx(1e-4) and lr[10] == pytest.approx(5.5e-4)
    assert lr[20] == pytest.approx(1e-3) and lr[60] == pytest.approx(1e-4)
    ratios = np.array(lr[21:61]) / np.array(lr[20:60])
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


def test_torch_scheduler_follows_the_pure_schedule():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    sched = torch_scheduler(opt, steps_per_epoch=3, epochs=5)
    seen = []
    for _ in range(15):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(seen, [learning_rate(s, 3, 5) for s in range(15)], rtol=1e-9)


@pytest.mark.slow
def test_brief_training_separates_held_out_runs_of_dataset1(trained, dataset, split):
    folder, history = trained
    assert history[-1]["loss"] < history[0]["loss"]
    held_out = dataset.subset(split[1])
    scores = evaluate(load_classifier(folder), held_out, mode="window", rng=0)
    assert scores["n"] == len(split[1]) and scores["auc"] >= 0.9


@pytest.mark.slow
def test_training_is_repeatable_with_a_seed(dataset, tmp_path):
    config = quick(hidden_size=8, epochs=1)
    a, _ = train_dmpnn(dataset.subset([0, 1, 2, 3, 20, 21, 22, 23]), tmp_path / "a", config, progress=False)
    b, _ = train_dmpnn(dataset.subset([0, 1, 2, 3, 20, 21, 22, 23]), tmp_path / "b", config, progress=False)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


@pytest.mark.slow
def test_resumed_training_ends_where_an_uninterrupted_run_ends(dataset, tmp_path):
    train = dataset.subset([0, 1, 2, 3, 20, 21, 22, 23])
    config = quick(hidden_size=8, dropout=0.2, epochs=3)
    straight, _ = train_dmpnn(train, tmp_path / "straight", config, progress=False)
    _, partial = train_dmpnn(train, tmp_path / "split", config, progress=False, stop_after=1)
    assert len(partial) == 1 and not (tmp_path / "split" / "config.json").exists()
    resumed, history = train_dmpnn(train, tmp_path / "split", config, progress=False, resume=True)
    assert len(history) == 3
    for (name, x), (_, y) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(x, y), name


@pytest.mark.slow
def test_resume_with_other_settings_is_refused(dataset, tmp_path):
    train = dataset.subset([0, 1, 22, 23])
    config = quick(hidden_size=8, epochs=2)
    train_dmpnn(train, tmp_path, config, progress=False, stop_after=1)
    other = quick(hidden_size=16, epochs=2)
    with pytest.raises(InputError, match="different settings"):
        train_dmpnn(train, tmp_path, other, progress=False, resume=True)


def test_training_needs_both_classes(dataset, tmp_path):
    glass_only = dataset.subset(np.flatnonzero(dataset.label == 1))
    with pytest.raises(InputError, match="only one class"):
        train_dmpnn(glass_only, tmp_path, quick(epochs=1), progress=False)


@pytest.mark.slow
def test_evaluate_command_prints_and_writes_auc_accuracy_n(trained, tmp_path, capsys):
    folder, _ = trained
    out = tmp_path / "scores.json"
    assert main(["evaluate", "--model", str(folder), "--data", str(DATA), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert {"auc", "accuracy", "n"} <= set(scores) and scores["n"] == 24
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n"] == 24


@pytest.mark.slow
def test_train_command_writes_a_loadable_model_folder(tmp_path):
    out = tmp_path / "cli"
    code = main(["train", "dmpnn", "--data", str(DATA), "--out", str(out), "--epochs", "1",
                 "--hidden-size", "8", "--window-length", "0.3", "--batch-size", "6",
                 "--test-fraction", "0.25", "--no-progress"])
    assert code == 0
    clf = load_classifier(out)
    assert clf.config["hyperparameters"]["hidden_size"] == 8
    # 5 x the side holding 173 particles at density 1.2: the paper's 60 sigma
    assert clf.graph_spec.length_scale == pytest.approx(60.0)
    assert clf.graph_spec.system.dimension == 2 and clf.graph_spec.system.type_ids == (1, 2)
    assert {"test_frame", "test_window"} <= set(clf.config["metrics"])


def test_evaluate_command_reports_a_missing_model_folder_in_one_line(tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path / "none"), "--data", str(DATA)]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_readout_normalisation_ends_with_the_final_networks_training_statistics(dataset, split, tmp_path):
    """After training, the readout norm's mean and variance are those of the final network's
    graph vectors on training windows (not running averages that trail the training)."""
    from torch_geometric.data import Batch

    from ovito_glassml.graphs import FrameGraphs
    from ovito_glassml.models.dmpnn import GraphBatch

    train = dataset.subset(split[0])
    config = quick(epochs=3, readout_norm=True)
    train_dmpnn(train, tmp_path / "m", config, progress=False)
    module = load_classifier(tmp_path / "m").module
    assert module.hparams.readout_norm
    rng = np.random.default_rng(7)
    spec = load_classifier(tmp_path / "m").graph_spec
    graphs = [FrameGraphs(train[i], spec).random_window(rng) for i in range(len(train)) for _ in range(8)]
    with torch.no_grad():
        batch = GraphBatch.of(Batch.from_data_list(graphs))
        vectors = module.aggregation(module.encoder(batch)[0], batch)
    norm = module.readout_norm
    live = vectors.std(dim=0) > 1e-2 * vectors.std(dim=0).max()   # units that are on
    scale = vectors.std(dim=0)[live]
    # other random windows than the training pass drew: agree within their sampling noise
    assert torch.all((norm.running_mean[live] - vectors.mean(dim=0)[live]).abs() < scale)
    assert torch.all((norm.running_var[live].sqrt() / scale - 1).abs() < 0.5)


@pytest.mark.slow
def test_the_committed_tiny_model_is_what_its_recipe_trains(tmp_path):
    """tests/data/tiny-dmpnn, which the other tests read, is train_tiny_dmpnn's output today."""
    from paths import SEED11
    from ovito_glassml.frames import read_dump
    from tiny_model import TINY_MODEL, train_tiny_dmpnn

    fresh = train_tiny_dmpnn(tmp_path / "tiny")
    regenerate = "the trainer changed: write the folder anew with `python tests/tiny_model.py`"
    committed, retrained = (json.loads((folder / "config.json").read_text())
                            for folder in (TINY_MODEL, fresh))
    for section in ("kind", "format_version", "system", "graph", "hyperparameters", "data"):
        assert retrained[section] == committed[section], f"{section}: {regenerate}"
    # one thread on one kind of CPU trains bit for bit; another CPU may round differently
    frames = [read_dump(path) for path in sorted(SEED11.glob("T*[0-9].dump"))]
    for mode in ("tiles", "frame"):
        np.testing.assert_allclose(load_classifier(fresh).glass_probability(frames, mode),
                                   load_classifier(TINY_MODEL).glass_probability(frames, mode),
                                   atol=0.02, err_msg=regenerate)
