"""The model folder: one format for the D-MPNN and the CNN, loadable with no training code.

This module only reads and writes model folders; :func:`ovito_glassml.models.load_classifier`
turns one into a classifier.

A model folder holds ``config.json`` and the weights:

``config.json`` (format version 4)
    ``kind`` ("dmpnn" or "cnn"), ``format_version``, ``package_version``;
    ``system``: the system the model reads, a :class:`~ovito_glassml.system.System`
    (``dimension``, ``type_ids``, ``type_names``, ``length_unit``); a frame of another dimension
    or with a type not in it is refused before the model reads it;
    ``graph`` (D-MPNN only): the input recipe, a :class:`~ovito_glassml.graph_spec.GraphSpec`
    (``num_neighbors``, ``features``, ``length_scale``, ``window_length``, ``edge_features``,
    ``neighbors``), read back by :func:`read_graph_spec`;
    ``hyperparameters``: the architecture and the training settings (``batch_size``,
    ``epochs``, ...);
    ``data`` (provenance: dataset path, its meta, indices of the training runs, seed) and
    ``metrics`` (e.g. validation AUC), plus any ``extra`` keys the trainer adds;
    ``weights_sha256``: file name -> SHA-256 of the weights file, checked on load (folders
    written before it have none and load unchecked).
``weights.safetensors`` (D-MPNN)
    The weights as named arrays (safetensors: no pickle, so loading runs no code from the file).
    Its header metadata is one key, ``glassml``, a JSON string of ``kind`` and
    ``format_version`` (one key because safetensors writes several in a random order, and the
    same weights must give the same bytes and ``weights_sha256``). Nothing reads it back;
    ``config.json`` is the record.
``model.keras`` (CNN)
    The Keras network, loaded with ``safe_mode=True`` (see :mod:`ovito_glassml.models.cnn`).
    Folders written before format version 2 also hold an empty ``weights.safetensors``.

Format version 1 kept ``num_neighbors`` and ``window_length`` under ``hyperparameters`` and
``features`` and ``length_scale`` at the top level; version 2 had no ``edge_features``,
``neighbors`` or ``input_bias`` (its models read the paper's distance edges, found neighbours
inside each window and had no input bias); versions 1-3 had no ``system``: every model was
trained on the paper's 2D Kob-Andersen mixture (types 1 = A, 2 = B, lengths in sigma_AA).
:func:`read_config` reads them all as version 4, so they give exactly the probabilities they
gave (see :func:`upgrade_config`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

import numpy as np

from .. import __version__
from ..errors import InputError
from ..fileio import atomic_path, write_json_atomic
from ..graph_spec import GraphSpec
from ..system import KOB_ANDERSEN_2D, System

FORMAT_VERSION = 4
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"
KINDS = ("dmpnn", "cnn")


def save_model(folder, kind: str, hyperparameters: Mapping, weights: Mapping | None = None, *,
               graph: GraphSpec | None = None, data: Mapping | None = None,
               metrics: Mapping | None = None, extra: Mapping | None = None,
               system: System | None = None) -> Path:
    """Write a model folder (weights first, then ``config.json``, each atomically).

    Parameters
    ----------
    folder : where to write; created if missing, existing model files are replaced.
    kind : "dmpnn" or "cnn".
    hyperparameters : JSON-serialisable hyperparameters.
    weights : name -> array (numpy arrays or torch tensors), e.g. a torch ``state_dict``, written
        as ``weights.safetensors``; None for a model that writes its own weights file (the CNN).
    graph : the input recipe of a graph model, stored as the ``graph`` section (and its system as
        the ``system`` section).
    system : the system of a model without a graph recipe (the CNN: 2D Kob-Andersen).
    data, metrics, extra : provenance, evaluation figures, and further top-level config keys.

    Returns the folder path.
    """
    if kind not in KINDS:
        raise InputError(f"model kind must be one of {KINDS}, got {kind!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if weights is not None:
        from safetensors.numpy import save_file

        arrays = {name: np.ascontiguousarray(_as_numpy(value)) for name, value in weights.items()}
        with atomic_path(folder / WEIGHTS_NAME) as tmp:
            stamp = json.dumps({"format_version": FORMAT_VERSION, "kind": kind}, sort_keys=True)
            save_file(arrays, str(tmp), metadata={"glassml": stamp})
    config = {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
    }
    if graph is not None:
        system = graph.system
        config["graph"] = graph.to_dict()
    config["system"] = (system or KOB_ANDERSEN_2D).to_dict()
    config.update({
        "hyperparameters": _jsonable(dict(hyperparameters)),
        "data": _jsonable(dict(data or {})),
        "metrics": _jsonable(dict(metrics or {})),
    })
    config.update(_jsonable(dict(extra or {})))
    weights_file = folder / config.get("weights_file", WEIGHTS_NAME)
    if weights_file.exists():
        config["weights_sha256"] = {weights_file.name: file_sha256(weights_file)}
    write_json_atomic(folder / CONFIG_NAME, config)
    return folder


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_weights_checksum(folder, config: dict) -> None:
    """Refuse a model folder whose weights file does not match the SHA-256 in its config.

    Folders written before checksums were stored have none and pass.
    """
    for name, expected in (config.get("weights_sha256") or {}).items():
        path = Path(folder) / name
        if not path.exists():
            raise InputError(f"{Path(folder)} has no {name}; the model folder is incomplete")
        if file_sha256(path) != expected:
            raise InputError(f"{path} does not match the checksum in its {CONFIG_NAME}: the "
                             "weights were changed or damaged; restore or retrain the model")


def update_metrics(folder, metrics: Mapping) -> dict:
    """Add ``metrics`` (e.g. held-out scores) to a model folder's ``config.json``; returns it."""
    return update_section(folder, "metrics", metrics)


