"""Issue 13: one frame reader for every path, nothing overwritten or lost, damaged models refused."""

import csv
import gzip
import json
from pathlib import Path
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ovito_glassml.cli import main
from ovito_glassml.frames import read_dump
from ovito_glassml.frames import read_frames
from paths import DATASET1, LIQUID_DUMP, ROOT, SEED11, SMALL, TEST_DATA
from tiny_model import write_dump

OLD_MODEL = TEST_DATA / "dmpnn-0.1"


def write_manifest(path, dumps, temperatures=None, labels=None):
    temperatures = temperatures or [1.0] * len(dumps)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "temperature", "label", "seed"])
        for i, dump in enumerate(dumps):
            label = labels[i] if labels else ("glass" if i % 2 else "liquid")
            writer.writerow([str(dump), temperatures[i], label, i])
    return path


def gzipped(source, target):
    with open(source, "rb") as fin, gzip.open(target, "wb") as fout:
        fout.write(fin.read())
    return target


def multi_frame(path, sources):
    path.write_text("".join(s.read_text() for s in sources))
    return path


def _bad_dump(tmp_path, kind):
    """A dump of the liquid frame with one thing wrong."""
    text = LIQUID_DUMP.read_text().splitlines()
    if kind == "triclinic":
        text[4] = "ITEM: BOX BOUNDS xy xz yz pp pp pp"
        text[5] += " 5.0"
        text[6] += " 0.0"
        text[7] += " 0.0"
    elif kind == "non-periodic":
        text[4] = "ITEM: BOX BOUNDS ff pp pp"
    elif kind == "nan":
        text[12] = "4 1 nan 3.0"
    elif kind == "wrong types":
        text[12] = text[12].split()[0] + " 3 " + " ".join(text[12].split()[2:])
    elif kind == "3d":
        text[8] = text[8] + " z"
        text[9:] = [line + f" {0.37 * i % 5:.3f}" for i, line in enumerate(text[9:])]
    path = tmp_path / f"{kind.replace(' ', '_')}.dump"
    path.write_text("\n".join(text) + "\n")
    return path


BAD_KINDS = {"triclinic": "triclinic", "non-periodic": "not periodic", "nan": "NaN",
             "wrong types": "does not know type 3", "3d": "is 3D"}
#: What only a model refuses: the metrics read 3D frames and any types, and a model trained on
#: them learns their system.
MODEL_REFUSALS = {"wrong types", "3d"}


# ----------------------------------------------------------------------------- 1. one reader

def test_a_gzipped_dump_reads_exactly_like_the_plain_one(tmp_path):
    plain = read_dump(LIQUID_DUMP)
    gz = read_dump(gzipped(LIQUID_DUMP, tmp_path / "T1.99.dump.gz"))
    assert np.array_equal(plain.positions, gz.positions)
    assert np.array_equal(plain.types, gz.types)


@pytest.mark.parametrize("dimension", [2, 3])
def test_a_dump_ovito_writes_with_an_abc_origin_box_reads_like_the_frame(tmp_path, dimension):
    # OVITO exports LAMMPS' general-triclinic header ("abc origin") even for orthogonal cells
    from ovito.io import export_file

    from ovito_glassml.configuration import Configuration
    from ovito_glassml.ovito_data import frame_data

    rng = np.random.default_rng(dimension)
    box = np.array([9.0, 7.5, 6.0])[:dimension]
    config = Configuration(rng.random((80, dimension)) * box, rng.integers(1, 4, 80), box)
    data = frame_data(config)
    data.particles_.create_property("Particle Identifier", data=np.arange(1, 81))
    columns = ["Particle Identifier", "Particle Type", "Position.X", "Position.Y",
               "Position.Z"][: 3 + dimension]
    export_file(data, str(tmp_path / "ovito.dump"), "lammps/dump", columns=columns)
    assert "abc origin" in (tmp_path / "ovito.dump").read_text().splitlines()[4]
    read = read_dump(tmp_path / "ovito.dump")
    assert read.dimension == dimension
    np.testing.assert_allclose(read.box, box)
    np.testing.assert_allclose(read.positions, config.positions, atol=1e-5)
    assert np.array_equal(read.types, config.types)


def test_a_sheared_abc_origin_box_is_refused(tmp_path):
    text = LIQUID_DUMP.read_text().splitlines()
    text[4] = "ITEM: BOX BOUNDS abc origin pp pp pp"
    text[5:8] = ["30.0 0.0 0.0 0.0", "4.0 30.0 0.0 0.0", "0.0 0.0 1.0 -0.5"]
    path = tmp_path / "sheared.dump"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="sheared \\(triclinic\\)"):
        read_dump(path)


def test_every_frame_of_a_multi_frame_dump_is_read_in_order(tmp_path):
    path = multi_frame(tmp_path / "traj.dump", [SEED11 / "T1.99.dump", SEED11 / "T0.05.dump"])
    frames = list(read_frames(path))
    assert [f.index for f in frames] == [0, 1]
    assert np.array_equal(frames[1].configuration.positions,
                          read_dump(SEED11 / "T0.05.dump").positions)


