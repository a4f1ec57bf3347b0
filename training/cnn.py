"""Training the paper's CNN (§2.3.2): images on the fly, augmentation, Adam, the paper's schedule.

``glassml train cnn --data DATASET --out DIR`` (:mod:`ovito_glassml.commands.train`) calls
:func:`train_cnn`, which trains with :func:`fit_cnn` and writes the model folder.

* Data: the training configurations (``--test-fraction`` holds whole runs out, ``split_by_run``,
  and scores them after training). Images are rendered on the fly in the ``tf.data`` pipeline: the
  vectorised rasteriser needs ~2-3 ms per 4320-particle image against ~100 ms per training
  sample on a CPU, so rendering costs a few percent and no memory, whereas a cache of the
  paper's 16,000 training images would take 3 GB (``benchmarks/bench_cnn.py`` measures both).
* Augmentation (per image, on the fly): rotation by a uniformly random multiple of 90 degrees,
  then an up-down flip with probability 0.5 - the 8 symmetries of the square, each equally
  likely (the paper's augmentation) - then, unless ``--no-shift``, a random periodic shift
  (a cyclic roll of the image: the same configuration with the box origin moved). The shift is
  ours: without it, on a few dozen images, the 71.9 M-weight dense layer memorises where the
  pixels of each training image lie and held-out runs score at chance; with it every epoch shows
  new pixel positions and the network has to learn what all images share (docs/cnn.md). The
  random draws are stateless and seeded by ``(seed, epoch, position)``, so a run is
  reproducible and a resumed run sees the same images as an uninterrupted one.
* Start: the output layer's kernel at zero and the dense layer's biases at 0.1
  (:func:`training_start`), which keeps its 80 ReLUs alive through the first steps.
* Loss: cross-entropy on the two logits plus the network's L2 penalties; optimiser Adam; the
  learning rate follows :mod:`ovito_glassml.training.schedule` (1e-4 rising linearly to 1e-3
  over two epochs, then decaying exponentially to 1e-4 at the end), evaluated per step.
* Checkpoints: at the end of the first epoch that finishes 10 minutes after the last checkpoint,
  and at the end of the last epoch (or of ``--stop-after``), the model with its optimiser state
  is written to ``OUT/checkpoint/`` (about 3x the 288 MB of weights, for Adam's two moments);
  ``--resume`` continues from the last checkpointed epoch. The finished model folder
  (``config.json`` and ``model.keras``) replaces the checkpoint, which is then deleted.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError
from ovito_glassml.fileio import write_json_atomic
from ovito_glassml.images import IMAGE_SIZE, render_image, render_images
from ovito_glassml.models.cnn import (KIND, PREDICT_CHUNK, WEIGHTS_FILE, CNNClassifier, build_cnn,
                                      glass_probability_of_logits, head_of,
                                      limit_tensorflow_threads, save_cnn_weights,
                                      save_keras_atomic)
from ovito_glassml.models.store import save_model
from .evaluate import classification_scores
from .presets import CNN_BATCH_SIZE, CNN_DROPOUT, CNN_EPOCHS
from .schedule import FINAL_LR, INITIAL_LR, PEAK_LR, learning_rate

#: Starting bias of the 80 ReLUs of the dense layer (:func:`training_start`).
DENSE_START_BIAS = 0.1
#: ``config.json``'s name for the augmentation, by ``translate``.
AUGMENTATION = {False: "rotate90+flip", True: "rotate90+flip+periodic-shift"}
CHECKPOINT_DIR = "checkpoint"
#: Seconds of training between checkpoints: an interrupted run loses at most about this much.
CHECKPOINT_SECONDS = 600.0
CHECKPOINT_MODEL = "model.keras"
CHECKPOINT_STATE = "state.json"


# ----------------------------------------------------------------------------- augmentation

def augment(image, seed, translate: bool = True):
    """One random symmetry of the periodic picture: a quarter-turn rotation, a flip, a shift.

    Parameters
    ----------
    image : tf.Tensor
        ``(H, W, C)`` image of a periodic box (:mod:`ovito_glassml.images` wraps discs across
        the edges, so the image is one tile of a periodic picture).
    seed : tf.Tensor
        Two int64 numbers; the same seed gives the same transformation (stateless random ops).
    translate : bool
        Also shift the image cyclically by a uniformly random number of rows and of columns.

    Returns
    -------
    tf.Tensor
        The transformed image: rotated by ``k`` counter-clockwise quarter turns, ``k`` uniform in
        {0, 1, 2, 3}; flipped across the horizontal mid-line with probability 0.5 (the paper's
        augmentation: the 8 symmetries of the square, each equally likely); then, with
        ``translate``, rolled by ``(dy, dx)`` pixels, each uniform in ``0 .. side - 1``. A roll
        of a periodic tile is the picture of the same configuration with the box origin moved,
        so it is as exact a symmetry as the rotations; it keeps every pixel.
    """
    import tensorflow as tf

    rotate_seed, flip_seed, shift_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3))
    quarter_turns = tf.random.stateless_uniform([], rotate_seed, minval=0, maxval=4, dtype=tf.int32)
    image = tf.image.rot90(image, quarter_turns)
    flip = tf.random.stateless_uniform([], flip_seed) < 0.5
    image = tf.cond(flip, lambda: tf.image.flip_up_down(image), lambda: image)
    if not translate:
        return image
    # uniform in [0, 1) times the side, floored: every row and column offset equally likely
    size = tf.cast(tf.shape(image)[:2], tf.float32)
    shift = tf.cast(tf.floor(tf.random.stateless_uniform([2], shift_seed) * size), tf.int32)
    return tf.roll(image, shift=shift, axis=[0, 1])


def epoch_plan(indices: np.ndarray, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """The shuffled order of ``indices`` and one augmentation seed per image for ``epoch``.

    Both depend only on ``(seed, epoch)``, which is what makes resumed runs repeat exactly.
    """
    rng = np.random.default_rng([int(seed), int(epoch)])
    order = rng.permutation(np.asarray(indices, dtype=np.int64))
    seeds = rng.integers(0, np.iinfo(np.int32).max, size=(len(order), 2), dtype=np.int64)
    return order, seeds


def image_pipeline(dataset: PackedDataset, order: np.ndarray, seeds: np.ndarray | None,
                   batch_size: int, translate: bool = True):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches, rendered on the fly.

    ``seeds`` (one pair per image) switches augmentation on; ``None`` gives the images as
    rendered (for evaluation). ``translate`` adds the random periodic shift to the paper's
    rotations and flips (see :func:`augment`).
    """
    import tensorflow as tf

    labels = np.asarray(dataset.label, dtype=np.int64)

    def render(i):
        return render_image(dataset[int(i)])

    def load(i, seed):
        image = tf.numpy_function(render, [i], tf.uint8, stateful=False)
        image.set_shape((IMAGE_SIZE, IMAGE_SIZE, 3))
        if seeds is not None:
            image = augment(image, seed, translate)
        return image, tf.gather(labels, i)

    element_seeds = seeds if seeds is not None else np.zeros((len(order), 2), dtype=np.int64)
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(order, dtype=np.int64), element_seeds))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------- LR schedule

