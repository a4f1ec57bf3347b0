"""The models that ship inside the package, found by name, and the folder a model argument names.

A shipped model is package data (a model folder under ``ovito_glassml/models/``, with its
``MODEL_CARD.md``), found through :mod:`importlib.resources`, so it works from a wheel, an
editable install or OVITO Pro's Python alike. Every place that takes a model (``--model`` of
the commands, the modifiers' model parameter) takes a shipped model's name or a folder.
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
    description: str


#: Shipped models by name; the first is the default of every command and modifier.
SHIPPED_MODELS: dict[str, ShippedModel] = {
    "ka2d": ShippedModel("ka2d", "default",
                         "D-MPNN for the 2D Kob-Andersen 65:35 mixture (the paper's system)"),
}
DEFAULT_MODEL_NAME = "ka2d"


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


def model_folder(path: str | None) -> Path:
    """The model folder a ``--model`` argument or modifier parameter names: empty = the default
    shipped model, a shipped model's name, a folder, or a file in a folder."""
    if not path:
        return shipped_model_folder(DEFAULT_MODEL_NAME)
    if str(path) in SHIPPED_MODELS and not Path(path).exists():
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
