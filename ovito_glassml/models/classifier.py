"""What every trained classifier offers (:class:`Classifier`), and the one loader of model folders.

The D-MPNN (:class:`~ovito_glassml.models.dmpnn_classifier.DMPNNClassifier`) and the CNN
(:class:`~ovito_glassml.models.cnn.CNNClassifier`) implement the protocol in their own modules;
:func:`load_classifier` is the only place that looks at a folder's ``kind``. Callers ask a
classifier what it can do (``reads_windows``, ``has_attention``) instead of what it is.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Generator, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import InputError
from .store import check_weights_checksum, read_config

#: Probability modes of :meth:`Classifier.glass_probability`.
MODES = ("frame", "window", "tiles")


@dataclass(frozen=True)
class FrameClassification:
    """A frame's glass probability and, for a model that reads windows, the windows' ones.

    Attributes
    ----------
    probability : the frame's glass probability (D-MPNN: the mean over tiling windows).
    window_probabilities : (W,) probability of every tiling window, or None.
    windows : W arrays of the particle indices in each window, or None.
    whole_frame : probability of the whole periodic frame read at once, or None.
    """

    probability: float
    window_probabilities: np.ndarray | None = None
    windows: list[np.ndarray] | None = None
    whole_frame: float | None = None


@dataclass(frozen=True)
class FrameAttention:
    """A model's attention over the whole periodic frame.

    Attributes
    ----------
    probability : the frame's glass probability.
    edge_index : (2, E) particle indices of every directed edge ``source -> target``.
    weights : (steps, E) attention weight of every directed edge at every message step; each
        row sums to one.
    """

    probability: float
    edge_index: np.ndarray
    weights: np.ndarray


@runtime_checkable
class Classifier(Protocol):
    """A trained glass/liquid classifier loaded from a model folder.

    Attributes
    ----------
    kind : the folder's model kind ("dmpnn", "cnn"), for display and provenance only.
    config : the folder's ``config.json`` (upgraded to the current format version).
    system : the :class:`~ovito_glassml.system.System` the model reads; a frame of another
        dimension or with another type is refused (``system.check``).
    min_particles : the fewest particles a frame must have for this model.
    reads_windows : the model classifies windows of a frame (tiles, local probabilities).
    has_attention : :meth:`frame_attention` gives attention weights.
    """

    kind: str
    config: dict
    system: object
    min_particles: int
    reads_windows: bool
    has_attention: bool

    def glass_probability(self, configs: Sequence, mode: str = "frame", rng=None) -> np.ndarray:
        """Glass probability per configuration; ``mode`` is one of :data:`MODES`."""

    def classify_frame(self, config, *, whole_frame: bool = True,
                       batch_size: int = 32) -> Generator[object, None, FrameClassification]:
        """Generator (OVITO progress: messages and fractions) returning a
        :class:`FrameClassification` of one frame."""

    def frame_attention(self, config) -> FrameAttention:
        """Attention over the whole periodic frame; :class:`InputError` if the model has none."""

    def check(self, config, where: str = "the frame") -> None:
        """Raise :class:`InputError` naming ``where`` and the model's system if the model cannot
        read ``config`` (another dimension, a type it was not trained on)."""


#: kind -> (module, class with ``load(folder, config)``); the one switch on a folder's kind.
_IMPLEMENTATIONS = {
    "dmpnn": ("ovito_glassml.models.dmpnn_classifier", "DMPNNClassifier"),
    "cnn": ("ovito_glassml.models.cnn", "CNNClassifier"),
}


def load_classifier(folder) -> Classifier:
    """Load a model folder as a :class:`Classifier`; runs no code from the folder.

    Imports torch (D-MPNN) or TensorFlow (CNN) only here, when a folder needs it.
    """
    config = read_config(folder)
    check_weights_checksum(folder, config)
    module_name, class_name = _IMPLEMENTATIONS[config["kind"]]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        extra = " (pip install 'ovito-glassml[cnn]')" if config["kind"] == "cnn" else ""
        raise InputError(f"{folder} holds a {config['kind']} model, but its code could not be "
                         f"imported ({err}){extra}") from err
    return getattr(module, class_name).load(Path(folder), config)


def require_dmpnn(folder, purpose: str) -> None:
    """Refuse, from its config alone (no weights, no TensorFlow), a model folder that is not a
    D-MPNN where ``purpose`` needs one."""
    kind = read_config(folder)["kind"]
    if kind != "dmpnn":
        raise InputError(f"{folder} holds a {kind} model; {purpose} needs a D-MPNN (it reads "
                         "windows and attention): give a folder of `glassml train dmpnn`"
                         + (" (use `glassml evaluate` for a CNN)" if kind == "cnn" else ""))


@dataclass(frozen=True)
class FrameCalibration:
    """Logit offsets that put a window model's whole-frame probabilities on the 0.5 threshold.

    A model trained on windows is calibrated on windows; read on a whole frame (or as the mean
    over the windows tiling it) its probabilities can sit off centre, by more than the class gap
    where the signal per window is weak (inherent structures: every frame on one side of 0.5
    while the frames are still ranked correctly). The offsets are fitted after training on the
    training frames (:func:`~ovito_glassml.training.calibration.fit_frame_calibration`) and kept
    in the model's ``config.json``; a folder without them reads with zero offsets.

    Attributes
    ----------
    frame : logit offset of the whole periodic frame read as one graph.
    tiles : logit offset of the mean probability over the windows tiling the frame.
    """

    frame: float = 0.0
    tiles: float = 0.0

    @classmethod
    def from_config(cls, config: dict) -> "FrameCalibration":
        section = config.get("calibration") or {}
        try:
            return cls(float(section.get("frame", 0.0)), float(section.get("tiles", 0.0)))
        except (TypeError, ValueError) as err:
            raise InputError(f"the model's calibration section is unusable ({err})") from err


def shift_logit(probability, offset: float):
    """``sigmoid(logit(p) + offset)``: a probability moved by a logit offset (order kept)."""
    if offset == 0.0:
        return probability
    p = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    shifted = 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + offset)))
    return float(shifted) if np.ndim(shifted) == 0 else shifted


def check_mode(mode: str, modes=MODES) -> None:
    """Raise :class:`InputError` unless ``mode`` is one of ``modes``."""
    if mode not in modes:
        raise InputError(f"probability mode must be one of {modes}, got {mode!r}")
