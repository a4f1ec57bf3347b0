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
from contextlib import contextmanager
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
        frame of its file. Errors name the file and its frame (and the trajectory's frame
        number too when the trajectory has several files).
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
                raise InputError(f"{self.frame_prefix(number)}{err}") from err

    def dimension(self) -> int | None:
        """The first frame's dimension (2 or 3); None if it cannot be read (its error comes when
        the frames are read)."""
        try:
            for _, frame in self.frames(skip_bad=True):
                if isinstance(frame, Frame):
                    return frame.configuration.dimension
        except InputError:
            pass
        return None

    def frame_prefix(self, number: int) -> str:
        """``"trajectory frame N: "`` where the file's own frame index is not the same number
        (a trajectory of several files), else nothing: messages name the frame once."""
        return f"trajectory frame {number}: " if len(self.files) > 1 else ""


def open_trajectory(source: str, structure: str = "instantaneous") -> Trajectory:
    """The files of a trajectory file, file pattern or manifest CSV.

    ``structure="inherent"`` takes a `glassml simulate` manifest's inherent structures (its
    ``is_path`` column) in place of its snapshots. Raises :class:`InputError` if nothing matches.
    """
    source = str(source)
    temperatures = None
    from .datasets import STRUCTURES

    if structure not in STRUCTURES:
        raise InputError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    if structure == "inherent" and not source.endswith(".csv"):
        raise InputError(f"inherent structures are read from a `glassml simulate` manifest "
                         f"(its is_path column); {source} is not a manifest.csv")
    if source.endswith(".npz"):
        raise InputError(f"{source} is a packed dataset (`glassml dataset`), not a trajectory: "
                         "give dump files, a file pattern or a manifest.csv (a dataset goes "
                         "where --data takes one)")
    if source.endswith(".csv"):
        from .datasets import read_manifest

        rows = read_manifest(source)
        column = "path" if structure == "instantaneous" else "is_path"
        if column not in rows[0]:
            raise InputError(f"{source} has no is_path column: only a `glassml simulate` "
                             "manifest names the inherent structure of each snapshot")
        files = [_as_given(r[column], Path(source).parent) for r in rows]
        temperatures = [float(r["temperature"]) for r in rows]
    elif any(ch in source for ch in "*?["):
        files = _expand_pattern(source)
    else:
        if not Path(source).exists():
            raise InputError(f"trajectory {source} does not exist")
        files = [source]
    return Trajectory(source, files, temperatures)


def source_dimension(source: str) -> int | None:
    """The dimension of a trajectory's first frame (see :func:`open_trajectory`), None where it
    cannot be read: whoever reads the frames reports why."""
    try:
        return open_trajectory(source).dimension()
    except InputError:
        return None


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


@dataclass(frozen=True)
class FramePipeline:
    """What runs on every frame, as plain settings: picklable, so that worker processes (or Ray
    tasks) build the same OVITO modifiers from them and return plain values.

    Attributes
    ----------
    columns : ``(frames.csv column, global attribute)`` pairs read from each frame.
    model, cutoff, attention, b_type, num_neighbors : the modifiers' settings; ``model`` empty
        runs the metrics alone.
    per_particle : also return the per-particle values (:mod:`ovito_glassml.particle_output`).
    """

    columns: tuple
    model: str | None = None
    cutoff: float | None = None
    attention: bool = False
    b_type: int | None = None
    num_neighbors: int = PAPER_NUM_NEIGHBORS
    per_particle: bool = False

    def modifiers(self) -> list:
        """The OVITO modifiers, built once per process."""
        return _modifiers(self)


_MODIFIERS: dict = {}


def _modifiers(pipeline: FramePipeline) -> list:
    if pipeline not in _MODIFIERS:
        from .modifiers import AttentionModifier, GlassClassifierModifier, GlassMetricsModifier

        built = []
        if pipeline.model is not None:
            built.append(GlassClassifierModifier(model_path=pipeline.model,
                                                 local_probability=pipeline.per_particle))
        built.append(GlassMetricsModifier(num_neighbors=pipeline.num_neighbors,
                                          b_type=pipeline.b_type or 0))
        if pipeline.attention:
            attention = AttentionModifier(model_path=pipeline.model, b_type=pipeline.b_type or 0)
            if pipeline.cutoff is not None:
                attention.cutoff = pipeline.cutoff
            built.append(attention)
        _MODIFIERS[pipeline] = built
    return _MODIFIERS[pipeline]


