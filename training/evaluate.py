"""AUC and accuracy of any trained classifier (D-MPNN or CNN) on a labelled dataset (paper §2.5)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score

from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError


def classification_scores(labels, probabilities, threshold: float = 0.5) -> dict:
    """``{"auc", "accuracy", "n"}`` from labels (1 glass, 0 liquid) and glass probabilities."""
    labels = np.asarray(labels, dtype=int)
    probabilities = np.asarray(probabilities, dtype=float)
    if labels.shape != probabilities.shape:
        raise InputError(f"{labels.size} labels but {probabilities.size} predictions")
    if len(np.unique(labels)) < 2:
        raise InputError("AUC needs both glass and liquid configurations in the dataset")
    return {
        "auc": float(roc_auc_score(labels, probabilities)),
        "accuracy": float(accuracy_score(labels, probabilities >= threshold)),
        "n": int(labels.size),
    }


def evaluate(classifier, dataset: PackedDataset, **predict_options) -> dict:
    """Score ``classifier`` (from :func:`~ovito_glassml.models.load_classifier`) on ``dataset``.

    ``predict_options`` go to ``classifier.glass_probability`` (for the D-MPNN e.g.
    ``mode="window"`` and ``rng``). Returns ``{"auc", "accuracy", "n"}``.
    """
    if len(dataset) == 0:
        raise InputError("the evaluation dataset is empty")
    if np.any((dataset.label != 0) & (dataset.label != 1)):
        raise InputError("the evaluation dataset has unlabelled configurations; give a packed "
                         "dataset or a manifest with a label column (glass/liquid)")
    configs = [dataset[i] for i in range(len(dataset))]
    check_frames(classifier, dataset)
    probabilities = classifier.glass_probability(configs, **predict_options)
    return classification_scores(dataset.label, probabilities)


def check_frames(classifier, dataset: PackedDataset) -> None:
    """Refuse, naming the file, a configuration the model cannot read (another dimension, a type
    it was not trained on), before any is classified."""
    for i in range(len(dataset)):
        classifier.check(dataset[i], where=dataset.where(i))


def score_held_out(folder, test: PackedDataset, seed: int = 0) -> dict:
    """Score a saved D-MPNN on held-out runs (whole frames, and one random window each) and
    record the scores in its folder's metrics; returns ``{"test_frame", "test_window"}``."""
    from ovito_glassml.models.classifier import load_classifier
    from ovito_glassml.models.store import update_metrics

    classifier = load_classifier(folder)
    scores = {"test_frame": evaluate(classifier, test, mode="frame"),
              "test_window": evaluate(classifier, test, mode="window", rng=seed)}
    update_metrics(folder, scores)
    return scores


def window_glass_probability(classifier, dataset: PackedDataset, window_length: float | None = None,
                             windows_per_config: int = 10, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """Glass probability of ``windows_per_config`` random windows of every configuration.

    The D-MPNN reads windows of side ``l_win`` (its training one unless ``window_length`` is
    given), as in training and in the paper's Fig. 7. Returns ``(labels, probabilities)``, one
    entry per window.
    """
    from ovito_glassml.graphs import FrameGraphs

    rng = np.random.default_rng(rng)
    spec = classifier.graph_spec
    if window_length is not None:
        spec = spec.with_window_length(window_length)
    graphs = []
    for i in range(len(dataset)):
        frames = FrameGraphs(dataset[i], spec)  # one neighbour search per configuration
        graphs += [frames.random_window(rng) for _ in range(windows_per_config)]
    labels = np.repeat(np.asarray(dataset.label, dtype=int), windows_per_config)
    return labels, classifier.predict_graphs(graphs)
