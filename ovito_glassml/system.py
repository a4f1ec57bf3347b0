"""What a system is: its dimension, its particle types and its length unit.

A :class:`System` is the part of a model's input that a frame must match before the model reads
it: a model trained on 3D frames of LAMMPS types 1, 2 and 3 in Angstrom refuses a 2D frame or a
frame with type 4, and never guesses. Every configuration carries its own (its dimension and the
types present, see :meth:`~ovito_glassml.configuration.Configuration.system`); a model folder
stores the one it was trained on (the ``system`` section of ``config.json``).

Types are LAMMPS type ids (any positive integers, not necessarily ``1..n``) with optional names
(a dump's ``element`` column, OVITO's type names). A frame whose every type has a name that the
model knows is matched by name (an extended XYZ file numbers its species in order of appearance,
so ids alone could swap them); otherwise by id. A model that knows its training composition
(``fractions``) also matches unnamed types by abundance where the ids cannot be right: a
Kob-Andersen frame written with types 3 and 4, or with A and B swapped (type 1 at 20% where the
model's type 1 was 80%), is read as the same mixture, as long as the abundances tell the types
apart (:data:`COMPOSITION_TOLERANCE`); otherwise the frame is refused or, with known ids, read by
id.

The length unit is the length that is 1 in the model's features: sigma_AA for the Kob-Andersen
models, and for a model trained on a user's system the mean nearest-neighbour distance of its
training frames (:func:`mean_nearest_neighbor_distance`), so a model trained in Angstrom reads
Angstrom.

This module imports neither torch nor scipy at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

DIMENSIONS = (2, 3)


@dataclass(frozen=True)
class System:
    """A system's dimension, particle types and length unit.

    Parameters
    ----------
    dimension : 2 or 3.
    type_ids : the LAMMPS type ids, sorted ascending.
    type_names : one name per id ("" where the data has none).
    length_unit : the physical length that is 1 in a model's distance features (> 0).
    number_density : particles per unit volume (area in 2D) of the training frames, if known:
        how a model recognises a frame written in other length units (see :meth:`in_units_of`).
    fractions : the number fraction of each type (in ``type_ids`` order) over the training
        frames, if known: how a model recognises a frame whose type ids are numbered otherwise
        (see :meth:`type_index`).
    """

    dimension: int = 2
    type_ids: tuple[int, ...] = (1, 2)
    type_names: tuple[str, ...] = ("A", "B")
    length_unit: float = 1.0
    number_density: float | None = None
    fractions: tuple[float, ...] | None = None

    def __post_init__(self):
        if self.dimension not in DIMENSIONS:
            raise InputError(f"the dimension must be 2 or 3, got {self.dimension!r}")
        ids = tuple(int(t) for t in self.type_ids)
        names = tuple(str(n) for n in (self.type_names or ("",) * len(ids)))
        if not ids or len(set(ids)) != len(ids) or min(ids) < 0:
            raise InputError(f"type ids must be distinct non-negative integers, got {ids}")
        if len(names) != len(ids):
            raise InputError(f"{len(ids)} type ids but {len(names)} type names")
        order = np.argsort(ids, kind="stable")
        ids = tuple(ids[i] for i in order)
        names = tuple(names[i] for i in order)
        unit = float(self.length_unit)
        if not np.isfinite(unit) or unit <= 0:
            raise InputError(f"the length unit must be a positive length, got {self.length_unit!r}")
        object.__setattr__(self, "dimension", int(self.dimension))
        object.__setattr__(self, "type_ids", ids)
        object.__setattr__(self, "type_names", names)
        object.__setattr__(self, "length_unit", unit)
        if self.number_density is not None:
            rho = float(self.number_density)
            if not np.isfinite(rho) or rho <= 0:
                raise InputError(f"the number density must be positive, got {self.number_density!r}")
            object.__setattr__(self, "number_density", rho)
        if self.fractions is not None:
            fractions = tuple(float(f) for f in self.fractions)
            if len(fractions) != len(ids) or not all(0 <= f <= 1 for f in fractions) \
                    or abs(sum(fractions) - 1) > 1e-4:
                raise InputError(f"fractions must give one number fraction per type, summing "
                                 f"to 1; got {self.fractions!r} for types {ids}")
            object.__setattr__(self, "fractions", tuple(fractions[i] for i in order))

    @property
    def n_types(self) -> int:
        return len(self.type_ids)

    @property
    def n_pair_types(self) -> int:
        """Unordered pairs of types, ``n (n + 1) / 2``: the pair blocks of edge features."""
        return self.n_types * (self.n_types + 1) // 2

    def in_units_of(self, config):
        """``config`` in this system's length units: scaled to the training frames' number
        density when its own is more than `OTHER_UNITS` (per length) off it, as a frame written
        in Angstrom for a model trained in sigma is (3.4 per length), else ``config`` itself.

        The density, not a neighbour distance, sets the factor: it is the same in every frame of
        a constant-volume run, liquid or glass, so the conversion is exact and nothing a frame's
        structure says is scaled away. Frames within the tolerance (another density of the same
        system, a constant-pressure run) are never touched.
        """
        if self.number_density is None:
            return config
        density = config.n_particles / float(np.prod(config.box))
        factor = (density / self.number_density) ** (1.0 / config.dimension)
        if 1 / OTHER_UNITS <= factor <= OTHER_UNITS:
            return config
        from .configuration import Configuration

        return Configuration(config.positions * factor, config.types, config.box * factor,
                             type_names=config.type_names)

    def label(self) -> str:
        """One line naming the system, e.g. ``3D, types 1 (Cu), 2 (Zr)``."""
        types = ", ".join(f"{t} ({n})" if n else str(t) for t, n in zip(self.type_ids, self.type_names))
        return f"{self.dimension}D, types {types}"

    def type_index(self, types: np.ndarray, names: dict | None = None,
                   where: str = "the frame") -> np.ndarray:
        """Each particle's type as an index ``0..n_types-1`` into :attr:`type_ids`.

        Parameters
        ----------
        types : (N,) LAMMPS type ids of a frame.
        names : the frame's type names by id, if it has them; when every type present has a
            name this system knows, types are matched by name.
        where : the frame, for the error message.

        Raises :class:`InputError` naming both the frame's types and the system's for a type the
        system does not have.
        """
        types = np.asarray(types, dtype=np.int64)
        present, counts = np.unique(types, return_counts=True)
        index_of = {t: i for i, t in enumerate(self.type_ids)}
        by_name = {n: i for i, n in enumerate(self.type_names) if n}
        if names and all(names.get(int(t)) in by_name for t in present):
            lookup = {int(t): by_name[names[int(t)]] for t in present}
        else:
            unknown = [int(t) for t in present if int(t) not in index_of]
            by_abundance = self._by_abundance(present, counts)
            if unknown and by_abundance is None:
                frame_types = ", ".join(_type_label(int(t), names) for t in present)
                hint = ("" if self.fractions is None else
                        f" (nor tell its types apart by abundance: the model's are "
                        f"{self._composition(self.type_ids, self.fractions)}, the frame's "
                        f"{self._composition(present, counts / counts.sum())})")
                raise InputError(f"{where} has types {frame_types}; the model was trained on "
                                 f"{self.label()}: it does not know type {unknown[0]}{hint}")
            if unknown or (by_abundance is not None and not self._composition_fits(
                    [index_of[int(t)] for t in present], counts)):
                # ids the model does not know, or known ids whose abundances are another
                # type's (A and B swapped): the abundances name the types
                lookup = by_abundance
            else:
                lookup = {int(t): index_of[int(t)] for t in present}
        table = np.zeros(int(present.max()) + 1, dtype=np.int64)
        table[present] = [lookup[int(t)] for t in present]
        return table[types]

    def _composition_fits(self, indices, counts) -> bool:
        """Whether types ``indices`` with particle ``counts`` have the training fractions."""
        fractions = np.asarray(counts, dtype=float) / np.sum(counts)
        expected = np.asarray(self.fractions)[list(indices)]
        return bool(np.all(np.abs(fractions - expected) <= COMPOSITION_TOLERANCE))

    def _by_abundance(self, present, counts) -> dict | None:
        """Frame type id -> model type index by rank of abundance, where the frame has every
        type of the model in its training fractions and those fractions tell the types apart;
        else None."""
        if self.fractions is None or len(present) != self.n_types:
            return None
        model_order = np.argsort(self.fractions)[::-1]
        gaps = -np.diff(np.asarray(self.fractions)[model_order])
        if np.any(gaps <= 2 * COMPOSITION_TOLERANCE):
            return None   # two types of nearly the same abundance: abundance cannot name them
        frame_order = np.argsort(counts, kind="stable")[::-1]
        if not self._composition_fits(model_order, np.asarray(counts)[frame_order]):
            return None
        return {int(present[f]): int(m) for f, m in zip(frame_order, model_order)}

    @staticmethod
    def _composition(type_ids, fractions) -> str:
        return ", ".join(f"{int(t)}: {f:.0%}" for t, f in zip(type_ids, fractions))

    def check(self, config, where: str = "the frame") -> np.ndarray:
        """Refuse a configuration of another dimension or with an unknown type; return its type
        indices (:meth:`type_index`)."""
        if config.dimension != self.dimension:
            raise InputError(f"{where} is {config.dimension}D; the model was trained on "
                             f"{self.label()}: give it {self.dimension}D frames")
        return self.type_index(config.types, config.type_names, where)

    def pair_type(self, index_i: np.ndarray, index_j: np.ndarray) -> np.ndarray:
        """The unordered pair block ``0..n_pair_types-1`` of type indices ``i`` and ``j``.

        Row-major over ``a <= b``: for two types (A, B) the blocks are A-A, A-B, B-B.
        """
        a = np.minimum(index_i, index_j)
        b = np.maximum(index_i, index_j)
        n = self.n_types
        return a * n - a * (a - 1) // 2 + (b - a)

    def to_dict(self) -> dict:
        """The ``system`` section of a model folder's ``config.json``."""
        out = {"dimension": self.dimension, "type_ids": list(self.type_ids),
               "type_names": list(self.type_names), "length_unit": self.length_unit}
        if self.number_density is not None:
            out["number_density"] = self.number_density
        if self.fractions is not None:
            out["fractions"] = [round(f, 6) for f in self.fractions]
        return out

    @classmethod
    def from_dict(cls, values) -> "System":
        if not isinstance(values, dict):
            raise InputError(f"the system section must be a JSON object, got {values!r}")
        known = {"dimension", "type_ids", "type_names", "length_unit", "number_density",
                 "fractions"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"the system section has unknown keys {unknown}; known are "
                             f"{sorted(known)} (written by a newer ovito-glassml?)")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()})


