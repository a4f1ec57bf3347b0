"""The quick modes of this round's benchmarks (3D against 2D, 2 workers against 1): a changed API
breaks these tests, not a benchmark no one runs (their figures are ratios measured in one run)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_dimensions.py"


@pytest.mark.slow
def test_the_dimensions_benchmark_runs_quick_and_writes_its_ratio(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_dimensions", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--quick", "--json", str(tmp_path / "figures.json")])
    assert result["particles"] == {"2d": 3 * 1200, "3d": 3 * 1000}
    ratio = result["cost_ratio_3d_over_2d"]
    per = result["seconds_per_particle"]
    assert np.isfinite(ratio) and ratio == pytest.approx(per["3d"] / per["2d"])
    assert (tmp_path / "figures.json").read_text().count("cost_ratio_3d_over_2d") == 1


@pytest.mark.slow
def test_the_workers_benchmark_runs_quick_and_two_workers_write_what_one_writes(tmp_path):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_workers.py"
    spec = importlib.util.spec_from_file_location("bench_workers", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--quick", "--json", str(tmp_path / "figures.json")])
    assert result["frames"] == 6 and result["identical_output"] is True
    seconds = result["seconds"]
    assert result["speedup_2_over_1"] == pytest.approx(seconds["1_workers"] / seconds["2_workers"])
