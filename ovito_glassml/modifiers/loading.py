"""Model folders for the modifiers (:func:`~ovito_glassml.models.shipped.model_folder`: a shipped
model's name or a folder), and a cache so a model loads once.

OVITO calls ``modify`` for every frame and on every parameter change; loading a model (and
importing torch or TensorFlow) each time would cost seconds, so loaded classifiers are kept in a
module-level cache keyed by the folder's resolved path and its files' modification times (a
retrained model in the same folder is reloaded).
"""

from __future__ import annotations

from ..models.shipped import model_folder, named_model, shipped_model_folder

#: The default shipped model (the 2D Kob-Andersen D-MPNN), used when neither a name nor a
#: frame says which.
DEFAULT_MODEL = shipped_model_folder()

_CACHE: dict = {}


def modifier_model(model_path: str, shipped_model: str, data=None) -> str:
    """What a modifier's two model parameters name: the folder if one is set, else the shipped
    model chosen by name, or for ``auto`` the shipped model of ``data``'s dimension."""
    if model_path:
        return model_path
    from ..ovito_data import frame_dimension

    return named_model(shipped_model, frame_dimension(data) if data is not None else None)


def cached_classifier(path: str | None):
    """The classifier of the model ``path`` names (a folder or a shipped model's name), loaded
    once per folder version."""
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
