"""Statistics helpers, baselines, attention statistics and the report, on fixed inputs and data/small."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from ovito_glassml.metrics_vs_t import EQ12, fit_change_of_slope
from ovito_glassml.configuration import Configuration
from ovito_glassml.datasets import load_dataset
from ovito_glassml.baselines import psi6_magnitude, voronoi_neighbor_counts
from ovito_glassml.training.experiments import (attention_statistics, baselines, glass_liquid_pairs,
                                                size_transfer, wilcoxon_signed_rank)
from ovito_glassml.training.report import write_report

# one thread: two torch threads on this loaded 2-core machine train many times slower
torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
DATASET1 = ROOT / "data" / "small" / "datasets" / "dataset1.npz"


def triangular_lattice(nx=12, ny=8):
    """A perfect triangular crystal in a periodic box that fits it exactly."""
    a = 1.0
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    x = (i + 0.5 * (j % 2)) * a
    y = j * a * np.sqrt(3) / 2
    box = np.array([nx * a, ny * a * np.sqrt(3) / 2])
    types = np.where(np.arange(nx * ny) % 3 == 0, 2, 1)
    return Configuration(np.stack([x.ravel(), y.ravel()], axis=1), types, box)


def test_wilcoxon_helper_matches_scipy_on_fixed_inputs():
    x = np.array([3.0, 5.0, 2.0, 8.0, 4.0, 1.0, 6.0, 2.5, 3.5, 0.5])
    differences = np.array([-1.5, -1.0, -3.5, 1.2, -5.0, -0.9, -2.5, -1.6, 0.5, -2.2])
    y = x - differences
    ours = wilcoxon_signed_rank(x, y, "less")
    ref = stats.wilcoxon(x, y, alternative="less")
    assert ours["statistic"] == pytest.approx(ref.statistic)
    assert ours["pvalue"] == pytest.approx(ref.pvalue)
    # by hand: the positive differences 0.5 and 1.2 have ranks 1 and 4, so W+ = 5; of the
    # 2**10 equally likely sign patterns, 10 give W+ <= 5 (exact test without ties)
    assert ours["statistic"] == 5.0
    assert ours["pvalue"] == pytest.approx(10 / 1024)


def test_eq12_ols_matches_an_independent_least_squares_fit():
    t = np.repeat([0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.75, 0.95], 3)
    rng = np.random.default_rng(7)
    y = 10 + 2 * t + (t > 0.4) * (-1 + 6 * t) + rng.normal(0, 0.05, t.size)
    fit = fit_change_of_slope(t, y, tg=0.4)
    above = (t > 0.4).astype(float)
    X = np.column_stack([np.ones_like(t), t, above, above * t])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    dof = len(y) - 4
    cov = resid @ resid / dof * np.linalg.inv(X.T @ X)
    se = np.sqrt(cov[3, 3])
    assert fit["a3"] == pytest.approx(beta[3], rel=1e-10)
    assert fit["a3_stderr"] == pytest.approx(se, rel=1e-8)
    assert fit["a3_pvalue"] == pytest.approx(2 * stats.t.sf(abs(beta[3] / se), dof), rel=1e-6)
    assert fit["a3_pvalue_one_sided"] == pytest.approx(stats.t.sf(beta[3] / se, dof), rel=1e-6)


def test_glass_and_liquid_of_one_run_are_paired():
    values = np.array([1.0, 10.0, 2.0, 20.0, 3.0])
    labels = np.array([1, 0, 1, 0, 1])
    runs = np.array([5, 5, 6, 6, 7])
    glass, liquid, how = glass_liquid_pairs(values, labels, runs)
    assert how == "by run"
    assert glass.tolist() == [1.0, 2.0] and liquid.tolist() == [10.0, 20.0]


def test_psi6_and_voronoi_see_a_perfect_triangular_crystal():
    crystal = triangular_lattice()
    assert np.allclose(psi6_magnitude(crystal), 1.0)
    assert np.all(voronoi_neighbor_counts(crystal) == 6)


def test_periodic_voronoi_cells_average_six_sides_on_real_frames():
    ds = load_dataset(DATASET1)
    counts = voronoi_neighbor_counts(ds[0])
    # Euler's formula on a torus: the mean number of sides of a periodic Voronoi tiling is 6
    assert counts.mean() == pytest.approx(6.0)
    assert counts.min() >= 3


def test_baselines_compute_on_real_frames_of_data_small():
    ds = load_dataset(DATASET1)
    result = baselines(ds, window_lengths=(0.2,), windows_per_config=2)
    frame = result["frame"]
    # dataset 1: glasses (T=0.05) sit far below the liquid (T=1.99) in inherent-structure energy
    assert frame["inherent_structure_energy"]["auc"] == 1.0
    assert frame["inherent_structure_energy"]["orientation"] == "lower = glass"
    for entry in [*frame.values(), result["window"][0]["mean_abs_psi6"],
                  result["window"][0]["six_neighbor_fraction"]]:
        assert 0.5 <= entry["auc"] <= 1.0
    # the model's window, not a fraction of this 30-sigma box: l_win 0.2 of the 60-sigma length
    # scale holds about 173 particles at density 1.2, as a D-MPNN trained on these frames reads
    assert result["length_scale"] == pytest.approx(60.0)
    assert 150 < result["window"][0]["mean_particles"] < 200


@pytest.fixture(scope="module")
def tiny_model(tiny_model_folder):
    """The session's tiny D-MPNN (conftest.py), trained once for every module that needs one."""
    from ovito_glassml.models import load_classifier

    return load_classifier(tiny_model_folder)


