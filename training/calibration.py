"""Whole-frame calibration of a window-trained D-MPNN: one logit offset per way of reading a frame.

The D-MPNN learns on windows of side ``l_win``; a whole frame read as one graph, or as the mean
over the windows tiling it, was never a training sample. Where each window carries a weak signal
(inherent structures) the frames come out ranked correctly but shifted: on dataset 6-is every
whole frame, glass or liquid, fell on one side of 0.5 (frame AUC 0.85, accuracy 0.50). One logit
offset per reading, fitted on the training frames after training by the logistic loss (with a
weak prior towards no offset), moves the threshold back between the classes and leaves the
ranking (AUC) untouched; the offsets are kept
in the model's ``config.json`` and read by :class:`~ovito_glassml.models.classifier.FrameCalibration`.

The CNN reads whole frames, but the same offset serves it: with the campaign's few optimiser
steps a pooled-head CNN can rank every held-out image right and still leave all of them on one
side of 0.5 (dataset 5, fold 0: AUC 1.0, accuracy 0.5); its ``frame`` offset is fitted the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from tqdm.auto import tqdm

from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError
from ovito_glassml.models.classifier import shift_logit

from .evaluate import classification_scores

#: The offsets are searched in this logit range (a factor of e^20 on the odds is no calibration).
MAX_OFFSET = 20.0


#: Standard deviation (in logits) of the Gaussian prior on an offset. Frames the network already
#: separates leave the logistic loss flat over a wide range of offsets, where its minimum alone can
#: lie anywhere (-13 on thermal snapshots of dataset 1); the prior keeps those near 0 and hardly
#: moves an offset the frames ask for (dataset 6-is: +1.61 without, +1.59 with it).
PRIOR_STD = 2.0


def fit_logit_offset(labels, probabilities, prior_std: float = PRIOR_STD) -> float:
    """The logit offset ``b`` of ``sigmoid(logit(p) + b)`` with the least mean logistic loss on
    labelled frames, under a Gaussian prior of ``prior_std`` logits around 0 (the MAP offset)."""
    labels = np.asarray(labels, dtype=float)
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-12, 1 - 1e-12)
    logits = np.log(p / (1 - p))
    prior = 1.0 / (2.0 * len(logits) * prior_std ** 2)

    def loss(offset):
        z = logits + offset
        # log(1 + e^-z) for glass, log(1 + e^z) for liquid, without overflow
        return float(np.mean(np.logaddexp(0.0, np.where(labels == 1, -z, z)))) + prior * offset ** 2

    return float(minimize_scalar(loss, bounds=(-MAX_OFFSET, MAX_OFFSET), method="bounded",
                                 options={"xatol": 1e-4}).x)


def fit_frame_calibration(classifier, frames: PackedDataset, progress: bool = True) -> dict:
    """Fit the whole-frame offsets of a classifier on labelled frames.

    Returns the ``calibration`` section of a model's config: ``frame`` (and for a D-MPNN
    ``tiles``) logit offsets, ``n_frames``, and the accuracy on these frames before and after.
    A CNN reads a frame one way, from its image: it gets the ``frame`` offset alone.
    """
    labels = np.asarray(frames.label, dtype=int)
    if len(frames) == 0 or np.any((labels != 0) & (labels != 1)) or len(np.unique(labels)) < 2:
        raise InputError("calibration needs labelled frames of both classes (glass and liquid)")
    raw = classifier.uncalibrated()
    if getattr(classifier, "reads_windows", False):
        passes = [raw.frame_pass(frames[i]) for i in tqdm(range(len(frames)), desc="calibrating",
                                                          unit="frame", disable=not progress)]
        readings = (("frame", [p.probability for p in passes]),
                    ("tiles", [p.tiles_probability for p in passes]))
    else:
        readings = (("frame", raw.glass_probability(frames, "frame")),)
    section = {"n_frames": len(frames)}
    for reading, values in readings:
        offset = round(fit_logit_offset(labels, values), 4)
        shifted = shift_logit(np.asarray(values), offset)
        section[reading] = offset
        section[f"{reading}_accuracy_before"] = classification_scores(labels, values)["accuracy"]
        section[f"{reading}_accuracy_after"] = classification_scores(labels, shifted)["accuracy"]
    return section


def calibrate_model(folder, frames: PackedDataset, progress: bool = True,
                    provenance: dict | None = None) -> dict:
    """Fit a model folder's whole-frame offsets on ``frames`` and store them in its config.

    ``provenance`` (e.g. the dataset and indices the frames came from) is stored with them.
    Returns the ``calibration`` section written.
    """
    from ovito_glassml.models.classifier import load_classifier
    from ovito_glassml.models.store import update_section

    section = dict(fit_frame_calibration(load_classifier(folder), frames, progress),
                   **(provenance or {}))
    update_section(folder, "calibration", section, replace=True)
    return section
