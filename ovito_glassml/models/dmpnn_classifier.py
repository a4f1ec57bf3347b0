"""A trained D-MPNN with its graph recipe: configurations in, probabilities and attention out.

Implements :class:`~ovito_glassml.models.classifier.Classifier`; :func:`save_dmpnn` writes the
model folder it loads from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from torch_geometric.data import Batch

from ..errors import InputError
from ..graph_spec import GraphSpec
from ..graphs import FrameGraphs
from .classifier import (FrameAttention, FrameCalibration, FrameClassification, check_mode,
                         shift_logit)
from .dmpnn import DMPNN, DMPNNHyperparameters
from .store import CONFIG_NAME, load_weights, read_graph_spec, save_model

KIND = "dmpnn"


@dataclass(frozen=True)
class FramePass:
    """What one pass over a frame gives: see :meth:`DMPNNClassifier.frame_pass`.

    Attributes
    ----------
    probability : glass probability of the whole periodic frame (calibrated, see
        :class:`~ovito_glassml.models.classifier.FrameCalibration`).
    tiles : (W,) glass probability of each window tiling the frame.
    tiles_probability : the frame's probability from the mean over its tiles (calibrated).
    windows : W arrays of the particle indices in each window.
    attention : (T - 1, E) attention of every directed edge of the whole frame's graph.
    whole_graph : that graph.
    """

    probability: float
    tiles: np.ndarray
    tiles_probability: float
    windows: list
    attention: np.ndarray
    whole_graph: object


class DMPNNClassifier:
    """A trained D-MPNN with its graph recipe, ready for configurations.

    Attributes
    ----------
    kind : "dmpnn".
    config : the folder's config dict.
    module : the torch :class:`~ovito_glassml.models.dmpnn.DMPNN`, in evaluation mode.
    graph_spec : :class:`~ovito_glassml.graph_spec.GraphSpec` (k, features, length scale,
        ``l_win``) the model was trained with.
    hyperparameters : the architecture.
    calibration : the whole-frame logit offsets
        (:class:`~ovito_glassml.models.classifier.FrameCalibration`; zero when not fitted).
    """

    kind = KIND
    reads_windows = True

    def __init__(self, module: DMPNN, graph_spec: GraphSpec, config: dict):
        self.module = module.eval()
        self.graph_spec = graph_spec
        self.hyperparameters = module.hparams
        self.config = config
        self.calibration = FrameCalibration.from_config(config)
        # the whole-frame pass of the last classified frame: the attention modifier that follows
        # the classifier in a pipeline reads its weights instead of passing the frame again
        self._last_frame: tuple | None = None

    @classmethod
    def load(cls, folder: Path, config: dict) -> "DMPNNClassifier":
        """The D-MPNN of a model folder (``config`` is its checked ``config.json``)."""
        spec = read_graph_spec(config)
        try:
            hp = DMPNNHyperparameters.from_dict(dict(config.get("hyperparameters", {}),
                                                     node_dim=spec.node_dim,
                                                     edge_dim=spec.edge_dim))
        except (TypeError, ValueError) as err:
            raise InputError(f"{folder / CONFIG_NAME} has unusable hyperparameters ({err})") from err
        module = DMPNN(hp)
        try:
            module.load_state_dict(load_weights(folder, framework="torch"), strict=True)
        except RuntimeError as err:
            raise InputError(f"the weights in {folder} do not fit the architecture its "
                             f"{CONFIG_NAME} describes ({str(err).splitlines()[0]})") from err
        return cls(module, spec, config)

    @property
    def system(self):
        """The :class:`~ovito_glassml.system.System` the model reads (dimension, types, unit)."""
        return self.graph_spec.system

    def check(self, config, where: str = "the frame") -> None:
        """Refuse a frame of another dimension or with a type the model was not trained on."""
        self.system.check(config, where)

    @property
    def window_length(self) -> float:
        """The ``l_win`` the model was trained with."""
        return self.graph_spec.window_length

    @property
    def min_particles(self) -> int:
        return self.graph_spec.num_neighbors + 1

    @property
    def has_attention(self) -> bool:
        return bool(self.hyperparameters.attention)

    def uncalibrated(self) -> "DMPNNClassifier":
        """The same network with zero whole-frame offsets (what the offsets are fitted on)."""
        return DMPNNClassifier(self.module, self.graph_spec,
                               {k: v for k, v in self.config.items() if k != "calibration"})

    def to(self, device) -> "DMPNNClassifier":
        """Move the network to a torch device ("cpu", "cuda")."""
        self.module.to(device)
        return self

    @property
    def device(self):
        return next(self.module.parameters()).device

    def graph(self, config, origin=None):
        """The graph the model reads: the whole periodic frame, or the window at ``origin``."""
        frames = FrameGraphs(config, self.graph_spec)
        return frames.whole() if origin is None else frames.window_at(origin)

    def graphs(self, config, mode: str = "frame", rng=None) -> list:
        """Graphs of one configuration: "frame" (one), "window" (one random) or "tiles" (all)."""
        check_mode(mode)
        frames = FrameGraphs(config, self.graph_spec)
        if mode == "frame":
            return [frames.whole()]
        if mode == "window":
            return [frames.random_window(rng)]
        return frames.tiles()

    def predict_graphs(self, graphs: list, batch_size: int = 32) -> np.ndarray:
        """Glass probability of each graph, in batches of ``batch_size`` graphs."""
        out = []
        with torch.inference_mode():
            for lo in range(0, len(graphs), batch_size):
                batch = Batch.from_data_list(graphs[lo:lo + batch_size]).to(self.device)
                out.append(torch.softmax(self.module(batch), dim=1)[:, 1].cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def glass_probability(self, configs: list, mode: str = "frame", rng=None,
                          batch_size: int = 32) -> np.ndarray:
        """Glass probability per configuration.

        Parameters
        ----------
        configs : list of :class:`~ovito_glassml.configuration.Configuration`.
        mode : "frame" (default: the whole periodic frame as one graph), "window" (one random
            window of the training ``l_win``, as in training) or "tiles" (the mean probability over
            windows tiling the frame, see :func:`~ovito_glassml.graphs.window_origins`, read as
            :meth:`classify_frame` reads them). "frame" and "tiles" carry the model's
            :attr:`calibration`.
        rng : seed or generator for "window".
        """
        check_mode(mode)
        if mode == "tiles":
            return np.array([self.frame_pass(c).tiles_probability for c in configs])
        rng = np.random.default_rng(rng)
        graphs = [self.graphs(c, mode, rng)[0] for c in configs]
        probs = self.predict_graphs(graphs, batch_size)
        return shift_logit(probs, self.calibration.frame) if mode == "frame" else probs

    def frame_pass(self, config) -> FramePass:
        """The tiles, the whole frame and the attention of ``config`` from one forward pass.

        With neighbours from the frame (the recipe's ``neighbors == "frame"``) every node state
        is computed once on the whole periodic frame and each tile's probability is read out from
        the states of the particles inside it: a tile sees its particles' true neighbourhoods,
        exactly as the whole frame does. With the paper's in-window neighbours the tiles are
        separate graphs, batched with the whole frame into one pass.
        """
        frames = FrameGraphs(config, self.graph_spec)
        whole = frames.whole()
        with torch.inference_mode():
            if self.graph_spec.neighbors == "frame":
                members = frames.tile_members()
                groups = torch.from_numpy(members)
                tile_logits, frame_logits, attention = self.module.pooled_logits(
                    Batch.from_data_list([whole]).to(self.device), groups.to(self.device))
                tiles = torch.softmax(tile_logits, 1)[:, 1].cpu().numpy()
                probability = float(torch.softmax(frame_logits, 1)[0, 1])
                windows = [np.flatnonzero(row) for row in members]
                attention = attention.cpu().numpy()
            else:
                graphs = frames.tiles()
                batch = Batch.from_data_list(graphs + [whole]).to(self.device)
                logits, attention = self.module(batch, return_attention=True)
                p = torch.softmax(logits, dim=1)[:, 1].cpu().numpy()
                tiles, probability = p[:-1], float(p[-1])
                last = (batch.batch[batch.edge_index[0]] == len(graphs)).cpu().numpy()
                attention = attention.cpu().numpy()[:, last]
                windows = [g.particle_index.numpy() for g in graphs]
        result = FramePass(shift_logit(probability, self.calibration.frame), tiles,
                           shift_logit(float(tiles.mean()), self.calibration.tiles), windows,
                           attention, whole)
        self._last_frame = (_frame_key(config), result)
        return result

    def classify_frame(self, config, *, whole_frame: bool = True, batch_size: int = 32):
        """Generator for OVITO's progress: the windows tiling ``config`` and the whole frame.

        One neighbour search and one forward pass serve the tiles, the whole frame and the
        attention (:meth:`frame_pass`; :meth:`frame_attention` reuses it). Yields progress
        messages and fractions; returns a :class:`FrameClassification`.
        """
        yield "Glass classifier: message passing over the periodic frame and its windows"
        result = self.frame_pass(config)
        yield 1.0
        return FrameClassification(result.tiles_probability, result.tiles, result.windows,
                                   result.probability if whole_frame else None)

    def attention(self, graph) -> tuple[float, np.ndarray]:
        """Glass probability and attention weights ``(T - 1, num_edges)`` of one graph."""
        batch = Batch.from_data_list([graph]).to(self.device)
        with torch.inference_mode():
            logits, attention = self.module(batch, return_attention=True)
        return float(torch.softmax(logits, 1)[0, 1]), attention.cpu().numpy()

    def frame_attention(self, config) -> FrameAttention:
        """The attention over the whole periodic frame read as one graph."""
        if not self.has_attention:
            raise InputError("this D-MPNN was trained without edge self-attention; choose a "
                             "model trained with attention")
        cached = self._last_frame
        if cached is not None and cached[0] == _frame_key(config):
            result = cached[1]
        else:
            result = self.frame_pass(config)
        graph = result.whole_graph
        edge_index = graph.particle_index.numpy()[graph.edge_index.numpy()]
        return FrameAttention(result.probability, edge_index, result.attention)


def _frame_key(config) -> tuple:
    """Identifies a configuration's content (positions, types, box) for the one-frame cache."""
    return (config.n_particles, hash(config.positions.tobytes()), hash(config.types.tobytes()),
            tuple(config.box))


def save_dmpnn(folder, model: DMPNN, graph_spec: GraphSpec, *, training: Mapping | None = None,
               data: Mapping | None = None, metrics: Mapping | None = None) -> Path:
    """Save a trained :class:`~ovito_glassml.models.dmpnn.DMPNN` with its graph recipe.

    ``graph_spec.length_scale`` should be set (the trainer uses the training box side) so that
    the model means the same physical lengths on any box.
    """
    if graph_spec.node_dim != model.hparams.node_dim:
        raise InputError(f"the recipe's {graph_spec.features!r} features have {graph_spec.node_dim} "
                         f"values per node, the model reads {model.hparams.node_dim}")
    if graph_spec.edge_dim != model.hparams.edge_dim:
        raise InputError(f"the recipe's {graph_spec.edge_features!r} edges have "
                         f"{graph_spec.edge_dim} values, the model reads {model.hparams.edge_dim}")
    hp = dict(model.hparams.to_dict())
    hp.pop("node_dim")
    hp.pop("edge_dim")
    hp.update(dict(training or {}))
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return save_model(folder, KIND, hp, state, graph=graph_spec, data=data, metrics=metrics)
