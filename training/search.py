"""Hyperparameter search with hyperopt's TPE (paper §2.5, Table 2), resumable, in-process or on Ray.

A search space is a mapping ``name -> GridRange``: every hyperparameter of the paper's Table 2 is
a grid ``low, low + step, ..., high``. hyperopt sees each grid as an integer *index* drawn by
``hp.quniform(name, -0.5, n - 0.5, 1)``: TPE keeps the order of the grid (a categorical
``hp.choice`` would not), every grid point is equally likely a priori, and the decoded value is
exactly ``low + index * step`` (no float rounding such as 0.15000000000000002).

Trials are persisted after every finished trial in one JSON file (no pickles): the space, and for
each trial its id, hyperopt's ``vals`` (the indices), the decoded hyperparameters and the scores.
On restart the finished trials are re-inserted into a fresh :class:`hyperopt.Trials` as done
documents (``Trials.insert_trial_docs``), so TPE continues from the same history. In-process,
trial ``i`` is proposed by ``fmin`` with a generator seeded by ``(seed, i)``, so a search that was
killed during trial ``i`` proposes the same trial ``i`` again when rerun, and the finished search
is the one an uninterrupted run would have made.

With ``ray_address`` the trials run as Ray Tune trials (one per ``resources_per_trial`` slot:
one CPU, or one GPU) with :class:`ray.tune.search.hyperopt.HyperOptSearch` as the search
algorithm, seeded with the same finished trials; every trial that finishes is appended to the
same JSON file by a Tune callback in the driver.

The objective is any picklable callable ``objective(params) -> dict`` with an ``"auc"`` entry
(maximised; hyperopt minimises ``loss = -auc``); the other entries are recorded with the trial.
"""

from __future__ import annotations

import functools
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ovito_glassml.errors import InputError
from ovito_glassml.fileio import write_json_atomic

#: hyperopt's default of 20 random start-up trials would make a 15-trial search (the paper's)
#: pure random search; a third of the paper's budget leaves 10 trials guided by the TPE model.
DEFAULT_STARTUP_TRIALS = 5
LOG_KIND = "search_trials"


@dataclass(frozen=True)
class GridRange:
    """A hyperparameter's grid ``low, low + step, ..., high`` (a single value when low == high).

    Parameters
    ----------
    low, high, step : the grid; ``high - low`` must be a multiple of ``step``.
    integer : values are ints (k, hidden size, T, FFN layers, batch size).
    """

    low: float
    high: float
    step: float = 1.0
    integer: bool = False

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and np.isfinite(self.step)):
            raise InputError(f"grid {self.low}:{self.high}:{self.step} has a non-finite number")
        if self.high < self.low:
            raise InputError(f"grid {self.low}:{self.high}: high is below low")
        if self.high > self.low and self.step <= 0:
            raise InputError(f"grid {self.low}:{self.high}:{self.step}: the step must be positive")
        if self.high > self.low:
            count = (self.high - self.low) / self.step
            if abs(count - round(count)) > 1e-6:
                raise InputError(f"grid {self.low}:{self.high}:{self.step}: high - low is not a "
                                 "multiple of the step")

    @property
    def size(self) -> int:
        """Number of grid points."""
        if self.high == self.low:
            return 1
        return int(round((self.high - self.low) / self.step)) + 1

    def value(self, index) -> float | int:
        """The grid value at ``index`` (clipped into the grid)."""
        i = min(max(int(round(float(index))), 0), self.size - 1)
        # rounding to 10 digits gives 0.15, not 0.15000000000000002, in logs and model configs
        v = round(self.low + i * self.step, 10)
        return int(round(v)) if self.integer else float(v)

    def values(self) -> list:
        """Every grid value, low to high."""
        return [self.value(i) for i in range(self.size)]

    def describe(self) -> str:
        return f"{self.low:g}..{self.high:g} step {self.step:g}" if self.size > 1 else f"{self.low:g}"


#: The D-MPNN's search space, paper Table 2. (The paper's caption adds that batches above five
#: graphs overflowed its GPUs, so the D-MPNN runs fixed n_b = 5; override with ``batch_size=5``.)
DMPNN_TABLE2 = {
    "num_neighbors": GridRange(1, 5, 1, integer=True),
    "window_length": GridRange(0.1, 0.3, 0.05),
    "hidden_size": GridRange(300, 2400, 100, integer=True),
    "message_steps": GridRange(2, 6, 1, integer=True),
    "dropout": GridRange(0.0, 0.5, 0.05),
    "ffn_layers": GridRange(1, 3, 1, integer=True),
    "batch_size": GridRange(10, 100, 10, integer=True),
}