def test_attention_statistics_count_glass_and_liquid_windows(tiny_model):
    ds = load_dataset(DATASET1)
    result = attention_statistics([(tiny_model, ds)], cutoff=1.0, window_length=0.4)
    assert (result["n_glass"], result["n_liquid"]) == (12, 12)
    for name, c in result["counts"].items():
        assert c["wilcoxon"]["pairing"] == "by run" and c["wilcoxon"]["n_pairs"] == 12
        # the exact signed-rank test of 12 pairs: a count of the 2**12 sign patterns
        p = c["wilcoxon"]["pvalue"]
        assert 0 < p <= 1 and 2**12 * p == pytest.approx(round(2**12 * p), abs=1e-9), (name, p)
    high = result["high_attention_edges"]
    assert 0 <= high["touching_b"] <= high["total"]


def test_report_says_per_count_whether_fig9_agrees_with_the_paper(tiny_model, tmp_path):
    from ovito_glassml.fileio import write_json_atomic

    result = attention_statistics([(tiny_model, load_dataset(DATASET1))], cutoff=1.0, window_length=0.4)
    result["dataset_number"] = 1
    write_json_atomic(tmp_path / "results" / "attention.json", result)
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    assert "| as the paper (glass < liquid, p < 1e-4)? |" in text
    for name, c in result["counts"].items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        verdict = row.rstrip(" |").rsplit("| ", 1)[1]
        if name == "num_isolated_b":                   # the paper finds ~0 of them, no ordering
            assert verdict == "–"
        elif c["glass_mean"] > c["liquid_mean"]:
            assert verdict == "no: glass > liquid"
        else:
            p = c["wilcoxon"]["pvalue"]
            assert verdict == ("yes" if p < 1e-4 else "same side, weaker" if p < 0.05
                               else "no: not significant"), (name, c)


