"""Run our OVITO modifiers over every frame of a trajectory and tabulate the results.

A *trajectory* is one file (a multi-frame LAMMPS dump, plain or gzipped, or anything OVITO's
``import_file`` reads), a glob of files (``seed1/T*.dump``, in the natural order of the numbers in
their names), or a ``glassml simulate`` manifest CSV (every frame of each row's file, with the
row's ``temperature``). Frames come from :mod:`ovito_glassml.frames`, the reader every command
shares, one at a time, so memory stays flat in the number of frames; each frame becomes an OVITO
``DataCollection`` and our modifiers are applied to it. Results go to a temporary folder that
becomes ``--out`` only when every frame succeeded, so a bad frame (unless skipped), an error or
an interrupt leaves no partial output and old results whole.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import InputError
from .frames import BadFrame, Frame, read_frames
from .metrics import PAPER_NUM_NEIGHBORS


@dataclass
class Trajectory:
    """The files of a trajectory, in order, and each file's temperature if a manifest gives one."""

    source: str
    files: list[str]
    temperatures: list[float] | None = None

    def frames(self, *, skip_bad: bool = False) -> Iterator[tuple[int, Frame | BadFrame]]:
        """``(trajectory frame number, frame)`` for every frame of every file, one at a time.

        Every frame of a multi-frame file counts; a manifest row's temperature applies to every
        frame of its file. Errors name the trajectory frame, the file and its frame.
        """
        number = 0
        for i, path in enumerate(self.files):
            try:
                for frame in read_frames(path, skip_bad=skip_bad):
                    if isinstance(frame, Frame) and self.temperatures is not None:
                        frame = replace(frame, temperature=float(self.temperatures[i]))
                    yield number, frame
                    number += 1
            except InputError as err:
                raise InputError(f"trajectory frame {number}: {err}") from err


def open_trajectory(source: str) -> Trajectory:
    """The files of a trajectory file, file pattern or manifest CSV.

    Raises :class:`InputError` if nothing matches.
    """
    source = str(source)
    temperatures = None
    if source.endswith(".csv"):
        from .datasets import read_manifest

        rows = read_manifest(source)
        files = [_as_given(r["path"], Path(source).parent) for r in rows]
        temperatures = [float(r["temperature"]) for r in rows]
    elif any(ch in source for ch in "*?["):
        files = _expand_pattern(source)
    else:
        if not Path(source).exists():
            raise InputError(f"trajectory {source} does not exist")
        files = [source]
    return Trajectory(source, files, temperatures)


def _as_given(dump: Path, folder: Path) -> str:
    """A manifest's dump as reached from the manifest's folder as the user named it: relative
    when the manifest was given relative (the tables written from it then name no machine's
    path), absolute when the dump lies outside that folder."""
    try:
        return str(folder / Path(dump).relative_to(folder.resolve()))
    except ValueError:
        return str(dump)


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


def run_frames(trajectory: Trajectory, modifiers, row_of, *, progress: str = "frames",
               skip_bad: bool = False) -> tuple[list[dict], list[dict]]:
    """Apply ``modifiers`` to every frame and return its rows and the skipped frames.

    Parameters
    ----------
    trajectory : Trajectory
    modifiers : list of OVITO modifiers, applied to each frame in order.
    row_of : callable ``(data, frame_number, frame) -> dict``, the table row of one frame.
    progress : label of the tqdm bar.
    skip_bad : skip a frame that fails its checks or a modifier (it is listed in the second
        list) instead of stopping with :class:`InputError`.
    """
    from tqdm import tqdm

    from .ovito_data import frame_data

    rows, skipped = [], []
    for number, frame in tqdm(trajectory.frames(skip_bad=skip_bad), desc=progress, unit="frame"):
        if isinstance(frame, BadFrame):
            skipped.append(skipped_row(number, frame.source, frame.index, frame.reason))
            continue
        data = frame_data(frame.configuration, frame.timestep, frame.source)
        try:
            for modifier in modifiers:
                data.apply(modifier)
        except (RuntimeError, ValueError) as err:
            if not skip_bad:
                raise InputError(f"trajectory frame {number}: {frame.source}, frame {frame.index}: "
                                 f"{first_line(err)}") from err
            skipped.append(skipped_row(number, frame.source, frame.index, first_line(err)))
            continue
        rows.append(row_of(data, number, frame))
    if not rows:
        raise InputError(f"{trajectory.source} has no usable frame")
    return rows, skipped


def skipped_row(number: int, source: str, index: int, reason: str) -> dict:
    return {"frame": number, "source_file": source, "frame_in_file": index, "reason": reason}


