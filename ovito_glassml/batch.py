"""Run our OVITO modifiers over every frame of a trajectory and tabulate the results.

A *trajectory* is anything OVITO's ``import_file`` reads (one multi-frame dump, a numbered
sequence ``dump.*.lammpstrj``), a glob of dump files whose names are not plain numbers
(``seed1/T*.dump``), or a ``glassml simulate`` manifest CSV (its rows become the frames, and its
``temperature`` column the frames' temperatures). Frames are computed one at a time, so memory
stays flat in the number of frames; the one-row-per-frame table is written only after every frame
succeeded, so a bad frame leaves no partial output.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .metrics import PAPER_NUM_NEIGHBORS

#: Names under which a LAMMPS trajectory may carry the temperature: a global attribute, or a
#: per-particle column (e.g. ``dump ... v_T``) whose mean is the frame's temperature.
TEMPERATURE_NAMES = ("temperature", "temp", "t", "v_temp", "v_t", "c_temp", "c_t")


@dataclass
class Trajectory:
    """An OVITO pipeline over the frames, and per-frame metadata from a manifest if there is one."""

    pipeline: object
    source: str
    temperatures: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return self.pipeline.num_frames


def open_trajectory(source: str) -> Trajectory:
    """Open a trajectory file, file pattern or manifest CSV as an OVITO pipeline.

    Raises :class:`InputError` if nothing matches or OVITO cannot read the files.
    """
    from ovito.io import import_file

    source = str(source)
    temperatures = None
    if source.endswith(".csv"):
        from .datasets import read_manifest

        rows = read_manifest(source)
        files = [str(r["path"]) for r in rows]
        temperatures = np.array([r["temperature"] for r in rows], dtype=float)
    elif any(ch in source for ch in "*?["):
        files = _expand_pattern(source)
    else:
        if not Path(source).exists():
            raise InputError(f"trajectory {source} does not exist")
        files = [source]
    try:
        pipeline = import_file(files if len(files) > 1 else files[0])
    except (RuntimeError, KeyError, ValueError) as err:
        raise InputError(f"OVITO cannot read {source}: {_first_line(err)}") from err
    return Trajectory(pipeline, source, temperatures)


def _expand_pattern(pattern: str) -> list[str]:
    """Files matching a glob, in natural order of the number inside the wildcard (T0.05 < T0.44)."""
    files = glob.glob(pattern)
    if not files:
        raise InputError(f"no files match {pattern}")
    if len(files) == 1:
        return files
    number = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

    def key(name):
        numbers = number.findall(Path(name).name)
        return ([float(x) for x in numbers], name)

    return sorted(files, key=key)


def frame_temperature(data, trajectory: Trajectory, frame: int) -> float:
    """The frame's temperature: from the manifest, else a global attribute or per-particle
    column named like ``temperature``; NaN when the input carries none."""
    if trajectory.temperatures is not None:
        return float(trajectory.temperatures[frame])
    for name, value in data.attributes.items():
        if name.lower() in TEMPERATURE_NAMES:
            return float(value)
    for name in data.particles.keys():
        if name.lower() in TEMPERATURE_NAMES:
            return float(np.mean(data.particles[name]))
    return float("nan")


def compute_frame(trajectory: Trajectory, frame: int):
    """The pipeline output of one frame; frame errors become :class:`InputError` naming the frame."""
    try:
        return trajectory.pipeline.compute(frame)
    except InputError as err:
        raise InputError(f"{trajectory.source}: {err}") from err
    except (RuntimeError, ValueError) as err:
        raise InputError(f"{trajectory.source}, frame {frame}: {_first_line(err)}") from err


def run_frames(trajectory: Trajectory, modifiers, row_of, *, progress: str = "frames"):
    """Apply ``modifiers`` and return ``row_of(data, frame)`` for every frame, in order.

    Parameters
    ----------
    trajectory : Trajectory
    modifiers : list of OVITO modifiers, appended to the pipeline in order.
    row_of : callable ``(data, frame) -> dict``, the table row of one computed frame.
    progress : label of the tqdm bar.
    """
    from tqdm import tqdm

    for modifier in modifiers:
        trajectory.pipeline.modifiers.append(modifier)
    rows = []
    for frame in tqdm(range(trajectory.num_frames), desc=progress, unit="frame"):
        data = compute_frame(trajectory, frame)
        rows.append(row_of(data, frame))
    return rows


def base_row(data, trajectory: Trajectory, frame: int) -> dict:
    """``frame``, ``timestep``, ``temperature`` and ``source_file`` of one frame."""
    return {
        "frame": frame,
        "timestep": int(data.attributes.get("Timestep", frame)),
        "temperature": frame_temperature(data, trajectory, frame),
        "source_file": data.attributes.get("SourceFile", trajectory.source),
    }


def write_frames_table(out: Path, rows: list[dict]) -> Path:
    """``out/frames.csv``: one row per frame; the temperature column only if the input has one."""
    from .fileio import write_csv_atomic

    fields = list(rows[0].keys())
    if all(np.isnan(r["temperature"]) for r in rows):
        fields.remove("temperature")
    path = Path(out) / "frames.csv"
    write_csv_atomic(path, rows, fields)
    return path


def plot_columns(out: Path, rows: list[dict], columns: list[str]) -> list[Path]:
    """One PNG per column: the value against temperature if known, else against frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .fileio import atomic_path

    temperature = np.array([r["temperature"] for r in rows], dtype=float)
    use_t = not np.all(np.isnan(temperature))
    x = temperature if use_t else np.array([r["frame"] for r in rows])
    paths = []
    for column in columns:
        y = np.array([r[column] for r in rows], dtype=float)
        fig, ax = plt.subplots(figsize=(4.5, 3.4), dpi=120)
        ax.plot(x, y, "o", ms=4, alpha=0.7)
        if use_t:
            # means over the frames at each temperature show the trend through the scatter
            ts = np.unique(x[~np.isnan(x)])
            means = [np.nanmean(y[x == t]) for t in ts]
            ax.plot(ts, means, "-", color="k", lw=1)
        ax.set_xlabel("temperature T" if use_t else "frame")
        ax.set_ylabel(column.replace("_", " "))
        fig.tight_layout()
        path = Path(out) / f"{column}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        paths.append(path)
    return paths


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def classify_trajectory(source: str, out, *, model: str = "", cutoff: float | None = None,
                        attention: bool = True) -> list[dict]:
    """Glass probability, the three metrics and the attention counts of every frame.

    Runs the classifier, metrics and (for a model with attention, unless ``attention`` is False)
    attention modifiers over ``source`` (see :func:`open_trajectory`) and writes
    ``out/frames.csv`` and one plot per column. ``model`` is a model folder, empty for the shipped
    one; ``cutoff`` the high-attention cutoff (default: the modifier's). Returns the rows.
    """
    from .modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier
    from .modifiers.loading import cached_classifier

    # load the model first: a wrong model folder is reported before any frame is read
    classifier = cached_classifier(model)
    attention = attention and classifier.has_attention
    trajectory = open_trajectory(source)
    modifiers = [GlassClassifierModifier(model_path=model, local_probability=False),
                 GlassMetricsModifier()]
    if attention:
        attention_modifier = AttentionModifier(model_path=model)
        if cutoff is not None:
            attention_modifier.cutoff = cutoff
        modifiers.append(attention_modifier)
    columns = classify_columns(classifier, attention)

    def row_of(data, frame):
        row = base_row(data, trajectory, frame)
        row.update({name: data.attributes[attribute] for name, attribute in columns.items()})
        return row

    rows = run_frames(trajectory, modifiers, row_of, progress="classify")
    write_frames_table(Path(out), rows)
    plot_columns(Path(out), rows, list(columns))
    return rows


