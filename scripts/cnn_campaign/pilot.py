"""Does the paper's CNN learn a campaign dataset (64 runs a side, N=4320) in the epochs we can pay?

Trains on the inner train set of outer fold 0 (82 configurations, the split crossval uses) and
scores the inner validation + inner test runs (20 configurations) after every epoch. The L2
coefficient of every kernel is the paper's 0.01 unless given (the pilots also tried 1e-4 and 0);
HEAD is the paper's "dense" (default) or our "pooled" (models/cnn.py).

    OMP_NUM_THREADS=1 python scripts/cnn_campaign/pilot.py L2 EPOCHS BATCH [DATASET [HEAD]]
    e.g. ... pilot.py 0.01 100 10 data/paper/datasets/dataset6.npz

Writes results/paper/cnn_pilot/l2<L2>_e<EPOCHS>_b<BATCH>_<dataset>[_pooled].json (per-epoch
history).
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

import ovito_glassml.models.cnn as cnn_model
from ovito_glassml.datasets import load_dataset
from ovito_glassml.training.cnn import fit_cnn
from ovito_glassml.training.splits import nested_folds

ROOT = Path(__file__).resolve().parents[2]
l2, epochs, batch = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
path = Path(sys.argv[4]) if len(sys.argv) > 4 else ROOT / "data/paper/datasets/dataset6.npz"
head = sys.argv[5] if len(sys.argv) > 5 else "dense"
cnn_model.L2_COEFFICIENT = l2          # read when build_cnn makes the regularisers
data = load_dataset(path)
fold = nested_folds(data, 3, 0.2, (0.8, 0.1, 0.1), 0)[0]
validation = np.r_[fold.inner_validation, fold.inner_test]
_, history = fit_cnn(data, fold.inner_train, validation, dropout=0.0, batch_size=batch,
                     epochs=epochs, seed=0, head=head, log=lambda line: print(line, flush=True))
suffix = "" if head == "dense" else "_" + head
out = ROOT / "results/paper/cnn_pilot" / f"l2{l2:g}_e{epochs}_b{batch}_{path.stem}{suffix}.json"
out.parent.mkdir(parents=True, exist_ok=True)
command = " ".join(["OMP_NUM_THREADS=1 python scripts/cnn_campaign/pilot.py", *sys.argv[1:4],
                    *([os.path.relpath(path.resolve(), ROOT)] if len(sys.argv) > 4 else []),
                    *sys.argv[5:6]])
out.write_text(json.dumps({"kind": "cnn_pilot", "command": command, "dataset": path.name,
                           "l2": l2, "head": head, "epochs": epochs, "batch_size": batch,
                           "n_train": len(fold.inner_train), "n_validation": len(validation),
                           "history": history}, indent=1))
print("->", out.relative_to(ROOT))
