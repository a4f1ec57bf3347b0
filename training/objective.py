"""The search objective: one TPE trial trains a model on the inner train set and scores it.

The fit and score adapters give the D-MPNN and the CNN one shape for the protocol
(:mod:`.crossval`): ``fit_*(dataset, indices, params, epochs, seed, ...)`` and
``score_*(model, dataset) -> {"auc", "accuracy", ...}``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError

from .cache import cached_dataset
from .evaluate import classification_scores, window_glass_probability


def fit_dmpnn(dataset: PackedDataset, indices, params: dict, epochs: int, seed: int, out,
              device: str = "cpu", provenance_data: dict | None = None, calibrate: bool = True):
    """Train the D-MPNN with hyperparameters ``params`` on ``dataset[indices]``; the classifier.

    Resumes from ``out``'s epoch checkpoint when one with the same settings exists; ``calibrate``
    fits the whole-frame offsets on the training frames (:mod:`.calibration`).
    """
    from ovito_glassml.models import load_classifier

    from .dmpnn import DMPNNTrainingConfig, train_dmpnn

    config = DMPNNTrainingConfig.from_params(dict(params, epochs=int(epochs), seed=int(seed)))
    train_dmpnn(dataset.subset(indices), out, config, device=device, resume=True, progress=False,
                data_provenance=provenance_data, calibrate=calibrate)
    return load_classifier(out)


def score_dmpnn(classifier, dataset: PackedDataset, windows_per_config: int = 10, rng=0,
                frame: bool = False) -> dict:
    """Window-level AUC and accuracy (and, with ``frame``, those of whole frames: see
    :func:`frame_scores`)."""
    scores = classification_scores(*window_glass_probability(classifier, dataset, None,
                                                             windows_per_config, rng))
    if frame:
        scores.update(frame_scores(classifier, dataset))
    return scores


def frame_scores(classifier, dataset: PackedDataset) -> dict:
    """AUC and accuracy of whole frames read as one graph (``frame_*``) and as the mean over
    their tiling windows (``tiles_*``), both with the model's whole-frame calibration."""
    configs = [dataset[i] for i in range(len(dataset))]
    out = {}
    for mode in ("frame", "tiles"):
        scores = classification_scores(dataset.label, classifier.glass_probability(configs, mode))
        out.update({f"{mode}_auc": scores["auc"], f"{mode}_accuracy": scores["accuracy"]})
    return out


def fit_cnn_model(dataset: PackedDataset, indices, params: dict, epochs: int, seed: int,
                  checkpoint_dir, log=None):
    """Train the CNN with ``params`` (dropout, batch size; ``pooled_head`` 0/1 picks the head) on
    ``dataset[indices]``; Keras model."""
    from .cnn import fit_cnn

    unknown = sorted(set(params) - {"dropout", "batch_size", "pooled_head"})
    if unknown:
        raise InputError(f"the CNN has no hyperparameter(s) {unknown}; its search space is "
                         "dropout and batch_size (and the switch pooled_head)")
    head = "pooled" if int(params.get("pooled_head", 0)) else "dense"
    model, history = fit_cnn(dataset, indices, None, dropout=float(params["dropout"]),
                             batch_size=int(params["batch_size"]), epochs=int(epochs), head=head,
                             seed=int(seed), checkpoint_dir=checkpoint_dir, resume=True,
                             log=log or (lambda line: None))
    return model, history


def score_cnn(model, dataset: PackedDataset) -> dict:
    """AUC and accuracy of a Keras CNN on every configuration of ``dataset``."""
    from ovito_glassml.models.cnn import glass_probability_of_logits

    from .cnn import predict_logits

    return classification_scores(dataset.label, glass_probability_of_logits(predict_logits(model, dataset)))


def _trial_dir(work_dir, params: dict) -> Path:
    """A folder named by the hyperparameters, so an interrupted trial finds its checkpoint."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return Path(work_dir) / f"trial_{digest}"


@dataclass(frozen=True)
class TrialObjective:
    """One TPE trial: train on the inner train set, score inner validation (and inner test).

    Picklable (paths and index tuples only), so Ray can ship it to its workers.
    """

    model: str
    dataset: str
    train: tuple
    validation: tuple
    test: tuple
    epochs: int
    seed: int
    work_dir: str
    device: str = "cpu"
    windows_per_config: int = 10

    def __call__(self, params: dict) -> dict:
        data = cached_dataset(self.dataset)
        folder = _trial_dir(self.work_dir, params)
        validation = data.subset(list(self.validation))
        test = data.subset(list(self.test))
        if self.model == "dmpnn":
            classifier = fit_dmpnn(data, list(self.train), params, self.epochs, self.seed, folder,
                                   self.device, calibrate=False)
            val = score_dmpnn(classifier, validation, self.windows_per_config, rng=self.seed)
            inner = score_dmpnn(classifier, test, self.windows_per_config, rng=self.seed)
        else:
            model, _ = fit_cnn_model(data, list(self.train), params, self.epochs, self.seed,
                                     folder / "checkpoint")
            val, inner = score_cnn(model, validation), score_cnn(model, test)
        # trial models are only a means to a score; keeping 45 of them would cost gigabytes
        shutil.rmtree(folder, ignore_errors=True)
        return {"auc": val["auc"], "accuracy": val["accuracy"],
                "inner_test_auc": inner["auc"], "inner_test_accuracy": inner["accuracy"]}