def test_fig9_verdict_tells_a_weaker_result_from_no_difference():
    from ovito_glassml.training.report.sections import _fig9_verdict

    def count(glass, liquid, p):
        return {"glass_mean": glass, "liquid_mean": liquid, "wilcoxon": {"pvalue": p}}
    assert _fig9_verdict(count(1.0, 2.0, 1e-5)) == "yes"
    assert _fig9_verdict(count(1.0, 2.0, 0.01)) == "same side, weaker"
    assert _fig9_verdict(count(310.0, 310.8, 0.73)) == "no: not significant"
    assert _fig9_verdict(count(2.0, 2.0, 0.5)) == "no: not significant"
    assert _fig9_verdict(count(3.0, 2.0, 0.99)) == "no: glass > liquid"
    assert _fig9_verdict(count(1.0, 2.0, None)) == "no: not significant"


def test_size_transfer_scores_every_window_length_and_the_whole_frame(tiny_model):
    ds = load_dataset(DATASET1)
    result = size_transfer(tiny_model, ds, [0.2, 0.4], windows_per_config=2)
    assert [r["window_length"] for r in result["rows"]] == [0.2, 0.4]
    assert result["rows"][0]["mean_particles"] < result["rows"][1]["mean_particles"]
    assert result["frame"]["mean_particles"] == 1080
    # the tiny model tells dataset 1's glass (T=0.05) from its liquid (T=1.99) at every size
    assert [r["auc"] for r in result["rows"]] == [1.0, 1.0] and result["frame"]["auc"] == 1.0


def test_report_lists_missing_results_as_not_run_with_their_commands(tmp_path):
    (tmp_path / "results").mkdir()
    out = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md")
    text = out.read_text()
    assert text.count("not run (`glassml crossval --model") == 12
    for command in ("glassml experiment cross-dataset", "glassml experiment size-transfer",
                    "glassml experiment attention", "glassml experiment baselines", "glassml tg",
                    "glassml metrics-vs-t"):
        assert f"not run (`{command}" in text


def test_campaign_summary_of_the_committed_campaign_reaches_the_report(tmp_path):
    """scripts/campaign_summary.py on the committed manifests: the paper's glass energy, dataset
    6's pairing, and a campaign row in REPRODUCTION.md."""
    import json
    import subprocess
    import sys

    out = tmp_path / "results" / "campaign"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "campaign_summary.py"), "--data",
                    str(ROOT / "data" / "paper"), "--out", str(out)], check=True, capture_output=True)
    summary = json.loads((out / "campaign.json").read_text())
    slow, fast = summary["slow"], summary["fast"]
    assert slow["t_cool"] == [200000] and fast["t_cool"] == [50000] and len(slow["temperatures"]) == 17
    assert abs(slow["e_is_glass_mean"] - (-3.867)) < 0.01          # the paper's Fig. 1 energy
    assert fast["e_is_glass_mean"] > slow["e_is_glass_mean"]       # a faster quench, a higher E_IS
    assert summary["dataset6_liquid_temperature"] == 0.55
    # the compute is known on a fresh clone too (from the committed run_times.csv)
    assert slow["runs_timed"] == slow["n_runs"] and slow["core_hours_timed"] > 1
    assert (out / "campaign.png").stat().st_size > 0 and (out / "slow_manifest.csv").exists()
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    assert f"| slow | 2e+05 | {slow['n_runs']} ({slow['seeds']}) | 4320 |" in text
    assert "![campaign](results/campaign/campaign.png)" in text


def test_report_sets_baselines_beside_the_paper_sections(tmp_path):
    import json

    from ovito_glassml.fileio import write_json_atomic

    ds = load_dataset(DATASET1)
    result = baselines(ds, window_lengths=(0.3,), windows_per_config=1)
    result.update(dataset_number=1, provenance={"command": "glassml experiment baselines",
                                                "wall_seconds": 3.0, "cpu_count": 2})
    write_json_atomic(tmp_path / "results" / "baselines.json", result)
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    assert "| 1 | whole frame |" in text and "1.000 (lower)" in text
    assert "`glassml experiment baselines`" in text
    assert json.loads((tmp_path / "results" / "baselines.json").read_text())["kind"] == "baselines"
    section = text.split("## Baselines")[1].split("\n## ")[0]
    assert "![whole-frame baselines](reproduction_figures/frame_baselines.png)" in section
    assert (tmp_path / "reproduction_figures" / "frame_baselines.png").stat().st_size > 0


