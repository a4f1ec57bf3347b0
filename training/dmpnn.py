"""Train the D-MPNN on a packed dataset (paper §2.4.2): random windows, cross-entropy, Adam.

Every epoch each training configuration contributes ``windows_per_epoch`` fresh random windows
of side ``l_win`` (the paper's augmentation; the paper takes one), in a fresh random order. All randomness of epoch ``e`` (order,
windows, dropout) is drawn from generators seeded by ``(seed, e)``, so a run is repeatable and a
run resumed from its epoch checkpoint continues exactly as if it had not stopped.

Output folder: the model folder (:mod:`ovito_glassml.models.store`) plus ``checkpoint.pt``
(model, optimiser and scheduler state after the last finished epoch, and the loss history; read
back with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from torch_geometric.data import Batch
from tqdm.auto import tqdm

from ovito_glassml.allocator import heap_allocation
from ovito_glassml.datasets import PackedDataset
from ovito_glassml.errors import InputError
from ovito_glassml.fileio import atomic_path
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.graphs import FrameGraphs, window_graph
from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
from ovito_glassml.models.dmpnn_classifier import save_dmpnn
from ovito_glassml.system import mean_nearest_neighbor_distance

from .schedule import FINAL_LR, INITIAL_LR, PEAK_LR, torch_scheduler

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass(frozen=True)
class DMPNNTrainingConfig:
    """Everything that defines a training run (paper Table 2 ranges in the CLI help).

    ``graph`` is the model's input recipe; the trainer sets its system (dimension and types)
    from the training data, and its ``length_scale`` when None (see
    :func:`training_length_scale`). ``length_unit`` None takes the unit of distances from the
    training frames (:func:`~ovito_glassml.system.mean_nearest_neighbor_distance`).
    """

    graph: GraphSpec = GraphSpec()
    length_unit: float | None = None
    # architecture: the model's own defaults, so the two never drift apart
    hidden_size: int = DMPNNHyperparameters.hidden_size
    message_steps: int = DMPNNHyperparameters.message_steps
    dropout: float = DMPNNHyperparameters.dropout
    ffn_layers: int = DMPNNHyperparameters.ffn_layers
    attention: bool = DMPNNHyperparameters.attention
    attention_scaling: str = DMPNNHyperparameters.attention_scaling
    aggregation: str = DMPNNHyperparameters.aggregation
    input_bias: bool = DMPNNHyperparameters.input_bias
    readout_norm: bool = DMPNNHyperparameters.readout_norm
    batch_size: int = 10
    epochs: int = 10
    windows_per_epoch: int = 1
    seed: int = 0
    initial_lr: float = INITIAL_LR
    peak_lr: float = PEAK_LR
    final_lr: float = FINAL_LR

    @classmethod
    def from_params(cls, params: dict) -> "DMPNNTrainingConfig":
        """From one flat dict (a search's sample, a CLI): the recipe's keys (``num_neighbors``,
        ``features``, ``length_scale``, ``window_length``) go into ``graph``."""
        recipe = set(GraphSpec.field_names())
        known = recipe | {f.name for f in fields(cls)} - {"graph"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise InputError(f"the D-MPNN trainer has no hyperparameter(s) {unknown}")
        graph = GraphSpec(**{k: v for k, v in params.items() if k in recipe})
        switches = {f.name for f in fields(cls) if f.type == "bool"}
        return cls(graph=graph, **{k: bool(v) if k in switches else v
                                   for k, v in params.items() if k not in recipe})

    def hyperparameters(self, spec: GraphSpec | None = None) -> DMPNNHyperparameters:
        """The architecture for the recipe ``spec`` (default: :attr:`graph`), whose system sets
        the input widths."""
        spec = spec or self.graph
        names = {f.name for f in fields(DMPNNHyperparameters)}
        return DMPNNHyperparameters(node_dim=spec.node_dim, edge_dim=spec.edge_dim,
                                    **{f.name: getattr(self, f.name) for f in fields(self)
                                       if f.name in names})

    def training_record(self) -> dict:
        """The training-only settings stored with the model."""
        keep = ("batch_size", "epochs", "windows_per_epoch", "seed", "initial_lr", "peak_lr",
                "final_lr")
        return {k: getattr(self, k) for k in keep}


#: Particles in the default window (l_win = 0.2): the paper's window, 0.2 of its 60x60 box at
#: density 1.2; the default length scale gives a window this full in 2D and 3D.
REFERENCE_WINDOW_PARTICLES = 0.04 * 4320
REFERENCE_WINDOW_LENGTH = 0.2
#: The largest l_win of the paper's search range (Table 2).
LARGEST_SEARCHED_WINDOW = 0.3


def training_length_scale(dataset: PackedDataset, window_length: float) -> float:
    """The model's length scale for ``dataset``: 5 x the side of the square (2D) or cube (3D)
    that holds :data:`REFERENCE_WINDOW_PARTICLES` particles at the training frames' density.

    That is the paper's 60 sigma (its box) for the 2D mixture at density 1.2, and 26 sigma for 3D
    Kob-Andersen at 1.2, so ``l_win = 0.2`` covers about 173 particles in either. In a training
    box too small for the largest window of the search (``l_win`` 0.3, or ``window_length`` if
    larger) at that scale, the scale shrinks until that window just fits the smallest box (tiny
    test systems): the same for every ``l_win`` a search tries.
    """
    if len(dataset) == 0:
        raise InputError("the training dataset is empty")
    density = float(np.mean((np.diff(dataset.offsets)) / np.prod(dataset.box, axis=1)))
    scale = (REFERENCE_WINDOW_PARTICLES / density) ** (1.0 / dataset.dimension) \
        / REFERENCE_WINDOW_LENGTH
    largest = max(float(window_length), LARGEST_SEARCHED_WINDOW)
    smallest_side = float(np.min(dataset.box))
    return float(min(scale, smallest_side / largest))


def training_recipe(config: DMPNNTrainingConfig, train: PackedDataset) -> GraphSpec:
    """The recipe the model is trained with: the configured one with the training data's system
    (dimension, every type present and its number fraction, the length unit, the number density)
    and the length scale resolved."""
    unit = config.length_unit
    if unit is None:
        # a sample of frames is plenty for a mean over thousands of particles each
        picks = np.linspace(0, len(train) - 1, min(len(train), 32)).astype(int)
        unit = mean_nearest_neighbor_distance(train[int(i)] for i in picks)
    # the training density lets the model recognise frames written in other length units
    density = float(np.mean(np.diff(train.offsets) / np.prod(train.box, axis=1)))
    # and its composition, frames whose type ids are numbered otherwise
    _, counts = np.unique(train.types, return_counts=True)
    system = replace(train.system(length_unit=unit), number_density=density,
                     fractions=tuple(counts / counts.sum()))
    spec = config.graph.with_system(system)
    length_scale = spec.length_scale or training_length_scale(train, spec.window_length)
    return replace(spec, length_scale=length_scale)


class WindowSampler:
    """Random training windows of a dataset's configurations, each frame's neighbours found once.

    With the recipe's ``neighbors == "frame"``, a window is cut from its frame's periodic
    k-nearest-neighbour graph; the frame's search is kept (pairs and distances, about 0.2 MB for
    4320 particles) so later epochs only cut.
    """

    def __init__(self, dataset: PackedDataset, spec: GraphSpec):
        self.dataset = dataset
        self.spec = spec
        self._frames: dict[int, FrameGraphs] = {}

    def frame(self, i: int) -> FrameGraphs:
        i = int(i)
        if i not in self._frames:
            self._frames[i] = FrameGraphs(self.dataset[i], self.spec)
        return self._frames[i]

    def batch(self, indices, rng: np.random.Generator) -> Batch:
        """One random window per entry of ``indices`` (repeats allowed), labels as ``y``."""
        graphs = []
        for i in indices:
            graph = self.frame(i).random_window(rng)
            graph.y = torch.tensor([int(self.dataset.label[i])])
            graphs.append(graph)
        return Batch.from_data_list(graphs)


def resolve_device(device: str) -> torch.device:
    """A torch device from "cpu"/"cuda"/"cuda:N", checking that CUDA exists when asked for."""
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {device!r} requested but torch sees no CUDA GPU; use --device cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise InputError(f"unknown device {device!r}; use cpu or cuda") from err


def _check_labels(dataset: PackedDataset, what: str) -> None:
    if len(dataset) == 0:
        raise InputError(f"the {what} dataset is empty")
    if np.any((dataset.label != 0) & (dataset.label != 1)):
        raise InputError(f"the {what} dataset has unlabelled configurations; every configuration "
                         "needs label glass (1) or liquid (0)")
    if len(np.unique(dataset.label)) < 2:
        raise InputError(f"the {what} dataset holds only one class; it needs glass and liquid")


@heap_allocation()
def train_dmpnn(train: PackedDataset, out, config: DMPNNTrainingConfig = DMPNNTrainingConfig(),
                device: str = "cpu", resume: bool = False, progress: bool = True,
                data_provenance: dict | None = None, stop_after: int | None = None,
                calibrate: bool = True) -> tuple[DMPNN, list[dict]]:
    """Train a D-MPNN on ``train`` and save it (model folder + checkpoint) in ``out``.

    Parameters
    ----------
    train : labelled training configurations.
    out : output folder; the model folder is written when training ends.
    config : hyperparameters and training settings.
    device : "cpu" or "cuda".
    resume : continue from ``out/checkpoint.pt`` (must have been written with the same config).
    progress : show a tqdm bar per epoch with the running loss.
    data_provenance : recorded under ``data`` in the model's config.json.
    stop_after : leave after this many epochs of the schedule (a time-limited job), keeping the
        checkpoint; a later call with ``resume=True`` finishes the run. The model folder is
        written only when all ``config.epochs`` are done.
    calibrate : fit the whole-frame logit offsets on the training frames once trained (see
        :mod:`.calibration`); a search trial scored on windows only can leave them out.

    Returns
    -------
    The trained model (evaluation mode) and the per-epoch history ``[{"epoch", "loss"}, ...]``.
    """
    _check_labels(train, "training")
    out = Path(out)
    spec = training_recipe(config, train)
    # a window wider than the box should fail now, not after the first batch
    window_graph(train[0], spec, 0)
    dev = resolve_device(device)

    torch.manual_seed(config.seed)
    model = DMPNN(config.hyperparameters(spec)).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.peak_lr)
    if int(config.windows_per_epoch) < 1:
        raise InputError(f"windows_per_epoch must be >= 1, got {config.windows_per_epoch!r}")
    samples = np.repeat(np.arange(len(train)), int(config.windows_per_epoch))
    sampler = WindowSampler(train, spec)
    steps_per_epoch = -(-len(samples) // config.batch_size)
    scheduler = torch_scheduler(optimizer, steps_per_epoch, config.epochs, initial=config.initial_lr,
                                peak=config.peak_lr, final=config.final_lr)
    history: list[dict] = []
    start = 0
    checkpoint = out / CHECKPOINT_NAME
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=dev, weights_only=True)
        if state["config"] != _jsonable_config(config, spec):
            raise InputError(f"{checkpoint} was written with different settings; resume with the "
                             "same hyperparameters or use a new --out folder")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history = list(state["history"])
        start = int(state["epoch"]) + 1

    last = config.epochs if stop_after is None else min(config.epochs, int(stop_after))
    for epoch in range(start, last):
        rng = np.random.default_rng([config.seed, epoch])
        torch.manual_seed(config.seed * 100003 + epoch)
        order = rng.permutation(samples)
        model.train()
        total, seen = 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}",
                   disable=not progress, leave=False)
        for step in bar:
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            batch = sampler.batch(idx, rng).to(dev)
            loss = F.cross_entropy(model(batch), batch.y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{total / seen:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
        history.append({"epoch": epoch + 1, "loss": total / seen})
        _save_checkpoint(checkpoint, model, optimizer, scheduler, epoch, history,
                         _jsonable_config(config, spec))

    model.eval()
    if len(history) < config.epochs:
        return model, history
    if config.readout_norm:
        readout_statistics(model, sampler, samples, config, dev)
    save_dmpnn(out, model, spec, training=config.training_record(),
               data=data_provenance or {}, metrics={"train_loss": history[-1]["loss"] if history else None})
    if calibrate:
        from .calibration import calibrate_model

        calibrate_model(out, train, progress, {"fitted_on": "the training frames"})
    return model, history


def readout_statistics(model: DMPNN, sampler: WindowSampler, samples: np.ndarray,
                       config: DMPNNTrainingConfig, device) -> None:
    """Set the readout normalisation's statistics to those of the final network on the training
    windows (one pass, equal weight per window, no gradient).

    The running averages kept during training trail a network that is still changing; on
    minimised frames, whose graph vectors vary by ~1e-5 around a mean that drifts by more, that lag
    alone moved every prediction to one class (held-out AUC 1.0, accuracy 0.5 before this pass).
    """
    norm = model.readout_norm
    norm.reset_running_stats()
    momentum, norm.momentum = norm.momentum, None        # a cumulative average over the batches
    rng = np.random.default_rng([config.seed, config.epochs])
    size = max(int(config.batch_size), 64)
    model.train()
    with torch.no_grad():
        for start in range(0, len(samples), size):
            model(sampler.batch(samples[start:start + size], rng).to(device))
    norm.momentum = momentum
    model.eval()


def _jsonable_config(config: DMPNNTrainingConfig, spec: GraphSpec) -> dict:
    """The run's settings with the recipe as trained (its length scale resolved)."""
    return asdict(replace(config, graph=spec))


def _save_checkpoint(path: Path, model, optimizer, scheduler, epoch: int, history: list,
                     config: dict) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "history": history,
             "config": config}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
