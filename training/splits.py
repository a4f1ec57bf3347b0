"""The nested cross-validation splits (paper §2.5), by run and stratified by class.

Built on :func:`ovito_glassml.datasets.split_by_seed`, the datasets' own split: one cooling run
is never on two sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ovito_glassml.datasets import GLASS, PackedDataset, split_by_seed
from ovito_glassml.errors import InputError


@dataclass(frozen=True)
class NestedFold:
    """Configuration indices of one outer fold and its inner split."""

    fold: int
    outer_test: np.ndarray
    inner_train: np.ndarray
    inner_validation: np.ndarray
    inner_test: np.ndarray

    @property
    def outer_train(self) -> np.ndarray:
        return np.sort(np.concatenate([self.inner_train, self.inner_validation, self.inner_test]))


def grouped_stratified_split(run_ids, labels, fractions, rng=0) -> list[np.ndarray]:
    """Split configuration indices into parts that share no run, each part holding both classes.

    Runs are grouped by content (glass only, liquid only, both classes) and every group is split
    with :func:`~ovito_glassml.datasets.split_by_seed` using ``fractions`` (of runs).
    """
    run_ids = np.asarray(run_ids)
    labels = np.asarray(labels)
    runs, inverse = np.unique(run_ids, return_inverse=True)
    glass_share = np.bincount(inverse, weights=labels == GLASS) / np.bincount(inverse)
    stratum = np.select([glass_share == 0, glass_share == 1], [0, 2], 1)[inverse]
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for s in np.unique(stratum):        # at most three groups
        members = np.flatnonzero(stratum == s)
        pieces = split_by_seed(run_ids[members], fractions, rng=[*np.atleast_1d(rng), int(s)])
        for part, piece in zip(parts, pieces):
            part.append(members[piece])
    return [np.sort(np.concatenate(p)) for p in parts]


def nested_folds(dataset: PackedDataset, folds: int = 3, test_fraction: float = 0.2,
                 inner_fractions=(0.8, 0.1, 0.1), seed: int = 0) -> list[NestedFold]:
    """The paper's nested splits: ``folds`` disjoint outer test sets, then 80/10/10 inside.

    Raises :class:`InputError` if the dataset has too few runs for every part to hold both
    glass and liquid configurations.
    """
    if folds < 1 or test_fraction <= 0 or folds * test_fraction > 1 + 1e-9:
        raise InputError(f"{folds} outer test sets of {test_fraction:.0%} do not fit in one dataset")
    rest = max(0.0, 1.0 - folds * test_fraction)
    fractions = [test_fraction] * folds + ([rest] if rest > 1e-9 else [])
    if np.any((dataset.label != 0) & (dataset.label != 1)):
        raise InputError("the dataset has unlabelled configurations; build it with `glassml dataset`")
    runs = dataset.run_ids()
    outer = grouped_stratified_split(runs, dataset.label, fractions, rng=seed)
    out = []
    everything = np.arange(len(dataset))
    for f in range(folds):
        train = np.setdiff1d(everything, outer[f])
        inner = grouped_stratified_split(runs[train], dataset.label[train], inner_fractions,
                                         rng=[seed, f])
        fold = NestedFold(f, outer[f], *(train[p] for p in inner))
        for name in ("outer_test", "inner_train", "inner_validation", "inner_test"):
            part = getattr(fold, name)
            if len(np.unique(dataset.label[part])) < 2:
                raise InputError(
                    f"fold {f}'s {name.replace('_', ' ')} set holds {len(part)} configuration(s) "
                    f"of one class only; the dataset's {len(np.unique(runs))} runs are too few for "
                    "nested cross-validation (simulate more seeds)")
        out.append(fold)
    return out
