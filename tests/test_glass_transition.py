"""The Tg fit: three regimes (the default) or the paper's two lines, bootstrap error, `glassml tg`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from ovito_glassml.errors import InputError
from ovito_glassml.glass_transition import fit_three_regimes, fit_two_lines, glass_transition

TG = 0.41
GRID = np.round(np.linspace(0.05, 0.95, 19), 3)


def synthetic_rows(n_runs=16, noise=2e-3, grid=GRID, seed=0, t_cool=200_000):
    """E_IS = glass line below TG, steeper liquid line above, plus per-configuration noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for run in range(n_runs):
        e = -3.70 + 0.01 * grid + 0.12 * np.maximum(grid - TG, 0) + rng.normal(0, noise, len(grid))
        rows += [{"seed": run + 1, "temperature": float(t), "e_is": float(v), "t_cool": t_cool}
                 for t, v in zip(grid, e)]
    return rows


def test_two_line_fit_recovers_a_known_breakpoint_exactly_without_noise():
    e = -3.7 + 0.01 * GRID + 0.12 * np.maximum(GRID - TG, 0)
    fit = fit_two_lines(GRID, e)
    assert fit.tg == pytest.approx(TG, abs=1e-3)
    assert fit.glass_slope == pytest.approx(0.01, abs=1e-3)
    assert fit.liquid_slope == pytest.approx(0.13, abs=1e-3)


def three_regimes(grid, tg=0.35, onset=0.75):
    """Glass slope 0.02 below tg, supercooled liquid 0.15 up to the onset, nearly flat above."""
    return (-8.2 + 0.02 * grid + 0.13 * np.maximum(grid - tg, 0)
            - 0.14 * np.maximum(grid - onset, 0))


GRID_3D = np.array([0.05, 0.12, 0.2, 0.24, 0.28, 0.31, 0.33, 0.35, 0.37, 0.39, 0.41, 0.43, 0.45,
                    0.47, 0.5, 0.55, 0.6, 0.7, 0.8, 1.0, 1.5, 1.99])


def test_three_regimes_recover_tg_and_the_onset_without_noise():
    fit = fit_three_regimes(GRID_3D, three_regimes(GRID_3D))
    assert fit.tg == pytest.approx(0.35, abs=0.006)
    assert fit.onset == pytest.approx(0.75, abs=0.006)
    np.testing.assert_allclose(fit.slopes, [0.02, 0.15, 0.01], atol=2e-3)


def test_regimes_tg_does_not_depend_on_a_fit_range_where_the_two_line_tg_does():
    e = three_regimes(GRID_3D)
    two_line = [fit_two_lines(GRID_3D[GRID_3D <= t], e[GRID_3D <= t]).tg for t in (0.6, 1.0)]
    assert abs(two_line[0] - two_line[1]) > 0.03        # the paper's fit moves with t_max
    regimes = [fit_three_regimes(GRID_3D[GRID_3D <= t], e[GRID_3D <= t]).tg for t in (1.5, 2.0)]
    assert regimes == pytest.approx([0.35, 0.35], abs=0.006)


def test_leaving_out_any_one_temperature_barely_moves_the_regimes_tg():
    rows = [{"seed": run, "temperature": float(t), "e_is": float(v), "t_cool": 200_000}
            for run in (1, 2, 3) for t, v in zip(GRID_3D, three_regimes(GRID_3D) + 1e-4 * run)]
    result = glass_transition(rows, n_bootstrap=20)
    assert result.method == "regimes" and result.fit.onset == pytest.approx(0.75, abs=0.01)
    assert len(result.leave_one_out_tg) == len(GRID_3D)
    assert np.ptp(result.leave_one_out_tg) < 0.03


def test_glass_transition_recovers_the_breakpoint_within_its_bootstrap_error():
    result = glass_transition(synthetic_rows(), method="two-line", n_bootstrap=300)
    assert result.n_runs == 16
    assert 0 < result.tg_err < 0.05
    assert abs(result.tg - TG) < 3 * result.tg_err + 0.005


