"""Model folders for the modifiers: the shipped default, and a cache so a model loads once.

OVITO calls ``modify`` for every frame and on every parameter change; loading a model (and
importing torch or TensorFlow) each time would cost seconds, so loaded classifiers are kept in a
module-level cache keyed by the folder's resolved path and its files' modification times (a
retrained model in the same folder is reloaded).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

#: The model that ships inside the package; used when the modifier's model path is empty.
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "default"

_CACHE: dict = {}


def model_folder(path: str | None) -> Path:
    """The model folder a modifier parameter names: empty = the shipped model; a file = its folder."""
    if not path:
        if not (DEFAULT_MODEL / "config.json").exists():
            raise InputError(f"no model ships at {DEFAULT_MODEL}; set the model folder parameter "
                             "to a folder written by `glassml train`")
        return DEFAULT_MODEL
    folder = Path(path).expanduser()
    if folder.is_file():
        # the GUI's file dialog picks a file; the model is the folder holding it
        folder = folder.parent
    if not folder.exists():
        raise InputError(f"model folder {folder} does not exist; choose a folder written by "
                         "`glassml train` (it holds config.json and weights.safetensors)")
    return folder.resolve()


def cached_classifier(path: str | None):
    """The classifier of the model folder ``path`` names, loaded once per folder version."""
    from ..models.classifier import load_classifier

    folder = model_folder(path)
    stamp = tuple(p.stat().st_mtime_ns for p in sorted(folder.iterdir()) if p.is_file())
    key = (str(folder), stamp)
    if key not in _CACHE:
        # keep only the current version of each folder
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = load_classifier(folder)
    return _CACHE[key]
