"""Trained classifiers: what every one offers (:mod:`.classifier`), the D-MPNN (:mod:`.dmpnn`,
:mod:`.dmpnn_classifier`), the CNN (:mod:`.cnn`) and the model folder both share (:mod:`.store`).

Importing this package imports neither torch nor TensorFlow; :func:`load_classifier` imports the
one framework the folder needs.
"""

from .classifier import Classifier, load_classifier
from .store import read_config, save_model

__all__ = ["Classifier", "load_classifier", "read_config", "save_model"]
