"""What the report sets our numbers against and calls things: the paper's statements, its
datasets (and the inherent-structure ones beyond it), and the names the report prints."""

#: The paper's numbers, as its text states them.
PAPER = {
    "auc": "> 0.98 (all six datasets, both models; Fig. 5)",
    "auc_threshold": 0.98,
    "tg": {200_000: 0.39, 20_000_000: 0.37},
    "size_transfer": "trained at l_win = 0.2 (~173 particles): AUC 0.995 on its outer test set; "
                     "0.957 on windows of l_win = 0.3 (~389 particles)",
    "attention": "glass < liquid for disjoint graphs, B-B high-attention edges and isolated A "
                 "particles, one-sided Wilcoxon p < 1e-4 (dataset 1, l_win = 0.3); isolated B "
                 "particles ~0: every high-attention edge touches a B particle",
    "cross_dataset": "all models generalise; those trained on datasets 5 and 6 best; D-MPNNs "
                     "better than CNNs (Fig. 6; values not given in the text)",
    "metrics": "a3 > 0 with p < 0.05 for all three metrics (Eq. 12, t_cool = 2e7)",
}
DATASETS = (1, 2, 3, 4, 5, 6)
#: The six datasets built from inherent structures (issue 12, not in the paper), and the goals
#: set for them: (window AUC, whole-frame AUC) where one is set.
INHERENT_DATASETS = tuple(f"{k}-is" for k in DATASETS)
INHERENT_GOALS = {"5-is": (0.70, None), "6-is": (0.70, 0.95)}
MODEL_NAMES = {"cnn": "CNN", "dmpnn": "D-MPNN"}
# the counts the paper's Fig. 9 finds lower in glass (one-sided Wilcoxon p < 1e-4)
PAPER_GLASS_BELOW_LIQUID = ("num_disjoint_graphs", "num_bb_edges", "num_isolated_a")

#: The whole-frame baselines of ``glassml experiment baselines`` as the report names them.
FRAME_BASELINE_NAMES = {"mean_abs_psi6": "mean abs psi6",
                        "six_neighbor_fraction": "Voronoi 6", "inherent_structure_energy": "E_IS"}


WINDOW_BASELINE_NAMES = {"pair_energy": "pair energy", "nn_distance_std": "NN-distance std",
                         "mean_abs_psi6": "mean abs psi6", "six_neighbor_fraction": "Voronoi 6"}
