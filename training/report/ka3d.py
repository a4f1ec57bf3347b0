"""The report's 3D Kob-Andersen part (issue 24): the campaign and its crystal check, Tg beside
the mode-coupling T_c, Eq. 12 on snapshots and on inherent structures, the nested
cross-validations and the shipped 3D model as they arrive, each with its command."""

from __future__ import annotations

from pathlib import Path

from .collect import collect
from .format import _not_run, _rel
from .sections import (_ahead_of_baselines, _crossval_folder, _fold_lwins, _frame_scores,
                       _section_attention, _section_campaign, _section_compute,
                       _section_cross_dataset, _section_heldout, _section_metrics,
                       _section_size_transfer, _section_tg)

#: Mode-coupling temperature of the 3D mixture (Kob & Andersen, PRE 1995).
T_C = 0.435
#: The datasets of the 3D nested cross-validation, in the order they are reported.
DATASETS_3D = ("1", "2", "3", "4", "5", "6", "1-is", "2-is", "3-is", "4-is", "5-is", "6-is")


def part_ka3d(results_dir, base: Path, figures: Path) -> list[str]:
    """The 3D part of the report, from the results under ``results_dir``/.../ka3d/ (its figures
    in ``figures``, named ``ka3d_*``)."""
    groups = collect(results_dir, "ka3d")
    lines = ["# Beyond the paper: 3D Kob-Andersen 80:20", "",
             "The paper stops at 2D. The same protocol on the 3D mixture at density 1.2 with "
             "N = 4096 (docs/ka3d.md): the campaign, Tg, the metrics, and the models as they "
             "are run. Everything here is measured on the 3D campaign only.", ""]
    lines += _section_campaign(
        groups, base, title="## 3D: the campaign",
        command="python scripts/campaign_summary.py --system ka3d",
        reference="No published E_IS of this protocol to compare with; the mode-coupling "
                  f"T_c = {T_C} (Kob & Andersen 1995).")
    lines += _crystals(groups)
    lines += _section_tg(groups, base, title="## 3D: Tg",
                         reference=f"Reference: the mode-coupling T_c = {T_C}; at this cooling "
                                   "rate the liquid falls out of equilibrium below it.",
                         command="glassml tg data/ka3d/slow/manifest.csv --out results/ka3d/tg",
                         paper_tg={})
    lines += _section_metrics(groups, base, title="## 3D: Fig. 10 and Eq. 12",
                              campaign="data/ka3d", results="results/ka3d")
    lines += _crossval_table(groups, base)
    lines += _section_cross_dataset(
        groups, base, figures, title="## 3D: Fig. 6, trained on dataset i (rows), tested on j",
        prefix="ka3d_", command="glassml experiment cross-dataset --crossval "
        "results/ka3d/crossval/dmpnn/dataset{1..6} --out "
        "results/ka3d/experiments/cross_dataset_dmpnn.json")
    lines += _section_heldout(
        groups, base, title="## 3D: the D-MPNN labelled by Tg, on runs it never saw",
        command="SEED=3 SLOW=data/ka3d/slow/manifest.csv FAST=data/ka3d/fast/manifest.csv BOUND=0 "
                "sh scripts/retrain_shipped.sh 1-32 33-64 1001-1064 runs/ka3d_model 0.04")
    lines += _section_size_transfer(
        groups, base, figures, title="## 3D: Fig. 7, size transfer", prefix="ka3d_",
        command="glassml experiment size-transfer --model ka3d --data HELDOUT/dataset1.npz "
                "--out results/ka3d/experiments/size_transfer_shipped_dataset1.json")
    lines += _section_attention(
        groups, base, figures, title="## 3D: Fig. 9, high-attention graphs", prefix="ka3d_",
        command="glassml experiment attention --model ka3d --data HELDOUT/dataset1.npz "
                "--window-length 0.3 --out results/ka3d/experiments/attention_shipped_dataset1.json")
    lines += _section_compute(groups, base, title="## 3D: commands and compute")
    return lines