def base_row(number: int, frame: Frame) -> dict:
    """``frame``, ``timestep``, ``temperature`` and ``source_file`` of one frame."""
    return {"frame": number, "timestep": frame.timestep, "temperature": frame.temperature,
            "source_file": frame.source}


def write_results(out: Path, rows: list[dict], columns: list[str], skipped: list[dict]) -> None:
    """``frames.csv``, one plot per column and (if frames were skipped) ``skipped_frames.csv``."""
    from .fileio import write_csv_atomic

    write_frames_table(out, rows)
    plot_columns(out, rows, columns)
    if skipped:
        write_csv_atomic(Path(out) / "skipped_frames.csv", skipped, list(skipped[0]))


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


from .frames import first_line  # noqa: E402  (re-exported for the commands)


def classify_trajectory(source: str, out, *, model: str = "", cutoff: float | None = None,
                        attention: bool = True, force: bool = False,
                        skip_bad: bool = False, b_type: int | None = None,
                        per_particle: bool = False) -> list[dict]:
    """Glass probability, the three metrics and the attention counts of every frame.

    Runs the classifier, metrics and (for a model with attention, unless ``attention`` is False)
    attention modifiers over ``source`` (see :func:`open_trajectory`) and writes
    ``out/frames.csv`` and one plot per column. ``model`` is a model folder or a shipped model's
    name, empty for the default; ``b_type`` the type the metrics count as B (default: each
    frame's minority type); ``cutoff`` the high-attention cutoff (default: the modifier's). ``out`` is written whole
    or not at all: a folder with results is replaced only with ``force``. ``skip_bad`` skips
    (and lists in ``out/skipped_frames.csv``) frames that fail. ``per_particle`` also writes
    ``out/particles.dump.gz``, every frame's particles with their local glass probability and
    attention (:mod:`ovito_glassml.particle_output`). Returns the rows.
    """
    from .fileio import check_output_folder, replaced_folder
    from .modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier
    from .modifiers.loading import cached_classifier
    from .particle_output import PARTICLES_FILE, ParticleDump, particle_values

    check_output_folder(out, force)
    # load the model first: a wrong model folder is reported before any frame is read
    classifier = cached_classifier(model)
    attention = attention and classifier.has_attention
    trajectory = open_trajectory(source)
    if per_particle and not classifier.reads_windows:
        raise InputError(f"--per-particle needs a model with per-particle probabilities (a "
                         f"D-MPNN); {model or 'the model'} is a {classifier.kind} model")
    modifiers = [GlassClassifierModifier(model_path=model, local_probability=per_particle),
                 GlassMetricsModifier(b_type=b_type or 0)]
    if attention:
        attention_modifier = AttentionModifier(model_path=model, b_type=b_type or 0)
        if cutoff is not None:
            attention_modifier.cutoff = cutoff
        modifiers.append(attention_modifier)
    columns = classify_columns(classifier, attention)

    particles = None

    def row_of(data, number, frame):
        row = base_row(number, frame)
        row.update({name: data.attributes[attribute] for name, attribute in columns.items()})
        if particles is not None:
            config = frame.configuration
            particles.write(config, frame.timestep, frame.ids,
                            particle_values(data, config.n_particles))
        return row

    with replaced_folder(out, force) as staging:
        if per_particle:
            particles = ParticleDump(Path(staging) / PARTICLES_FILE)
        try:
            rows, skipped = run_frames(trajectory, modifiers, row_of, progress="classify",
                                       skip_bad=skip_bad)
        finally:
            if particles is not None:
                particles.close()
        write_results(staging, rows, list(columns), skipped)
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


def metrics_rows(source: str, num_neighbors: int = PAPER_NUM_NEIGHBORS, *,
                 skip_bad: bool = False, skipped: list | None = None,
                 b_type: int | None = None) -> list[dict]:
    """One table row per frame of ``source``: frame, timestep, temperature and the three metrics.

    With ``skip_bad``, frames that fail are left out and appended to ``skipped`` (a list);
    ``b_type`` is the type counted as B (default: each frame's minority type).
    """
    from .metrics import METRIC_NAMES
    from .modifiers import GlassMetricsModifier
    from .modifiers.metrics import METRIC_ATTRIBUTES

    if num_neighbors < 1:
        raise InputError(f"num_neighbors must be at least 1, got {num_neighbors}")
    trajectory = open_trajectory(source)

    def row_of(data, number, frame):
        row = base_row(number, frame)
        row.update({name: data.attributes[METRIC_ATTRIBUTES[name]] for name in METRIC_NAMES})
        return row

    rows, bad = run_frames(trajectory, [GlassMetricsModifier(num_neighbors=num_neighbors,
                                                             b_type=b_type or 0)],
                           row_of, progress="metrics", skip_bad=skip_bad)
    if skipped is not None:
        skipped.extend(bad)
    return rows