#: The paper's system: 2D, Kob-Andersen types 1 (A) and 2 (B), lengths in sigma_AA. Model folders
#: of formats 1-3 were all trained on it.
KOB_ANDERSEN_2D = System(2, (1, 2), ("A", "B"), 1.0)
#: Largest difference in a type's number fraction between a frame and a model's training frames
#: for the frame's types to be matched by abundance; the model's fractions must differ by twice
#: it. Kob-Andersen 80:20 and 65:35 mixtures are told apart by far; a 50:50 mixture is not.
COMPOSITION_TOLERANCE = 0.1
#: A frame whose length per particle ((V / N)^(1/d)) is more than this factor off a model's
#: training frames' is in other length units (Angstrom against sigma: 3.4) and is scaled to them.
OTHER_UNITS = 1.25


def _type_label(type_id: int, names: dict | None) -> str:
    name = (names or {}).get(type_id)
    return f"{type_id} ({name})" if name else str(type_id)


def mean_nearest_neighbor_distance(configs) -> float:
    """The mean distance from a particle to its nearest neighbour over ``configs`` (periodic).

    The length unit a model takes from its training data when none is given: about 0.9 sigma in
    the Kob-Andersen mixtures, about 2.5 Angstrom in a metallic glass.
    """
    from .neighbors import Neighbors

    total, count = 0.0, 0
    for config in configs:
        _, _, distance = Neighbors.of(config).knn(1)
        total += float(np.sum(distance))
        count += len(distance)
    if count == 0:
        raise InputError("no configurations to measure a length unit from")
    return total / count


def number_density(configs) -> float:
    """Mean number of particles per unit area (2D) or volume (3D) over ``configs``."""
    configs = list(configs)
    if not configs:
        raise InputError("no configurations to measure a density from")
    return float(np.mean([c.n_particles / np.prod(c.box) for c in configs]))
