"""Any system: 2D and 3D frames, any type ids and names, any length unit, through every layer.

Three systems: the paper's 2D binary in sigma (data/small), a 3D Kob-Andersen binary in sigma and
a 3D ternary in Angstrom with type ids 3, 7, 11 named Cu, Al, Zr in a box twice as long in x as in
y and z (both from short LAMMPS runs of lammps_scripts/ka3d_cool.in; see conftest.py).
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch_geometric.data import Batch

from ovito_glassml.cli import main
from ovito_glassml.configuration import Configuration
from ovito_glassml.datasets import load_dataset
from ovito_glassml.frames import read_dump
from ovito_glassml.graph_spec import NUM_RBF, GraphSpec
from ovito_glassml.graphs import FrameGraphs, window_origins
from ovito_glassml.models import load_classifier
from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
from ovito_glassml.neighbors import Neighbors
from ovito_glassml.system import mean_nearest_neighbor_distance
from paths import ROOT
from tiny_model import ANGSTROM_PER_SIGMA, KA3D_TRAIN_SEEDS, write_dump3d

pytestmark = pytest.mark.slow  # LAMMPS runs and trainings in the fixtures


def _frame_of(manifest, seed, temperature):
    import csv

    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh):
            if int(row["seed"]) == seed and float(row["temperature"]) == temperature:
                return read_dump(manifest.parent / row["path"])
    raise LookupError((seed, temperature))


def _doubled_in_x(config):
    """The periodic frame and its image side by side: a box twice as long in x, still periodic."""
    shift = np.zeros(config.dimension)
    shift[0] = config.box[0]
    box = config.box.copy()
    box[0] *= 2
    return Configuration(np.r_[config.positions, config.positions + shift],
                         np.r_[config.types, config.types], box, config.type_names)


@pytest.fixture(scope="module")
def systems(dataset1, ka3d_manifest, ternary_manifest):
    ternary = read_dump(ternary_manifest.parent / "frames" / "seed5_T0.7.dump")
    return {"2d-binary-sigma": dataset1[0],
            "3d-binary-sigma": _frame_of(ka3d_manifest, 5, 0.7),
            "3d-ternary-angstrom": _doubled_in_x(ternary)}


SYSTEM_NAMES = ["2d-binary-sigma", "3d-binary-sigma", "3d-ternary-angstrom"]


def _spec(config, window_length=0.5):
    """The default recipe for ``config``'s system, its unit the mean nearest-neighbour distance,
    its length scale the smallest box side."""
    unit = mean_nearest_neighbor_distance([config])
    return GraphSpec(4, system=config.system(unit), length_scale=float(config.box.min()),
                     window_length=window_length)


def _logits(config, spec, seed=0):
    torch.manual_seed(seed)
    model = DMPNN(DMPNNHyperparameters(node_dim=spec.node_dim, edge_dim=spec.edge_dim,
                                       hidden_size=16, message_steps=3)).eval()
    with torch.no_grad():
        return model(Batch.from_data_list([FrameGraphs(config, spec).whole()]))


def test_the_ternary_system_reads_its_ids_names_and_unit(systems):
    config = systems["3d-ternary-angstrom"]
    system = config.system()
    assert system.dimension == 3 and system.type_ids == (3, 7, 11)
    assert system.type_names == ("Cu", "Al", "Zr")
    # the nearest-neighbour distance comes out in the frames' unit: Angstrom, 2.5 x sigma's
    ratio = (mean_nearest_neighbor_distance([config])
             / mean_nearest_neighbor_distance([systems["3d-binary-sigma"]]))
    assert 0.8 * ANGSTROM_PER_SIGMA < ratio < 1.2 * ANGSTROM_PER_SIGMA


@pytest.mark.parametrize("name", SYSTEM_NAMES)
def test_frame_output_is_invariant_to_particle_permutation(systems, name):
    config = systems[name]
    perm = np.random.default_rng(1).permutation(config.n_particles)
    shuffled = Configuration(config.positions[perm], config.types[perm], config.box,
                             config.type_names)
    spec = _spec(config)
    assert torch.allclose(_logits(config, spec), _logits(shuffled, spec), atol=1e-5)


@pytest.mark.parametrize("name", SYSTEM_NAMES)
def test_frame_output_is_invariant_to_reflections_and_translations_of_the_periodic_box(systems,
                                                                                         name):
    config = systems[name]
    rng = np.random.default_rng(2)
    moved = (-config.positions + rng.random(config.dimension) * config.box) % config.box
    spec = _spec(config)
    other = Configuration(moved, config.types, config.box, config.type_names)
    assert torch.allclose(_logits(config, spec), _logits(other, spec), atol=1e-5)


@pytest.mark.parametrize("name", ["2d-binary-sigma", "3d-binary-sigma"])
def test_frame_output_is_invariant_to_a_quarter_turn_of_a_square_or_cubic_box(systems, name):
    config = systems[name]
    turned = np.roll(config.positions, 1, axis=1)    # x -> y -> (z ->) x
    turned[:, 0] = config.box[0] - turned[:, 0]
    spec = _spec(config)
    other = Configuration(turned % config.box, config.types, config.box, config.type_names)
    assert torch.allclose(_logits(config, spec), _logits(other, spec), atol=1e-5)


@pytest.mark.parametrize("name", SYSTEM_NAMES)
def test_open_cluster_output_is_invariant_to_any_rotation_and_reflection(systems, name):
    config = systems[name]
    d = config.dimension
    centre = config.box / 2
    radius = 0.45 * config.box.min()
    keep = np.linalg.norm(config.positions - centre, axis=1) < radius
    cluster = config.positions[keep] - centre
    # a random orthogonal matrix with determinant -1: a rotation and a reflection
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(d, d)))
    q *= np.sign(np.linalg.det(q)) * -1
    box = np.full(d, 8 * radius)                       # periodic images far beyond k neighbours
    a = Configuration(cluster + box / 2, config.types[keep], box, config.type_names)
    b = Configuration(cluster @ q.T + box / 2 + 0.37, config.types[keep], box, config.type_names)
    spec = _spec(a)
    assert torch.allclose(_logits(a, spec), _logits(b, spec), atol=1e-5)


@pytest.mark.parametrize("name", ["3d-binary-sigma", "3d-ternary-angstrom"])
def test_a_windows_graph_is_the_frame_graph_cut_to_it_in_3d(systems, name):
    config = systems[name]
    spec = _spec(config, window_length=0.6)
    frames = FrameGraphs(config, spec)
    whole = frames.whole()
    origin = np.array([0.1, 0.25, 0.3])[: config.dimension] * (1 - frames.side())
    window = frames.window_at(origin)
    inside = np.zeros(config.n_particles, dtype=bool)
    inside[window.particle_index.numpy()] = True
    frame_edges = whole.particle_index.numpy()[whole.edge_index.numpy()]
    cut = frame_edges[:, inside[frame_edges[0]] & inside[frame_edges[1]]]
    window_edges = window.particle_index.numpy()[window.edge_index.numpy()]
    assert sorted(map(tuple, window_edges.T)) == sorted(map(tuple, cut.T))
    # and the cut edges carry the frame's features
    frame_attr = {tuple(e): a for e, a in zip(frame_edges.T, whole.edge_attr.numpy())}
    for e, a in zip(window_edges.T, window.edge_attr.numpy()):
        assert np.array_equal(frame_attr[tuple(e)], a)


@pytest.mark.parametrize("name", SYSTEM_NAMES)
def test_tiles_cover_every_particle_in_every_dimension(systems, name):
    config = systems[name]
    spec = _spec(config, window_length=0.3)
    members = FrameGraphs(config, spec).tile_members()
    assert members.shape[0] == len(window_origins(config, spec))
    assert members.shape[0] == int(np.prod(np.ceil(config.box / (0.3 * config.box.min()) - 1e-9)))
    assert members.sum(axis=0).min() >= 1


def test_edge_features_have_one_block_per_unordered_pair_of_types(systems):
    config = systems["3d-ternary-angstrom"]
    spec = _spec(config)
    assert spec.node_dim == 3 and spec.edge_dim == 6 * NUM_RBF
    graph = FrameGraphs(config, spec).whole()
    types = config.types[graph.particle_index.numpy()][graph.edge_index.numpy()]
    active = graph.edge_attr.numpy().reshape(-1, 6, NUM_RBF).max(axis=2) > 0
    assert np.all(active.sum(axis=1) == 1)
    index = {3: 0, 7: 1, 11: 2}
    for (a, b), block in zip(types.T, active.argmax(axis=1)):
        i, j = sorted((index[a], index[b]))
        assert block == {(0, 0): 0, (0, 1): 1, (0, 2): 2, (1, 1): 3, (1, 2): 4, (2, 2): 5}[i, j]


# ------------------------------------------------------------- a user's own system, end to end

@pytest.fixture(scope="module")
def ternary_model(ternary_manifest, tmp_path_factory):
    """`glassml train dmpnn --data labelled.csv` with no system flag, on the 3D ternary."""
    out = tmp_path_factory.mktemp("ternary_model") / "model"
    assert main(["train", "dmpnn", "--data", str(ternary_manifest), "--out", str(out),
                 "--epochs", "3", "--hidden-size", "16", "--no-progress"]) == 0
    return out


def test_training_on_a_labelled_manifest_stores_the_system_it_learned(ternary_model,
                                                                     ternary_manifest):
    config = json.loads((ternary_model / "config.json").read_text())
    assert config["format_version"] == 4
    system = config["system"]
    assert system["dimension"] == 3
    assert system["type_ids"] == [3, 7, 11] and system["type_names"] == ["Cu", "Al", "Zr"]
    frames = [read_dump(p) for p in sorted((ternary_manifest.parent / "frames").glob("*.dump"))]
    assert system["length_unit"] == pytest.approx(mean_nearest_neighbor_distance(frames), rel=0.05)
    # the length scale in Angstrom: where l_win = 0.2 holds 173 particles at the training density,
    # unless the largest searched window (0.3) would not fit these small 16 A boxes
    density = np.mean([f.n_particles / f.volume for f in frames])
    by_density = (172.8 / density) ** (1 / 3) / 0.2
    smallest_box = min(f.box.min() for f in frames)
    assert by_density * 0.3 > smallest_box
    assert config["graph"]["length_scale"] == pytest.approx(smallest_box / 0.3)


def test_the_default_window_holds_173_particles_in_2d_and_in_3d_at_any_unit():
    from ovito_glassml.datasets import PackedDataset
    from ovito_glassml.training.dmpnn import training_length_scale

    rng = np.random.default_rng(0)
    for dim, unit, n in ((2, 1.0, 4320), (3, 1.0, 4096), (3, 2.7, 4096)):
        box = np.full(dim, (n / 1.2) ** (1 / dim) * unit)
        config = Configuration(rng.random((n, dim)) * box, np.ones(n, int), box)
        scale = training_length_scale(PackedDataset.from_configurations([config], [1]), 0.2)
        assert (n / np.prod(box)) * (0.2 * scale) ** dim == pytest.approx(172.8)
        assert scale == pytest.approx({2: 60.0, 3: 26.21}[dim] * unit, rel=1e-3)


def test_the_users_model_classifies_and_evaluates_its_own_frames(ternary_model, ternary_manifest,
                                                                tmp_path):
    assert main(["evaluate", "--model", str(ternary_model), "--data", str(ternary_manifest),
                 "--json", str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    dataset = load_dataset(ternary_manifest)
    probability = load_classifier(ternary_model).glass_probability(
        [dataset[i] for i in range(len(dataset))], "frame")
    assert scores["n"] == 18
    assert scores["auc"] == pytest.approx(roc_auc_score(dataset.label, probability))
    frames = str(ternary_manifest.parent / "frames" / "seed6_T*.dump")
    assert main(["classify", frames, "--model", str(ternary_model), "--out",
                 str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "frames.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["glass_probability_whole_frame"]) for r in rows] == pytest.approx(
        [probability[list(dataset.sources).index(str(ternary_manifest.parent / "frames" /
                                                     r["source_file"].split("/")[-1]))]
         for r in rows], abs=1e-6)


def test_heldout_scores_the_users_held_out_runs_per_liquid_temperature(ternary_model,
                                                                       ternary_manifest, tmp_path):
    out = tmp_path / "heldout"
    assert main(["heldout", "--model", str(ternary_model), "--data", str(ternary_manifest),
                 "--seeds", "5-6", "--windows", "3", "--out", str(out), "--no-progress"]) == 0
    report = json.loads((out / "heldout.json").read_text())
    assert set(report["datasets"]) == {"all", "liquid T=1.99", "liquid T=0.7"}
    for scores in report["datasets"].values():
        assert set(scores) == {"window", "tiles", "frame"}
    assert report["datasets"]["all"]["frame"]["n"] == 6        # two runs, three frames each
    assert report["datasets"]["all"]["window"]["n"] == 18
    assert [c["temperature"] for c in report["cooling"]] == [1.99, 0.7, 0.05]
    assert (out / "cooling.png").exists()


def test_the_users_model_refuses_a_2d_frame_naming_both(ternary_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    flat = write_dump3d(tmp_path / "flat.dump", np.c_[rng.random((200, 2)) * 20, np.zeros(200)],
                        np.full(200, 3), (20.0, 20.0, 20.0), {3: "Cu"})
    assert main(["classify", str(flat), "--model", str(ternary_model), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "is 2D; the model was trained on 3D, types 3 (Cu), 7 (Al), 11 (Zr)" in err
    assert not (tmp_path / "out").exists()


def test_the_users_model_refuses_a_type_it_never_saw_naming_both(ternary_model, ternary_manifest,
                                                                tmp_path, capsys):
    frame = read_dump(ternary_manifest.parent / "frames" / "seed6_T0.05.dump")
    types = frame.types.copy()
    types[:5] = 9
    names = {**frame.type_names, 9: "Ni"}
    path = write_dump3d(tmp_path / "nickel.dump", frame.positions, types, frame.box, names)
    assert main(["classify", str(path), "--model", str(ternary_model), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "types 3 (Cu), 7 (Al), 9 (Ni), 11 (Zr); the model was trained on 3D" in err
    assert "it does not know type 9" in err


def test_types_are_matched_by_name_when_the_file_numbers_them_otherwise(ternary_model,
                                                                        ternary_manifest,
                                                                        tmp_path):
    # the same frame with its ids renumbered (Cu 1, Al 2, Zr 3) but its element names kept
    frame = read_dump(ternary_manifest.parent / "frames" / "seed6_T0.05.dump")
    renumber = {3: 1, 7: 2, 11: 3}
    types = np.array([renumber[int(t)] for t in frame.types])
    names = {renumber[t]: n for t, n in frame.type_names.items()}
    path = write_dump3d(tmp_path / "renumbered.dump", frame.positions, types, frame.box, names)
    model = load_classifier(ternary_model)
    original = model.glass_probability([frame], "frame")
    assert model.glass_probability([read_dump(path)], "frame") == pytest.approx(original, abs=1e-6)


@pytest.mark.parametrize("renumber", [{1: 2, 2: 1}, {1: 3, 2: 7}, {1: 0, 2: 1}],
                         ids=["A and B swapped", "types 3 and 7", "types 0 and 1"])
def test_unnamed_types_numbered_otherwise_are_matched_by_abundance(tiny_model_folder, renumber):
    # a Kob-Andersen frame whose writer numbered the types otherwise: the model knows its
    # training composition (65:35), and the abundances say which type is A
    frame = read_dump(ROOT / "data/small/slow/tcool20000/seed1/T0.05.dump")
    model = load_classifier(tiny_model_folder)
    renumbered = Configuration(frame.positions, np.array([renumber[int(t)] for t in frame.types]),
                               frame.box)
    assert model.glass_probability([renumbered], "frame") == pytest.approx(
        model.glass_probability([frame], "frame"), abs=1e-6)


def test_types_are_matched_by_abundance_only_where_the_abundances_tell_them_apart():
    from ovito_glassml.errors import InputError
    from ovito_glassml.system import System

    ka = System(2, (1, 2), ("", ""), 1.0, fractions=(0.65, 0.35))
    a_and_b = np.r_[np.ones(65, int), np.full(35, 2)]
    assert list(np.unique(ka.type_index(a_and_b), return_counts=True)[1]) == [65, 35]
    # swapped ids: type 2 is the 65%, so it is A (index 0)
    assert list(ka.type_index(3 - a_and_b)[:65]) == [0] * 65
    # known ids in another composition (a 50:50 frame) are read by id: nothing to match
    half = np.r_[np.ones(50, int), np.full(50, 2)]
    assert list(ka.type_index(half)) == list(half - 1)
    # unknown ids that abundance cannot name are refused, saying both compositions
    with pytest.raises(InputError, match=r"does not know type 3 \(nor tell its types apart by "
                                         r"abundance: the model's are 1: 65%, 2: 35%, the "
                                         r"frame's 3: 50%, 4: 50%\)"):
        ka.type_index(half + 2)
    # a model of two types in nearly equal numbers never matches by abundance
    even = System(2, (1, 2), ("", ""), 1.0, fractions=(0.55, 0.45))
    with pytest.raises(InputError, match="does not know type 3"):
        even.type_index(np.r_[np.full(55, 3), np.full(45, 4)])
    # nor does a model without a stored composition (folders written before it was stored)
    with pytest.raises(InputError, match="does not know type 3"):
        System(2, (1, 2), ("", ""), 1.0).type_index(a_and_b + 2)
    # the composition goes into config.json and comes back
    assert System.from_dict(ka.to_dict()) == ka


# ------------------------------------------------------------------ OVITO on a 3D LAMMPS dump

@pytest.fixture(scope="module")
def ka3d_model(ka3d_manifest, tmp_path_factory):
    """A tiny D-MPNN trained on the 3D Kob-Andersen runs 1-4 (glass 0.05, liquid 1.99 and 0.7)."""
    from tiny_model import labelled_manifest

    folder = tmp_path_factory.mktemp("ka3d_model")
    manifest = labelled_manifest(ka3d_manifest, ka3d_manifest.parent / "labelled.csv",
                                 seeds=KA3D_TRAIN_SEEDS)
    assert main(["train", "dmpnn", "--data", str(manifest), "--out", str(folder / "model"),
                 "--epochs", "3", "--hidden-size", "16", "--no-progress"]) == 0
    return folder / "model"


def test_an_ovito_pipeline_classifies_a_3d_lammps_dump(ka3d_model, ka3d_manifest):
    from ovito.io import import_file

    from ovito_glassml.modifiers import AttentionModifier, GlassClassifierModifier

    dump = ka3d_manifest.parent / "tcool4000" / "seed5" / "T0.05.dump"
    pipeline = import_file(str(dump))
    pipeline.modifiers.append(GlassClassifierModifier(model_path=str(ka3d_model)))
    pipeline.modifiers.append(AttentionModifier(model_path=str(ka3d_model)))
    data = pipeline.compute()
    classifier = load_classifier(ka3d_model)
    config = read_dump(dump)
    expected = classifier.frame_pass(config)
    assert data.attributes["GlassProbability"] == pytest.approx(expected.tiles_probability,
                                                                abs=1e-6)
    local = np.asarray(data.particles["Glass Probability"])
    assert local.shape == (config.n_particles,) and np.all(np.isfinite(local))
    pairs, _ = Neighbors.of(config).knn_pairs(classifier.graph_spec.num_neighbors)
    attention = np.asarray(data.particles.bonds["Attention"])
    assert len(attention) == len(pairs)
    assert np.asarray(data.particles.bonds["Periodic Image"]).shape == (len(pairs), 3)
    # the bonds' z images are used: a 3D frame has bonds across its z boundary
    assert np.any(np.asarray(data.particles.bonds["Periodic Image"])[:, 2] != 0)


def test_the_shipped_2d_model_refuses_a_3d_dump_in_an_ovito_pipeline(ka3d_manifest):
    from ovito.io import import_file

    from ovito_glassml.modifiers import GlassClassifierModifier

    pipeline = import_file(str(ka3d_manifest.parent / "tcool4000" / "seed5" / "T0.05.dump"))
    pipeline.modifiers.append(GlassClassifierModifier(shipped_model="ka2d"))
    with pytest.raises(ValueError, match="is 3D; the model was trained on 2D"):
        pipeline.compute()


# ------------------------------------------------------------------ baselines in 3D

def test_3d_frames_get_the_3d_baselines_and_pair_energy_only_for_kob_andersen(systems):
    from ovito_glassml.baselines import icosahedral_cells, steinhardt_q6
    from ovito_glassml.training.window_baselines import particle_values, window_baselines

    binary, ternary = systems["3d-binary-sigma"], systems["3d-ternary-angstrom"]
    assert window_baselines(binary) == ("pair_energy", "nn_distance_std", "mean_q6",
                                        "icosahedral_fraction")
    # a user's ternary has no known potential: no pair energy baseline
    assert window_baselines(ternary) == ("nn_distance_std", "mean_q6", "icosahedral_fraction")
    values = particle_values(binary)
    np.testing.assert_allclose(values["mean_q6"], steinhardt_q6(binary))
    assert np.array_equal(values["icosahedral_fraction"], icosahedral_cells(binary).astype(float))
    # q6 is a property of the geometry alone: the same in sigma and in Angstrom
    scaled = Configuration(binary.positions * 2.5, binary.types, binary.box * 2.5)
    np.testing.assert_allclose(steinhardt_q6(scaled), steinhardt_q6(binary), atol=1e-5)


def test_frame_and_window_baselines_of_a_3d_dataset_use_the_3d_names(ka3d_manifest, tmp_path):
    from ovito_glassml.datasets import load_dataset
    from ovito_glassml.training.experiments import baselines
    from tiny_model import labelled_manifest

    manifest = labelled_manifest(ka3d_manifest, ka3d_manifest.parent / "baselines.csv",
                                 seeds=(5, 6))
    result = baselines(load_dataset(manifest), window_lengths=(0.6,), windows_per_config=2)
    assert set(result["frame"]) == {"mean_q6", "icosahedral_fraction", "inherent_structure_energy"}
    assert {"mean_q6", "icosahedral_fraction"} <= set(result["window"][0])
    assert result["n_configurations"] == 6 and result["window"][0]["window_length"] == 0.6


def test_crossval_runs_on_the_users_labelled_manifest(ternary_manifest, tmp_path):
    out = tmp_path / "crossval"
    assert main(["crossval", "--model", "dmpnn", "--data", str(ternary_manifest), "--out",
                 str(out), "--iterations", "2", "--epochs", "1", "--folds", "2"]) == 0
    result = json.loads((out / "crossval.json").read_text())
    assert len(result["folds"]) == 2
    # folds part whole runs: no seed on both sides
    for fold in result["folds"]:
        assert not {tuple(r) for r in fold["train_runs"]} & {tuple(r) for r in fold["test_runs"]}
        model = load_classifier(fold["model_dir"])
        assert model.system.type_ids == (3, 7, 11) and model.system.dimension == 3
    # in 3D the number of neighbours is searched up to the first shell (12), and the record says so
    assert result["space"]["num_neighbors"]["high"] == 12
    assert "num_neighbors: 1..12 step 1 (paper Table 2: 1..5 step 1)" in result["reductions"]
    # the one-number baselines on the same folds and windows, by their 3D names; a ternary
    # mixture has no Kob-Andersen pair energy to offer
    baselines_file = tmp_path / "window_baselines.json"
    assert main(["experiment", "window-baselines", "--crossval", str(out), "--out",
                 str(baselines_file)]) == 0
    baselines = json.loads(baselines_file.read_text())
    assert set(baselines["summary"]) == {"nn_distance_std", "mean_q6", "icosahedral_fraction"}
    assert len(baselines["folds"]) == 2
    for fold, cv_fold in zip(baselines["folds"], result["folds"]):
        assert fold["n_test_windows"] == len(cv_fold["outer_test_indices"]) * result["preset"]["windows_per_config"]
        assert all(0 <= b["auc"] <= 1 for b in fold["baselines"].values())


def test_the_3d_neighbour_range_gives_way_to_a_given_one_and_leaves_2d_alone():
    from ovito_glassml.training.presets import NEIGHBORS_3D, PRESETS, space_for_dimension

    space = PRESETS["campaign"].space("dmpnn")
    assert space_for_dimension(space, 2) == space
    assert space_for_dimension(space, 3)["num_neighbors"] == NEIGHBORS_3D
    assert space_for_dimension(space, 3, ["num_neighbors=1:6:1"]) == space


def test_a_3d_campaign_builds_the_3d_datasets_and_their_inherent_structures(ka3d_manifest):
    from ovito_glassml.datasets import build_datasets

    for structure in ("instantaneous", "inherent"):
        datasets = build_datasets(ka3d_manifest, numbers=(1, 3, 5), structure=structure)
        assert {n: d.meta["liquid_temperature"] for n, d in datasets.items()} == {
            1: 1.99, 3: 0.7, 5: 0.5}
        for dataset in datasets.values():
            assert dataset.dimension == 3 and len(dataset) == 12
            assert sorted(set(dataset.label.tolist())) == [0, 1]


def test_metrics_vs_t_reads_the_inherent_structures_of_a_3d_campaign(ka3d_manifest, tmp_path,
                                                                    capsys):
    """Fig. 10 on inherent structures: every frame read is a minimised one (is_path), and the
    metrics differ from the snapshots' (thermal noise is gone)."""
    import csv
    import json

    from ovito_glassml.cli import main

    for structure in ("instantaneous", "inherent"):
        assert main(["metrics-vs-t", str(ka3d_manifest), "--tg", "0.6", "--structure", structure,
                     "--out", str(tmp_path / structure)]) == 0
    tables = {s: list(csv.DictReader((tmp_path / s / "frames.csv").read_text().splitlines()))
              for s in ("instantaneous", "inherent")}
    assert all(row["source_file"].endswith("_is.dump") for row in tables["inherent"])
    assert not any(row["source_file"].endswith("_is.dump") for row in tables["instantaneous"])
    assert len(tables["inherent"]) == len(tables["instantaneous"])
    assert json.loads((tmp_path / "inherent" / "fit.json").read_text())["structure"] == "inherent"
    assert [r["num_bb_edges"] for r in tables["inherent"]] != [r["num_bb_edges"] for r in tables["instantaneous"]]
    # a table of metrics already computed has no inherent structures to read
    assert main(["metrics-vs-t", str(tmp_path / "instantaneous" / "frames.csv"), "--tg", "0.6",
                 "--structure", "inherent", "--out", str(tmp_path / "again")]) == 2
    assert "already computed" in capsys.readouterr().err


