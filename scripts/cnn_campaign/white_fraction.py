"""The one number a CNN image carries about the class: the fraction of white (background) pixels.

Denser packing of the glass leaves less background between the discs; on the campaign datasets
the fraction separates glass from liquid perfectly (AUC 1.0, a gap of ~6 standard deviations on
dataset 6), so what the CNN must learn is in every image.

    python scripts/cnn_campaign/white_fraction.py [DATASET ...]   (default: campaign 1-6)
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ovito_glassml.datasets import load_dataset
from ovito_glassml.images import render_images

ROOT = Path(__file__).resolve().parents[2]
paths = sys.argv[1:] or [ROOT / f"data/paper/datasets/dataset{k}.npz" for k in range(1, 7)]
for path in map(Path, paths):
    data = load_dataset(path)
    white = (render_images(data) == 255).all(axis=-1).mean(axis=(1, 2))
    glass, liquid = white[data.label == 1], white[data.label == 0]
    print(f"{path.stem}: white fraction glass {glass.mean():.4f} ± {glass.std():.4f}, liquid "
          f"{liquid.mean():.4f} ± {liquid.std():.4f}, AUC {roc_auc_score(data.label, -white):.3f}")