def frame_outcome(pipeline: FramePipeline, frame: Frame) -> tuple[dict | None, dict | None, str]:
    """``(attributes, per-particle values, "")`` of one frame, or ``(None, None, reason)`` if a
    modifier refused it. Runs in whichever process holds the frame."""
    from .ovito_data import frame_data
    from .particle_output import particle_values

    data = frame_data(frame.configuration, frame.timestep, frame.source)
    try:
        for modifier in pipeline.modifiers():
            data.apply(modifier)
    except (RuntimeError, ValueError) as err:
        return None, None, first_line(err)
    attributes = {name: data.attributes[attribute] for name, attribute in pipeline.columns}
    particles = (particle_values(data, frame.configuration.n_particles)
                 if pipeline.per_particle else None)
    return attributes, particles, ""


def run_frames(trajectory: Trajectory, pipeline: FramePipeline, on_frame=None, *,
               progress: str = "frames", skip_bad: bool = False, workers: int = 1,
               ray_address: str | None = None) -> tuple[list[dict], list[dict]]:
    """Run ``pipeline`` on every frame; return the table rows and the skipped frames, in input
    order whatever runs them.

    Parameters
    ----------
    trajectory : Trajectory
    pipeline : what to compute per frame (:class:`FramePipeline`).
    on_frame : callable ``(frame, per-particle values)`` called in input order for every good
        frame (e.g. to write the per-particle dump).
    progress : label of the tqdm bar.
    skip_bad : skip a frame that fails its checks or a modifier (it is listed in the second
        list) instead of stopping with :class:`InputError`.
    workers : frames run in this many local processes (one torch thread each); 1 = here.
    ray_address : run every frame as a Ray task on this cluster ("local" starts one) instead.
    """
    from tqdm import tqdm

    rows, skipped = [], []
    stream = trajectory.frames(skip_bad=skip_bad)
    with frame_executor(workers, ray_address) as run:
        for number, frame, outcome in tqdm(run(pipeline, stream), desc=progress, unit="frame"):
            if isinstance(frame, BadFrame):
                skipped.append(skipped_row(number, frame.source, frame.index, frame.reason))
                continue
            attributes, particles, reason = outcome
            if reason:
                # "file, frame 2: the frame is 3D" would say the frame twice
                reason = reason.removeprefix("the frame ")
                if not skip_bad:
                    raise InputError(f"{trajectory.frame_prefix(number)}{frame.source}, frame "
                                     f"{frame.index}: {reason}")
                skipped.append(skipped_row(number, frame.source, frame.index, reason))
                continue
            rows.append(dict(base_row(number, frame), **attributes))
            if on_frame is not None:
                on_frame(frame, particles)
    if not rows:
        raise InputError(f"{trajectory.source} has no usable frame")
    return rows, skipped


@contextmanager
def frame_executor(workers: int = 1, ray_address: str | None = None):
    """A context giving ``run(pipeline, stream)``: ``(number, frame, outcome)`` for every
    ``(number, frame)`` of ``stream``, in input order, computed here, in ``workers`` local
    processes or as Ray tasks. Only a few frames per worker are in flight, so memory stays flat
    in the length of the trajectory. A bad frame's outcome is None."""
    if int(workers) < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if ray_address:
        with _ray_submit(ray_address, workers) as submit:
            yield lambda pipeline, stream: _in_order(pipeline, stream, submit, 4 * workers)
    elif workers == 1:
        yield lambda pipeline, stream: (
            (number, frame, None if isinstance(frame, BadFrame) else frame_outcome(pipeline, frame))
            for number, frame in stream)
    else:
        pool = worker_pool(int(workers))
        submit = lambda pipeline, frame: pool.submit(frame_outcome, pipeline, frame).result
        yield lambda pipeline, stream: _in_order(pipeline, stream, submit, 4 * workers)