@pytest.mark.parametrize("suffix, fmt", [(".data", "lammps/data"), (".xyz", "xyz")])
def test_ovito_formats_give_the_same_configuration_as_the_dump(tmp_path, suffix, fmt):
    """The OVITO path (LAMMPS data file, extended XYZ) and the fast dump parser agree."""
    from ovito.io import export_file, import_file

    target = tmp_path / f"frame{suffix}"
    columns = {"columns": ["Particle Type", "Position.X", "Position.Y", "Position.Z"]}
    export_file(import_file(str(LIQUID_DUMP)), str(target), fmt,
                **(columns if fmt == "xyz" else {}))
    dump, other = read_dump(LIQUID_DUMP), read_dump(target)
    assert np.allclose(dump.positions, other.positions, atol=1e-9)
    assert np.array_equal(dump.types, other.types)
    assert np.allclose(dump.box, other.box)


def _ternary_3d(seed=0, n=90):
    """A 3D ternary in a non-cubic box with named types 2 (Cu), 5 (Zr), 9 (Al)."""
    from ovito_glassml.configuration import Configuration

    rng = np.random.default_rng(seed)
    box = np.array([11.0, 9.0, 7.5])
    return Configuration(rng.random((n, 3)) * box, rng.choice([2, 5, 9], n), box,
                         {2: "Cu", 5: "Zr", 9: "Al"})


@pytest.mark.parametrize("suffix, fmt", [(".data", "lammps/data"), (".xyz", "xyz"),
                                         (".dump", "lammps/dump")])
def test_ovito_formats_hold_a_3d_ternary_with_its_type_names(tmp_path, suffix, fmt):
    """3D frames with named types through a LAMMPS data file, extended XYZ (which numbers its
    species by appearance: the names carry them) and a dump OVITO writes."""
    from ovito.io import export_file

    from ovito_glassml.ovito_data import frame_data

    config = _ternary_3d()
    data = frame_data(config)
    data.particles_.create_property("Particle Identifier", data=np.arange(1, 91))
    columns = {"xyz": ["Particle Type", "Position.X", "Position.Y", "Position.Z"],
               "lammps/dump": ["Particle Identifier", "Particle Type", "Position.X",
                               "Position.Y", "Position.Z"]}
    export_file(data, str(tmp_path / f"frame{suffix}"), fmt,
                **({"columns": columns[fmt]} if fmt in columns else {}))
    read = read_dump(tmp_path / f"frame{suffix}")
    assert read.dimension == 3
    np.testing.assert_allclose(read.box, config.box)
    np.testing.assert_allclose(read.positions, config.positions, atol=1e-5)
    names = [read.type_names.get(int(t)) for t in read.types]
    expected = [config.type_names[int(t)] for t in config.types]
    if fmt.startswith("lammps"):   # a dump's or data file's types are ids
        assert np.array_equal(read.types, config.types)
    else:
        assert names == expected


@pytest.mark.parametrize("columns", ["xs ys zs", "xu yu zu", "x y z"])
def test_3d_dumps_with_scaled_unwrapped_or_plain_coordinates_read_alike(tmp_path, columns):
    config = _ternary_3d(1)
    lo = np.array([-2.0, 1.0, 0.5])
    coords = {"xs ys zs": config.positions / config.box,
              # unwrapped: some particles one or two boxes away from their image in the box
              "xu yu zu": config.positions + lo + config.box * (np.arange(90)[:, None] % 3),
              "x y z": config.positions + lo}[columns]
    lines = ["ITEM: TIMESTEP", "5", "ITEM: NUMBER OF ATOMS", "90", "ITEM: BOX BOUNDS pp pp pp",
             *[f"{lo[d]} {lo[d] + config.box[d]}" for d in range(3)],
             f"ITEM: ATOMS id type {columns}"]
    lines += [f"{i + 1} {config.types[i]} " + " ".join(f"{v:.8f}" for v in coords[i])
              for i in range(90)]
    path = tmp_path / "frame.dump"
    path.write_text("\n".join(lines) + "\n")
    read = read_dump(path)
    assert read.dimension == 3
    np.testing.assert_allclose(read.positions, config.positions, atol=1e-6)
    np.testing.assert_allclose(read.box, config.box)


