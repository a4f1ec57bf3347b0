"""The 3D-against-2D classify benchmark's quick mode: a changed API breaks this test, not the
benchmark (benchmarks/bench_dimensions.py; its figures are ratios measured in one run)."""

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