def classify_columns(classifier, attention: bool) -> dict[str, str]:
    """frames.csv column -> the pipeline's global attribute holding it, in table order."""
    from .metrics import METRIC_NAMES
    from .modifiers.attention import ATTENTION_ATTRIBUTES
    from .modifiers.classifier import PROBABILITY_ATTRIBUTE, WHOLE_FRAME_ATTRIBUTE
    from .modifiers.metrics import METRIC_ATTRIBUTES

    columns = {"glass_probability": PROBABILITY_ATTRIBUTE}
    if classifier.reads_windows:
        columns["glass_probability_whole_frame"] = WHOLE_FRAME_ATTRIBUTE
    columns.update({name: METRIC_ATTRIBUTES[name] for name in METRIC_NAMES})
    if attention:
        columns.update({f"attention_{name}": attribute
                        for name, attribute in ATTENTION_ATTRIBUTES.items()})
    return columns


def metrics_rows(source: str, num_neighbors: int = PAPER_NUM_NEIGHBORS) -> list[dict]:
    """One table row per frame of ``source``: frame, timestep, temperature and the three metrics."""
    from .metrics import METRIC_NAMES
    from .modifiers import GlassMetricsModifier
    from .modifiers.metrics import METRIC_ATTRIBUTES

    if num_neighbors < 1:
        raise InputError(f"num_neighbors must be at least 1, got {num_neighbors}")
    trajectory = open_trajectory(source)

    def row_of(data, frame):
        row = base_row(data, trajectory, frame)
        row.update({name: data.attributes[METRIC_ATTRIBUTES[name]] for name in METRIC_NAMES})
        return row

    return run_frames(trajectory, [GlassMetricsModifier(num_neighbors=num_neighbors)], row_of,
                      progress="metrics")
