"""k-fold study of the paper's CNN on the small dataset 1 (docs/cnn.md, few-dozen-image section).

Held-out runs by fold (12 runs -> 4 folds of 3), images pre-rendered, augmentation in numpy
(rotation, flip and, with --shift 1, a periodic roll), Keras fit on one epoch at a time with the
paper's schedule. Switches: --invert/--center (colour scaling), --zero_out (output kernel 0),
--balanced (glass/liquid alternating), --sgd (SGD with momentum instead of Adam).

    python scripts/cnn_small_data/folds.py --shift 1 --batch 18 --epochs 100 --lr 1e-3 \
        --balanced 1 --zero_out 1 --dropout 0
"""
import os, sys, json, time, argparse
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
p = argparse.ArgumentParser()
p.add_argument("--invert", type=int, default=0)
p.add_argument("--shift", type=int, default=0)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--batch", type=int, default=6)
p.add_argument("--dropout", type=float, default=0.1)
p.add_argument("--folds", type=int, default=4)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--sgd", type=int, default=0)
p.add_argument("--dataset", type=int, default=1)
p.add_argument("--zero_out", type=int, default=0)
p.add_argument("--center", type=int, default=0)
p.add_argument("--balanced", type=int, default=0)
a = p.parse_args()
import keras
from ovito_glassml.datasets import load_dataset
from ovito_glassml.images import render_images
from ovito_glassml.models.cnn import build_cnn, glass_probability_of_logits
from ovito_glassml.training.cnn import paper_learning_rate
from ovito_glassml.training.evaluate import classification_scores
ROOT = Path(__file__).resolve().parents[2]
d = load_dataset(ROOT / f"data/small/datasets/dataset{a.dataset}.npz")
im = render_images(d)
y = np.asarray(d.label)
runs = d.run_ids()
ur = np.unique(runs)
rng = np.random.default_rng(123)
perm = rng.permutation(ur)
folds = np.array_split(perm, a.folds)
aucs = []
for k, held in enumerate(folds):
    te = np.isin(runs, held); tr = ~te
    keras.utils.set_random_seed(a.seed + k)
    m = build_cnn(a.dropout)
    if a.invert:
        m.layers[0].scale = -1/255.; m.layers[0].offset = 1.0
    if a.center:
        m.layers[0].scale = 2/255.; m.layers[0].offset = -1.0
    if a.zero_out:
        m.layers[-1].kernel.assign(np.zeros((80, 2), np.float32))
    Xtr, ytr = im[tr], y[tr]
    spe = int(np.ceil(len(Xtr)/a.batch))
    schedule = paper_learning_rate(spe, a.epochs, initial=a.lr / 10, peak=a.lr, final=a.lr / 10)
    opt = (keras.optimizers.SGD(schedule, momentum=0.9) if a.sgd
           else keras.optimizers.Adam(schedule))
    m.compile(opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    r = np.random.default_rng(a.seed + 100*k)
    t0 = time.time()
    for ep in range(a.epochs):
        o = r.permutation(len(Xtr))
        if a.balanced:
            g = r.permutation(np.flatnonzero(ytr == 1)); l = r.permutation(np.flatnonzero(ytr == 0))
            o = np.stack([g, l], 1).ravel()
        X = Xtr[o].copy()
        for i in range(len(X)):
            img = np.rot90(X[i], r.integers(4))
            if r.random() < .5: img = img[::-1]
            if a.shift: img = np.roll(img, tuple(r.integers(0, 250, 2)), axis=(0, 1))
            X[i] = img
        h = m.fit(X, ytr[o], batch_size=a.batch, epochs=1, verbose=0, shuffle=False)
    pg = glass_probability_of_logits(np.asarray(m(im[te], training=False)))
    ptr = glass_probability_of_logits(np.asarray(m(im[tr], training=False)))
    s = classification_scores(y[te], pg); st = classification_scores(y[tr], ptr)
    aucs.append(s["auc"])
    print(f"fold {k}: test auc {s['auc']:.3f} acc {s['accuracy']:.3f} | train auc "
          f"{st['auc']:.3f} loss {h.history['loss'][-1]:.3f} {time.time() - t0:.0f}s "
          f"pg={np.round(pg, 2)}", flush=True)
print("RESULT", json.dumps(vars(a)), "mean auc", round(float(np.mean(aucs)), 3),
      "min", round(float(np.min(aucs)), 3), flush=True)
