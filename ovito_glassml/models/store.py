"""The model folder: one format for the D-MPNN and the CNN, loadable with no training code.

A model folder holds two files:

``config.json``
    ``kind`` ("dmpnn" or "cnn"), ``format_version``, ``package_version``, ``hyperparameters``
    (everything tuned or chosen for training: architecture, ``num_neighbors``, ``window_length``,
    ``batch_size``, ``epochs``, ...), ``features`` (the node-feature mode), ``length_scale`` (D-MPNN:
    the length that is 1 in edge features and window lengths, see :mod:`ovito_glassml.graphs`),
    ``data`` (provenance: dataset path, its meta, indices of the training runs, seed) and
    ``metrics`` (e.g. validation AUC), plus any ``extra`` keys the trainer adds.
``weights.safetensors``
    The weights as named arrays (safetensors: no pickle, so loading runs no code from the file).

:func:`load_classifier` reads a folder and returns an object with ``.kind``, ``.config`` and
``.glass_probability(configs)``. It imports torch (D-MPNN) or TensorFlow (CNN, via
``ovito_glassml.models.cnn.load_cnn(folder, config)``) only when called, so importing this module
is cheap for OVITO.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np

from .. import __version__
from ..errors import InputError
from ..fileio import atomic_path, write_json_atomic

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"
KINDS = ("dmpnn", "cnn")


def save_model(folder, kind: str, hyperparameters: Mapping, weights: Mapping, *,
               features: str | None = None, data: Mapping | None = None,
               metrics: Mapping | None = None, extra: Mapping | None = None) -> Path:
    """Write a model folder (weights first, then ``config.json``, each atomically).

    Parameters
    ----------
    folder : where to write; created if missing, existing model files are replaced.
    kind : "dmpnn" or "cnn".
    hyperparameters : JSON-serialisable hyperparameters.
    weights : name -> array (numpy arrays or torch tensors), e.g. a torch ``state_dict``.
    features : node-feature / input mode recorded for the loader.
    data, metrics, extra : provenance, evaluation figures, and further top-level config keys.

    Returns the folder path.
    """
    if kind not in KINDS:
        raise InputError(f"model kind must be one of {KINDS}, got {kind!r}")
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.ascontiguousarray(_as_numpy(value)) for name, value in weights.items()}
    with atomic_path(folder / WEIGHTS_NAME) as tmp:
        save_file(arrays, str(tmp), metadata={"kind": kind, "format_version": str(FORMAT_VERSION)})
    config = {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "hyperparameters": _jsonable(dict(hyperparameters)),
        "features": features,
        "data": _jsonable(dict(data or {})),
        "metrics": _jsonable(dict(metrics or {})),
    }
    config.update(_jsonable(dict(extra or {})))
    write_json_atomic(folder / CONFIG_NAME, config)
    return folder


def read_config(folder) -> dict:
    """The checked ``config.json`` of a model folder.

    Raises :class:`InputError` for a missing folder or config, unreadable JSON, an unknown kind, or
    a format version this package does not know (written by a newer ovito-glassml).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"model folder {folder} does not exist (a model is a folder with "
                         f"{CONFIG_NAME} and {WEIGHTS_NAME}); train one with `glassml train`")
    path = folder / CONFIG_NAME
    if not path.exists():
        raise InputError(f"{folder} has no {CONFIG_NAME}, so it is not a model folder; point to the "
                         "folder `glassml train --out` wrote")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid JSON ({err}); the model folder is damaged") from err
    if not isinstance(config, dict):
        raise InputError(f"{path} does not hold a JSON object; the model folder is damaged")
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{path} has no valid format_version ({version!r}); it was not written by "
                         "ovito-glassml")
    if version > FORMAT_VERSION:
        raise InputError(f"{path} has model format version {version}, newer than the {FORMAT_VERSION} "
                         "this ovito-glassml reads; upgrade ovito-glassml")
    if config.get("kind") not in KINDS:
        raise InputError(f"{path} names model kind {config.get('kind')!r}; known kinds are {KINDS}")
    return config


def load_weights(folder, framework: str = "numpy") -> dict:
    """The named arrays of ``weights.safetensors`` as numpy arrays or torch tensors."""
    path = Path(folder) / WEIGHTS_NAME
    if not path.exists():
        raise InputError(f"{Path(folder)} has no {WEIGHTS_NAME}; the model folder is incomplete")
    try:
        if framework == "torch":
            from safetensors.torch import load_file
        else:
            from safetensors.numpy import load_file
        return load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for damaged headers
        raise InputError(f"{path} is not a readable safetensors file ({err})") from err


def load_classifier(folder):
    """Load a model folder as a classifier (D-MPNN or CNN); runs no code from the folder.

    Returns
    -------
    An object with ``.kind``, ``.config`` and ``.glass_probability(configs) -> np.ndarray``;
    for the D-MPNN a :class:`DMPNNClassifier` (torch module at ``.module``, attention via
    :meth:`DMPNNClassifier.attention`).
    """
    config = read_config(folder)
    if config["kind"] == "cnn":
        try:
            from .cnn import load_cnn
        except ImportError as err:
            raise InputError(f"{folder} holds a CNN, but the CNN model code could not be imported "
                             f"({err}); install ovito-glassml with TensorFlow") from err
        return load_cnn(Path(folder), config)
    return DMPNNClassifier(Path(folder), config)