def update_section(folder, section: str, values: Mapping, replace: bool = False) -> dict:
    """Merge ``values`` into (or, with ``replace``, set) one section of a model folder's
    ``config.json``, e.g. ``metrics`` or ``calibration``; returns the config."""
    config = read_config(folder)
    values = _jsonable(dict(values))
    if replace:
        config[section] = values
    else:
        config.setdefault(section, {}).update(values)
    write_json_atomic(Path(folder) / CONFIG_NAME, config)
    return config


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
    return upgrade_config(config)


#: The graph recipe of format versions 1 and 2 where their files leave an entry out (their
#: readers' defaults then), and the recipe entries version 3 added, as they were before it.
_V1_GRAPH_DEFAULTS = {"num_neighbors": 2, "features": "paper", "window_length": 0.2}
_V2_GRAPH = {"edge_features": "distance", "neighbors": "window"}
_V2_HYPERPARAMETERS = {"input_bias": False}


def upgrade_config(config: dict) -> dict:
    """An older config as the current format version (a new dict); current ones as they are.

    Version 1 kept the graph recipe in three places: ``num_neighbors`` and ``window_length`` in
    ``hyperparameters``, ``features`` and ``length_scale`` at the top. Version 2 gathered them in
    the ``graph`` section. Version 3 added the edge features (``rbf``), where neighbours are
    found (``frame``) and a bias on the D-MPNN's input layer; a version-2 model is exactly what it
    was with the paper's ``distance`` edges, neighbours ``window`` and no bias. Version 4 added the
    ``system``; every earlier model reads the 2D Kob-Andersen system in sigma units.
    """
    version = config["format_version"]
    if version >= FORMAT_VERSION:
        return config
    if version < 2:
        config = _upgrade_v1(config)
    upgraded = dict(config, format_version=FORMAT_VERSION)
    if version < 3 and upgraded["kind"] == "dmpnn":
        upgraded["graph"] = dict(_V2_GRAPH, **upgraded.get("graph", {}))
        upgraded["hyperparameters"] = dict(_V2_HYPERPARAMETERS,
                                           **upgraded.get("hyperparameters", {}))
    upgraded["system"] = KOB_ANDERSEN_2D.to_dict()
    return upgraded


def _upgrade_v1(config: dict) -> dict:
    rest = dict(config)
    hyperparameters = dict(rest.pop("hyperparameters", None) or {})
    features = rest.pop("features", None)
    length_scale = rest.pop("length_scale", None)
    upgraded = {"kind": rest.pop("kind"), "format_version": 2}
    rest.pop("format_version")
    if "package_version" in rest:
        upgraded["package_version"] = rest.pop("package_version")
    if upgraded["kind"] == "dmpnn":
        graph = {name: hyperparameters.pop(name) for name in ("num_neighbors", "features",
                                                              "length_scale", "window_length")
                 if name in hyperparameters}
        if features is not None:
            graph["features"] = features
        if length_scale is not None:
            graph["length_scale"] = length_scale
        upgraded["graph"] = dict(_V1_GRAPH_DEFAULTS, **graph)
    upgraded["hyperparameters"] = hyperparameters
    upgraded.update(rest)
    return upgraded


def read_system(config: dict) -> System:
    """The system a model reads, from its (checked, upgraded) ``config.json``."""
    try:
        return System.from_dict(config.get("system", KOB_ANDERSEN_2D.to_dict()))
    except TypeError as err:
        raise InputError(f"the model's system section is unusable ({err})") from err


def read_graph_spec(config: dict) -> GraphSpec:
    """The input recipe of a graph model (with its system) from its (checked) ``config.json``."""
    if "graph" not in config:
        raise InputError(f"the {config.get('kind')!r} model has no graph recipe; it does not read "
                         "graphs")
    try:
        return GraphSpec.from_dict(config["graph"], system=read_system(config))
    except TypeError as err:
        raise InputError(f"the model's graph recipe is unusable ({err})") from err


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
        arrays = load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for damaged headers
        raise InputError(f"{path} is not a readable safetensors file ({err})") from err
    bad = [name for name, value in arrays.items() if not _all_finite(value)]
    if bad:
        raise InputError(f"{path} holds NaN or infinite weights ({', '.join(sorted(bad)[:3])}); "
                         "the model is damaged or its training diverged: retrain or restore it")
    return arrays


def _all_finite(value) -> bool:
    if hasattr(value, "isfinite"):
        import torch

        return bool(torch.isfinite(value).all()) if value.is_floating_point() else True
    value = np.asarray(value)
    return not np.issubdtype(value.dtype, np.floating) or bool(np.isfinite(value).all())


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
