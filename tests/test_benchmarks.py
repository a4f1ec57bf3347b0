"""Every benchmark's ``--quick`` mode runs on the current API and gives the figures it promises.

A benchmark that no one runs rots (issue 23: ``make bench`` failed on a changed signature). Here
each one's ``main(argv)`` runs in this process on its smallest setting, and its figures are
checked: the JSON file holds what ``main`` returned, and every ratio the benchmark reports is a
finite positive number. No wall-clock time is asserted: a quick run measures nothing.
"""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def benchmark(name: str):
    """benchmarks/``name``.py as a module (the folder is not a package; its scripts import their
    sibling ``figures`` as ``python benchmarks/bench_x.py`` lets them)."""
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_quick(name: str, tmp_path) -> dict:
    """``main(["--quick", "--json", FILE])``; checks the file holds what main returned."""
    path = tmp_path / f"{name}.json"
    figures = benchmark(name).main(["--quick", "--json", str(path)])
    assert json.loads(path.read_text()) == json.loads(json.dumps(figures))
    assert figures["quick"] is True
    return figures


def assert_ratios(figures: dict, keys) -> None:
    """Each dotted key (``"attention.train_fraction_of_matmul"``) is a finite positive number."""
    for key in keys:
        value = figures
        for part in key.split("."):
            assert part in value, f"{key} missing from the figures"
            value = value[part]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (key, value)


DMPNN_RATIOS = [f"{model}.{phase}_fraction_of_matmul" for model in ("attention", "no_attention")
                for phase in ("train", "infer")]
CHEMPROP_RATIOS = ["message_passing.train_speedup_vs_chemprop",
                   "message_passing.infer_speedup_vs_chemprop"]


@pytest.mark.slow
def test_dmpnn_benchmark_quick_mode_gives_its_ratios(tmp_path):
    figures = run_quick("bench_dmpnn", tmp_path)
    with_chemprop = importlib.util.find_spec("chemprop") is not None
    assert_ratios(figures, DMPNN_RATIOS + (CHEMPROP_RATIOS if with_chemprop else []))
    assert figures["targets"] is None          # a quick run judges no target
    assert figures["frame_particles"] == 4320 and figures["frame_edges"] > 0


@pytest.mark.slow
def test_dmpnn_benchmark_without_chemprop_skips_that_comparison_and_says_so(tmp_path,
                                                                           monkeypatch, capsys):
    # as on a machine without the `bench` extra: every chemprop import fails
    for name in [m for m in sys.modules if m == "chemprop" or m.startswith("chemprop.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "chemprop", None)
    figures = run_quick("bench_dmpnn", tmp_path)
    assert "chemprop is not installed" in figures["message_passing"]["skipped"]
    assert "chemprop comparison skipped" in capsys.readouterr().out
    # our message passing is timed all the same: its API is checked without chemprop too
    assert_ratios(figures, DMPNN_RATIOS + ["message_passing.ours_train_ms_per_sample",
                                           "message_passing.ours_infer_ms_per_sample"])


def test_classify_benchmark_quick_mode_gives_its_ratios(tmp_path):
    figures = run_quick("bench_classify", tmp_path)
    assert (figures["frames"], figures["n_particles"]) == (1, 4320)
    assert_ratios(figures, ["speedup_new_over_old", "classify_over_metrics_new"]
                  + [f"frames_per_second.{name}" for name in ("old", "new", "metrics")])


def test_ovito_benchmark_quick_mode_gives_its_ratios(tmp_path):
    figures = run_quick("bench_ovito", tmp_path)
    assert (figures["frames"], figures["particles_per_frame"]) == (2, 4320)
    assert_ratios(figures, ["metrics_speedup_vs_networkx", "metrics_pipeline_frames_per_s",
                            "classify_pipeline_frames_per_s"])


@pytest.mark.slow
def test_lammps_benchmark_quick_mode_gives_its_ratios(tmp_path):
    figures = run_quick("bench_lammps", tmp_path)
    assert figures["n_particles"] == 240
    assert_ratios(figures, ["driver_over_lmp_opt", "driver_over_lmp_plain", "opt_over_plain_lmp",
                            "opt_over_plain_driver"]
                  + [f"atom_steps_per_s.{v}" for v in ("driver_opt", "lmp_opt", "driver_plain",
                                                        "lmp_plain")])


@pytest.mark.tensorflow
def test_cnn_benchmark_quick_mode_gives_its_ratios(tmp_path, capsys):
    figures = run_quick("bench_cnn", tmp_path)
    assert_ratios(figures, ["rendering.speedup_vectorised_over_naive_cpu",
                            "heads.speedup_pooled_over_dense",
                            "training_fastest.ms_per_sample"])
    (row,) = figures["training"]
    assert (row["batch_size"], row["precision"], row["head"]) == (2, "float32", "dense")
    # rendering on the fly costs a fraction of a step, more or less than cached images
    assert math.isfinite(row["on_the_fly_overhead"]) and row["on_the_fly_overhead"] > -1
    assert "skipped" in figures["onednn"]
    assert "oneDNN comparison skipped" in capsys.readouterr().out


@pytest.mark.slow
def test_dimensions_benchmark_quick_mode_gives_the_3d_over_2d_cost(tmp_path):
    figures = run_quick("bench_dimensions", tmp_path)
    assert figures["particles"] == {"2d": 3 * 1200, "3d": 3 * 1000}
    assert_ratios(figures, ["cost_ratio_3d_over_2d", "seconds_per_particle.2d",
                            "seconds_per_particle.3d"])
    per = figures["seconds_per_particle"]
    assert figures["cost_ratio_3d_over_2d"] == pytest.approx(per["3d"] / per["2d"])


@pytest.mark.slow
def test_workers_benchmark_quick_mode_gives_its_speedup_and_identical_output(tmp_path):
    figures = run_quick("bench_workers", tmp_path)
    assert figures["frames"] == 6 and figures["identical_output"] is True
    assert_ratios(figures, ["speedup_2_over_1"])
    seconds = figures["seconds"]
    assert figures["speedup_2_over_1"] == pytest.approx(seconds["1_workers"] / seconds["2_workers"])


def test_allocator_benchmark_quick_mode_gives_its_speedup(tmp_path):
    figures = run_quick("bench_allocator", tmp_path)
    assert figures["setting"]["edges_per_batch"] > 0
    assert_ratios(figures, ["speedup_heap_over_default", "seconds.default", "seconds.heap"])
    seconds = figures["seconds"]
    assert figures["speedup_heap_over_default"] == pytest.approx(seconds["default"] / seconds["heap"])
