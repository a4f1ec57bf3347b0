"""The LAMMPS side: cooling runs, their files, the driver's resumability, and bad input."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ovito_glassml._lammps import lmp_environment, lmp_executable
from ovito_glassml.cli import main
from ovito_glassml.errors import InputError
from ovito_glassml.frames import read_dump
from ovito_glassml.datasets import read_manifest
from ovito_glassml.simulation import (KA3D_PRESETS, PRESETS, Campaign, config_from_preset,
                                      run_simulation)
from paths import SMALL as ROOT_SMALL

SMALL = PRESETS["small"]
SEEDS = [11, 12, 13]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    out = tmp_path_factory.mktemp("campaign")
    manifest = Campaign(SMALL, seeds=SEEDS, outdir=out).run(processes=2, progress=False)
    return out, read_manifest(manifest)


def glassml(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ovito_glassml", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


@pytest.mark.slow
def test_every_run_saves_every_temperature_once(campaign):
    _, rows = campaign
    keys = [(r["seed"], r["temperature"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(SEEDS) * len(SMALL.temperatures)


@pytest.mark.slow
def test_dumps_hold_exactly_n_particles_split_65_35(campaign):
    _, rows = campaign
    for row in rows:
        config = read_dump(row["path"])
        assert config.n_particles == SMALL.n_particles
        assert np.sum(config.types == 1) == round(0.65 * SMALL.n_particles)
        assert np.sum(config.types == 2) == round(0.35 * SMALL.n_particles)
        np.testing.assert_allclose(config.box, [SMALL.box_length] * 2)


@pytest.mark.slow
def test_configurations_are_saved_on_the_linear_ramp(campaign):
    _, rows = campaign
    for row in rows:
        expected_step = round((2.0 - row["temperature"]) / 1.95 * SMALL.t_cool)
        assert row["step"] == expected_step


@pytest.mark.slow
def test_kinetic_temperature_follows_the_ramp(campaign):
    _, rows = campaign
    temps = np.array([r["temperature"] for r in rows])
    kinetic = np.array([r["t_kinetic"] for r in rows])
    # 240 particles cooled in 20 tau: thermal fluctuations plus the thermostat's lag (~0.07)
    means = [kinetic[temps == t].mean() for t in np.unique(temps)]
    for t, mean in zip(np.unique(temps), means):
        assert abs(mean - t) < 0.1, (t, mean)
    assert np.all(np.diff(means) > 0)


@pytest.mark.slow
def test_inherent_structure_energy_lies_below_the_instantaneous_energy(campaign):
    _, rows = campaign
    assert all(r["e_is"] < r["e_inst"] for r in rows)


@pytest.mark.slow
def test_inherent_structure_energy_falls_as_the_liquid_cools(campaign):
    _, rows = campaign
    mean = {t: np.mean([r["e_is"] for r in rows if r["temperature"] == t])
            for t in sorted({r["temperature"] for r in rows})}
    assert mean[0.05] < mean[1.99]
    assert mean[0.44] < mean[1.99]


@pytest.mark.slow
def test_dumps_open_in_ovito_as_2d_periodic_frames(campaign):
    from ovito.io import import_file

    _, rows = campaign
    data = import_file(str(rows[0]["path"])).compute()
    assert data.particles.count == SMALL.n_particles
    assert set(np.unique(data.particles.particle_types[...])) == {1, 2}
    assert data.cell.pbc[0] and data.cell.pbc[1]


#: rectangular boxes of the small presets' volumes (density 1.2)
RECTANGLE_2D = (SMALL.box_length * 2 ** 0.5, SMALL.box_length / 2 ** 0.5)
BRICK_3D = tuple(KA3D_PRESETS["small"].box_length * f for f in (1.5, 1.0, 1 / 1.5))


@pytest.mark.slow
@pytest.mark.parametrize("preset", [SMALL, KA3D_PRESETS["small"],
                                    replace(KA3D_PRESETS["small"], box_length=BRICK_3D)],
                         ids=["2d", "3d", "3d-brick"])
def test_plain_lammps_input_and_python_driver_give_the_same_trajectory(tmp_path, preset):
    """`lmp -in ka2d_cool.in -var ...` (ka3d_cool.in in 3D) and run_simulation() are the same
    run, byte for byte (also in a box with three different sides)."""
    config = replace(preset, temperatures=(0.96, 0.05))
    driver_dir = run_simulation(config, seed=21, outdir=tmp_path / "driver")
    plain = tmp_path / "plain"
    plain.mkdir()
    script = driver_dir / config.simulated_system.script
    subprocess.run([lmp_executable(), "-in", str(script), *config.lammps_command_line(21, plain)],
                   check=True, env=lmp_environment(), cwd=plain, capture_output=True, timeout=300)
    for name in ("T0.96.dump", "T0.05.dump", "T0.05_is.dump", "energies.txt"):
        assert (plain / name).read_bytes() == (driver_dir / name).read_bytes(), name


@pytest.mark.slow
def test_a_3d_run_writes_3d_dumps_of_n_particles_split_80_20(tmp_path):
    config = replace(KA3D_PRESETS["small"], temperatures=(0.5, 0.05))
    folder = run_simulation(config, seed=5, outdir=tmp_path)
    rows = read_manifest_rows(folder / "run.csv")
    assert [r["box_z"] for r in rows] == [str(config.box_length)] * 2
    for name in ("T0.5.dump", "T0.05_is.dump"):
        frame = read_dump(folder / name)
        assert frame.dimension == 3 and frame.n_particles == config.n_particles
        assert np.sum(frame.types == 1) == round(0.8 * config.n_particles)
        np.testing.assert_allclose(frame.box, [config.box_length] * 3)


@pytest.mark.slow
@pytest.mark.parametrize("system, sides", [("ka2d", RECTANGLE_2D), ("ka3d", BRICK_3D)])
def test_a_rectangular_box_from_the_command_line(tmp_path, system, sides):
    out = tmp_path / "run"
    box = ",".join(repr(x) for x in sides)
    assert main(["simulate", "--system", system, "--preset", "small", "--seeds", "3",
                 "--temperatures", "0.05", "--t-cool", "500", "--t-melt", "100", "--box", box,
                 "--out", str(out), "--no-progress"]) == 0
    (row,) = read_manifest_rows(out / "manifest.csv")
    axes = ("box_x", "box_y", "box_z")[:len(sides)]
    np.testing.assert_allclose([float(row[a]) for a in axes], sides)
    (run,) = read_manifest(out / "manifest.csv")
    frame = read_dump(run["path"])
    np.testing.assert_allclose(frame.box, sides)
    assert frame.dimension == len(sides)


def test_a_new_particle_number_keeps_the_presets_density():
    for system, preset in (("ka2d", "demo"), ("ka3d", "campaign"), ("ka3d", "small")):
        config = config_from_preset(preset, system=system, n_particles=1000)
        density = 1000 / np.prod(config.box_lengths)
        assert density == pytest.approx(1.2, rel=2e-4), (system, preset)
    # a box given beside it wins
    assert config_from_preset("campaign", system="ka3d", n_particles=1000,
                              box_length=12.0).box_lengths == (12.0,) * 3


@pytest.mark.parametrize("box, message", [((10.0, 10.0), "takes one side or 3 sides"),
                                          ((10.0, -1.0, 10.0), "must be positive"),
                                          ("abc", "cannot read box lengths")])
def test_a_bad_box_is_refused_with_its_reason(box, message):
    with pytest.raises(InputError, match=message):
        config_from_preset("small", system="ka3d", box_length=box)


def test_a_bad_box_argument_is_refused_in_one_line(tmp_path, capsys):
    assert main(["simulate", "--system", "ka3d", "--box", "10,x", "--out", str(tmp_path)]) == 2
    assert "cannot read --box" in capsys.readouterr().err


def read_manifest_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_plain_lammps_input_creates_its_output_folder(tmp_path):
    """The README's `lmp -in ... -var outdir run7` works when run7 does not exist yet."""
    config = replace(SMALL, temperatures=(0.05,), t_cool=500, t_melt=100)
    script = Path(__file__).resolve().parents[1] / "lammps_scripts" / "ka2d_cool.in"
    subprocess.run([lmp_executable(), "-in", str(script), *config.lammps_command_line(3, "run7")],
                   check=True, env=lmp_environment(), cwd=tmp_path, capture_output=True, timeout=300)
    assert (tmp_path / "run7" / "T0.05.dump").exists()
    assert (tmp_path / "run7" / "T0.05_is.dump").exists()