#: The CNN's search space (paper §2.5: dropout and batch size, Table 2 ranges).
CNN_TABLE2 = {
    "dropout": GridRange(0.0, 0.5, 0.05),
    "batch_size": GridRange(10, 100, 10, integer=True),
}


#: Trainer settings outside Table 2 that ``--space`` may fix or search, per model (name -> whether
#: its values are whole numbers; a switch is 0 or 1), e.g. ``--space readout_norm=1``.
EXTRA_SETTINGS = {
    "dmpnn": {"readout_norm": True, "input_bias": True, "attention": True,
              "windows_per_epoch": True, "initial_lr": False, "peak_lr": False, "final_lr": False},
    "cnn": {"pooled_head": True},
}


def parse_range(text: str, base: Mapping[str, GridRange],
                extra: Mapping[str, bool] | None = None) -> tuple[str, GridRange]:
    """``"name=low:high:step"`` or ``"name=value"`` as a ``(name, GridRange)`` overriding ``base``.

    ``extra`` names settings outside ``base`` that may be given too (name -> integer values).
    Raises :class:`InputError` for an unknown name or a malformed range.
    """
    extra = extra or {}
    name, sep, spec = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or (name not in base and name not in extra):
        raise InputError(f"--space {text!r}: expected NAME=LOW:HIGH:STEP or NAME=VALUE with NAME "
                         f"one of {', '.join([*base, *(n for n in extra if n not in base)])}")
    try:
        numbers = [float(p) for p in spec.split(":")]
    except ValueError as err:
        raise InputError(f"--space {text!r}: {spec!r} is not LOW:HIGH:STEP or a number") from err
    if len(numbers) == 1:
        numbers = [numbers[0], numbers[0], 1.0]
    if len(numbers) != 3:
        raise InputError(f"--space {text!r}: give LOW:HIGH:STEP or a single value")
    integer = base[name].integer if name in base else extra[name]
    return name, GridRange(*numbers, integer=integer)


def space_with(base: Mapping[str, GridRange], overrides=(),
               extra: Mapping[str, bool] | None = None) -> dict[str, GridRange]:
    """``base`` with ``NAME=LOW:HIGH:STEP`` strings from ``overrides`` applied (names of ``base``
    or of ``extra``, see :func:`parse_range`)."""
    space = dict(base)
    for text in overrides or ():
        name, grid = parse_range(text, base, extra)
        space[name] = grid
    return space


def space_to_json(space: Mapping[str, GridRange]) -> dict:
    return {name: asdict(grid) for name, grid in space.items()}


def space_from_json(data: Mapping) -> dict[str, GridRange]:
    return {name: GridRange(**grid) for name, grid in data.items()}


def hyperopt_space(space: Mapping[str, GridRange]) -> dict:
    """hyperopt expressions over grid indices for every range with more than one value."""
    from hyperopt import hp

    return {name: hp.quniform(name, -0.5, grid.size - 0.5, 1)
            for name, grid in space.items() if grid.size > 1}


def decode(space: Mapping[str, GridRange], vals: Mapping) -> dict:
    """Hyperparameters from hyperopt's index values (fixed ranges give their one value)."""
    out = {}
    for name, grid in space.items():
        raw = vals.get(name, 0)
        if isinstance(raw, (list, tuple)):
            raw = raw[0]
        out[name] = grid.value(raw)
    return out


# ----------------------------------------------------------------------------- the trial log

