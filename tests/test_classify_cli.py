"""``glassml classify``, ``glassml metrics`` and ``glassml metrics-vs-t`` on real trajectories."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ovito_glassml.cli import main
from tiny_model import HELD_OUT_SEEDS, write_dump

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "small" / "slow" / "manifest.csv"


@pytest.fixture(scope="module")
def model(tiny_model_folder):
    return tiny_model_folder


@pytest.fixture(scope="module")
def cooling_manifest(tmp_path_factory):
    """The slow-cooling runs of the seeds the tiny model never saw, as a manifest."""
    with open(MANIFEST, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if int(r["seed"]) in HELD_OUT_SEEDS]
        fields = reader.fieldnames
    for row in rows:
        row["path"] = str((MANIFEST.parent / row["path"]).resolve())
    path = tmp_path_factory.mktemp("cooling") / "manifest.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def classified(model, cooling_manifest, tmp_path_factory):
    out = tmp_path_factory.mktemp("classify")
    assert main(["classify", str(cooling_manifest), "--out", str(out), "--model", str(model),
                 "--threads", "1"]) == 0
    return out


def read_table(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_classify_tells_the_glass_from_every_liquid_of_runs_the_model_never_saw(classified):
    # the tiny model is taught glass (T = 0.05, below Tg) against liquid (T >= 0.44, above it)
    rows = read_table(classified / "frames.csv")
    temperature = np.array([float(r["temperature"]) for r in rows])
    for column in ("glass_probability", "glass_probability_whole_frame"):
        probability = np.array([float(r[column]) for r in rows])
        glass = temperature < 0.3
        assert probability[glass].min() > 0.5 > probability[~glass].max(), column


def test_classify_table_has_one_row_per_frame_with_every_column(classified, cooling_manifest):
    rows = read_table(classified / "frames.csv")
    assert len(rows) == len(read_table(cooling_manifest))
    assert list(rows[0])[:3] == ["frame", "timestep", "temperature"]
    for column in ("glass_probability", "glass_probability_whole_frame", "num_disjoint_graphs",
                   "num_bb_edges", "num_isolated_a", "attention_num_disjoint_graphs",
                   "attention_num_bb_edges", "attention_num_isolated_a", "attention_num_isolated_b"):
        assert column in rows[0]
        assert (classified / f"{column}.png").stat().st_size > 0


def test_metrics_cli_reads_a_pattern_of_dumps_without_temperature(tmp_path):
    pattern = str(ROOT / "data" / "small" / "slow" / "tcool20000" / "seed1" / "T*.dump")
    assert main(["metrics", pattern, "--out", str(tmp_path)]) == 0
    rows = read_table(tmp_path / "frames.csv")
    assert len(rows) == 6
    assert "temperature" not in rows[0]
    assert (tmp_path / "num_bb_edges.png").exists()


def test_metrics_vs_t_reports_a3_and_its_p_value(classified, tmp_path):
    from ovito_glassml.metrics_vs_t import fit_change_of_slope

    # data/small has temperatures 0.05 and 0.44 below Tg = 0.5 and four above it
    started = time.time()
    assert main(["metrics-vs-t", str(classified / "frames.csv"), "--tg", "0.5",
                 "--out", str(tmp_path)]) == 0
    elapsed = time.time() - started
    fit = json.loads((tmp_path / "fit.json").read_text())
    rows = read_table(classified / "frames.csv")
    temperature = np.array([float(r["temperature"]) for r in rows])
    for metric in ("num_disjoint_graphs", "num_bb_edges", "num_isolated_a"):
        # the Eq. 12 fit of the table's own frames
        expected = fit_change_of_slope(temperature, np.array([float(r[metric]) for r in rows]), 0.5)
        for key in ("a3", "a3_stderr", "a3_pvalue"):
            assert fit["metrics"][metric][key] == pytest.approx(expected[key], rel=1e-9), key
    assert (tmp_path / "metrics_vs_t.png").stat().st_size > 0
    # rounded to 0.1 s: a fit of a few frames can take less than 0.05 s
    assert fit["provenance"]["wall_seconds"] <= round(elapsed, 1) + 0.1
    assert fit["provenance"]["finished"] >= fit["provenance"]["started"]
    # the report lists the fit, says whether each a3 agrees with the paper, and its compute
    from ovito_glassml.training.report import write_report

    text = write_report(tmp_path, tmp_path / "REPRODUCTION.md").read_text()
    assert "| as the paper (a3 > 0, p < 0.05) |" in text and "As the paper:" in text
    assert "`fit.json`" in text.split("## Commands and compute")[1]


def test_metrics_vs_t_reads_tg_from_the_tg_json(classified, tmp_path):
    tg_json = tmp_path / "tg.json"
    tg_json.write_text(json.dumps({"tg": 0.5, "tg_err": 0.01}))
    assert main(["metrics-vs-t", str(classified / "frames.csv"), "--tg", str(tg_json),
                 "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "fit.json").read_text())["tg"] == 0.5


def test_metrics_vs_t_refuses_a_tg_with_one_side_empty(classified, tmp_path, capsys):
    assert main(["metrics-vs-t", str(classified / "frames.csv"), "--tg", "0.01",
                 "--out", str(tmp_path / "out")]) == 2
    assert "at least two on each side" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def trajectory_with_a_bad_frame(tmp_path_factory):
    """Two good frames and a third with a NaN coordinate, as a pattern of dumps."""
    folder = tmp_path_factory.mktemp("badtraj")
    good = ROOT / "data" / "small" / "slow" / "tcool20000" / "seed1"
    for i, name in enumerate(["T1.99.dump", "T0.05.dump"]):
        (folder / f"frame{i}.dump").write_text((good / name).read_text())
    rng = np.random.default_rng(1)
    positions = rng.random((50, 2)) * 7
    positions[3, 0] = np.nan
    write_dump(folder / "frame2.dump", positions, np.arange(50) % 2 + 1, (7.0, 7.0))
    return str(folder / "frame*.dump")


@pytest.mark.parametrize("command", ["metrics", "classify"])
def test_cli_bad_frame_fails_cleanly_without_partial_output(command, model, tmp_path, capsys,
                                                            trajectory_with_a_bad_frame):
    out = tmp_path / "out"
    args = [command, trajectory_with_a_bad_frame, "--out", str(out)]
    if command == "classify":
        args += ["--model", str(model)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "frame 2" in err and "NaN" in err
    assert not out.exists()


def test_cli_error_is_one_line_without_traceback(tmp_path):
    # a 3D frame given to the 2D shipped model
    three_d = write_dump(tmp_path / "3d.dump", np.random.default_rng(0).random((300, 2)) * 25,
                         np.arange(300) % 2 + 1, (25.0, 25.0), z=np.linspace(0, 24, 300))
    result = subprocess.run([sys.executable, "-m", "ovito_glassml", "classify", str(three_d),
                             "--model", "ka2d", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "is 3D; the model was trained on 2D" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_metrics_cli_takes_the_temperature_from_a_dump_column(tmp_path):
    """One multi-frame LAMMPS dump whose per-atom column v_T carries the thermostat temperature."""
    from ovito_glassml.frames import read_dump

    trajectory = tmp_path / "cooling.lammpstrj"
    seed1 = ROOT / "data" / "small" / "slow" / "tcool20000" / "seed1"
    for step, temperature in enumerate([1.99, 0.44, 0.05]):
        config = read_dump(seed1 / f"T{temperature}.dump")
        write_dump(trajectory, config.positions, config.types, config.box, timestep=1000 * step,
                   extra={"v_T": np.full(config.n_particles, temperature)}, append=step > 0)
    assert main(["metrics", str(trajectory), "--out", str(tmp_path / "out")]) == 0
    rows = read_table(tmp_path / "out" / "frames.csv")
    assert [float(r["temperature"]) for r in rows] == pytest.approx([1.99, 0.44, 0.05])
    assert [int(r["timestep"]) for r in rows] == [0, 1000, 2000]


def test_heldout_with_tg_also_scores_the_liquid_nearest_it(model, tmp_path):
    # saved temperatures 1.99 ... 0.55, 0.44, 0.05: with Tg 0.4 the nearest liquid at least 0.04
    # above it is 0.44; with Tg 0.42 it is 0.55 (0.44 is inside the band)
    for tg, nearest in ((0.4, 0.44), (0.42, 0.55)):
        out = tmp_path / f"tg{tg}"
        assert main(["heldout", "--model", str(model), "--slow", str(MANIFEST), "--seeds", "11",
                     "--tg", str(tg), "--windows", "3", "--out", str(out), "--no-progress"]) == 0
        report = json.loads((out / "heldout.json").read_text())
        assert report["nearest_tg_liquid_temperature"] == nearest
        scores = report["datasets"]["nearest_tg"]
        assert scores["window"]["n"] == 2 * 3 and scores["frame"]["n"] == 2


def test_heldout_records_the_runs_it_found_not_the_range_it_was_asked(model, tmp_path):
    # a campaign still running: 11-40 asked, seed 11 the only one there of them
    out = tmp_path / "heldout"
    assert main(["heldout", "--model", str(model), "--slow", str(MANIFEST), "--seeds", "11,40-60",
                 "--windows", "2", "--out", str(out), "--no-progress"]) == 0
    assert json.loads((out / "heldout.json").read_text())["seeds"] == [11]


def test_heldout_scores_every_dataset_in_every_mode_and_finds_the_crossing(model, tmp_path):
    out = tmp_path / "heldout"
    started = time.time()
    assert main(["heldout", "--model", str(model), "--slow", str(MANIFEST), "--seeds", "11,12",
                 "--fast", str(ROOT / "data" / "small" / "fast" / "manifest.csv"),
                 "--windows", "4", "--out", str(out), "--no-progress"]) == 0
    elapsed = time.time() - started
    report = json.loads((out / "heldout.json").read_text())
    assert set(report["datasets"]) == {f"dataset{k}" for k in range(1, 7)}
    for scores in report["datasets"].values():
        assert set(scores) == {"window", "tiles", "frame"}
        assert scores["window"]["n"] == 4 * scores["frame"]["n"]
    assert report["datasets"]["dataset1"]["tiles"]["auc"] == 1.0
    assert report["seeds"] == [11, 12] and (out / "cooling.png").stat().st_size > 0
    temps = [c["temperature"] for c in report["cooling"]]
    assert temps == sorted(temps, reverse=True) and temps[-1] == 0.05
    assert report["kind"] == "heldout" and 0 < report["provenance"]["wall_seconds"] <= elapsed + 0.01
    # the report gives it a section: a row per dataset, the crossing and the figure
    from ovito_glassml.training.report import write_report

    text = write_report(tmp_path, tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## The shipped model on runs it never saw")[1].split("\n## ")[0]
    tiles = report["datasets"]["dataset1"]["tiles"]
    assert f"| 1 | " in section and f"| {tiles['auc']:.3f} / {tiles['accuracy']:.2f} |" in section
    assert "slow seeds 11-12" in section and "(`heldout/heldout.json`, `" in section
    assert "![held-out cooling](heldout/cooling.png)" in section
    if report["crossing_temperature"] is not None:
        assert f"crosses 0.5 at T = {report['crossing_temperature']:.3f}" in section


def test_crossing_temperature_interpolates_where_the_probability_falls_through_one_half():
    from ovito_glassml.training.heldout import crossing_temperature

    assert crossing_temperature([0.1, 0.3, 0.5], [0.9, 0.7, 0.1]) == pytest.approx(0.3 + 0.2 / 3)
    assert crossing_temperature([0.5, 0.1, 0.3], [0.1, 0.9, 0.7]) == pytest.approx(0.3 + 0.2 / 3)
    assert crossing_temperature([0.1, 0.5], [0.9, 0.8]) is None


def test_heldout_figure_names_its_seeds_as_ranges_that_seeds_reads_back():
    from ovito_glassml.commands.simulate import parse_seeds
    from ovito_glassml.training.heldout import seed_ranges

    assert seed_ranges(list(range(36, 65))) == "36-64"
    assert seed_ranges([9, 1, 2, 3, 7, 10]) == "1-3,7,9-10"
    for seeds in ([5], [1, 3, 5], list(range(1, 33)) + [40, 41]):
        assert parse_seeds(seed_ranges(seeds)) == sorted(seeds)


def test_per_particle_output_is_a_dump_ovito_and_glassml_read_back_in_frame_order(model,
                                                                                  tmp_path):
    from ovito.io import import_file

    from ovito_glassml.frames import read_dump, read_frames
    from ovito_glassml.models import load_classifier
    from ovito_glassml.modifiers.classifier import local_probability

    frames = str(ROOT / "data" / "small" / "slow" / "tcool20000" / "seed11" / "T*.dump")
    out = tmp_path / "out"
    assert main(["classify", frames, "--model", str(model), "--out", str(out),
                 "--per-particle"]) == 0
    path = out / "particles.dump.gz"
    with open(out / "frames.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    read = list(read_frames(path))
    assert len(read) == len(table) == 6
    assert [f.timestep for f in read] == [int(r["timestep"]) for r in table]
    classifier = load_classifier(model)
    for frame, row in zip(read, table):
        source = read_dump(row["source_file"])
        np.testing.assert_allclose(frame.configuration.positions, source.positions, atol=1e-5)
        assert np.array_equal(frame.ids, np.arange(1, source.n_particles + 1))
    # OVITO reads the per-particle columns as properties: the local probability of each frame
    pipeline = import_file(str(path))
    assert pipeline.num_frames == 6
    data = pipeline.compute(5)
    result = classifier.frame_pass(read_dump(table[5]["source_file"]))
    expected = local_probability(result.windows, result.tiles, data.particles.count)
    np.testing.assert_allclose(np.asarray(data.particles["glass_probability"]), expected,
                               atol=1e-5)
    # the attention column: per particle, the mean relative attention of its pairs
    from ovito_glassml.metrics import pair_attention

    frame_attention = classifier.frame_attention(read_dump(table[5]["source_file"]))
    pairs, weight = pair_attention(frame_attention.edge_index, frame_attention.weights[-1],
                                   data.particles.count)
    relative = weight * frame_attention.edge_index.shape[1]
    ends = pairs.ravel()
    mean = (np.bincount(ends, np.repeat(relative, 2), data.particles.count)
            / np.bincount(ends, minlength=data.particles.count))
    np.testing.assert_allclose(np.asarray(data.particles["attention"]), mean, rtol=1e-5)


def test_per_particle_output_is_not_written_when_a_frame_fails(model, tmp_path,
                                                               trajectory_with_a_bad_frame):
    out = tmp_path / "out"
    assert main(["classify", trajectory_with_a_bad_frame, "--model", str(model), "--out",
                 str(out), "--per-particle"]) == 2
    assert not out.exists()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".out*"))


def _outputs(folder):
    files = ["frames.csv", "skipped_frames.csv", "particles.dump.gz"]
    return {name: (folder / name).read_bytes() for name in files if (folder / name).exists()}


@pytest.mark.slow
@pytest.mark.parametrize("skip_bad", [False, True], ids=["good frames", "--skip-bad-frames"])
def test_two_workers_write_exactly_what_one_worker_writes(model, tmp_path, skip_bad,
                                                           trajectory_with_a_bad_frame):
    source = (trajectory_with_a_bad_frame if skip_bad else
              str(ROOT / "data" / "small" / "slow" / "tcool20000" / "seed11" / "T*.dump"))
    extra = ["--skip-bad-frames"] if skip_bad else []
    for workers in ("1", "2"):
        assert main(["classify", source, "--model", str(model), "--out",
                     str(tmp_path / workers), "--per-particle", "--workers", workers] + extra) == 0
        assert main(["metrics", source, "--out", str(tmp_path / f"metrics{workers}"),
                     "--workers", workers] + extra) == 0
    one, two = _outputs(tmp_path / "1"), _outputs(tmp_path / "2")
    assert one == two and one["frames.csv"].count(b"\n") == (3 if skip_bad else 7)
    assert ("skipped_frames.csv" in one) == skip_bad
    assert _outputs(tmp_path / "metrics1") == _outputs(tmp_path / "metrics2")


@pytest.mark.slow
def test_frames_as_ray_tasks_write_exactly_what_one_worker_writes(model, tmp_path):
    pytest.importorskip("ray")
    source = str(ROOT / "data" / "small" / "slow" / "tcool20000" / "seed11" / "T*.dump")
    assert main(["classify", source, "--model", str(model), "--out", str(tmp_path / "one")]) == 0
    assert main(["classify", source, "--model", str(model), "--out", str(tmp_path / "ray"),
                 "--ray-address", "local", "--workers", "2"]) == 0
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "ray")


def test_workers_below_one_are_refused_before_any_output(tmp_path, capsys):
    source = str(ROOT / "data" / "small" / "slow" / "tcool20000" / "seed11" / "T*.dump")
    assert main(["metrics", source, "--out", str(tmp_path / "out"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_error_names_the_frame_once(tmp_path, capsys):
    # a one-file trajectory: its frame index is the frame number, said once
    from tiny_model import write_dump

    rng = np.random.default_rng(0)
    positions = rng.random((40, 2)) * 6
    path = write_dump(tmp_path / "traj.dump", positions, np.arange(40) % 2 + 1, (6.0, 6.0))
    positions[3, 0] = np.nan
    write_dump(path, positions, np.arange(40) % 2 + 1, (6.0, 6.0), timestep=5, append=True)
    assert main(["metrics", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("traj.dump, frame 1: has NaN or infinite coordinates")
    assert "trajectory frame" not in err