_SCHEDULE_CLASS = None


def paper_learning_rate(steps_per_epoch: int, epochs: int, **rates):
    """The paper's schedule as a Keras ``LearningRateSchedule``, step by step.

    The values come from the pure function :func:`ovito_glassml.training.schedule.learning_rate`
    (one place defines the schedule for both models), tabulated for every step of the run;
    ``rates`` (``initial``, ``peak``, ``final``) override the paper's 1e-4, 1e-3, 1e-4.
    """
    # steps 0 .. end inclusive, so that the table also holds the rate at the end of the last epoch
    steps = range(int(steps_per_epoch) * int(epochs) + 1)
    values = [float(learning_rate(s, int(steps_per_epoch), int(epochs), **rates)) for s in steps]
    return _tabulated_schedule_class()(values)


def _tabulated_schedule_class():
    """The Keras schedule class, defined on first use so that importing this module stays light."""
    global _SCHEDULE_CLASS
    if _SCHEDULE_CLASS is None:
        import keras
        import tensorflow as tf

        @keras.saving.register_keras_serializable(package="glassml")
        class TabulatedLearningRate(keras.optimizers.schedules.LearningRateSchedule):
            """Learning rate ``values[step]`` (the last value after the end)."""

            def __init__(self, values):
                self.values = [float(v) for v in values]
                self._table = tf.constant(self.values, dtype=tf.float32)

            def __call__(self, step):
                last = len(self.values) - 1
                return tf.gather(self._table, tf.minimum(tf.cast(step, tf.int32), last))

            def get_config(self):
                return {"values": self.values}

        _SCHEDULE_CLASS = TabulatedLearningRate
    return _SCHEDULE_CLASS