class DMPNNClassifier:
    """A trained D-MPNN with its graph definition, ready for configurations.

    Attributes
    ----------
    kind : "dmpnn".
    config : the folder's config dict.
    module : the torch :class:`~ovito_glassml.models.dmpnn.DMPNN`, in evaluation mode.
    graph_spec : :class:`~ovito_glassml.graphs.GraphSpec` (k, features, length scale).
    window_length : the ``l_win`` the model was trained with.
    """

    kind = "dmpnn"

    def __init__(self, folder: Path, config: dict):
        from ..graphs import GraphSpec, node_feature_dim
        from .dmpnn import DMPNN, DMPNNHyperparameters

        self.folder = folder
        self.config = config
        hp = dict(config.get("hyperparameters", {}))
        features = config.get("features") or "paper"
        try:
            self.graph_spec = GraphSpec(int(hp.get("num_neighbors", 2)), features,
                                        config.get("length_scale"))
            self.window_length = float(hp.get("window_length", 0.2))
            self.hyperparameters = DMPNNHyperparameters.from_dict(
                dict(hp, node_dim=node_feature_dim(features)))
        except (TypeError, ValueError) as err:
            raise InputError(f"{folder / CONFIG_NAME} has unusable hyperparameters ({err})") from err
        self.module = DMPNN(self.hyperparameters)
        state = load_weights(folder, framework="torch")
        try:
            self.module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise InputError(f"the weights in {folder} do not fit the architecture its "
                             f"{CONFIG_NAME} describes ({str(err).splitlines()[0]})") from err
        self.module.eval()

    def to(self, device) -> "DMPNNClassifier":
        """Move the network to a torch device ("cpu", "cuda")."""
        self.module.to(device)
        return self

    @property
    def device(self):
        return next(self.module.parameters()).device

    def graph(self, config, origin=None):
        """The graph the model reads: the whole periodic frame, or the window at ``origin``."""
        from ..graphs import frame_graph, window_graph_at

        if origin is None:
            return frame_graph(config, self.graph_spec)
        return window_graph_at(config, origin, self.window_length, self.graph_spec)

    def graphs(self, config, mode: str = "frame", rng=None) -> list:
        """Graphs of one configuration: "frame" (one), "window" (one random) or "tiles" (all)."""
        from ..graphs import window_graph, window_origins

        if mode == "frame":
            return [self.graph(config)]
        if mode == "window":
            return [window_graph(config, self.window_length, self.graph_spec, rng)]
        if mode == "tiles":
            return [self.graph(config, o) for o in window_origins(config, self.window_length,
                                                                   self.graph_spec)]
        raise InputError(f"graph mode must be 'frame', 'window' or 'tiles', got {mode!r}")

    def predict_graphs(self, graphs: list, batch_size: int = 32) -> np.ndarray:
        """Glass probability of each graph, in batches of ``batch_size`` graphs."""
        import torch
        from torch_geometric.data import Batch

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
            windows tiling the frame, see :func:`~ovito_glassml.graphs.window_origins`).
        rng : seed or generator for "window".
        """
        rng = np.random.default_rng(rng)
        per_config = [self.graphs(c, mode, rng) for c in configs]
        counts = np.array([len(g) for g in per_config])
        probs = self.predict_graphs([g for gs in per_config for g in gs], batch_size)
        owner = np.repeat(np.arange(len(configs)), counts)
        return np.bincount(owner, weights=probs, minlength=len(configs)) / np.maximum(counts, 1)

    def attention(self, graph) -> tuple[float, np.ndarray]:
        """Glass probability and attention weights ``(T - 1, num_edges)`` of one graph."""
        import torch
        from torch_geometric.data import Batch

        batch = Batch.from_data_list([graph]).to(self.device)
        with torch.inference_mode():
            logits, attention = self.module(batch, return_attention=True)
        return float(torch.softmax(logits, 1)[0, 1]), attention.cpu().numpy()


def save_dmpnn(folder, model, graph_spec, window_length: float, *, training: Mapping | None = None,
               data: Mapping | None = None, metrics: Mapping | None = None) -> Path:
    """Save a trained :class:`~ovito_glassml.models.dmpnn.DMPNN` with its graph definition.

    ``graph_spec.length_scale`` should be set (the trainer uses the training box side) so that
    the model means the same physical lengths on any box.
    """
    hp = dict(model.hparams.to_dict())
    hp.pop("node_dim")
    hp.update(num_neighbors=graph_spec.num_neighbors, window_length=float(window_length))
    hp.update(dict(training or {}))
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return save_model(folder, "dmpnn", hp, state, features=graph_spec.features, data=data,
                      metrics=metrics, extra={"length_scale": graph_spec.length_scale})


def _as_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _jsonable(obj):
    """Numpy scalars/arrays and paths as plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj
