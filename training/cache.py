"""Datasets loaded once per process (Ray workers call the objectives repeatedly)."""

from __future__ import annotations

from pathlib import Path

from ovito_glassml.datasets import PackedDataset, load_dataset

_DATASETS: dict[str, PackedDataset] = {}


def cached_dataset(path) -> PackedDataset:
    """``load_dataset(path)``, loaded once per process (Ray workers call objectives repeatedly)."""
    key = str(Path(path).resolve())
    if key not in _DATASETS:
        # loaded by the name it was given: a manifest's meta records its source as named, so
        # results written from it name no machine's absolute path
        _DATASETS[key] = load_dataset(path)
    return _DATASETS[key]