def test_cross_dataset_testing_skips_configurations_from_runs_the_model_trained_on():
    from ovito_glassml.training.experiments import unseen_configurations

    ds = load_dataset(ROOT / "data" / "small" / "datasets" / "dataset6.npz")
    seen = [[20000, 1], [20000, 2], [2000, 101]]
    left = unseen_configurations(ds, seen)
    assert len(left) == len(ds) - 3
    pairs = set(zip(left.t_cool.tolist(), left.seed.tolist()))
    assert not pairs & {tuple(p) for p in seen}


def test_report_shows_the_larger_particle_scale_when_a_dataset_has_two_crossvals(tmp_path):
    from ovito_glassml.fileio import write_json_atomic
    from ovito_glassml.training.presets import PRESETS
    from ovito_glassml.training.search import space_to_json

    def crossval(auc, configurations, particles):
        return {"kind": "crossval", "model": "dmpnn", "dataset": f"dataset6_{particles}.npz",
                "dataset_number": 6, "auc_mean": auc, "auc_std": 0.1, "accuracy_mean": 0.5,
                "accuracy_std": 0.1, "folds": [],
                "scale": {"n_configurations": configurations, "n_runs": configurations,
                          "particles_per_configuration": particles},
                "preset": PRESETS["paper"].as_dict(), "space": space_to_json(PRESETS["paper"].dmpnn_space)}

    # data/small's dataset 6 has more configurations (24 of 1080 particles) than the paper-size
    # one (16 of 4320); the paper-size result is the one to set beside the paper
    write_json_atomic(tmp_path / "results" / "small" / "crossval.json", crossval(0.72, 24, 1080))
    write_json_atomic(tmp_path / "results" / "paper" / "crossval.json", crossval(0.63, 16, 4320))
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 6 |"))
    assert "0.630 ± 0.100" in row and "16 configs of 4320 particles" in row


def test_report_prints_each_cnn_pilot_below_fig5(tmp_path):
    import json

    history = [{"epoch": e, "loss": 0.6932, "accuracy": 0.5, "val_auc": auc, "val_accuracy": 0.5}
               for e, auc in enumerate([0.4, 0.6, 0.5], start=1)]
    pilot = {"kind": "cnn_pilot", "command": "python scripts/cnn_campaign/pilot.py 0.01 3 10",
             "dataset": "dataset6.npz", "l2": 0.01, "epochs": 3, "batch_size": 10, "n_train": 82,
             "n_validation": 20, "history": history}
    (tmp_path / "results" / "cnn_pilot").mkdir(parents=True)
    (tmp_path / "results" / "cnn_pilot" / "p.json").write_text(json.dumps(pilot))
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    fig5 = text.split("## Fig. 5")[1].split("\n## ")[0]
    assert ("- CNN pilot on dataset6.npz (`results/cnn_pilot/p.json`, `python scripts/cnn_campaign/"
            "pilot.py 0.01 3 10`): 82 training images, the paper's dense head, L2 0.01, 3 of 3 "
            "epochs of batch 10: training loss 0.6932 with the L2 term (ln 2 = 0.6931), accuracy "
            "0.50, validation AUC 0.50 and accuracy 0.50 over the last 3 epochs (20 held-out "
            "images).") in fig5
    # a pilot of the pooled head says so (pilots written before heads are the dense one)
    pilot.update(head="pooled", history=[dict(h, val_accuracy=0.95) for h in history])
    (tmp_path / "results" / "cnn_pilot" / "p.json").write_text(json.dumps(pilot))
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    assert "82 training images, our pooled head, L2 0.01" in text
    assert "validation AUC 0.50 and accuracy 0.95 over the last 3 epochs" in text