# ----------------------------------------------------------------------------- training

def compile_cnn(model, steps_per_epoch: int, epochs: int, **rates):
    """Attach Adam with the paper's schedule and the cross-entropy loss on the two logits."""
    import keras

    schedule = paper_learning_rate(steps_per_epoch, epochs, **rates)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def predict_logits(model, dataset: PackedDataset) -> np.ndarray:
    """(liquid, glass) logits for every configuration of ``dataset``, without augmentation."""
    return CNNClassifier(model, {}).configuration_logits(dataset)


def fit_cnn(dataset: PackedDataset, train_indices, validation_indices=None, *,
            dropout: float = CNN_DROPOUT, batch_size: int = CNN_BATCH_SIZE,
            epochs: int = CNN_EPOCHS, seed: int = 0, initial_lr: float = INITIAL_LR,
            peak_lr: float = PEAK_LR, final_lr: float = FINAL_LR, translate: bool = True,
            precision: str = "float32", head: str = "dense",
            checkpoint_dir: str | Path | None = None,
            checkpoint_seconds: float = CHECKPOINT_SECONDS, resume: bool = False,
            stop_after: int | None = None, log=print):
    """Train a CNN on ``dataset[train_indices]``; returns ``(model, history)``.

    Parameters
    ----------
    dataset : PackedDataset with labels 0 (liquid) / 1 (glass).
    train_indices, validation_indices : configuration indices; validation gives a per-epoch AUC.
    dropout, batch_size, epochs, seed : the hyperparameters and the seed of weights, order
        and augmentation.
    initial_lr, peak_lr, final_lr : the schedule's rates (paper: 1e-4, 1e-3, 1e-4).
    translate : add random periodic shifts to the paper's rotations and flips (:func:`augment`);
        ``False`` is the paper's augmentation alone.
    precision : ``"float32"`` (the paper's) or ``"mixed_bfloat16"`` (faster on CPUs with
        AVX-512 BF16; see :func:`ovito_glassml.models.cnn.build_cnn`).
    head : ``"dense"`` (the paper's flatten + dense) or ``"pooled"`` (global average pooling and
        batch normalisation before the dense layer; :func:`~ovito_glassml.models.cnn.build_cnn`).
    checkpoint_dir : if given, the model and optimiser are saved there after the first epoch
        that ends ``checkpoint_seconds`` after the last save, and after the last epoch of this
        call (a checkpoint is ~0.9 GB, so saving after each of many short epochs would cost
        more than the epochs).
    resume : continue from the checkpoint in ``checkpoint_dir`` (which must match these settings).
    stop_after : stop after this many epochs in all (the run can be resumed later).
    log : called with one line of progress per epoch.

    Returns
    -------
    model : keras.Model, trained.
    history : list of per-epoch dicts (loss, accuracy, learning rate, validation AUC, seconds).
    """
    limit_tensorflow_threads()
    import keras

    train_indices = np.asarray(train_indices, dtype=np.int64)
    if len(train_indices) == 0:
        raise InputError("there are no training configurations")
    if batch_size < 1 or epochs < 1:
        raise InputError(f"batch size and epochs must be positive, got {batch_size} and {epochs}")
    labels = np.asarray(dataset.label)
    if not np.all(np.isin(labels[train_indices], (0, 1))):
        raise InputError("every training configuration needs a label, glass (1) or liquid (0)")
    steps_per_epoch = int(np.ceil(len(train_indices) / batch_size))
    rates = {"initial": float(initial_lr), "peak": float(peak_lr), "final": float(final_lr)}
    settings = {"dropout": float(dropout), "batch_size": int(batch_size), "epochs": int(epochs),
                "seed": int(seed), "learning_rates": rates, "translate": bool(translate),
                "precision": str(precision), "head": str(head),
                "train_indices": train_indices.tolist()}

    history: list[dict] = []
    start_epoch = 0
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume and checkpoint_dir is not None and (checkpoint_dir / CHECKPOINT_STATE).exists():
        model, start_epoch, history = _load_checkpoint(checkpoint_dir, settings)
        log(f"resuming after epoch {start_epoch} of {epochs} from {checkpoint_dir}")
    else:
        keras.utils.set_random_seed(int(seed))
        model = compile_cnn(training_start(build_cnn(dropout, precision, head)), steps_per_epoch,
                            epochs, **rates)

    validation = None
    if validation_indices is not None and len(np.unique(labels[validation_indices])) == 2:
        validation = dataset.subset(validation_indices)   # an AUC needs both classes
    progress = _batch_progress(steps_per_epoch)
    last_epoch = epochs if stop_after is None else min(epochs, int(stop_after))
    last_save = time.monotonic()
    for epoch in range(start_epoch, last_epoch):
        began = time.perf_counter()
        order, seeds = epoch_plan(train_indices, seed, epoch)
        _reseed_dropout(model, seed, epoch)
        batches = image_pipeline(dataset, order, seeds, batch_size, translate)
        fit = model.fit(batches, epochs=epoch + 1, initial_epoch=epoch, verbose=0, shuffle=False,
                        callbacks=[progress])
        seconds = time.perf_counter() - began
        record = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]),
                  "accuracy": float(fit.history["accuracy"][-1]),
                  "learning_rate": float(model.optimizer.learning_rate),
                  "seconds": seconds, "ms_per_sample": 1e3 * seconds / len(train_indices)}
        if validation is not None or epoch + 1 == last_epoch:
            refresh_norm_statistics(model, dataset, train_indices)
        if validation is not None:
            scores = classification_scores(
                validation.label, glass_probability_of_logits(predict_logits(model, validation)))
            record.update(val_auc=scores["auc"], val_accuracy=scores["accuracy"])
        history.append(record)
        log(_epoch_line(record, epochs))
        due = time.monotonic() - last_save >= checkpoint_seconds or epoch + 1 == last_epoch
        if checkpoint_dir is not None and due:
            _save_checkpoint(checkpoint_dir, model, settings, epoch + 1, history)
            last_save = time.monotonic()
    progress.close()
    return model, history