def _fcc(cells=(4, 4, 5), density=1.2, seed=0):
    """An fcc crystal of 4 x cells particles at the density, 80:20 types on random sites."""
    a = (4 / density) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(c) for c in cells], indexing="ij"), -1).reshape(-1, 3)
    positions = ((grid[:, None, :] + basis[None]) * a).reshape(-1, 3)
    types = np.where(np.random.default_rng(seed).random(len(positions)) < 0.8, 1, 2)
    return positions, types, np.array(cells) * a


def test_a_crystallised_3d_glass_is_kept_out_of_the_glass_classes(ka3d_manifest, tmp_path):
    """Slow cooling can crystallise 3D Kob-Andersen: a run whose T=0.05 frame is fcc loses its
    glass in datasets 1-6 and in the Tg-labelled set, and the datasets say which run and why."""
    import shutil

    from tiny_model import write_dump3d

    from ovito_glassml.crystals import CRYSTAL_THRESHOLD
    from ovito_glassml.datasets import build_datasets, build_tg_dataset

    campaign = tmp_path / "campaign"
    shutil.copytree(Path(ka3d_manifest).parent, campaign)
    positions, types, box = _fcc()
    for name in ("T0.05.dump", "T0.05_is.dump"):
        write_dump3d(campaign / "tcool4000" / "seed2" / name, positions, types, box)
    manifest = campaign / "manifest.csv"
    dataset = build_datasets(manifest, numbers=(1,))[1]
    crystals = dataset.meta["crystals"]["slow"]
    assert crystals["crystallised_seeds"] == [2] and crystals["n_checked"] == 6
    assert crystals["fraction_max"] > 0.9 and crystals["fraction_median"] < CRYSTAL_THRESHOLD
    glass_seeds = set(dataset.seed[dataset.label == 1].tolist())
    assert 2 not in glass_seeds and len(glass_seeds) == 5
    tg_labelled = build_tg_dataset(manifest, tg=0.4, band=0.05)
    assert 2 not in set(tg_labelled.seed[tg_labelled.label == 1].tolist())
    assert 2 in set(tg_labelled.seed[tg_labelled.label == 0].tolist())     # its liquids stay
    assert tg_labelled.meta["crystals"]["crystallised_seeds"] == [2]


