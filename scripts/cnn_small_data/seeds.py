"""Seeds of `fit_cnn` itself on the acceptance test's split of the small dataset 1 (docs/cnn.md).

    python scripts/cnn_small_data/seeds.py EPOCHS BATCH SHIFT(0|1) SPLIT SEEDS
    python scripts/cnn_small_data/seeds.py 150 16 1 0 0,1,2       # the test's recipe, 3 seeds
    BF16=1 python scripts/cnn_small_data/seeds.py 150 16 1 0 0    # --precision mixed_bfloat16

Environment: ADAM_EPS (Adam epsilon), PEAK (schedule peak), BF16 (mixed precision), DENSE_BIAS
(the dense layer's starting bias; DENSE_BIAS=0 is the zero-output-kernel start alone).
"""
import os, sys, time
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
from ovito_glassml.datasets import load_dataset, split_by_run
from ovito_glassml.training import cnn as T
import functools, keras
EPS = float(os.environ.get("ADAM_EPS", "0"))
if EPS:
    keras.optimizers.Adam = functools.partial(keras.optimizers.Adam, epsilon=EPS)
PEAK = float(os.environ.get("PEAK", "1e-3"))
DB = os.environ.get("DENSE_BIAS")          # unset: the package's start (0.1)
if DB is not None:
    _start = T.training_start

    def training_start(model):
        model = _start(model)
        bias = model.get_layer("dense").bias
        bias.assign(np.full(tuple(bias.shape), float(DB), dtype="float32"))
        return model
    T.training_start = training_start
PREC = "mixed_bfloat16" if os.environ.get("BF16") else "float32"

from ovito_glassml.training.evaluate import classification_scores
from ovito_glassml.models.cnn import glass_probability_of_logits
d = load_dataset(Path(__file__).resolve().parents[2] / "data/small/datasets/dataset1.npz")
epochs = int(sys.argv[1]); batch = int(sys.argv[2]); translate = sys.argv[3] == "1"
split = int(sys.argv[4]); seeds = [int(x) for x in sys.argv[5].split(",")]
tr, te = split_by_run(d, [2/3, 1/3], rng=split)
for seed in seeds:
    t = time.time()
    m, h = T.fit_cnn(d, tr, None, dropout=0.0, batch_size=batch, epochs=epochs, seed=seed,
                     translate=translate, log=lambda line: None, precision=PREC,
                     initial_lr=PEAK / 10, peak_lr=PEAK, final_lr=PEAK / 10)
    p = glass_probability_of_logits(T.predict_logits(m, d.subset(te)))
    ptr = glass_probability_of_logits(T.predict_logits(m, d.subset(tr)))
    s = classification_scores(d.label[te], p); st = classification_scores(d.label[tr], ptr)
    print(f"{PREC} dense bias {DB or 0.1} eps {EPS} peak {PEAK} split {split} seed {seed} "
          f"ep {epochs} b {batch} shift {translate}: held-out auc {s['auc']:.3f} "
          f"acc {s['accuracy']:.3f} | train auc {st['auc']:.3f} acc {st['accuracy']:.3f} "
          f"loss {h[-1]['loss']:.3f} {time.time() - t:.0f}s p={np.round(p, 2)} "
          f"y={d.label[te]}", flush=True)