def training_start(model):
    """The starting point of a training: dense biases at 0.1, output kernel at 0; returns ``model``.

    Only the initial values change (Keras' defaults: zero biases, Glorot kernels); the
    architecture and the parameter count do not. Both keep the 80 ReLUs of the dense layer alive
    through the first steps:

    * the output kernel at zero makes every image start at glass probability 0.5 and gives the
      dense layer no gradient until the output weights have grown from the data;
    * a small positive bias (the old TensorFlow tutorials' 0.1 for ReLU layers) keeps each unit
      on the active side while L2 and Adam's sign-like first steps shrink its 898,704 weights:
      those steps move every bias by about the learning rate in the same direction, and with
      zero biases all 80 units can go silent together, for every image, for good.

    Measured on the small dataset 1 (16 training images, 100 full-batch epochs at the paper's
    rates, docs/cnn.md): with Keras' start 3 of 4 trainings ended with a constant output; with
    the zero output kernel alone 1 of 6 seeds did; with both, none of 8.
    """
    layer = model.get_layer("output")
    layer.kernel.assign(np.zeros(tuple(layer.kernel.shape), dtype="float32"))
    dense = model.get_layer("dense")
    dense.bias.assign(np.full(tuple(dense.bias.shape), DENSE_START_BIAS, dtype="float32"))
    return model


