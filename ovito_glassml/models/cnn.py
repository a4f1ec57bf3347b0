"""The paper's convolutional network (§2.3.1, Fig. 2) in Keras 3 on the TensorFlow backend.

Layers, for a 250 x 250 RGB image (:mod:`ovito_glassml.images`):

==========  =======================================  ==========================
layer       what                                     weights
==========  =======================================  ==========================
rescale     uint8 colours -> [0, 1]                  none
conv1       6 kernels 10x10x3, ReLU, valid, stride 1 10*10*3*6 + 6 = 1,806
conv2       16 kernels 5x5x6, ReLU, valid, stride 1  5*5*6*16 + 16 = 2,416
flatten     16 x 237 x 237 = 898,704 values          none
dense       80 neurons, ReLU                         898,704*80 + 80 = 71,896,400
dropout     probability ``dropout``                  none
output      2 logits (liquid, glass)                 80*2 + 2 = 162
==========  =======================================  ==========================

71,900,784 weights in all (~288 MB in float32), nearly all of them in the dense layer. Every
kernel (not the biases) carries Keras' L2 penalty ``0.01 * sum(w**2)``, the paper's "L2
regularization (coefficient of 0.01) on all four layers". The output is two logits; the glass
probability is their softmax's second entry, as for the D-MPNN.

``head="pooled"`` (ours, not the paper's) replaces flatten with the mean of each of the 16
conv2 maps over the image (global average pooling) followed by batch normalisation, so the
dense layer reads 16 numbers (80*16 + 80 = 1,360 weights; 5,776 trained in all, and the
normalisation's 32 moving statistics). A picture's class sits in global statistics of the image
(the fraction of white pixels alone separates the campaign's datasets, docs/cnn.md), which
the flattened 898,704 values hide from 82 training images and the pooled head hands over
directly: on campaign dataset 6 it reaches held-out AUC 1.0 in 7 epochs where the paper's head
stays at ln 2.

TensorFlow is imported only inside the functions that need it: importing this module (or
``ovito_glassml.models``) costs nothing, and OVITO modifiers that never touch the CNN never pay
TensorFlow's ~8 s import.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..images import IMAGE_SIZE, render_images
from .classifier import FrameCalibration, FrameClassification, shift_logit

# TensorFlow leaves oneDNN's kernels off on CPUs other than recent Intel ones; on this project's
# AMD EPYC machines they train the CNN 3.4x faster (95 against 323 CPU-ms per image, one thread).
# A default only: TF_ENABLE_ONEDNN_OPTS=0 in the environment keeps TensorFlow's own kernels.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

KIND = "cnn"
#: The Keras file inside a model folder; loaded with ``safe_mode=True`` (no Python code runs).
WEIGHTS_FILE = "model.keras"
#: Every kernel's L2 coefficient (paper §2.3.2).
L2_COEFFICIENT = 0.01
CONV_LAYERS = ((6, 10), (16, 5))   # (kernels, kernel side), valid padding, stride 1
DENSE_UNITS = 80
#: Arithmetic of training: the paper's float32, or Keras mixed precision with bfloat16.
PRECISIONS = ("float32", "mixed_bfloat16")
#: The layers after conv2: the paper's flatten (``"dense"``) or ours, pooled and normalised.
HEADS = ("dense", "pooled")
#: Momentum of the pooled head's moving statistics: with ~100-300 optimiser steps in a
#: campaign training, Keras' 0.99 would still carry a third of its start at the end.
NORM_MOMENTUM = 0.9
#: Images rendered and classified per call of the network when predicting.
PREDICT_CHUNK = 32


def limit_tensorflow_threads() -> None:
    """Give TensorFlow as many threads as ``OMP_NUM_THREADS`` says (as torch and LAMMPS take).

    Unset, TensorFlow takes every core for each op and more between ops; on a machine shared with
    LAMMPS runs or other trainings its spinning threads then slow a CNN step ~60x (1.3 s per
    image where one free thread takes ~50 ms). Called before TensorFlow runs its first op; later
    calls, and calls once it runs, change nothing.
    """
    threads = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not threads.isdigit() or int(threads) < 1:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:   # TensorFlow is already running: its pools are fixed
        pass


def build_cnn(dropout: float = 0.0, precision: str = "float32", head: str = "dense"):
    """The paper's CNN as an uncompiled ``keras.Sequential`` taking 250x250x3 uint8 images.

    Parameters
    ----------
    dropout : float
        Dropout probability after the 80-neuron layer, in ``[0, 1)`` (a hyperparameter).
    precision : str
        ``"float32"``, or ``"mixed_bfloat16"``: convolutions and the dense layer compute in
        bfloat16 while every weight stays float32 (Keras mixed precision), which trains ~1.5x
        faster on CPUs with AVX-512 BF16 (``benchmarks/bench_cnn.py``). The output logits are
        float32 in both, and the weights are the same, so a model trained either way is saved
        and used as a float32 network.
    head : str
        ``"dense"``, the paper's flatten + 80 ReLUs, or ``"pooled"``: global average pooling of
        the conv2 maps, batch normalisation, then the 80 ReLUs (see the module docstring).

    Returns
    -------
    keras.Sequential
        Outputs two logits per image: (liquid, glass).
    """
    if not 0.0 <= float(dropout) < 1.0:
        raise InputError(f"dropout must be in [0, 1), got {dropout}")
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if head not in HEADS:
        raise InputError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
    import keras
    from keras import layers, regularizers

    def l2():
        return regularizers.L2(L2_COEFFICIENT)

    (n1, k1), (n2, k2) = CONV_LAYERS
    inner = {"dtype": precision}
    if head == "dense":
        reader = [layers.Flatten(name="flatten", **inner)]
    else:
        reader = [layers.GlobalAveragePooling2D(name="pool", **inner),
                  layers.BatchNormalization(momentum=NORM_MOMENTUM, name="norm", **inner)]
    return keras.Sequential([
        keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name="image"),
        # colours enter as 0..255; the network sees 0..1 (no weights, so the count is unchanged)
        layers.Rescaling(1.0 / 255.0, name="rescale", **inner),
        layers.Conv2D(n1, k1, strides=1, padding="valid", activation="relu",
                      kernel_regularizer=l2(), name="conv1", **inner),
        layers.Conv2D(n2, k2, strides=1, padding="valid", activation="relu",
                      kernel_regularizer=l2(), name="conv2", **inner),
        *reader,
        layers.Dense(DENSE_UNITS, activation="relu", kernel_regularizer=l2(), name="dense",
                     **inner),
        layers.Dropout(float(dropout), name="dropout", **inner),
        layers.Dense(2, kernel_regularizer=l2(), name="output", dtype="float32"),
    ], name="glassml_cnn")


def check_images(images) -> np.ndarray:
    """``images`` as a ``(n, 250, 250, 3)`` array, or an :class:`InputError` saying what's wrong."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    want = (IMAGE_SIZE, IMAGE_SIZE, 3)
    if images.ndim != 4 or images.shape[1:] != want:
        raise InputError(
            f"the CNN takes {want[0]}x{want[1]} RGB images (shape (n, {want[0]}, {want[1]}, 3)), "
            f"got shape {images.shape}; render configurations with ovito_glassml.images at "
            f"size={IMAGE_SIZE}")
    if len(images) == 0:
        raise InputError("no images to classify")
    return images