def _crossval_result(model, dataset, number, auc, accuracy, folds, auc_std=0.0):
    """A campaign-size crossval.json (128 configurations of 4320 particles, paper preset)."""
    from ovito_glassml.training.presets import PRESETS
    from ovito_glassml.training.search import space_to_json

    preset = PRESETS["paper"]
    space = preset.dmpnn_space if model == "dmpnn" else preset.cnn_space
    return {"kind": "crossval", "model": model, "dataset": dataset, "dataset_number": number,
            "auc_mean": auc, "auc_std": auc_std, "accuracy_mean": accuracy, "accuracy_std": 0.0,
            "folds": folds, "scale": {"n_configurations": 128, "n_runs": 128,
                                      "particles_per_configuration": 4320},
            "preset": preset.as_dict(), "space": space_to_json(space)}


def test_window_baseline_table_sets_beside_the_dmpnn_the_cnn_of_the_same_dataset_file(tmp_path):
    from ovito_glassml.fileio import write_json_atomic
    from ovito_glassml.training.report.paper import WINDOW_BASELINE_NAMES

    def crossval(model, dataset, auc, accuracy):
        fold = {"best_params": {"window_length": 0.25},
                "test": {"auc": auc, "accuracy": accuracy, "frame_auc": 1.0, "frame_accuracy": 1.0}}
        return _crossval_result(model, dataset, 6, auc, accuracy, [fold])

    results = tmp_path / "results"
    write_json_atomic(results / "paper" / "dmpnn" / "crossval.json",
                      crossval("dmpnn", "data/paper/dataset6.npz", 0.99, 0.97))
    write_json_atomic(results / "paper" / "dmpnn" / "window_baselines.json",
                      {"kind": "window_baselines", "crossval": "crossval.json",
                       "summary": {n: {"auc_mean": 0.6, "accuracy_mean": 0.55} for n in WINDOW_BASELINE_NAMES}})
    # two CNN cross-validations of a dataset 6: the one on the D-MPNN's file belongs in its row,
    # whatever order the files are read in
    write_json_atomic(results / "paper" / "cnn" / "crossval.json",
                      crossval("cnn", "data/paper/dataset6.npz", 1.0, 0.987))
    write_json_atomic(results / "zz_16runs" / "cnn" / "crossval.json",
                      crossval("cnn", "data/16runs/dataset6.npz", 0.75, 0.67))
    text = write_report(results, tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## Per window")[1].split("\n## ")[0]
    row = next(line for line in section.splitlines() if line.startswith("| 6 |"))
    assert row.endswith("| yes (AUC +0.390) | 1.000 / 1.00 | 1.000 / 0.99 |")


def test_report_spells_out_fold_by_fold_where_an_inherent_dataset_misses_its_goal(tmp_path):
    from ovito_glassml.fileio import write_json_atomic

    folds = [{"best_params": {"window_length": lwin},
              "test": {"auc": auc, "accuracy": 0.7, "frame_auc": frame, "frame_accuracy": 0.8}}
             for lwin, auc, frame in ((0.35, 0.70, 0.85), (0.5, 0.81, 0.95))]
    results = tmp_path / "results"
    write_json_atomic(results / "cv" / "dataset6-is" / "crossval.json",
                      _crossval_result("dmpnn", "data/dataset6-is.npz", "6-is", 0.755, 0.7, folds,
                                       auc_std=0.055))
    write_json_atomic(results / "size_transfer.json", {
        "kind": "size_transfer", "crossval": "results/cv/dataset6-is", "fold": "1",
        "dataset_number": "6-is", "trained_window_length": 0.5,
        "frame": {"auc": 0.95, "accuracy": 0.9, "mean_particles": 4320.0},
        "rows": [{"window_length": 0.2, "auc": 0.58, "accuracy": 0.57, "mean_particles": 173.0},
                 {"window_length": 0.5, "auc": 0.81, "accuracy": 0.73, "mean_particles": 1080.0}]})
    text = write_report(results, tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## Beyond the paper")[1].split("\n## ")[0]
    row = next(line for line in section.splitlines() if line.startswith("| 6-is |"))
    assert row.endswith("| window >= 0.70, frame >= 0.95 | no |")     # mean frame AUC 0.90
    assert ("- 6-is misses its goal (frame AUC 0.900 < 0.95). Per fold, l_win / window AUC / "
            "frame AUC: 0.35 / 0.700 / 0.850; 0.5 / 0.810 / 0.950. Fold 1's model read at growing "
            "windows (Fig. 7 section): AUC 0.58 at l_win 0.2, 0.81 at l_win 0.5, 0.95 on the whole "
            "frame.") in section
    # a dataset that meets its goals gets no such line
    assert "- 5-is misses" not in section


def test_cross_dataset_notes_name_better_transfers_and_inverted_rankings():
    from ovito_glassml.training.report.sections import _cross_dataset_notes

    labels = ["4-is", "5-is", "6-is"]
    auc = [[0.96, 0.82, 0.68],
           [0.89, 0.73, 0.60],
           [0.12, 0.45, 0.76]]
    notes = _cross_dataset_notes(labels, auc)
    assert notes[1] == ("- Read better by another dataset's models than by its own nested CV: "
                        "5-is by the models of 4-is (0.820, its own 0.730).")
    assert notes[2].endswith("models of 6-is on 4-is (0.120).")      # 0.45 is near chance, not inverted
    assert _cross_dataset_notes(["1", "6"], [[1.0, 0.99], [0.98, 1.0]]) == []


def test_report_sets_a_variants_finished_folds_beside_the_same_folds_of_the_original(tmp_path):
    from ovito_glassml.fileio import write_json_atomic
    from ovito_glassml.training.presets import PRESETS
    from ovito_glassml.training.search import space_to_json

    preset = PRESETS["paper"]
    space = space_to_json(preset.dmpnn_space)
    results = tmp_path / "results"
    data = tmp_path / "data" / "dataset6-is.npz"

    def fold(k, auc, test_runs):
        return {"fold": k, "outer_test_indices": test_runs, "best_params": {"window_length": 0.5},
                "test": {"auc": auc, "accuracy": 0.7, "frame_auc": 0.9, "frame_accuracy": 0.8}}

    write_json_atomic(results / "crossval" / "dataset6-is" / "crossval.json",
                      _crossval_result("dmpnn", str(data), "6-is", 0.7, 0.7,
                                       [fold(0, 0.695, [1, 2]), fold(1, 0.75, [3, 4])]))
    variant = results / "crossval_variants" / "dataset6-is-w16"
    write_json_atomic(variant / "protocol.json", {
        "model": "dmpnn", "dataset": "../../../data/dataset6-is.npz", "preset": preset.as_dict(),
        "space": dict(space, windows_per_epoch={"low": 16, "high": 16, "step": 1, "integer": True}),
        "seed": 0})
    write_json_atomic(variant / "fold0" / "result.json", fold(0, 0.813, [1, 2]))
    text = write_report(results, tmp_path / "REPRODUCTION.md").read_text()
    section = text.split("## Beyond the paper")[1].split("\n## ")[0]
    line = next(l for l in section.splitlines() if l.startswith("- Variant not finished"))
    assert "(`results/crossval_variants/dataset6-is-w16`; 1 of 3 folds finished" in line
    assert ("fold 0: window 0.813 / 0.70, frame 0.900 / 0.80 (the original's fold 0 on the same "
            "outer test runs: window 0.695 / 0.70, frame 0.900 / 0.80)") in line
    assert "windows_per_epoch: 16" in line
    # once it has finished, its crossval.json speaks for it and the partial line goes
    write_json_atomic(variant / "crossval.json", {"kind": "crossval", "model": "dmpnn"})
    from ovito_glassml.training.report import collect

    assert collect(results)["crossval_variant_partial"] == []


def test_report_sets_snapshots_beside_their_inherent_structures_and_names_sign_flips(tmp_path):
    from ovito_glassml.fileio import write_json_atomic

    def fit(a1, a3):
        return {"a0": 0.0, "a1": a1, "a2": 0.0, "a3": a3, "a3_stderr": 1.0, "a3_pvalue": 0.01,
                "a3_pvalue_one_sided": 0.005 if a3 > 0 else 0.995, "r_squared": 0.9, "n": 10}

    for structure, a3 in (("instantaneous", -203.0), ("inherent", 12.5)):
        write_json_atomic(tmp_path / f"mvt_{structure}" / "fit.json",
                          {"tg": 0.396, "structure": structure, "n_frames": 10, "model": EQ12,
                           "metrics": {"num_disjoint_graphs": fit(213.0 if a3 < 0 else 6.0, a3),
                                       "num_bb_edges": fit(59.0, 20.0)}})
    text = write_report(tmp_path, tmp_path / "R.md").read_text()
    assert "frames of inherent structures" in text
    table = text.split("Snapshots against their inherent structures (Tg = 0.396)")[1]
    assert "| num_disjoint_graphs | 213 | 6 | -203 | 12.5 |" in table
    assert "its sign differs between the two for num_disjoint_graphs." in table


def test_the_3d_results_get_a_part_of_their_own_and_stay_out_of_the_paper_sections(tmp_path):
    from ovito_glassml.fileio import write_json_atomic

    tg = {"tg": 0.346, "tg_err": 0.016, "n_runs": 8, "t_cool": 200000, "method": "regimes",
          "onset_temperature": 0.75, "tg_leave_one_temperature_out": [0.326, 0.361],
          "two_line_tg_by_t_max": {"0.6": 0.359, "1.0": 0.289}}
    write_json_atomic(tmp_path / "ka3d" / "tg" / "tg.json", tg)
    text = write_report(tmp_path, tmp_path / "R.md").read_text()
    paper, ka3d = text.split("# Beyond the paper: 3D Kob-Andersen 80:20")
    assert "0.346" not in paper and "not run (`glassml tg data/paper/" in paper
    row = next(line for line in ka3d.splitlines() if line.startswith("| 2e+05 | 0.346 ± 0.016"))
    # no paper value for 3D; the sensitivity beside it
    assert row.endswith("| 0.359 / 0.289 | 8 | – | `ka3d/tg/tg.json` |") and "0.326-0.361" in row
    assert "T_c = 0.435" in ka3d
    assert "not run (`glassml dataset data/ka3d/slow/manifest.csv" in ka3d


def test_tg_by_runs_fits_each_group_of_runs_alone_and_reaches_the_report(tmp_path):
    """scripts/tg_by_runs.py on the committed 3D campaign (runs 1-8 in groups of 2 and 4): each
    group's Tg is that of `glassml tg --seeds GROUP`, and the report tabulates the spread."""
    import importlib.util
    import json

    from ovito_glassml.datasets import read_manifest, rows_of_seeds
    from ovito_glassml.glass_transition import glass_transition

    spec = importlib.util.spec_from_file_location("tg_by_runs", ROOT / "scripts" / "tg_by_runs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "results" / "ka3d" / "tg" / "by_runs.json"
    manifest = ROOT / "data" / "ka3d" / "slow" / "manifest.csv"
    result = script.main([str(manifest), "--seeds", "1-8", "--sizes", "2,4,8", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result["n_runs"] == 8
    by_size = {row["runs_per_group"]: row for row in result["by_size"]}
    assert set(by_size) == {2, 4}                   # one group of 8 gives no spread: left out
    assert [g["seeds"] for g in by_size[4]["tg"]] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    rows = read_manifest(manifest)
    for group in by_size[2]["tg"]:
        assert group["tg"] == glass_transition(rows_of_seeds(rows, group["seeds"]), n_bootstrap=0).tg
    tgs = [g["tg"] for g in by_size[2]["tg"]]
    assert by_size[2]["mean"] == pytest.approx(np.mean(tgs)) and by_size[2]["max"] == max(tgs)
    assert out.with_suffix(".png").stat().st_size > 0
    text = write_report(tmp_path / "results", tmp_path / "REPRODUCTION.md").read_text()
    row = by_size[4]
    assert (f"| 4 | 2 | {row['mean']:.3f} ± {row['std']:.3f} | {row['min']:.3f}-{row['max']:.3f} |"
            in text)


def test_the_3d_crossvals_stand_beside_their_baselines_and_goals_and_fig6(tmp_path):
    """The 3D part's cross-validation table: goals of issue 24 (AUC >= 0.99 and accuracy >= 0.95
    on 1-6, ahead of every window baseline on -is), the best 3D baseline by name, and Fig. 6 of
    the 3D models in a file of its own, none of it in the paper's sections."""
    from ovito_glassml.fileio import write_json_atomic

    def crossval(number, auc, acc):
        folds = [{"test": {"frame_auc": 1.0, "frame_accuracy": 0.9},
                  "best_params": {"window_length": lwin}} for lwin in (0.3, 0.35)]
        path = tmp_path / "ka3d" / "crossval" / "dmpnn" / f"dataset{number}" / "crossval.json"
        write_json_atomic(path, {"kind": "crossval", "model": "dmpnn", "dataset_number": number,
                                 "auc_mean": auc, "accuracy_mean": acc, "folds": folds})

    def window_baselines(number, **aucs):
        summary = {name: {"auc_mean": auc, "accuracy_mean": 0.6} for name, auc in aucs.items()}
        write_json_atomic(tmp_path / "ka3d" / "experiments" / "window_baselines" / f"dataset{number}.json",
                          {"kind": "window_baselines", "summary": summary,
                           "crossval": f"../../crossval/dmpnn/dataset{number}/crossval.json"})

    crossval("1", 1.0, 0.99)
    crossval("5", 0.995, 0.93)
    crossval("5-is", 0.80, 0.72)
    crossval("6-is", 0.55, 0.52)
    window_baselines("5-is", pair_energy=0.62, mean_q6=0.70, icosahedral_fraction=0.69)
    window_baselines("6-is", pair_energy=0.58, nn_distance_std=0.60)
    write_json_atomic(tmp_path / "ka3d" / "experiments" / "cross_dataset_dmpnn.json",
                      {"kind": "cross_dataset", "model": "dmpnn", "datasets": ["1", "5"],
                       "auc_mean": [[1.0, 0.7], [1.0, 0.995]]})
    text = write_report(tmp_path, tmp_path / "R.md").read_text()
    paper, ka3d = text.split("# Beyond the paper: 3D Kob-Andersen 80:20")
    assert "0.995 / 0.93" not in paper and "ka3d_fig6" not in paper
    rows = {line.split(" | ")[0][2:]: line for line in ka3d.splitlines()
            if line.startswith("| ") and " | 0.3, 0.35 | " in line}
    assert rows["1"].split(" | ")[2:7] == ["1.000 / 0.99", "1.000 / 0.90", "*not run*",
                                          "window AUC >= 0.99, accuracy >= 0.95", "yes"]
    assert rows["5"].split(" | ")[6] == "no"                      # accuracy 0.93 < 0.95
    assert "| mean q6: 0.700 / 0.60 | ahead of every baseline | yes (AUC +0.100) |" in rows["5-is"]
    assert "| NN-distance std: 0.600 / 0.60 | ahead of every baseline | no (AUC -0.050) |" in rows["6-is"]
    assert "| 2-is | – | *not run* |" in ka3d
    assert "## 3D: Fig. 6, trained on dataset i (rows), tested on j" in ka3d
    assert "![Fig. 6 dmpnn](reproduction_figures/ka3d_fig6_dmpnn_0.png)" in ka3d
    assert (tmp_path / "reproduction_figures" / "ka3d_fig6_dmpnn_0.png").stat().st_size > 0