def refresh_norm_statistics(model, dataset: PackedDataset, indices) -> None:
    """Set the pooled head's normalisation statistics to those of ``dataset[indices]``' images.

    Keras keeps moving averages of the batch statistics for prediction. With the campaign's
    few dozen images they are a handful of batches, the last of each epoch often a remainder of
    one or two images, and the class sits in a shift of the pooled features of a few per cent
    (docs/cnn.md): prediction then put every held-out image on one side of 0.5 in some epochs
    and not in others, while the ranking (AUC) stayed perfect. Computed here once from the
    training images as the network sees them at prediction (no augmentation), with the weights
    as they are, the statistics are those of the population the dense layer was trained on. A
    network without the pooled head is left alone.
    """
    if head_of(model) != "pooled":
        return
    norm = model.get_layer("norm")
    indices = np.asarray(indices, dtype=np.int64)
    features = []
    for lo in range(0, len(indices), PREDICT_CHUNK):
        x = render_images(dataset.subset(indices[lo:lo + PREDICT_CHUNK]))
        for layer in model.layers:
            if layer is norm:
                break
            x = layer(x, training=False)
        features.append(np.asarray(x, dtype=np.float64))
    features = np.concatenate(features)
    norm.moving_mean.assign(features.mean(axis=0).astype("float32"))
    norm.moving_variance.assign(features.var(axis=0).astype("float32"))


def _reseed_dropout(model, seed: int, epoch: int) -> None:
    """Start the dropout masks of ``epoch`` from ``(seed, epoch)``.

    A ``.keras`` checkpoint does not bring back the dropout layer's random state, so without this
    a resumed run would draw other masks than an uninterrupted one.
    """
    for layer in model.layers:
        generator = getattr(layer, "seed_generator", None)
        if generator is not None:
            generator.state.assign(np.array([seed, epoch], dtype=generator.state.dtype))


def _epoch_line(record: dict, epochs: int) -> str:
    val = ""
    if "val_auc" in record:
        val = f"  val_auc {record['val_auc']:.3f}  val_accuracy {record['val_accuracy']:.3f}"
    return (f"epoch {record['epoch']}/{epochs}  loss {record['loss']:.4f}  "
            f"accuracy {record['accuracy']:.3f}{val}  lr {record['learning_rate']:.2e}  "
            f"{record['seconds']:.0f} s ({record['ms_per_sample']:.0f} ms/sample)")


def _batch_progress(steps_per_epoch: int):
    """A Keras callback showing a tqdm bar over each epoch's batches (silent off a terminal)."""
    import keras
    from tqdm import tqdm

    class BatchProgress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.bar = None

        def on_epoch_begin(self, epoch, logs=None):
            self.close()
            self.bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}", unit="batch",
                            leave=False, disable=None)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)

        def close(self):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return BatchProgress()


def _save_checkpoint(folder: Path, model, settings: dict, epochs_done: int, history: list) -> None:
    """Model + optimiser state, then the state file that names the finished epoch."""
    save_keras_atomic(model, folder / CHECKPOINT_MODEL)
    write_json_atomic(folder / CHECKPOINT_STATE,
                      {"settings": settings, "epochs_done": epochs_done, "history": history})


