"""Kernel view of the CNN's dense layer on the small dataset 1 (docs/cnn.md).

Random (initial) conv features of the 24 images; ridge regression on the 898,704 flattened
features (what the dense layer can do with few images) against ridge regression on the 16
per-channel means, on the same 4 folds of held-out runs as folds.py.

    python scripts/cnn_small_data/kernel.py
"""
import os
from pathlib import Path
os.environ["TF_CPP_MIN_LOG_LEVEL"]="2"
import numpy as np, keras
from ovito_glassml.datasets import load_dataset
from ovito_glassml.images import render_images
from ovito_glassml.models.cnn import build_cnn
from ovito_glassml.training.evaluate import classification_scores
d = load_dataset(Path(__file__).resolve().parents[2] / "data/small/datasets/dataset1.npz")
im = render_images(d); y = np.asarray(d.label); runs = d.run_ids()
keras.utils.set_random_seed(0)
m = build_cnn(0)
feat = keras.Model(m.inputs, m.get_layer("flatten").output)
F = np.asarray(feat(im)).astype(np.float64)   # 24 x 898704
C = F.reshape(24, 237, 237, 16).mean((1, 2))
print("channel means glass", C[y==1].mean(0).round(3)); print("liquid", C[y==0].mean(0).round(3))
K = F @ F.T
print("diag/offdiag", np.diag(K).mean() / K[~np.eye(24, dtype=bool)].mean())
ur = np.unique(runs); perm = np.random.default_rng(123).permutation(ur)
for lam in (1e-3, 1.0):
  for name, X in (("flat", F), ("flat-centered", F - F.mean(0)), ("chanmeans", C)):
    aucs = []
    for held in np.array_split(perm, 4):
        te = np.isin(runs, held); tr = ~te
        Xt = X[tr]; yt = 2.0 * y[tr] - 1
        Kt = Xt @ Xt.T
        a = np.linalg.solve(Kt + lam * np.trace(Kt) / len(Kt) * np.eye(len(Kt)), yt)
        f = X[te] @ (Xt.T @ a)
        aucs.append(classification_scores(y[te], 1 / (1 + np.exp(-f)))["auc"])
    print(lam, name, np.round(aucs, 3))