@dataclass
class TrialLog:
    """The persisted trials of one search: a JSON file rewritten atomically after every trial."""

    path: Path
    space: dict
    seed: int
    records: list

    @classmethod
    def open(cls, path, space: Mapping[str, GridRange], seed: int) -> "TrialLog":
        """Read ``path`` if it exists (checking it was made with ``space``), else start empty."""
        path = Path(path)
        if not path.exists():
            return cls(path, dict(space), int(seed), [])
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise InputError(f"{path} is not valid JSON ({err}); delete it to restart the search") from err
        if data.get("kind") != LOG_KIND:
            raise InputError(f"{path} is not a search trial log")
        if data.get("space") != space_to_json(space) or int(data.get("seed", -1)) != int(seed):
            raise InputError(f"{path} was written by a search with a different space or seed; "
                             "rerun with the same settings, or use another output folder")
        return cls(path, dict(space), int(seed), list(data.get("trials", [])))

    def append(self, record: dict) -> None:
        self.records.append(record)
        write_json_atomic(self.path, {"kind": LOG_KIND, "space": space_to_json(self.space),
                                      "seed": self.seed, "trials": self.records})

    def hyperopt_trials(self):
        """A :class:`hyperopt.Trials` holding every finished trial as a done document."""
        from hyperopt import JOB_STATE_DONE, STATUS_OK, Trials
        from hyperopt.fmin import generate_trial

        trials = Trials()
        docs = []
        for record in self.records:
            doc = generate_trial(int(record["tid"]), {k: float(v) for k, v in record["vals"].items()})
            doc["state"] = JOB_STATE_DONE
            doc["result"] = {"loss": float(record["loss"]), "status": STATUS_OK}
            docs.append(doc)
        if docs:
            trials.insert_trial_docs(docs)
        trials.refresh()
        return trials