_POOLS: dict = {}


def worker_pool(workers: int):
    """The process pool of ``workers`` workers, started once per session and kept: a worker
    imports torch and OVITO and loads the model once, not once per command."""
    pool = _POOLS.get(workers)
    if pool is None or getattr(pool, "_broken", False):
        import atexit
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # forkserver: workers start from a clean process that has imported the modifiers once,
        # not from a copy of this one (its torch, OpenMP and OVITO threads cannot be forked)
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["ovito_glassml.batch", "ovito_glassml.modifiers"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=_one_thread)
        _POOLS[workers] = pool
        atexit.register(pool.shutdown)
    return pool


def _one_thread() -> None:
    """One torch/OpenMP thread per worker process: N workers use N cores, not N x N."""
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _in_order(pipeline, stream, submit, ahead: int):
    """Submit frames ``ahead`` at a time and yield their outcomes in input order."""
    from collections import deque

    pending: deque = deque()
    for number, frame in stream:
        result = (lambda: None) if isinstance(frame, BadFrame) else submit(pipeline, frame)
        pending.append((number, frame, result))
        if len(pending) >= ahead:
            number0, frame0, result0 = pending.popleft()
            yield number0, frame0, result0()
    while pending:
        number0, frame0, result0 = pending.popleft()
        yield number0, frame0, result0()


