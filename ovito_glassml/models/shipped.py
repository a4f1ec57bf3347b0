"""The models that ship inside the package, found by name, and the folder a model argument names.

A shipped model is package data (a model folder under ``ovito_glassml/models/``, with its
``MODEL_CARD.md``), found through :mod:`importlib.resources`, so it works from a wheel, an
editable install or OVITO Pro's Python alike. Every place that takes a model (``--model`` of
the commands, the modifiers' model parameter) takes a shipped model's name or a folder; no
model named (or :data:`AUTO`) means the shipped model of the frame's dimension: ``ka2d`` for a
2D frame, ``ka3d`` for a 3D one.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import InputError


@dataclass(frozen=True)
class ShippedModel:
    """A model folder inside the package."""

    name: str
    folder: str
    dimension: int
    description: str


#: Shipped models by name.
SHIPPED_MODELS: dict[str, ShippedModel] = {
    "ka2d": ShippedModel("ka2d", "default", 2,
                         "D-MPNN for the 2D Kob-Andersen 65:35 mixture (the paper's system)"),
    "ka3d": ShippedModel("ka3d", "ka3d", 3,
                         "D-MPNN for the 3D Kob-Andersen 80:20 mixture at density 1.2"),
}
#: The model when neither a name nor a frame says which: the paper's 2D model.
DEFAULT_MODEL_NAME = "ka2d"
#: The modifiers' choice "the shipped model of the frame's dimension" (also an empty --model).
AUTO = "auto"


def shipped_model_name(dimension: int | None) -> str:
    """The shipped model for frames of ``dimension`` (2 or 3); the default for None."""
    for name, model in SHIPPED_MODELS.items():
        if model.dimension == dimension:
            return name
    return DEFAULT_MODEL_NAME


def named_model(model: str | None, dimension: int | None) -> str:
    """What a model argument names: itself, or where it is empty or :data:`AUTO` (and no folder
    of that name exists) the shipped model for frames of ``dimension``."""
    if not model or (model == AUTO and not Path(model).exists()):
        return shipped_model_name(dimension)
    return str(model)


def shipped_model_folder(name: str = DEFAULT_MODEL_NAME) -> Path:
    """The folder of the shipped model ``name``."""
    if name not in SHIPPED_MODELS:
        raise InputError(f"no model named {name!r} ships with ovito-glassml; shipped models: "
                         f"{', '.join(SHIPPED_MODELS)} (or give a model folder)")
    folder = Path(str(resources.files("ovito_glassml.models") / SHIPPED_MODELS[name].folder))
    if not (folder / "config.json").exists():
        raise InputError(f"the shipped model {name!r} is missing from {folder}; reinstall "
                         "ovito-glassml or give a model folder written by `glassml train`")
    return folder


def model_folder(path: str | None, dimension: int | None = None) -> Path:
    """The model folder a ``--model`` argument or modifier parameter names: empty (or
    :data:`AUTO`) = the shipped model for frames of ``dimension`` (the default shipped model if
    that is None), a shipped model's name, a folder, or a file in a folder."""
    path = named_model(path, dimension)
    if path in SHIPPED_MODELS and not Path(path).exists():
        return shipped_model_folder(str(path))
    folder = Path(path).expanduser()
    if folder.is_file():
        # the GUI's file dialog picks a file; the model is the folder holding it
        folder = folder.parent
    if not folder.exists():
        raise InputError(f"model folder {folder} does not exist; give a folder written by "
                         "`glassml train` (it holds config.json and weights.safetensors) or a "
                         f"shipped model's name ({', '.join(SHIPPED_MODELS)})")
    return folder.resolve()