def _load_checkpoint(folder: Path, settings: dict):
    import keras

    state = json.loads((folder / CHECKPOINT_STATE).read_text())
    saved = {"head": "dense", **state.get("settings", {})}   # checkpoints from before heads
    differ = sorted(k for k in settings if saved.get(k) != settings[k])
    if differ:
        raise InputError(f"the checkpoint in {folder} was made with different {', '.join(differ)}; "
                         "resume with the same data and settings, or drop --resume to start over")
    model = keras.saving.load_model(
        folder / CHECKPOINT_MODEL, safe_mode=True,
        custom_objects={"TabulatedLearningRate": _tabulated_schedule_class()})
    return model, int(state["epochs_done"]), list(state["history"])


# ----------------------------------------------------------------------------- the whole run

def train_cnn(dataset: PackedDataset, dataset_path, out, train_idx, test_idx=(), *,
              dropout: float = CNN_DROPOUT, batch_size: int = CNN_BATCH_SIZE,
              epochs: int = CNN_EPOCHS, seed: int = 0, peak_lr: float = PEAK_LR,
              translate: bool = True, precision: str = "float32", head: str = "dense",
              resume: bool = False, stop_after: int | None = None, log=print) -> list[dict]:
    """Train on ``dataset[train_idx]``, score ``dataset[test_idx]``, write the model folder ``out``.

    The learning rate starts and ends at ``peak_lr / 10``. Checkpoints go to ``out/checkpoint/``
    and are deleted when the folder is written. Returns the per-epoch history; the folder is
    written only when all ``epochs`` are done (``stop_after`` leaves earlier, ``resume``
    continues).
    """
    out = Path(out)
    test_idx = np.asarray(test_idx, dtype=np.int64)
    model, history = fit_cnn(
        dataset, train_idx, None, dropout=dropout, batch_size=batch_size, epochs=epochs,
        seed=seed, initial_lr=peak_lr / 10, peak_lr=peak_lr, final_lr=peak_lr / 10,
        translate=translate, precision=precision, head=head, checkpoint_dir=out / CHECKPOINT_DIR,
        resume=resume, stop_after=stop_after, log=log)
    if len(history) < epochs:
        return history
    metrics = {}
    if len(test_idx):
        test = dataset.subset(test_idx)
        metrics["test"] = classification_scores(
            test.label, glass_probability_of_logits(predict_logits(model, test)))
    write_cnn_folder(out, model, history, dataset, dataset_path, train_idx, test_idx,
                     dropout=dropout, batch_size=batch_size, epochs=epochs, seed=seed,
                     peak_lr=peak_lr, translate=translate, precision=precision, metrics=metrics)
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    return history


def write_cnn_folder(out, model, history, dataset, dataset_path, train_idx, test_idx, *,
                     dropout, batch_size, epochs, seed, peak_lr: float = PEAK_LR,
                     translate: bool = True, precision: str = "float32",
                     metrics: dict | None = None) -> Path:
    """The model folder: ``model.keras`` first, then ``config.json`` (via the shared store).

    The CNN's weights live in ``model.keras``, which loads with ``safe_mode=True`` (see
    :func:`ovito_glassml.models.cnn.load_cnn`); the store writes no ``weights.safetensors``.
    """
    out = Path(out)
    save_cnn_weights(model, out)
    runs = dataset.run_ids()
    last = history[-1] if history else {}
    metrics = dict(metrics or {})
    metrics.update({f"train_{k}": last[k] for k in ("loss", "accuracy") if k in last})
    return save_model(
        out, KIND,
        {"dropout": float(dropout), "batch_size": int(batch_size), "epochs": int(epochs),
         "peak_lr": float(peak_lr), "image_size": IMAGE_SIZE,
         "augmentation": AUGMENTATION[bool(translate)], "precision": str(precision),
         "head": head_of(model)},
        data={"dataset": str(dataset_path), "dataset_meta": dataset.meta, "seed": int(seed),
              "train_indices": np.asarray(train_idx).tolist(),
              "test_indices": np.asarray(test_idx).tolist(),
              "train_runs": np.unique(runs[np.asarray(train_idx, dtype=np.int64)]).tolist()},
        metrics=metrics,
        extra={"weights_file": WEIGHTS_FILE, "history": history})