def _record(tid: int, vals: Mapping, params: dict, result: Mapping, seconds: float) -> dict:
    auc = result.get("auc")
    if auc is None or not math.isfinite(float(auc)):
        raise RuntimeError(f"trial {tid} with {params} returned no finite AUC ({auc!r}); the "
                           "validation set must hold both glass and liquid configurations")
    extra = {k: v for k, v in result.items() if k != "auc"}
    return {"tid": int(tid), "vals": {k: float(v) for k, v in vals.items()}, "params": params,
            "auc": float(auc), "loss": -float(auc), **extra, "seconds": float(seconds),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


def best_trial(records: list[dict]) -> dict:
    """The trial with the highest AUC (the earliest of equals)."""
    if not records:
        raise InputError("the search has no finished trials")
    return max(records, key=lambda r: (r["auc"], -r["tid"]))


# ----------------------------------------------------------------------------- running a search

def run_search(objective: Callable[[dict], Mapping], space: Mapping[str, GridRange], log_path,
               n_trials: int, seed: int = 0, startup_trials: int = DEFAULT_STARTUP_TRIALS,
               ray_address: str | None = None, resources_per_trial: Mapping | None = None,
               log: Callable[[str], None] = print) -> list[dict]:
    """Run (or resume) a TPE search until ``log_path`` holds ``n_trials`` finished trials.

    Parameters
    ----------
    objective : picklable ``objective(params) -> {"auc": float, ...}``.
    space : name -> :class:`GridRange`.
    log_path : the JSON trial log (created, or resumed if it exists).
    n_trials : total number of trials (finished ones included).
    seed : seeds TPE's proposals.
    startup_trials : random trials before TPE's model takes over (hyperopt ``n_startup_jobs``).
    ray_address : None to run in-process; otherwise a Ray address ("auto", "ray://host:10001",
        or "local" to start a Ray instance on this machine), and the trials run as Ray Tune trials.
    resources_per_trial : Ray resources of one trial, default ``{"cpu": 1}``.
    log : called with one line per finished trial.

    Returns
    -------
    The finished trial records, in order of completion.
    """
    if n_trials < 1:
        raise InputError(f"the search needs at least one trial, got {n_trials}")
    if not hyperopt_space(space):
        raise InputError("every hyperparameter range is a single value; there is nothing to search")
    trial_log = TrialLog.open(log_path, space, seed)
    if len(trial_log.records) >= n_trials:
        return trial_log.records[:n_trials]
    if trial_log.records:
        log(f"resuming the search: {len(trial_log.records)} of {n_trials} trials done ({log_path})")
    if ray_address is None:
        _run_in_process(objective, trial_log, n_trials, startup_trials, log)
    else:
        _run_on_ray(objective, trial_log, n_trials, startup_trials, ray_address,
                    dict(resources_per_trial or {"cpu": 1}), log)
    return trial_log.records


def _run_in_process(objective, trial_log: TrialLog, n_trials: int, startup_trials: int, log) -> None:
    from hyperopt import STATUS_OK, fmin, tpe

    space = trial_log.space
    algo = functools.partial(tpe.suggest, n_startup_jobs=int(startup_trials))

    while len(trial_log.records) < n_trials:
        tid = len(trial_log.records)
        trials = trial_log.hyperopt_trials()

        def evaluate(vals, tid=tid):
            params = decode(space, vals)
            began = time.perf_counter()
            result = dict(objective(params))
            record = _record(tid, vals, params, result, time.perf_counter() - began)
            # persisted before hyperopt hears of it: a kill after this line loses nothing
            trial_log.append(record)
            log(_trial_line(record, n_trials))
            return {"loss": record["loss"], "status": STATUS_OK}

        # the space samples grid indices, so fmin hands ``evaluate`` the trial's raw "vals"
        fmin(evaluate, hyperopt_space(space), algo=algo, max_evals=tid + 1, trials=trials,
             rstate=np.random.default_rng([int(trial_log.seed), tid]), show_progressbar=False,
             verbose=False)


def _trial_line(record: dict, n_trials: int) -> str:
    params = ", ".join(f"{k}={v}" for k, v in record["params"].items())
    return (f"trial {record['tid'] + 1}/{n_trials}: auc {record['auc']:.4f}  ({params})  "
            f"{record['seconds']:.0f} s")


class _RayTrainable:
    """A Ray Tune function trainable: decode the indices, run the objective, report the result."""

    def __init__(self, objective, space: dict):
        self.objective = objective
        self.space = space

    def __call__(self, config: dict) -> None:
        from ray import tune

        began = time.perf_counter()
        result = dict(self.objective(decode(self.space, config)))
        result["seconds"] = time.perf_counter() - began
        tune.report(result)


def _run_on_ray(objective, trial_log: TrialLog, n_trials: int, startup_trials: int,
                address: str, resources: dict, log) -> None:
    try:
        import ray
        from ray import tune
        from ray.tune.search.hyperopt import HyperOptSearch
    except ImportError as err:
        raise InputError("--ray-address needs Ray Tune: pip install 'ray[tune]'") from err

    space = trial_log.space
    started_here = False
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
        started_here = True
    cluster = ray.cluster_resources()
    for key, amount in resources.items():
        if cluster.get(key.upper() if key in ("cpu", "gpu") else key, 0) < amount:
            raise InputError(f"one trial asks for {amount} {key}, but the Ray cluster at "
                             f"{address} has {cluster.get(key.upper(), 0)}")

    searcher = HyperOptSearch(hyperopt_space(space), metric="auc", mode="max",
                              n_initial_points=int(startup_trials),
                              random_state_seed=int(trial_log.seed))
    # the finished trials of the JSON log become the searcher's history (no Ray checkpoint needed)
    searcher.set_state({"hyperopt_trials": trial_log.hyperopt_trials(),
                        "rstate": np.random.RandomState(
                            [int(trial_log.seed), len(trial_log.records)]).get_state()})

    class LogFinishedTrials(tune.Callback):
        """Append every finished Ray trial to the JSON log, in the driver, as it completes."""

        def on_trial_complete(self, iteration, trials, trial, **info):
            result = {k: v for k, v in trial.last_result.items()
                      if k == "auc" or k in ("accuracy", "inner_test_auc", "inner_test_accuracy",
                                             "frame_auc", "train_loss")}
            vals = {k: trial.config[k] for k in hyperopt_space(space)}
            record = _record(len(trial_log.records), vals, decode(space, vals), result,
                             float(trial.last_result.get("seconds", float("nan"))))
            record["ray_trial_id"] = trial.trial_id
            trial_log.append(record)
            log(_trial_line(record, n_trials))

    storage = (Path(trial_log.path).parent / "ray").resolve()
    cpus = float(resources.get("cpu", 1))
    gpus = float(resources.get("gpu", 0))
    trainable = tune.with_resources(_RayTrainable(objective, space), {"cpu": cpus, "gpu": gpus})
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher,
                                    num_samples=n_trials - len(trial_log.records)),
        run_config=tune.RunConfig(name=f"search_{int(time.time())}", storage_path=str(storage),
                                  callbacks=[LogFinishedTrials()], verbose=0))
    try:
        results = tuner.fit()
        errors = [r.error for r in results if r.error is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} Ray trial(s) failed; the first: {errors[0]}")
    finally:
        if started_here:
            ray.shutdown()