@pytest.mark.slow
def test_inherent_structure_dump_is_the_minimised_configuration(campaign):
    """Beside each snapshot lies its inherent structure: same particles, moved, at lower energy."""
    out, rows = campaign
    row = next(r for r in rows if r["temperature"] == 0.96)
    inst, inherent = read_dump(row["path"]), read_dump(out / row["is_path"])
    assert np.array_equal(inst.types, inherent.types)
    shift = np.abs(inst.positions - inherent.positions)
    shift = np.minimum(shift, inst.box - shift)
    assert 1e-3 < np.median(shift) < 0.5  # thermal displacements, not a relabelling
    assert row["e_is"] < row["e_inst"]


@pytest.mark.slow
def test_energies_are_those_of_the_unshifted_potential(tmp_path):
    """E_IS and E_inst are on the paper's scale: the unshifted Kob-Andersen pair energy."""
    from ovito_glassml.potential import pair_energy_per_particle

    config = replace(SMALL, temperatures=(0.44, 0.05))
    folder = run_simulation(config, seed=5, outdir=tmp_path)
    rows = read_manifest(Campaign(config, seeds=[5], outdir=tmp_path).run(progress=False))
    for row in rows:
        inherent = pair_energy_per_particle(read_dump(folder / Path(row["is_path"]).name)).mean()
        thermal = pair_energy_per_particle(read_dump(row["path"])).mean()
        # dumps carry 6 significant digits; the cut-off shift would move the energy by ~0.1
        assert row["e_is"] == pytest.approx(inherent, abs=2e-3)
        assert row["e_inst"] == pytest.approx(thermal, abs=2e-3)