@contextmanager
def _ray_submit(address: str, workers: int):
    try:
        import ray
    except ImportError as err:
        raise InputError("--ray-address needs Ray: pip install 'ovito-glassml[ray]'") from err
    started = not ray.is_initialized()
    if started:
        local = address == "local"
        ray.init(address=None if local else address, num_cpus=workers if local else None,
                 log_to_driver=False, include_dashboard=False,
                 runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    remote = ray.remote(num_cpus=1)(frame_outcome)
    try:
        yield lambda pipeline, frame: (lambda ref=remote.remote(pipeline, frame): ray.get(ref))
    finally:
        if started:
            ray.shutdown()


def skipped_row(number: int, source: str, index: int, reason: str) -> dict:
    return {"frame": number, "source_file": source, "frame_in_file": index, "reason": reason}


def base_row(number: int, frame: Frame) -> dict:
    """``frame``, ``timestep``, ``temperature`` and ``source_file`` of one frame."""
    return {"frame": number, "timestep": frame.timestep, "temperature": frame.temperature,
            "source_file": frame.source}


def write_results(out: Path, rows: list[dict], columns: list[str], skipped: list[dict],
                  workers: int = 1) -> None:
    """``frames.csv``, one plot per column and (if frames were skipped) ``skipped_frames.csv``;
    with ``workers`` > 1 the plots are drawn by the frames' worker processes."""
    from .fileio import write_csv_atomic

    write_frames_table(out, rows)
    plot_columns(out, rows, columns, workers)
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


def plot_columns(out: Path, rows: list[dict], columns: list[str], workers: int = 1) -> list[Path]:
    """One PNG per column: the value against temperature if known, else against frame. With
    ``workers`` > 1 the plots are drawn in the worker pool (a PNG costs ~0.1 s: ten of them are
    as long as classifying dozens of frames)."""
    temperature = np.array([r["temperature"] for r in rows], dtype=float)
    use_t = not np.all(np.isnan(temperature))
    x = temperature if use_t else np.array([r["frame"] for r in rows], dtype=float)
    jobs = [(Path(out) / f"{column}.png", x, np.array([r[column] for r in rows], dtype=float),
             column, use_t) for column in columns]
    if workers > 1:
        pool = worker_pool(workers)
        for future in [pool.submit(plot_column, *job) for job in jobs]:
            future.result()
    else:
        for job in jobs:
            plot_column(*job)
    return [job[0] for job in jobs]


def plot_column(path: Path, x: np.ndarray, y: np.ndarray, column: str, use_t: bool) -> Path:
    """One column's PNG (see :func:`plot_columns`), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .fileio import atomic_path

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


from .frames import first_line  # noqa: E402  (re-exported for the commands)


def classify_trajectory(source: str, out, *, model: str = "", cutoff: float | None = None,
                        attention: bool = True, force: bool = False,
                        skip_bad: bool = False, b_type: int | None = None,
                        per_particle: bool = False, workers: int = 1,
                        ray_address: str | None = None) -> list[dict]:
    """Glass probability, the three metrics and the attention counts of every frame.

    Runs the classifier, metrics and (for a model with attention, unless ``attention`` is False)
    attention modifiers over ``source`` (see :func:`open_trajectory`) and writes
    ``out/frames.csv`` and one plot per column. ``model`` is a model folder or a shipped model's
    name, empty for the shipped model of the first frame's dimension; ``b_type`` the type the
    metrics count as B (default: each frame's minority type); ``cutoff`` the high-attention
    cutoff (default: the modifier's). ``out`` is written whole or not at all: a folder with
    results is replaced only with ``force``. ``skip_bad`` skips (and lists in
    ``out/skipped_frames.csv``) frames that fail.
    ``per_particle`` also writes ``out/particles.dump.gz``, every frame's particles with their
    local glass probability and attention (:mod:`ovito_glassml.particle_output`). ``workers``
    local processes (or Ray tasks on ``ray_address``) share the frames; the output is the same
    as one worker's. Returns the rows.
    """
    from .fileio import check_output_folder, replaced_folder
    from .models.shipped import named_model
    from .modifiers.loading import cached_classifier
    from .particle_output import PARTICLES_FILE, ParticleDump

    check_output_folder(out, force)
    if not model:
        # no model named: the shipped model of the trajectory's dimension
        model = named_model(model, source_dimension(source))
    # load a named model first: a wrong model folder is reported before any frame is read
    classifier = cached_classifier(model)
    attention = attention and classifier.has_attention
    trajectory = open_trajectory(source)
    if per_particle and not classifier.reads_windows:
        raise InputError(f"--per-particle needs a model with per-particle probabilities (a "
                         f"D-MPNN); {model or 'the model'} is a {classifier.kind} model")
    columns = classify_columns(classifier, attention)
    pipeline = FramePipeline(tuple(columns.items()), model=model, cutoff=cutoff,
                             attention=attention, b_type=b_type, per_particle=per_particle)
    with replaced_folder(out, force) as staging:
        particles = ParticleDump(Path(staging) / PARTICLES_FILE) if per_particle else None
        try:
            rows, skipped = run_frames(
                trajectory, pipeline,
                (lambda frame, values: particles.write(frame.configuration, frame.timestep,
                                                       frame.ids, values)) if particles else None,
                progress="classify", skip_bad=skip_bad, workers=workers,
                ray_address=ray_address)
        finally:
            if particles is not None:
                particles.close()
        write_results(staging, rows, list(columns), skipped, workers if not ray_address else 1)
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
                 b_type: int | None = None, workers: int = 1,
                 ray_address: str | None = None, structure: str = "instantaneous") -> list[dict]:
    """One table row per frame of ``source``: frame, timestep, temperature and the three metrics.

    With ``skip_bad``, frames that fail are left out and appended to ``skipped`` (a list);
    ``b_type`` is the type counted as B (default: each frame's minority type); ``workers`` and
    ``ray_address`` spread the frames as in :func:`classify_trajectory`.
    """
    from .metrics import METRIC_NAMES
    from .modifiers.metrics import METRIC_ATTRIBUTES

    if num_neighbors < 1:
        raise InputError(f"num_neighbors must be at least 1, got {num_neighbors}")
    trajectory = open_trajectory(source, structure)
    pipeline = FramePipeline(tuple((name, METRIC_ATTRIBUTES[name]) for name in METRIC_NAMES),
                             b_type=b_type, num_neighbors=num_neighbors)
    rows, bad = run_frames(trajectory, pipeline, progress="metrics", skip_bad=skip_bad,
                           workers=workers, ray_address=ray_address)
    if skipped is not None:
        skipped.extend(bad)
    return rows