def test_bootstrap_error_shrinks_with_more_runs():
    few = glass_transition(synthetic_rows(n_runs=4), method="two-line", n_bootstrap=300)
    many = glass_transition(synthetic_rows(n_runs=64), method="two-line", n_bootstrap=300)
    assert many.tg_err < few.tg_err


def test_runs_saved_on_different_grids_are_fitted_on_their_common_temperatures():
    rows = synthetic_rows(n_runs=4) + [r | {"seed": 99} for r in synthetic_rows(n_runs=1, grid=GRID[::2])]
    result = glass_transition(rows, n_bootstrap=50)
    assert result.n_runs == 5
    np.testing.assert_allclose(result.temperatures, GRID[::2])


def test_mixed_cooling_rates_are_refused():
    rows = synthetic_rows(n_runs=2) + synthetic_rows(n_runs=2, t_cool=20_000)
    with pytest.raises(InputError, match="mixes cooling rates"):
        glass_transition(rows)


def test_glassml_tg_writes_json_and_figure(tmp_path):
    manifest = tmp_path / "manifest.csv"
    rows = synthetic_rows(n_runs=6)
    for r in rows:
        r["path"] = "x.dump"
    (tmp_path / "x.dump").write_text("")
    with open(manifest, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "seed", "t_cool", "temperature", "e_is"])
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "tg"
    result = subprocess.run([sys.executable, "-m", "ovito_glassml", "tg", str(manifest), "--out", str(out),
                             "--bootstrap", "100"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    info = json.loads((out / "tcool_200000.json").read_text())
    assert {"tg", "tg_err", "n_runs", "t_cool", "onset_temperature", "two_line_tg_by_t_max",
            "tg_leave_one_temperature_out"} <= set(info)
    assert info["method"] == "regimes"
    lo, hi = info["tg_leave_one_temperature_out"]
    assert lo <= info["tg"] <= hi
    assert info["n_runs"] == 6 and info["t_cool"] == 200_000
    assert abs(info["tg"] - TG) < 0.05
    assert (out / "tg.png").stat().st_size > 10_000

    # --seeds fits only those runs (a model's training runs)
    result = subprocess.run([sys.executable, "-m", "ovito_glassml", "tg", str(manifest), "--out",
                             str(tmp_path / "tg4"), "--bootstrap", "50", "--seeds",
                             ",".join(str(r["seed"]) for r in rows[:1]) + "," + str(rows[-1]["seed"])],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "tg4" / "tcool_200000.json").read_text())["n_runs"] == 2
    # two runs are too few for a Tg to trust, whatever their bootstrap says; six are not
    assert "a Tg from 2 runs scatters" in result.stdout
    assert "scatters" not in subprocess.run(
        [sys.executable, "-m", "ovito_glassml", "tg", str(manifest), "--out", str(tmp_path / "tg6"),
         "--bootstrap", "20"], capture_output=True, text=True, timeout=300).stdout


def test_a_tg_that_one_temperature_decides_is_said_not_to_be_settled():
    def rows(energies):
        return [{"seed": run, "temperature": float(t), "e_is": float(v), "t_cool": 200_000}
                for run in (1, 2) for t, v in zip(GRID_3D, energies)]

    clean = glass_transition(rows(three_regimes(GRID_3D)), n_bootstrap=5)
    assert clean.settled and clean.as_dict()["settled"] is True
    # one liquid temperature far off the curve (as two noisy runs of a small box can give)
    outlier = three_regimes(GRID_3D) + np.where(np.isclose(GRID_3D, 0.6), 0.03, 0.0)
    result = glass_transition(rows(outlier), n_bootstrap=5)
    assert not result.settled and result.as_dict()["settled"] is False
    assert np.ptp(result.leave_one_out_tg) > 0.1
