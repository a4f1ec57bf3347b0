"""Trained classifiers: the D-MPNN (:mod:`.dmpnn`), the CNN (:mod:`.cnn`) and the model folder
format both share (:mod:`.store`).

Importing this package imports neither torch nor TensorFlow; :func:`load_classifier` imports the
one framework the folder needs.
"""

from .store import load_classifier, read_config, save_model

__all__ = ["load_classifier", "read_config", "save_model"]