def _crystals(groups) -> list[str]:
    lines = []
    for _, data in groups["campaign"]:
        for rate, check in (data.get("crystals") or {}).items():
            if check:
                lines.append(f"Crystals, {rate} glasses: {len(check['crystallised_seeds'])} of "
                             f"{check['n_checked']} above {check['threshold']:.0%} "
                             f"({check['method']}; median {check['fraction_median']:.2%}, "
                             f"max {check['fraction_max']:.2%}); crystallised runs are kept "
                             "out of the glass classes of every dataset.")
    return lines + [""] if lines else []


#: The acceptance of issue 24 for the 3D nested cross-validation: on the thermal datasets a window
#: AUC and accuracy to reach; on the inherent-structure datasets, ahead of every one-number
#: baseline on the same outer-test windows.
THERMAL_GOAL = (0.99, 0.95)
#: The 3D window baselines as the report names them (training/window_baselines.py).
WINDOW_BASELINE_NAMES_3D = {"pair_energy": "pair energy", "nn_distance_std": "NN-distance std",
                            "mean_q6": "mean q6", "icosahedral_fraction": "icosahedral fraction"}


def _crossval_table(groups, base: Path) -> list[str]:
    """The 3D nested cross-validations beside the best one-number baseline on the same windows,
    each against its goal."""
    lines = ["## 3D: nested cross-validation of the D-MPNN", "",
             "Datasets 1-6 and their inherent structures (`-is`) from the whole campaign, folds "
             "by run. Each baseline is one number per window (`glassml experiment "
             "window-baselines`: KA pair energy, std of the nearest-neighbour distance, mean q6, "
             "icosahedral fraction), its threshold fitted on the fold's outer train set and scored "
             "on the same outer-test windows as the D-MPNN. Goals (issue 24): window AUC >= "
             f"{THERMAL_GOAL[0]:.2f} and accuracy >= {THERMAL_GOAL[1]:.2f} on 1-6; ahead of every "
             "baseline on the `-is` datasets.", ""]
    found = {str(d.get("dataset_number")): (p, d) for p, d in groups["crossval"]
             if d.get("model") == "dmpnn"}
    if not found:
        return lines + [_not_run("glassml dataset data/ka3d/slow/manifest.csv --fast "
                                 "data/ka3d/fast/manifest.csv --out data/ka3d/datasets [--inherent]; "
                                 "then the queue of scripts/crossval_campaign.sh (its header gives "
                                 "the 3D command)"), ""]
    baselines = {_crossval_folder(path, d): d for path, d in groups["window_baselines"]}
    lines += ["| dataset | l_win (per fold) | window AUC / accuracy | frame AUC / accuracy | "
              "best window baseline (AUC / accuracy) | goal | met? | file |",
              "|---|---|---|---|---|---|---|---|"]
    for number in DATASETS_3D:
        inherent = number.endswith("-is")
        goal = ("ahead of every baseline" if inherent else
                f"window AUC >= {THERMAL_GOAL[0]:.2f}, accuracy >= {THERMAL_GOAL[1]:.2f}")
        if number not in found:
            lines.append(f"| {number} | – | *not run* | – | – | {goal} | – | – |")
            continue
        path, cv = found[number]
        frame = _frame_scores(cv)
        base_data = baselines.get(path.parent.resolve())
        best_cell, best_auc = "*not run*", None
        if base_data is not None:
            name, best = max(base_data["summary"].items(), key=lambda item: item[1]["auc_mean"])
            best_auc = best["auc_mean"]
            best_cell = (f"{WINDOW_BASELINE_NAMES_3D.get(name, name)}: {best_auc:.3f} / "
                         f"{best['accuracy_mean']:.2f}")
        if inherent:
            met = ("baselines not run" if best_auc is None else
                   _ahead_of_baselines(cv["auc_mean"], best_auc))
        else:
            met = "yes" if (cv["auc_mean"] >= THERMAL_GOAL[0]
                            and cv["accuracy_mean"] >= THERMAL_GOAL[1]) else "no"
        lines.append(f"| {number} | {_fold_lwins(cv)} | {cv['auc_mean']:.3f} / "
                     f"{cv['accuracy_mean']:.2f} | "
                     + (f"{frame[0]:.3f} / {frame[1]:.2f}" if frame else "–")
                     + f" | {best_cell} | {goal} | {met} | `{_rel(path, base)}` |")
    return lines + [""]