class CNNClassifier:
    """A trained CNN loaded from a model folder: configurations in, glass probabilities out.

    Implements :class:`~ovito_glassml.models.classifier.Classifier` for whole frames: it reads
    the image of the frame, no windows, and has no attention.

    Attributes
    ----------
    kind : str
        ``"cnn"``.
    config : dict
        The model folder's ``config.json`` (hyperparameters, provenance).
    model : keras.Model
        The network (logits).
    calibration : FrameCalibration
        Its ``frame`` offset is added to the glass logit of every image (fitted on the training
        images after training, ``glassml calibrate``; zero for a folder without one). A network
        that ranks held-out images correctly can still put all of them on one side of 0.5 when its
        training stopped before its output left 0.5 (campaign dataset 5, fold 0: AUC 1.0, accuracy
        0.5); the offset moves the threshold back between the classes.
    """

    kind = KIND
    min_particles = 1
    reads_windows = False
    has_attention = False

    def __init__(self, model, config: dict):
        self.model = model
        self.config = config
        self.calibration = FrameCalibration.from_config(config)

    @property
    def system(self):
        """The 2D Kob-Andersen system: the CNN reads pictures of 2D binary frames."""
        from .store import read_system

        return read_system(self.config)

    def check(self, config, where: str = "the frame") -> None:
        """Refuse a frame the CNN cannot picture: a 3D one (naming the D-MPNN as the model for
        3D) or one with a type it was not trained on."""
        if config.dimension != 2:
            raise InputError(f"{where} is {config.dimension}D; the CNN reads pictures of 2D "
                             "frames: classify 3D frames with a D-MPNN model (glassml train "
                             "dmpnn, or a shipped D-MPNN)")
        self.system.check(config, where)

    def uncalibrated(self) -> "CNNClassifier":
        """The same network without the calibration offset (what the training left)."""
        return CNNClassifier(self.model, {k: v for k, v in self.config.items() if k != "calibration"})

    @classmethod
    def load(cls, folder: Path, config: dict) -> "CNNClassifier":
        """The CNN of a model folder (see :func:`load_cnn`)."""
        return load_cnn(folder, config)

    def glass_probability(self, configs, mode: str = "frame", rng=None) -> np.ndarray:
        """Probability of the glass class for each configuration, ``(n,)`` float64.

        ``configs`` is one :class:`~ovito_glassml.configuration.Configuration`, a sequence of
        them, or a :class:`~ovito_glassml.datasets.PackedDataset`. The CNN reads whole frames
        only, so ``mode`` must be "frame" (``rng`` is unused).
        """
        if mode != "frame":
            raise InputError(f"the CNN reads whole frames only; probability mode {mode!r} is for "
                             "the D-MPNN (use mode 'frame')")
        if isinstance(configs, (list, tuple)):
            for config in configs:
                self.check(config)
        return self._calibrated(self.configuration_logits(configs))

    def classify_frame(self, config, *, whole_frame: bool = True, batch_size: int = 32):
        """Generator for OVITO's progress; returns the frame image's
        :class:`~ovito_glassml.models.classifier.FrameClassification`."""
        yield "Glass classifier: classifying the frame image"
        return FrameClassification(float(self.glass_probability([config])[0]))

    def frame_attention(self, config):
        raise InputError("the CNN has no attention; choose a D-MPNN trained with edge "
                         "self-attention")

    def configuration_logits(self, configs) -> np.ndarray:
        """(liquid, glass) logits per configuration; images are rendered a chunk at a time, so
        memory stays small for any number of configurations."""
        if hasattr(configs, "positions") and not hasattr(configs, "offsets"):
            configs = [configs]                     # a single Configuration
        n = len(configs)
        if n == 0:
            raise InputError("no configurations to classify")
        if hasattr(configs, "subset"):
            chunks = (configs.subset(np.arange(lo, min(lo + PREDICT_CHUNK, n)))
                      for lo in range(0, n, PREDICT_CHUNK))
        else:
            chunks = (configs[lo:lo + PREDICT_CHUNK] for lo in range(0, n, PREDICT_CHUNK))
        return np.concatenate([self.logits(render_images(chunk)) for chunk in chunks])

    def image_glass_probability(self, images) -> np.ndarray:
        """Probability of the glass class for ready-made ``(n, 250, 250, 3)`` images."""
        return self._calibrated(self.logits(images))

    def _calibrated(self, logits) -> np.ndarray:
        """Glass probability of (liquid, glass) logits with the calibration offset added."""
        return shift_logit(glass_probability_of_logits(logits), self.calibration.frame)

    def logits(self, images) -> np.ndarray:
        """The network's two logits (liquid, glass) for ``(n, 250, 250, 3)`` images."""
        images = check_images(images)
        out = [np.asarray(self.model(images[lo:lo + PREDICT_CHUNK], training=False))
               for lo in range(0, len(images), PREDICT_CHUNK)]
        return np.concatenate(out).astype(np.float64)