def test_heldout_scores_a_3d_campaigns_inherent_structures(ka3d_model, ka3d_manifest, tmp_path):
    """`glassml heldout --inherent`: datasets <k>-is of the held-out 3D runs, read from is_path,
    with the crystal check of the glass frames recorded."""
    for inherent in (False, True):
        out = tmp_path / ("is" if inherent else "thermal")
        assert main(["heldout", "--model", str(ka3d_model), "--slow", str(ka3d_manifest), "--seeds",
                     "5-6", "--windows", "2", "--out", str(out), "--no-progress"]
                    + (["--inherent"] if inherent else [])) == 0
    thermal = json.loads((tmp_path / "thermal" / "heldout.json").read_text())
    inherent = json.loads((tmp_path / "is" / "heldout.json").read_text())
    assert inherent["structure"] == "inherent" and thermal["structure"] == "instantaneous"
    assert set(inherent["datasets"]) == {f"{k}-is" for k in thermal["datasets"]} == {
        "dataset1-is", "dataset3-is", "dataset5-is"}
    assert inherent["crystals"]["slow"]["n_checked"] == 2
    # the scores of the minimised frames are their own, not the snapshots' again
    classifier = load_classifier(ka3d_model)
    is_dump = read_dump(ka3d_manifest.parent / "tcool4000" / "seed5" / "T1.99_is.dump")
    cooling = {c["temperature"]: c for c in inherent["cooling"]}
    expected = classifier.frame_pass(is_dump).probability
    seed6 = read_dump(ka3d_manifest.parent / "tcool4000" / "seed6" / "T1.99_is.dump")
    expected = (expected + classifier.frame_pass(seed6).probability) / 2
    assert cooling[1.99]["frame"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("factor", [3.405, 0.3405])   # Angstrom and nanometres for sigma
def test_a_frame_written_in_other_length_units_is_read_as_in_the_models(ka3d_model, ka3d_manifest,
                                                                         tmp_path, factor):
    from tiny_model import write_dump3d

    classifier = load_classifier(ka3d_model)
    assert classifier.system.number_density == pytest.approx(1.2, rel=1e-3)
    for name in ("T0.05.dump", "T0.7.dump", "T1.99.dump"):
        frame = read_dump(ka3d_manifest.parent / "tcool4000" / "seed5" / name)
        path = write_dump3d(tmp_path / name, frame.positions * factor, frame.types, frame.box * factor)
        other = read_dump(path)
        for mode in ("tiles", "frame"):
            assert classifier.glass_probability([other], mode) == pytest.approx(
                classifier.glass_probability([frame], mode), abs=1e-6), (name, mode)


def test_a_frame_at_a_somewhat_other_density_is_read_as_it_is(ka3d_model, ka3d_manifest):
    from ovito_glassml.configuration import Configuration

    system = load_classifier(ka3d_model).system
    frame = read_dump(ka3d_manifest.parent / "tcool4000" / "seed5" / "T0.7.dump")
    assert system.in_units_of(frame) is frame
    denser = Configuration(frame.positions * 0.9, frame.types, frame.box * 0.9)
    assert system.in_units_of(denser) is denser        # 10% per length: another density, not units


def test_the_shipped_2d_model_reads_a_frame_in_angstrom_as_in_sigma(tmp_path):
    from paths import GLASS_DUMP, LIQUID_DUMP
    from tiny_model import write_dump

    from ovito_glassml.models.shipped import model_folder

    classifier = load_classifier(model_folder("ka2d"))
    for dump in (GLASS_DUMP, LIQUID_DUMP):
        frame = read_dump(dump)
        path = write_dump(tmp_path / dump.name, frame.positions * 3.405, frame.types,
                          frame.box * 3.405)
        assert classifier.glass_probability([read_dump(path)], "tiles") == pytest.approx(
            classifier.glass_probability([frame], "tiles"), abs=1e-6)