def test_a_multi_frame_dump_in_a_dataset_manifest_is_refused_naming_it(tmp_path, capsys):
    traj = multi_frame(tmp_path / "traj.dump", [SEED11 / "T1.99.dump", SEED11 / "T0.05.dump"])
    manifest = write_manifest(tmp_path / "m.csv", [LIQUID_DUMP, traj])
    assert main(["evaluate", "--model", str(OLD_MODEL), "--data", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert "traj.dump" in err and "more than one frame" in err


def test_metrics_reads_every_frame_of_a_manifest_row_with_its_temperature(tmp_path):
    traj = multi_frame(tmp_path / "traj.dump", [SEED11 / "T1.99.dump", SEED11 / "T0.05.dump"])
    manifest = write_manifest(tmp_path / "m.csv", [LIQUID_DUMP, traj], temperatures=[1.99, 0.5])
    assert main(["metrics", str(manifest), "--out", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "frames.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["temperature"]) for r in rows] == [1.99, 0.5, 0.5]


@pytest.mark.parametrize("kind, command", [
    (kind, command) for kind in sorted(BAD_KINDS)
    for command in ("metrics", "classify", "evaluate", "train")
    if kind not in MODEL_REFUSALS or command in ("classify", "evaluate")])
def test_a_bad_frame_is_refused_by_every_command_naming_file_and_frame(tmp_path, capsys, kind,
                                                                       command):
    bad = _bad_dump(tmp_path, kind)
    manifest = write_manifest(tmp_path / "m.csv", [LIQUID_DUMP, bad])
    out = tmp_path / "out"
    args = {"metrics": ["metrics", str(manifest), "--out", str(out)],
            "classify": ["classify", str(manifest), "--out", str(out), "--model", str(OLD_MODEL)],
            "evaluate": ["evaluate", "--model", str(OLD_MODEL), "--data", str(manifest)],
            "train": ["train", "dmpnn", "--data", str(manifest), "--out", str(out),
                      "--epochs", "1", "--no-progress"]}[command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert BAD_KINDS[kind] in err and bad.name in err and "frame 0" in err
    assert "Traceback" not in err
    assert not (out / "frames.csv").exists() and not (out / "config.json").exists()


def test_the_same_frame_gives_the_same_numbers_in_classify_and_evaluate(tmp_path):
    """classify (frames -> OVITO DataCollection -> modifier) and evaluate (the dataset from the
    manifest) read one frame through the one reader and get the same probability (to the float32
    rounding of a packed dataset's positions)."""
    from ovito_glassml.datasets import load_dataset
    from ovito_glassml.models.classifier import load_classifier

    gz = gzipped(LIQUID_DUMP, tmp_path / "T1.99.dump.gz")
    manifest = write_manifest(tmp_path / "m.csv", [gz, SEED11 / "T0.05.dump"])
    assert main(["classify", str(manifest), "--out", str(tmp_path / "out"), "--model",
                 str(OLD_MODEL), "--no-attention"]) == 0
    with open(tmp_path / "out" / "frames.csv") as fh:
        rows = list(csv.DictReader(fh))
    dataset = load_dataset(manifest)
    classifier = load_classifier(OLD_MODEL)
    for i, row in enumerate(rows):
        gen = classifier.classify_frame(dataset[i], whole_frame=True)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            result = stop.value
        assert float(row["glass_probability"]) == pytest.approx(result.probability, abs=1e-6)
        assert float(row["glass_probability_whole_frame"]) == pytest.approx(result.whole_frame,
                                                                            abs=1e-6)


def test_the_batch_frames_and_the_dataset_reader_give_identical_configurations(tmp_path):
    from ovito_glassml.batch import open_trajectory
    from ovito_glassml.ovito_data import frame_configuration, frame_data

    gz = gzipped(LIQUID_DUMP, tmp_path / "T1.99.dump.gz")
    manifest = write_manifest(tmp_path / "m.csv", [gz, SEED11 / "T0.05.dump"])
    for (_, frame), path in zip(open_trajectory(str(manifest)).frames(),
                                [gz, SEED11 / "T0.05.dump"]):
        seen_by_modifier = frame_configuration(frame_data(frame.configuration))
        expected = read_dump(path)
        assert np.array_equal(seen_by_modifier.positions, expected.positions)
        assert np.array_equal(seen_by_modifier.types, expected.types)


# ----------------------------------------------------------------------------- 2. nothing lost

@pytest.fixture
def old_results(tmp_path):
    out = tmp_path / "out"
    assert main(["metrics", str(LIQUID_DUMP), "--out", str(out)]) == 0
    (out / "keep_me.png").write_text("an old plot")
    return out, {p.name: p.read_bytes() for p in out.iterdir()}


def folder_bytes(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("command", ["metrics", "classify"])
def test_a_folder_with_results_is_not_overwritten_without_force(old_results, capsys, command):
    out, before = old_results
    args = [command, str(SEED11 / "T0.05.dump"), "--out", str(out)]
    if command == "classify":
        args += ["--model", str(OLD_MODEL)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert folder_bytes(out) == before


def test_force_replaces_the_whole_folder(old_results):
    out, _ = old_results
    assert main(["metrics", str(SEED11 / "T0.05.dump"), "--out", str(out), "--force"]) == 0
    assert not (out / "keep_me.png").exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["metrics", str(LIQUID_DUMP), "--out", str(blocker / "out")]) == 2
    assert "cannot write --out" in capsys.readouterr().err


def test_a_corrupt_frame_mid_trajectory_stops_with_no_output(tmp_path, capsys):
    traj = tmp_path / "traj.dump"
    good = LIQUID_DUMP.read_text()
    cut = good.splitlines()[:200]
    traj.write_text(good + "\n".join(cut) + "\n" + good)
    assert main(["metrics", str(traj), "--out", str(tmp_path / "out")]) == 2
    assert "frame 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_skip_bad_frames_lists_the_skipped_frames(tmp_path):
    traj = tmp_path / "traj.dump"
    good = LIQUID_DUMP.read_text()
    traj.write_text(good + "\n".join(good.splitlines()[:200]) + "\n" + good)
    out = tmp_path / "out"
    assert main(["metrics", str(traj), "--out", str(out), "--skip-bad-frames"]) == 0
    with open(out / "frames.csv") as fh:
        assert [int(r["frame"]) for r in csv.DictReader(fh)] == [0, 2]
    with open(out / "skipped_frames.csv") as fh:
        skipped = list(csv.DictReader(fh))
    assert [int(r["frame"]) for r in skipped] == [1] and "truncated" in skipped[0]["reason"]


def test_train_refuses_an_existing_model_folder_without_force_or_resume(tmp_path, capsys):
    out = tmp_path / "model"
    shutil.copytree(OLD_MODEL, out)
    before = folder_bytes(out)
    for kind in ("dmpnn", "cnn"):
        assert main(["train", kind, "--data", str(DATASET1), "--out", str(out),
                     "--epochs", "1"]) == 2
        assert "--force" in capsys.readouterr().err
    assert main(["train", "cnn", "--data", str(DATASET1), "--out", str(out), "--resume"]) == 2
    assert "holds a dmpnn model" in capsys.readouterr().err
    assert folder_bytes(out) == before


@pytest.mark.slow
def test_resume_with_other_data_is_refused(tmp_path, capsys):
    out = tmp_path / "model"
    common = ["--out", str(out), "--epochs", "1", "--hidden-size", "8", "--no-progress"]
    assert main(["train", "dmpnn", "--data", str(DATASET1)] + common) == 0
    other = DATASET1.with_name("dataset2.npz")
    assert main(["train", "dmpnn", "--data", str(other), "--resume"] + common) == 2
    assert "other data" in capsys.readouterr().err


def _interrupt_run(tmp_path, sig, *, ignore_sigint=False):
    """Run `glassml classify --force` over old results and send ``sig`` once it is working."""
    out = tmp_path / "out"
    assert main(["metrics", str(LIQUID_DUMP), "--out", str(out)]) == 0
    before = folder_bytes(out)
    # long enough that the signal always lands mid-run (classify reads ~10 small frames a second)
    traj = multi_frame(tmp_path / "long.dump", [SEED11 / "T1.99.dump"] * 200)
    # the child gets SIGINT's default disposition (a terminal's Ctrl-C), or SIG_IGN as in a
    # background job; SIG_IGN would otherwise be inherited from this process if a library set it
    disposition = signal.SIG_IGN if ignore_sigint else signal.SIG_DFL
    setup = lambda: signal.signal(signal.SIGINT, disposition)  # noqa: E731
    proc = subprocess.Popen([sys.executable, "-m", "ovito_glassml", "classify", str(traj),
                             "--out", str(out), "--force", "--model", str(OLD_MODEL),
                             "--threads", "1"], cwd=tmp_path, preexec_fn=setup,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not list(tmp_path.glob(".out.*.part")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    assert proc.poll() is None, "classify ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err, out, before


@pytest.mark.slow
def test_kill_9_mid_run_leaves_the_old_results_whole(tmp_path):
    code, _, out, before = _interrupt_run(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert folder_bytes(out) == before


@pytest.mark.slow
def test_ctrl_c_mid_run_says_nothing_was_written_and_leaves_old_results(tmp_path):
    code, err, out, before = _interrupt_run(tmp_path, signal.SIGINT)
    assert code == 130
    assert "nothing new was written" in err and "rerun to resume" not in err
    assert folder_bytes(out) == before
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.slow
def test_sigint_in_a_background_job_with_sigint_ignored_does_not_crash(tmp_path):
    code, err, out, before = _interrupt_run(tmp_path, signal.SIGINT, ignore_sigint=True)
    assert code == 0, err[-500:]
    assert (out / "frames.csv").read_bytes() != before["frames.csv"]


# ----------------------------------------------------------------------------- 3. model folders

def _copy_with_weights(tmp_path, change):
    from safetensors.numpy import load_file, save_file

    folder = tmp_path / "model"
    shutil.copytree(OLD_MODEL, folder)
    weights = load_file(str(folder / "weights.safetensors"))
    name = sorted(weights)[0]
    weights[name] = weights[name].copy()
    change(weights[name])
    save_file(weights, str(folder / "weights.safetensors"))
    return folder


@pytest.mark.parametrize("command", ["classify", "evaluate"])
def test_nan_weights_are_refused_with_exit_2_and_no_output(tmp_path, capsys, command):
    folder = _copy_with_weights(tmp_path, lambda w: w.flat.__setitem__(0, np.nan))
    out = tmp_path / "out"
    args = {"classify": ["classify", str(LIQUID_DUMP), "--out", str(out), "--model", str(folder)],
            "evaluate": ["evaluate", "--model", str(folder), "--data", str(DATASET1)]}[command]
    assert main(args) == 2
    assert "NaN or infinite weights" in capsys.readouterr().err
    assert not out.exists()


def test_a_changed_weights_file_fails_its_checksum(tmp_path, capsys):
    from ovito_glassml.models.classifier import load_classifier
    from ovito_glassml.models.store import read_config, save_model
    from safetensors.numpy import load_file

    folder = tmp_path / "model"
    config = read_config(OLD_MODEL)
    from ovito_glassml.models.store import read_graph_spec

    save_model(folder, "dmpnn", config["hyperparameters"],
               load_file(str(OLD_MODEL / "weights.safetensors")), graph=read_graph_spec(config))
    assert "weights_sha256" in json.loads((folder / "config.json").read_text())
    load_classifier(folder)
    data = bytearray((folder / "weights.safetensors").read_bytes())
    data[-3] ^= 0x01  # one flipped bit in the last weight: still a finite number
    (folder / "weights.safetensors").write_bytes(bytes(data))
    assert main(["classify", str(LIQUID_DUMP), "--out", str(tmp_path / "out"),
                 "--model", str(folder)]) == 2
    assert "checksum" in capsys.readouterr().err


def test_an_old_model_folder_without_checksum_still_loads():
    from ovito_glassml.models.classifier import load_classifier

    assert "weights_sha256" not in json.loads((OLD_MODEL / "config.json").read_text())
    assert load_classifier(OLD_MODEL).min_particles > 0


def test_a_truncated_dataset_is_refused_in_one_line(tmp_path, capsys):
    cut = tmp_path / "cut.npz"
    cut.write_bytes(DATASET1.read_bytes()[:5000])
    assert main(["evaluate", "--model", str(OLD_MODEL), "--data", str(cut)]) == 2
    assert "damaged" in capsys.readouterr().err


# ----------------------------------------------------------------------------- 4. README as written

def test_committed_results_hold_no_absolute_machine_path():
    tracked = subprocess.run(["git", "ls-files", "results", "data", "tests/data", "ovito_glassml"],
                             cwd=ROOT, capture_output=True, text=True).stdout.split()
    offenders = [name for name in tracked if name.endswith((".json", ".csv", ".md"))
                 and any(p in (ROOT / name).read_text(errors="ignore")
                         for p in ('"/work/', '"/home/', '"/root/', '"/tmp/'))]
    assert offenders == []


# ----------------------------------------------------------------------------- 5. extras

def test_a_missing_extra_is_named_in_one_line(tmp_path):
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from ovito_glassml.cli import main\n"
            f"sys.exit(main(['evaluate', '--model', {str(OLD_MODEL)!r}, '--data', "
            f"{str(DATASET1)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert "ovito-glassml[train]" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_base_install_runs_the_modifiers_without_tensorflow(tmp_path):
    """pip install ovito-glassml (no extras) into a fresh venv: the plugin and D-MPNN inference."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True,
                   cwd=tmp_path, timeout=1800)
    script = (
        "import importlib.util\n"
        "assert importlib.util.find_spec('tensorflow') is None\n"
        "assert importlib.util.find_spec('sklearn') is None\n"
        "from ovito.io import import_file\n"
        "from ovito_glassml.modifiers import GlassClassifierModifier, GlassMetricsModifier\n"
        f"pipeline = import_file({str(LIQUID_DUMP)!r})\n"
        "pipeline.modifiers.append(GlassClassifierModifier())\n"
        "pipeline.modifiers.append(GlassMetricsModifier())\n"
        "data = pipeline.compute()\n"
        "p = data.attributes['GlassProbability']\n"
        "from ovito_glassml.frames import read_dump\n"
        "from ovito_glassml.modifiers.loading import cached_classifier\n"
        f"expected = cached_classifier('').glass_probability([read_dump({str(LIQUID_DUMP)!r})], 'tiles')[0]\n"
        "assert abs(p - expected) < 1e-6, (p, expected)\n"
        "print(p, data.attributes['GlassMetrics.BBEdges'])\n")
    run = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    glassml = venv / "bin" / "glassml"
    ok = subprocess.run([str(glassml), "metrics", str(LIQUID_DUMP), "--out", str(tmp_path / "m")],
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-2000:]
    missing = subprocess.run([str(glassml), "train", "cnn", "--data", str(DATASET1), "--out",
                              str(tmp_path / "cnn"), "--epochs", "1"],
                             cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode == 2 and "ovito-glassml[" in missing.stderr


def test_a_relative_manifest_names_its_dumps_relatively(monkeypatch):
    """Tables written from a manifest given relative to the repository (frames.csv of
    `glassml metrics-vs-t`) name the dumps the same way, not by this machine's absolute path."""
    from pathlib import Path

    from ovito_glassml.batch import open_trajectory

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    trajectory = open_trajectory("data/paper/fast/manifest.csv")
    assert trajectory.files[0].startswith("data/paper/fast/tcool50000/")
    assert all(not Path(f).is_absolute() and Path(f).exists() for f in trajectory.files)
    absolute = open_trajectory(str(root / "data/paper/fast/manifest.csv"))
    assert [str(root / f) for f in trajectory.files] == absolute.files


# ------------------------------------------------------- promises of the newer commands

def test_experiments_and_heldout_refuse_an_existing_out_without_force(tmp_path, capsys):
    out = tmp_path / "baselines.json"
    out.write_text("{}")
    assert main(["experiment", "baselines", "--data", str(DATASET1), "--out", str(out)]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert out.read_text() == "{}"
    (tmp_path / "held").mkdir()
    (tmp_path / "held" / "heldout.json").write_text("{}")
    assert main(["heldout", "--slow", str(SMALL / "slow" / "manifest.csv"), "--seeds", "11",
                 "--out", str(tmp_path / "held")]) == 2
    assert "exists; give --force" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["size-transfer", "--window-lengths", "0.2", "1.5"], "must be in (0, 1]"),
    (["attention", "--cutoff", "-1"], "must be >= 0"),
])
def test_experiments_refuse_values_out_of_range_before_any_work(tmp_path, capsys, args, message):
    out = tmp_path / "x.json"
    assert main(["experiment", *args, "--model", str(OLD_MODEL), "--data", str(DATASET1),
                 "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_packed_dataset_where_a_manifest_belongs_is_refused_in_one_line(tmp_path, capsys):
    assert main(["heldout", "--slow", str(DATASET1), "--seeds", "1", "--out",
                 str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err
    assert "is not a manifest" in err and "Traceback" not in err


def test_fast_seeds_the_campaign_does_not_have_are_refused(tmp_path, capsys):
    manifest = str(SMALL / "slow" / "manifest.csv")
    fast = str(SMALL / "fast" / "manifest.csv")
    assert main(["heldout", "--slow", manifest, "--seeds", "11", "--fast", fast,
                 "--fast-seeds", "900", "--out", str(tmp_path / "h"), "--no-progress"]) == 2
    assert "no glass of the fast runs [900]" in capsys.readouterr().err


def test_report_refuses_a_missing_results_folder(tmp_path, capsys):
    assert main(["report", "--results", str(tmp_path / "missing"), "--out",
                 str(tmp_path / "R.md")]) == 2
    assert "is not a folder" in capsys.readouterr().err and not (tmp_path / "R.md").exists()


def test_the_next_run_removes_what_a_killed_run_left_beside_out(tmp_path):
    out = tmp_path / "out"
    # as a command killed with SIGKILL leaves it: process 2**22 + 1 does not run here
    dead = tmp_path / f".out.{2 ** 22 + 1}.abc123.part"
    dead.mkdir()
    (dead / "frames.csv").write_text("half written")
    live = tmp_path / f".out.{os.getpid()}.def456.part"   # a live process's: kept
    live.mkdir()
    assert main(["metrics", str(LIQUID_DUMP), "--out", str(out)]) == 0
    assert not dead.exists() and live.exists()
    assert (out / "frames.csv").exists()


# ----------------------------------------- one promise over every command: --out and --force

#: command module -> (arguments, the result file that already holds results). Every command of
#: `glassml` is here or in EXEMPT, so a new command cannot forget the promise.
def _promise_cases(tmp_path):
    small = SMALL / "slow" / "manifest.csv"
    return {
        "tg": (["tg", str(small), "--out", str(tmp_path)], tmp_path / "tg.json"),
        "dataset": (["dataset", str(small), "--datasets", "1", "--out", str(tmp_path)],
                    tmp_path / "dataset1.npz"),
        "metrics_vs_t": (["metrics-vs-t", str(small), "--tg", "0.3", "--out", str(tmp_path)],
                         tmp_path / "fit.json"),
        "report": (["report", "--results", str(tmp_path), "--out", str(tmp_path / "R.md")],
                   tmp_path / "R.md"),
        "metrics": (["metrics", str(LIQUID_DUMP), "--out", str(tmp_path)], tmp_path / "frames.csv"),
        "classify": (["classify", str(LIQUID_DUMP), "--model", str(OLD_MODEL), "--out",
                      str(tmp_path)], tmp_path / "frames.csv"),
        "heldout": (["heldout", "--slow", str(small), "--seeds", "11", "--out", str(tmp_path)],
                    tmp_path / "heldout.json"),
        "experiment": (["experiment", "baselines", "--data", str(DATASET1), "--out",
                        str(tmp_path / "b.json")], tmp_path / "b.json"),
        "train": (["train", "dmpnn", "--data", str(DATASET1), "--out", str(tmp_path)],
                  tmp_path / "config.json"),
        "evaluate": (["evaluate", "--model", str(OLD_MODEL), "--data", str(DATASET1), "--json",
                      str(tmp_path / "s.json")], tmp_path / "s.json"),
    }


#: Commands that continue what is in --out by design, or have no --out of their own.
EXEMPT = {
    "simulate": "resumes a campaign: finished runs are kept, interrupted ones redone",
    "crossval": "resumes its folds and trials from --out",
    "calibrate": "writes the fitted offsets into the model folder it calibrates",
    "demo": "the main job's own folder, remade by `make demo`",
}


def test_every_command_keeps_the_out_promise_or_says_why_not(tmp_path):
    from ovito_glassml.cli import COMMANDS

    assert set(COMMANDS) == set(_promise_cases(tmp_path)) | set(EXEMPT)


@pytest.mark.parametrize("command", sorted(_promise_cases(Path("."))))
def test_no_command_replaces_results_in_out_without_force(tmp_path, capsys, command):
    args, result = _promise_cases(tmp_path)[command]
    result.write_text("old results")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert result.read_text() == "old results"


@pytest.mark.slow
def test_a_crossval_folder_is_read_from_any_working_directory(tmp_path, monkeypatch):
    # its dataset and fold models are found from the folder, not from where crossval ran
    folder = ROOT / "results" / "own_system" / "crossval"
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "size-transfer", "--crossval", str(folder), "--window-lengths",
                 "0.2", "--windows-per-config", "1", "--out", "transfer.json"]) == 0
    result = json.loads((tmp_path / "transfer.json").read_text())
    assert result["model_dir"] == [str(folder / "fold0" / "model")]


@pytest.mark.parametrize("args", [["tg", "MANIFEST"], ["metrics-vs-t", "MANIFEST", "--tg", "0.3"]])
def test_commands_write_only_where_out_says_never_into_their_input_folder(tmp_path, args):
    manifest = tmp_path / "campaign" / "manifest.csv"
    manifest.parent.mkdir()
    shutil.copy(SMALL / "slow" / "manifest.csv", manifest)
    before = sorted(p.name for p in manifest.parent.iterdir())
    with pytest.raises(SystemExit) as exit_code:   # --out is required: argparse says so
        main([str(manifest) if a == "MANIFEST" else a for a in args])
    assert exit_code.value.code == 2
    assert sorted(p.name for p in manifest.parent.iterdir()) == before


# ---------------------------------- one promise over every command: wrong kinds of input

#: A CNN model folder: its config says so, which is all a D-MPNN-only command needs to read.
CNN_MODEL = ROOT / "results" / "paper" / "crossval_16runs" / "cnn" / "dataset1" / "fold0" / "model"


def _wrong_input_cases(tmp_path):
    """command module -> [(arguments, what the one-line refusal says)]: a CNN where a D-MPNN is
    needed, a dataset where a manifest or a trajectory is needed, files, folders and seeds that
    do not exist, values out of range. Every command of `glassml` is here or in NO_INPUTS."""
    manifest, out = str(SMALL / "slow" / "manifest.csv"), str(tmp_path / "out")
    missing = str(tmp_path / "missing")
    dump, dataset, dmpnn = str(LIQUID_DUMP), str(DATASET1), str(TEST_DATA / "tiny-dmpnn")
    return {
        "simulate": [(["simulate", "--preset", "small", "--seeds", "1", "--processes", "0",
                       "--out", out], "--processes must be at least 1"),
                     (["simulate", "--preset", "small", "--seeds", "0-x", "--out", out],
                      "cannot read seeds")],
        "tg": [(["tg", dataset, "--out", out], "is not a manifest"),
               (["tg", missing + ".csv", "--out", out], "does not exist"),
               (["tg", manifest, "--seeds", "900", "--out", out], "no runs with seeds [900]"),
               (["tg", manifest, "--bootstrap", "0", "--out", out], "--bootstrap must be at least 2")],
        "dataset": [(["dataset", dataset, "--datasets", "1", "--out", out], "is not a manifest"),
                    (["dataset", manifest, "--datasets", "9", "--out", out], "no dataset 9")],
        "metrics": [(["metrics", dataset, "--out", out], "is a packed dataset"),
                    (["metrics", missing + ".dump", "--out", out], "does not exist"),
                    (["metrics", dump, "--workers", "0", "--out", out], "--workers must be at least 1")],
        "metrics_vs_t": [(["metrics-vs-t", dataset, "--tg", "0.3", "--out", out],
                          "is not a manifest or a frames.csv"),
                         (["metrics-vs-t", manifest, "--tg", missing + ".json", "--out", out],
                          "no such file")],
        "classify": [(["classify", dump, "--model", str(CNN_MODEL), "--out", out], "model.keras"),
                     (["classify", dataset, "--model", dmpnn, "--out", out], "is a packed dataset"),
                     (["classify", dump, "--model", missing, "--out", out], "does not exist"),
                     (["classify", dump, "--model", dmpnn, "--workers", "0", "--out", out],
                      "--workers must be at least 1")],
        "train": [(["train", "dmpnn", "--data", missing + ".npz", "--out", out], "does not exist"),
                  (["train", "dmpnn", "--data", dataset, "--epochs", "0", "--out", out],
                   "must be at least 1")],
        "evaluate": [(["evaluate", "--model", missing, "--data", dataset], "does not exist"),
                     (["evaluate", "--model", dmpnn, "--data", dump], "is not a packed dataset")],
        "calibrate": [(["calibrate", "--crossval", dmpnn], "is not a crossval folder")],
        "heldout": [(["heldout", "--model", str(CNN_MODEL), "--slow", manifest, "--seeds", "11",
                      "--out", out], "holds a cnn model; heldout"),
                    (["heldout", "--model", dmpnn, "--slow", dataset, "--seeds", "11", "--out", out],
                     "is not a manifest"),
                    (["heldout", "--model", dmpnn, "--slow", manifest, "--seeds", "900", "--out", out],
                     "no runs with seeds [900]"),
                    (["heldout", "--model", dmpnn, "--data", manifest, "--inherent", "--seeds", "11",
                      "--out", out], "--inherent reads a campaign's inherent structures")],
        "crossval": [(["crossval", "--model", "dmpnn", "--data", missing + ".npz", "--out", out],
                      "does not exist"),
                     (["crossval", "--model", "dmpnn", "--data", dataset, "--iterations", "0",
                       "--out", out], "must be positive")],
        "report": [(["report", "--results", missing, "--out", out + ".md"], "is not a folder")],
        "experiment": [(["experiment", "attention", "--model", str(CNN_MODEL), "--data", dataset,
                         "--out", out + ".json"], "holds a cnn model; experiment attention"),
                       (["experiment", "size-transfer", "--model", dmpnn, "--data", dataset,
                         "--window-lengths", "1.5", "--out", out + ".json"], "must be in (0, 1]"),
                       (["experiment", "window-baselines", "--crossval", missing, "--out",
                         out + ".json"], "no crossval.json"),
                       (["experiment", "cross-dataset", "--crossval", dmpnn, "--out",
                         out + ".json"], "no crossval.json")],
    }


#: Commands with no input a user could get the kind of wrong.
NO_INPUTS = {"demo": "runs its own small simulations into its own folder"}


def test_every_command_refuses_wrong_kinds_of_input_or_says_why_not(tmp_path):
    from ovito_glassml.cli import COMMANDS

    assert set(COMMANDS) == set(_wrong_input_cases(tmp_path)) | set(NO_INPUTS)


@pytest.mark.parametrize("command", sorted(_wrong_input_cases(Path("."))))
def test_wrong_kinds_of_input_are_refused_in_one_line_before_any_work(tmp_path, capsys, command):
    for args, message in _wrong_input_cases(tmp_path)[command]:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "error:" in line]
        assert len(lines) == 1 and message in lines[0], (args, err)
        assert "Traceback" not in err
        assert not any(p.name.startswith(("out", ".out")) for p in tmp_path.iterdir()), args


def test_output_piped_into_head_ends_without_a_traceback(tmp_path):
    shell = (f"{sys.executable} -m ovito_glassml tg {ROOT / 'data' / 'paper' / 'slow' / 'manifest.csv'} "
             f"--seeds 1-4 --bootstrap 10 --out {tmp_path / 'tg'} | head -c 1")
    run = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
    assert len(run.stdout) == 1 and (tmp_path / "tg" / "tg.json").exists()


def test_an_interrupted_heldout_says_nothing_was_written_as_it_resumes_nothing(tmp_path, capsys,
                                                                               monkeypatch):
    import ovito_glassml.training.heldout as heldout

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(heldout, "held_out_report", interrupted)
    out = tmp_path / "held"
    assert main(["heldout", "--slow", str(SMALL / "slow" / "manifest.csv"), "--seeds", "11",
                 "--out", str(out), "--no-progress"]) == 130
    assert "nothing new was written" in capsys.readouterr().err and not out.exists()


def test_frame_data_names_no_type_the_frame_left_unnamed():
    # a name given here was read back as the frame's: an A/B-swapped dump through `glassml
    # classify` was matched by those names instead of by abundance, and read as a liquid
    from ovito_glassml.configuration import Configuration
    from ovito_glassml.ovito_data import frame_configuration, frame_data

    rng = np.random.default_rng(0)
    config = Configuration(rng.random((50, 3)) * 4, np.where(np.arange(50) < 40, 2, 1), np.full(3, 4.0))
    data = frame_data(config)
    assert [t.name for t in data.particles.particle_types.types] == ["", ""]
    assert frame_configuration(data).type_names == {}