@pytest.mark.slow
def test_resume_after_sigkill_finishes_without_duplicates(tmp_path):
    out = tmp_path / "killed"
    seeds = "31-36"
    cmd = [sys.executable, "-m", "ovito_glassml", "simulate", "--out", str(out), "--preset", "small",
           "--seeds", seeds, "--processes", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("tcool*/seed*/run.csv"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-campaign, most likely mid-run
    proc.wait()
    finished_before = {p.parent.name for p in out.glob("tcool*/seed*/run.csv")}
    assert 2 <= len(finished_before) < 6

    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = read_manifest(out / "manifest.csv")
    keys = [(r["seed"], r["temperature"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6 * len(SMALL.temperatures)
    assert not list(out.glob(".partial/*"))
    for row in rows:
        assert read_dump(row["path"]).n_particles == SMALL.n_particles


@pytest.mark.parametrize("args, message", [
    (["--t-cool", "0"], "t_cool must be a positive"),
    (["--n-particles", "1001"], "cannot be split 65:35"),
    (["--temperatures", "2.5,0.05"], "outside the cooling ramp"),
    (["--seeds", "0-2"], "LAMMPS needs seeds >= 1"),
])
def test_bad_simulation_parameters_fail_clearly_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = glassml("simulate", "--out", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def _copy_manifest(src_rows, dest: Path, mutate):
    dest.mkdir()
    rows = []
    picked = [r for r in src_rows if r["seed"] == SEEDS[0] and r["temperature"] in (1.99, 0.05)]
    for i, row in enumerate(picked):
        name = f"c{i}.dump"
        (dest / name).write_text(row["path"].read_text())
        rows.append({"path": name, "seed": row["seed"], "t_cool": row["t_cool"],
                     "temperature": row["temperature"], "e_is": row["e_is"]})
    mutate(dest, rows)
    with open(dest / "manifest.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dest / "manifest.csv"


def _truncate(dest, rows):
    text = (dest / rows[0]["path"]).read_text().splitlines()
    (dest / rows[0]["path"]).write_text("\n".join(text[:40]) + "\n")


def _drop_type_column(dest, rows):
    lines = (dest / rows[0]["path"]).read_text().splitlines()
    out = [ln.replace("id type x y", "id x y") for ln in lines[:9]]
    out += [" ".join(ln.split()[:1] + ln.split()[2:]) for ln in lines[9:]]
    (dest / rows[0]["path"]).write_text("\n".join(out) + "\n")


def _point_nowhere(dest, rows):
    rows[1]["path"] = "missing.dump"


@pytest.mark.parametrize("mutate, message", [
    (_truncate, "truncated"),
    (_drop_type_column, "no 'type' column"),
    (_point_nowhere, "does not exist"),
])
@pytest.mark.slow
def test_bad_dumps_and_manifests_fail_clearly_and_write_nothing(campaign, tmp_path, mutate, message):
    _, rows = campaign
    manifest = _copy_manifest(rows, tmp_path / "m", mutate)
    out = tmp_path / "ds"
    result = glassml("dataset", str(manifest), "--datasets", "1", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not list(out.glob("*.npz"))


@pytest.mark.slow
def test_two_campaigns_can_share_an_output_folder(tmp_path):
    """A second campaign started in the same folder leaves the first one's runs in flight alone."""
    out = tmp_path / "shared"
    first = subprocess.Popen([sys.executable, "-m", "ovito_glassml", "simulate", "--out", str(out),
                              "--preset", "small", "--seeds", "41-42", "--processes", "1", "--no-progress"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob(".partial/*seed41_*")):
        time.sleep(0.02)
    second = glassml("simulate", "--out", str(out), "--preset", "small", "--seeds", "43",
                     "--t-cool", "3000", "--no-progress")
    assert second.returncode == 0, second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    rows = read_manifest(out / "manifest.csv")
    assert {(r["seed"], r["t_cool"]) for r in rows} == {(41, 4000), (42, 4000), (43, 3000)}


@pytest.mark.slow
def test_datasets_on_inherent_structures_hold_the_minimised_frames_of_the_same_rows(campaign):
    """dataset<k>-is: the same runs, temperatures and labels as dataset k, minimised frames."""
    from ovito_glassml.datasets import build_datasets

    out, _ = campaign
    thermal = build_datasets(out / "manifest.csv", numbers=(5,))[5]
    inherent = build_datasets(out / "manifest.csv", numbers=(5,), structure="inherent")[5]
    assert inherent.meta["dataset"] == "5-is" and inherent.meta["structure"] == "inherent"
    for key in ("label", "temperature", "seed", "e_is"):
        assert np.array_equal(getattr(thermal, key), getattr(inherent, key))
    assert not np.allclose(thermal.positions, inherent.positions)
    rows = [r for r in read_manifest(out / "manifest.csv") if r["seed"] == inherent.seed[0]
            and r["temperature"] == inherent.temperature[0]]
    assert np.allclose(inherent[0].positions, read_dump(rows[0]["is_path"]).positions, atol=1e-4)


@pytest.mark.slow
def test_tg_labelled_dataset_leaves_out_the_band_around_tg(campaign):
    """The shipped model's training set: glass below Tg - band, liquid above Tg + band, none between."""
    from ovito_glassml.datasets import build_tg_dataset

    out, rows = campaign
    ds = build_tg_dataset(out / "manifest.csv", tg=0.5, band=0.1, seeds=SEEDS[:2])
    assert set(ds.temperature[ds.label == 1]) == {0.05}
    assert set(ds.temperature[ds.label == 0]) == {0.96, 1.99}
    assert set(ds.seed) == set(SEEDS[:2])
    with pytest.raises(Exception, match="no glass configurations"):
        build_tg_dataset(out / "manifest.csv", tg=0.05, band=0.01)


def test_dataset6_of_disjoint_seed_sets_pairs_the_same_liquid_temperature():
    """Train and held-out datasets 6 (disjoint runs) hold the campaign's matched liquid."""
    from ovito_glassml.datasets import build_datasets, matched_liquid_temperature

    slow, fast = ROOT_SMALL / "slow" / "manifest.csv", ROOT_SMALL / "fast" / "manifest.csv"
    campaign = matched_liquid_temperature(read_manifest(slow), read_manifest(fast))
    slow_seeds = sorted({r["seed"] for r in read_manifest(slow)})
    fast_seeds = sorted({r["seed"] for r in read_manifest(fast)})
    parts = [build_datasets(slow, fast, numbers=(6,), seeds=slow_seeds[i::2],
                            fast_seeds=fast_seeds[i::2])[6] for i in (0, 1)]
    for part in parts:
        assert part.meta["liquid_temperature"] == campaign
        assert set(part.temperature[part.label == 0]) == {campaign}
    assert not set(parts[0].seed) & set(parts[1].seed)


@pytest.mark.slow
def test_a_second_campaign_skips_the_seed_a_live_one_is_running(tmp_path):
    """Two campaigns asked for the same seed: the second leaves it to the first, whose run survives."""
    out = tmp_path / "shared"
    first = subprocess.Popen([sys.executable, "-m", "ovito_glassml", "simulate", "--out", str(out),
                              "--preset", "small", "--seeds", "44", "--t-cool", "200000", "--processes", "1",
                              "--no-progress"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob(".partial/*seed44_*")):
        time.sleep(0.02)
    # the first run cools for 2e5 steps (a few seconds longer than the second needs to start)
    second = glassml("simulate", "--out", str(out), "--preset", "small", "--seeds", "44",
                     "--t-cool", "200000", "--processes", "1", "--no-progress")
    assert second.returncode == 0, second.stderr
    assert f"process {first.pid} is running it" in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    rows = read_manifest(out / "manifest.csv")
    assert {r["seed"] for r in rows} == {44}
    assert not list(out.glob(".partial/*"))


def test_a_live_partial_folder_is_recognised_when_the_host_name_has_underscores(tmp_path, monkeypatch):
    from ovito_glassml import simulation

    monkeypatch.setattr(simulation.socket, "gethostname", lambda: "node_7_a")
    config = PRESETS["small"]
    live = tmp_path / ".partial" / f"tcool{config.t_cool}_seed45_{os.getppid()}@node_7_a"
    live.mkdir(parents=True)
    assert run_simulation(config, 45, tmp_path) is None        # the live run's, left to it
    assert live.exists()
