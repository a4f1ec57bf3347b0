"""Labelled datasets of configurations: the paper's datasets 1-6, a packed file format, splits.

Packed format (one ``.npz``, no pickles): every configuration's particles concatenated in
``positions`` (float32, (P, d), d = 2 or 3, the same for every configuration) and ``types``
(int32 LAMMPS type ids, (P,)), with ``offsets`` ((n+1,) int64) marking where configuration ``i``
starts and ends, and per-configuration arrays ``box`` ((n, d)), ``label`` (1 = glass, 0 =
liquid), ``temperature``, ``e_is``, ``seed``, ``t_cool``; a JSON string ``meta`` says how the
dataset was made and holds the types' names (``type_names``, id -> name). 20,000 configurations
of 4320 particles load in seconds because the file is a handful of contiguous arrays. Format 1
(2D only, int8 types, no names) loads as it is.

A labelled manifest of a user's own system is a CSV with ``path`` and ``label`` (``glass`` /
``liquid``) and optionally ``seed`` (rows of one run share it; splits never part a run) and
``temperature``; paths are relative to the manifest. A row without a seed is a run of its own.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .configuration import Configuration
from .frames import read_dump
from .errors import InputError
from .fileio import atomic_path

GLASS = 1
LIQUID = 0
LABELS = {"glass": GLASS, "liquid": LIQUID}
FORMAT_VERSION = 2


@dataclass
class PackedDataset:
    """Configurations with labels and provenance, held as concatenated arrays."""

    positions: np.ndarray
    types: np.ndarray
    offsets: np.ndarray
    box: np.ndarray
    label: np.ndarray
    temperature: np.ndarray
    e_is: np.ndarray
    seed: np.ndarray
    t_cool: np.ndarray
    meta: dict = field(default_factory=dict)
    #: the file of each configuration, when read from a manifest (for messages; not saved)
    sources: list | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> Configuration:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return Configuration(self.positions[lo:hi], self.types[lo:hi], self.box[i],
                             self.type_names)

    @property
    def dimension(self) -> int:
        return int(self.positions.shape[1])

    @property
    def type_names(self) -> dict:
        """Type id -> name, where the source files named their types."""
        return {int(k): v for k, v in (self.meta.get("type_names") or {}).items()}

    def system(self, length_unit: float = 1.0):
        """The :class:`~ovito_glassml.system.System` of the whole dataset: its dimension and
        every type id present (with names)."""
        from .system import System

        ids = tuple(int(t) for t in np.unique(self.types))
        return System(self.dimension, ids, tuple(self.type_names.get(t, "") for t in ids),
                      length_unit)

    def where(self, i: int) -> str:
        """Where configuration ``i`` came from, for messages: its file if known."""
        if self.sources and i < len(self.sources):
            return f"{self.sources[i]}, frame 0"
        return f"configuration {i} of the dataset"

    def run_ids(self) -> np.ndarray:
        """An integer per configuration naming its run: the pair (t_cool, seed)."""
        pairs = np.stack([self.t_cool, self.seed], axis=1)
        return np.unique(pairs, axis=0, return_inverse=True)[1].reshape(-1)

    def subset(self, indices) -> "PackedDataset":
        """A new dataset holding the configurations at ``indices`` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64)
        configs = [self[i] for i in indices]
        per = {k: getattr(self, k)[indices] for k in ("label", "temperature", "e_is", "seed", "t_cool")}
        subset = PackedDataset.from_configurations(configs, meta=dict(self.meta), **per)
        if self.sources:
            subset.sources = [self.sources[i] for i in indices]
        return subset

    @classmethod
    def from_configurations(cls, configs: list[Configuration], label, temperature=None,
                            e_is=None, seed=None, t_cool=None, meta=None) -> "PackedDataset":
        n = len(configs)
        sizes = np.array([c.n_particles for c in configs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        dims = {c.dimension for c in configs}
        if len(dims) > 1:
            raise InputError(f"a dataset holds configurations of one dimension; these are "
                             f"{' and '.join(f'{d}D' for d in sorted(dims))}")
        dim = dims.pop() if dims else 2
        names: dict = {}
        for c in configs:
            for type_id, name in c.type_names.items():
                if names.setdefault(type_id, name) != name:
                    raise InputError(f"type {type_id} is named {names[type_id]!r} in one "
                                     f"configuration and {name!r} in another; name it one way")
        meta = dict(meta or {})
        if names:
            meta["type_names"] = {str(k): v for k, v in sorted(names.items())}

        def per(values, dtype, fill):
            return np.full(n, fill, dtype=dtype) if values is None else np.asarray(values, dtype=dtype)

        return cls(
            positions=np.concatenate([c.positions for c in configs]).astype(np.float32) if n else np.zeros((0, dim), np.float32),
            types=np.concatenate([c.types for c in configs]).astype(np.int32) if n else np.zeros(0, np.int32),
            offsets=offsets,
            box=np.array([c.box for c in configs], dtype=np.float64).reshape(n, dim),
            label=per(label, np.int8, -1),
            temperature=per(temperature, np.float64, np.nan),
            e_is=per(e_is, np.float64, np.nan),
            seed=per(seed, np.int64, -1),
            t_cool=per(t_cool, np.int64, -1),
            meta=meta,
        )

    def save(self, path: str | Path) -> Path:
        """Write the dataset to ``path`` (``.npz``) atomically."""
        path = Path(path)
        meta = dict(self.meta, format_version=FORMAT_VERSION)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, positions=self.positions, types=self.types, offsets=self.offsets,
                         box=self.box, label=self.label, temperature=self.temperature,
                         e_is=self.e_is, seed=self.seed, t_cool=self.t_cool,
                         meta=np.array(json.dumps(meta)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "PackedDataset":
        """Read a packed dataset; no pickled objects are ever loaded."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"dataset {path} does not exist; build it with `glassml dataset`")
        try:
            # our own handle: np.load leaves its file open when the zip is damaged
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
            raise InputError(f"{path} is not a packed dataset or is damaged ({err}); rebuild it "
                             "with `glassml dataset`") from err
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise InputError(f"{path} has format version {meta['format_version']}; "
                             "this ovito-glassml reads up to {FORMAT_VERSION}: upgrade the package")
        return cls(meta=meta, **arrays)


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest CSV with ``path`` made absolute and numbers parsed.

    Raises :class:`InputError` if the file or any dump it names is missing.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"manifest {path} does not exist")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{path} is not a manifest: a manifest is a CSV text file with a "
                         "'path' column (a packed .npz dataset goes where --data takes one)") from err
    if not rows:
        raise InputError(f"manifest {path} has no rows")
    if "path" not in rows[0]:
        raise InputError(f"manifest {path} has no 'path' column; a manifest is a CSV with a "
                         "'path' column (and 'label', optional 'seed' and 'temperature')")
    for i, row in enumerate(rows):
        dump = (path.parent / row["path"]).resolve()
        if not dump.exists():
            raise InputError(f"manifest {path} row {i + 2} points to {row['path']}, which does not exist")
        row["path"] = dump
        if row.get("is_path"):
            # the inherent structure is checked where it is used (datasets on minimised frames)
            row["is_path"] = (path.parent / row["is_path"]).resolve()
        for key in ("temperature", "e_is", "e_inst", "t_kinetic", "box_x", "box_y", "box_z",
                    "seed", "t_cool", "n_particles", "step"):
            if row.get(key) not in (None, ""):
                row[key] = _manifest_number(row[key], key, path, i + 2)
        if row.get("temperature") in (None, ""):
            row["temperature"] = float("nan")
    # a row without a seed is a run of its own, so a split by run never parts two such rows
    # by accident nor puts them all in one run
    taken = {r["seed"] for r in rows if r.get("seed") not in (None, "")}
    free = (s for s in range(max(taken, default=0) + 1, 10**9) if s not in taken)
    for row in rows:
        if row.get("seed") in (None, ""):
            row["seed"] = next(free)
    return rows


_INTEGER_COLUMNS = ("seed", "t_cool", "n_particles", "step")


def _manifest_number(text: str, key: str, manifest: Path, line: int):
    """A manifest cell as a number; :class:`InputError` naming the file, line and column."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or (key == "temperature" and not np.isfinite(value)):
        if key == "temperature" and text.strip().lower() == "nan":
            return float("nan")
        raise InputError(f"manifest {manifest} line {line}: {key} {text!r} is not a "
                         f"{'finite ' if key == 'temperature' else ''}number")
    if key in _INTEGER_COLUMNS:
        if value != round(value):
            raise InputError(f"manifest {manifest} line {line}: {key} {text!r} is not an integer")
        return int(value)
    return value


def dataset_from_manifest(path: str | Path, rows: list[dict] | None = None) -> PackedDataset:
    """Load every configuration a manifest names; labels from its ``label`` column if present."""
    rows = read_manifest(path) if rows is None else rows
    labels = []
    for row in rows:
        text = str(row.get("label", "")).strip().lower()
        if text and text not in LABELS:
            raise InputError(f"label {row['label']!r} in {path} is neither 'glass' nor 'liquid'")
        labels.append(LABELS.get(text, -1))
    # one reader for every path (read_dump: a one-frame file; a multi-frame one is refused,
    # naming it)
    configs = [read_dump(r["path"]) for r in rows]
    for row, config in zip(rows, configs):
        if config.dimension != configs[0].dimension:
            raise InputError(f"{row['path']}, frame 0 is {config.dimension}D while "
                             f"{rows[0]['path']} is {configs[0].dimension}D; a dataset holds "
                             "frames of one dimension")
    dataset = PackedDataset.from_configurations(
        configs, label=labels, temperature=[r["temperature"] for r in rows],
        e_is=[r.get("e_is", np.nan) for r in rows], seed=[r.get("seed", -1) for r in rows],
        t_cool=[r.get("t_cool", -1) for r in rows], meta={"source": str(path)})
    dataset.sources = [str(r["path"]) for r in rows]
    return dataset


def load_dataset(path: str | Path) -> PackedDataset:
    """A packed ``.npz`` dataset or a manifest ``.csv``, whichever ``path`` is."""
    path = Path(path)
    if path.suffix == ".csv":
        return dataset_from_manifest(path)
    return PackedDataset.load(path)


def split_by_run(dataset: PackedDataset, fractions, rng=0) -> list[np.ndarray]:
    """Split a dataset's indices into parts that share no run (see :func:`split_by_seed`)."""
    return split_by_seed(dataset.run_ids(), fractions, rng)


def split_by_seed(seeds, fractions, rng=0) -> list[np.ndarray]:
    """Split configuration indices into parts whose run seeds (or run ids) are disjoint.

    ``fractions`` (summing to 1) are of the *runs*; all configurations of one run land in the
    same part, so no run is ever on both sides of a train/test split. Boundaries are the rounded
    cumulative fractions of a random permutation of the runs; a part with a positive fraction
    that rounding leaves empty (80/10/10 of 6 runs rounds to 5/0/1) takes one run from the
    largest part.
    """
    seeds = np.asarray(seeds)
    fractions = np.asarray(fractions, dtype=float)
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise InputError(f"split fractions must be non-negative and sum to 1, got {fractions}")
    unique = np.unique(seeds)
    if len(unique) < np.count_nonzero(fractions):
        raise InputError(f"{len(unique)} runs are too few to fill {np.count_nonzero(fractions)} seed-disjoint "
                         "parts; simulate more seeds")
    order = np.random.default_rng(rng).permutation(unique)
    counts = np.diff(np.round(np.cumsum(fractions) * len(unique)).astype(int), prepend=0)
    for empty in np.flatnonzero((counts == 0) & (fractions > 0)):
        counts[np.argmax(counts)] -= 1
        counts[empty] += 1
    groups = np.split(order, np.cumsum(counts)[:-1])
    return [np.flatnonzero(np.isin(seeds, g)) for g in groups]


#: Liquid temperature of datasets 1-5 (glass always at 0.05, slow cooling; paper Fig. 1b).
LIQUID_TEMPERATURES = {1: 1.99, 2: 1.76, 3: 0.96, 4: 0.55, 5: 0.44}
#: The 3D datasets' liquids (issue 24): from the hot liquid to just above the mode-coupling
#: T_c = 0.435 of 3D Kob-Andersen (dataset 5 at 0.5).
LIQUID_TEMPERATURES_3D = {1: 1.99, 2: 1.0, 3: 0.7, 4: 0.55, 5: 0.5}
GLASS_TEMPERATURE = 0.05


def is_3d_campaign(rows: list[dict]) -> bool:
    """Whether manifest rows are of a 3D campaign: ``glassml simulate --system ka3d`` writes a
    ``box_z`` column."""
    return any(r.get("box_z") not in (None, "") for r in rows)


def liquid_temperatures(rows: list[dict]) -> dict[int, float]:
    """The liquids of datasets 1-5 for a campaign's manifest rows: the 3D ones for a 3D
    campaign (:func:`is_3d_campaign`), else the paper's."""
    return LIQUID_TEMPERATURES_3D if is_3d_campaign(rows) else LIQUID_TEMPERATURES


def rows_of_seeds(rows: list[dict], seeds) -> list[dict]:
    """The manifest rows of the runs ``seeds`` (all rows when ``seeds`` is None)."""
    if seeds is None:
        return rows
    wanted = {int(s) for s in seeds}
    return [r for r in rows if int(r.get("seed", -1)) in wanted]


def _rows_at(rows: list[dict], temperature: float) -> list[dict]:
    return [r for r in rows if abs(r["temperature"] - temperature) < 1e-6]


def _balanced(glass: list[dict], liquid: list[dict], rng) -> tuple[list[dict], list[dict]]:
    """Equal class sizes, dropping whole random rows from the larger class."""
    n = min(len(glass), len(liquid))
    pick = lambda rows: [rows[i] for i in sorted(rng.choice(len(rows), n, replace=False))]
    return pick(glass), pick(liquid)


def matched_liquid_temperature(slow_rows: list[dict], fast_rows: list[dict]) -> float:
    """The slow-cooling temperature whose mean E_IS is closest to the fast-cooled glass's.

    This is how the paper's dataset 6 pairs glass and liquid at the same mean inherent-structure
    energy (paper Fig. 1a); only temperatures above the glass temperature are candidates.
    """
    target = np.mean([r["e_is"] for r in _rows_at(fast_rows, GLASS_TEMPERATURE)])
    temps = sorted({r["temperature"] for r in slow_rows if r["temperature"] > GLASS_TEMPERATURE + 1e-6})
    if not temps:
        raise InputError("the slow-cooling manifest has no liquid temperatures for dataset 6")
    means = [np.mean([r["e_is"] for r in _rows_at(slow_rows, t)]) for t in temps]
    return float(temps[int(np.argmin(np.abs(np.array(means) - target)))])


STRUCTURES = ("instantaneous", "inherent")


def use_inherent_structures(rows: list[dict], manifest) -> list[dict]:
    """The rows with ``path`` replaced by the inherent structure's dump (``is_path``)."""
    out = []
    for row in rows:
        target = row.get("is_path")
        if not target:
            raise InputError(f"manifest {manifest} has no inherent-structure dumps (no 'is_path' "
                             "column); simulate again with this version of ovito-glassml")
        if not Path(target).exists():
            raise InputError(f"manifest {manifest} names the inherent structure {target}, which "
                             "does not exist")
        out.append(dict(row, path=target))
    return out


def build_datasets(slow_manifest, fast_manifest=None, numbers=(1, 2, 3, 4, 5, 6),
                   rng=0, structure: str = "instantaneous",
                   seeds=None, fast_seeds=None) -> dict[int, PackedDataset]:
    """Datasets 1-6 of the paper from cooling-campaign manifests.

    Datasets 1-5: glass at T=0.05 vs liquid at 1.99, 1.76, 0.96, 0.55, 0.44, all from
    ``slow_manifest`` (a 3D campaign's: 1.99, 1.0, 0.7, 0.55, 0.5, see
    :func:`liquid_temperatures`). Dataset 6 (needs ``fast_manifest``): fast-cooled glass at 0.05 vs the
    slow-cooled liquid at the temperature of matching mean E_IS. Classes are balanced.

    ``structure="inherent"`` builds the same datasets (same rows, same labels) from the
    inherent structures (FIRE-minimised configurations) instead of the thermal snapshots: the
    datasets ``<k>-is``, where thermal noise cannot give the class away. ``seeds`` keeps only
    those slow runs (e.g. the held-out runs of a model) and ``fast_seeds`` those fast runs
    (default: all of them); dataset 6's liquid temperature is matched on all runs of both
    manifests, so it is the same for every choice of seeds.
    """
    if structure not in STRUCTURES:
        raise InputError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    rng = np.random.default_rng(rng)
    slow = read_manifest(slow_manifest)
    fast = read_manifest(fast_manifest) if fast_manifest is not None else None
    # dataset 6's liquid temperature belongs to the whole campaign, so that the datasets of
    # disjoint seed sets (a model's training and held-out runs) hold the same temperatures
    matched = matched_liquid_temperature(slow, fast) if fast and 6 in numbers else None
    slow = rows_of_seeds(slow, seeds)
    if fast is not None:
        fast = rows_of_seeds(fast, fast_seeds)
    out: dict[int, PackedDataset] = {}
    liquids = liquid_temperatures(slow)
    slow, fast, crystals = without_crystallised_glasses(slow, fast)
    for number in numbers:
        if number in liquids:
            glass_rows = _rows_at(slow, GLASS_TEMPERATURE)
            liquid_t = liquids[number]
            liquid_rows = _rows_at(slow, liquid_t)
            source = {"glass": str(slow_manifest), "liquid": str(slow_manifest)}
        elif number == 6:
            if fast is None:
                raise InputError("dataset 6 needs a fast-cooling manifest (--fast MANIFEST)")
            glass_rows = _rows_at(fast, GLASS_TEMPERATURE)
            liquid_t = matched
            liquid_rows = _rows_at(slow, liquid_t)
            source = {"glass": str(fast_manifest), "liquid": str(slow_manifest)}
        else:
            raise InputError(f"there is no dataset {number}; the paper's datasets are 1-6")
        if not glass_rows or not liquid_rows:
            raise InputError(
                f"dataset {number} needs configurations at T={GLASS_TEMPERATURE} and T={liquid_t}; "
                "simulate with those temperatures in --temperatures")
        glass_rows, liquid_rows = _balanced(glass_rows, liquid_rows, rng)
        rows = glass_rows + liquid_rows
        for r in glass_rows:
            r["label"] = "glass"
        for r in liquid_rows:
            r["label"] = "liquid"
        rows = [dict(r) for r in rows]
        if structure == "inherent":
            rows = use_inherent_structures(rows, slow_manifest)
        ds = dataset_from_manifest(slow_manifest, rows=rows)
        ds.meta = {"dataset": number if structure == "instantaneous" else f"{number}-is",
                   "structure": structure, "glass_temperature": GLASS_TEMPERATURE,
                   "liquid_temperature": liquid_t, "source": source,
                   "n_glass": len(glass_rows), "n_liquid": len(liquid_rows)}
        if crystals:
            ds.meta["crystals"] = crystals
        out[number] = ds
    return out


def crystallised_runs(rows: list[dict]) -> tuple[set, dict | None]:
    """The seeds of a campaign's runs whose glass crystallised, and the record of the check
    (none and None in 2D, where the mixture does not crystallise on these time scales)."""
    if not is_3d_campaign(rows):
        return set(), None
    from .crystals import crystal_record, crystallised_seeds, glass_crystal_fractions

    fractions = glass_crystal_fractions(rows, GLASS_TEMPERATURE)
    return set(crystallised_seeds(fractions)), crystal_record(fractions)


def without_crystallised_glasses(slow: list[dict], fast: list[dict] | None = None):
    """A 3D campaign's rows without the glass frames of runs whose glass crystallised, and the
    record of the check by rate (None in 2D). The runs' liquid frames are kept: they are liquids."""
    if not is_3d_campaign(slow):
        return slow, fast, None
    crystals, kept = {}, []
    for rate, rows in (("slow", slow), ("fast", fast)):
        if rows is None:
            kept.append(None)
            continue
        bad, crystals[rate] = crystallised_runs(rows)
        kept.append([r for r in rows
                     if not (r["seed"] in bad and r["temperature"] <= GLASS_TEMPERATURE + 1e-9)])
    return kept[0], kept[1], crystals


def build_tg_dataset(manifest, tg: float, band: float = 0.05, seeds=None,
                     structure: str = "instantaneous") -> PackedDataset:
    """Every configuration of a cooling campaign, labelled by the glass transition of its runs.

    Glass: ``T <= tg - band``; liquid: ``T >= tg + band``; the temperatures within ``band`` of
    ``tg`` are left out (their class is what the model is asked to find, not taught). ``seeds``
    restricts the runs (e.g. the training runs of a split). This is the training set of the
    shipped model: one model for every temperature, not one per dataset.
    """
    if structure not in STRUCTURES:
        raise InputError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    if not band >= 0:
        raise InputError(f"band must be >= 0, got {band!r}")
    rows = rows_of_seeds(read_manifest(manifest), seeds)
    crystallised, crystals = crystallised_runs(rows)
    kept = []
    for row in rows:
        if row["temperature"] <= tg - band:
            if row["seed"] not in crystallised:      # a crystallised run's glass is no glass
                kept.append(dict(row, label="glass"))
        elif row["temperature"] >= tg + band:
            kept.append(dict(row, label="liquid"))
    labels = {r["label"] for r in kept}
    if labels != {"glass", "liquid"}:
        raise InputError(f"{manifest} has no {'glass' if 'glass' not in labels else 'liquid'} "
                         f"configurations outside {tg} +/- {band}; save temperatures on both sides")
    if structure == "inherent":
        kept = use_inherent_structures(kept, manifest)
    ds = dataset_from_manifest(manifest, rows=kept)
    ds.meta = {"labels": f"glass: T <= {tg - band:.4g}; liquid: T >= {tg + band:.4g} "
                         f"(Tg = {tg:.4g}, band {band:g})",
               "tg": float(tg), "band": float(band), "structure": structure,
               "source": str(manifest), "n_glass": int(np.sum(ds.label == GLASS)),
               "n_liquid": int(np.sum(ds.label == LIQUID))}
    if crystals:
        ds.meta["crystals"] = crystals
    return ds