def glass_probability_of_logits(logits: np.ndarray) -> np.ndarray:
    """Softmax of (liquid, glass) logits, glass column; stable for large logits."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    expo = np.exp(shifted)
    return expo[:, 1] / expo.sum(axis=1)


def save_cnn_weights(model, folder: str | Path) -> Path:
    """Write ``model`` (without optimiser state) as ``folder/model.keras``; returns the path.

    The network is rebuilt from :func:`build_cnn` and given the weights, so the file holds only
    built-in Keras layers and loads under ``safe_mode=True`` with no custom objects.
    """
    clean = build_cnn(dropout=_dropout_of(model), head=head_of(model))
    clean.set_weights(model.get_weights())
    return save_keras_atomic(clean, Path(folder) / WEIGHTS_FILE)


def save_keras_atomic(model, path: str | Path) -> Path:
    """``model.save(path)`` so that a reader never sees a half-written ``.keras`` file."""
    from ..fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        keras_tmp = tmp.with_suffix(".keras")   # Keras insists on the extension
        try:
            model.save(keras_tmp)
            keras_tmp.replace(tmp)
        finally:
            keras_tmp.unlink(missing_ok=True)
    return path


def load_cnn(folder: str | Path, config: dict) -> CNNClassifier:
    """Load the CNN of a model folder (``config`` is its parsed ``config.json``).

    The ``.keras`` file is read with ``safe_mode=True``: it cannot run arbitrary code.

    Raises
    ------
    InputError
        If the weights file is missing, unreadable, or not a 250x250x3 -> 2 network.
    """
    path = Path(folder) / WEIGHTS_FILE
    if not path.exists():
        raise InputError(f"model folder {folder} has no {WEIGHTS_FILE}; train one with "
                         "`glassml train cnn` or point at another folder")
    limit_tensorflow_threads()
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, OSError, TypeError) as err:
        raise InputError(f"{path} is not a loadable Keras model ({err})") from err
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        raise InputError(f"{path} holds NaN or infinite weights; the model is damaged or its "
                         "training diverged: retrain or restore it")
    if tuple(model.input_shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE, 3) or model.output_shape[-1] != 2:
        raise InputError(f"{path} takes images of shape {model.input_shape[1:]} and gives "
                         f"{model.output_shape[-1]} outputs; a glassml CNN takes "
                         f"({IMAGE_SIZE}, {IMAGE_SIZE}, 3) and gives 2")
    return CNNClassifier(model, config)


def head_of(model) -> str:
    """``"pooled"`` if the network pools its conv2 maps, else the paper's ``"dense"``."""
    return "pooled" if any(layer.name == "pool" for layer in model.layers) else "dense"


def _dropout_of(model) -> float:
    for layer in model.layers:
        if layer.name == "dropout":
            return float(layer.rate)
    return 0.0
