"""The structural metrics against temperature: means per temperature and the paper's Eq. 12.

Eq. 12 fits ``y = a0 + a1 T + a2 1[T>Tg] + a3 1[T>Tg] T`` to one metric over every frame by
ordinary least squares; ``a3 > 0`` with a small p-value means the metric falls faster above Tg
than below it. ``glassml metrics-vs-t`` (:mod:`ovito_glassml.commands.metrics_vs_t`) reads the
frames and writes the tables and Fig. 10.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import InputError

#: Eq. 12, as written into ``fit.json``.
EQ12 = "y = a0 + a1*T + a2*1[T>Tg] + a3*1[T>Tg]*T"


def metrics_vs_temperature(source, tg: float, out, annotate=None,
                           structure: str = "instantaneous") -> dict:
    """The paper's Fig. 10 and the Eq. 12 fits of the three metrics, written to ``out``.

    ``source`` is a ``glassml simulate`` manifest.csv (the metrics are computed through OVITO)
    or a frames.csv with a temperature column and the metrics (``glassml metrics`` /
    ``glassml classify``). Writes ``metrics_vs_t.csv`` (means per temperature), ``fit.json``
    (returned), ``metrics_vs_t.png`` and, for a manifest, ``frames.csv``; everything is computed
    before anything is written, so an error leaves no partial output. ``annotate``, if given,
    is called once the work is done; its dict joins ``fit.json`` (e.g. the command's provenance).
    ``structure="inherent"`` reads a manifest's inherent structures (its ``is_path`` column).
    """
    from .fileio import write_csv_atomic, write_json_atomic
    from .metrics import METRIC_NAMES

    source = Path(source)
    out = Path(out)
    if not source.exists():
        raise InputError(f"{source} does not exist")
    header = _header(source)
    if all(name in header for name in METRIC_NAMES):
        if structure != "instantaneous":
            raise InputError(f"{source} is a table of metrics already computed; inherent "
                             "structures are read from a `glassml simulate` manifest")
        if "temperature" not in header:
            raise InputError(f"{source} has no temperature column; run `glassml metrics` on a "
                             "manifest, or on a trajectory that carries the temperature")
        temperature, values = _read_frames_table(source)
        rows = None
    else:
        from .batch import metrics_rows

        rows = metrics_rows(str(source), structure=structure)
        temperature = np.array([r["temperature"] for r in rows], dtype=float)
        values = {name: np.array([r[name] for r in rows], dtype=float) for name in METRIC_NAMES}
    fits = {name: fit_change_of_slope(temperature, values[name], tg) for name in METRIC_NAMES}
    table = temperature_means(temperature, values)

    if rows is not None:
        from .batch import write_frames_table

        write_frames_table(out, rows)
    write_csv_atomic(out / "metrics_vs_t.csv", table, list(table[0].keys()))
    result = {"tg": tg, "structure": structure, "n_frames": int(len(temperature)), "model": EQ12,
              "metrics": fits,
              **(annotate() if annotate else {})}
    write_json_atomic(out / "fit.json", result)
    plot_metrics_vs_t(out / "metrics_vs_t.png", table, fits, tg)
    return dict(result, n_temperatures=len(table))


def fit_change_of_slope(temperature: np.ndarray, y: np.ndarray, tg: float) -> dict:
    """OLS fit of the paper's Eq. 12 to one metric; the coefficients, a3's error and p-values.

    ``a3_pvalue`` is the two-sided t-test of a3 = 0 that statsmodels reports;
    ``a3_pvalue_one_sided`` tests a3 > 0, the direction the paper reports.
    """
    import statsmodels.api as sm
    from scipy import stats

    above = (temperature > tg).astype(float)
    n_above = len(np.unique(temperature[above == 1]))
    n_below = len(np.unique(temperature[above == 0]))
    if n_above < 2 or n_below < 2:
        raise InputError(f"Tg = {tg:g} leaves {n_below} temperatures below and {n_above} above; "
                         "the fit needs at least two on each side to compare the slopes")
    if np.ptp(y) == 0:
        # a metric that never changes (e.g. one connected graph in every small frame) has no
        # slope on either side: nothing to test
        return {"a0": float(y[0]), "a1": 0.0, "a2": 0.0, "a3": 0.0, "a3_stderr": 0.0,
                "a3_pvalue": None, "a3_pvalue_one_sided": None, "r_squared": None,
                "n": int(len(y)), "constant": True}
    design = np.column_stack([np.ones_like(temperature), temperature, above, above * temperature])
    result = sm.OLS(y, design).fit()
    a3, se3 = float(result.params[3]), float(result.bse[3])
    one_sided = float(stats.t.sf(a3 / se3, result.df_resid)) if se3 > 0 else float("nan")
    return {"a0": float(result.params[0]), "a1": float(result.params[1]),
            "a2": float(result.params[2]), "a3": a3, "a3_stderr": se3,
            "a3_pvalue": float(result.pvalues[3]), "a3_pvalue_one_sided": one_sided,
            "r_squared": float(result.rsquared), "n": int(len(y))}


def pvalue_text(p) -> str:
    """A p-value for people: two digits, or 'n/a' where there was nothing to test."""
    return "n/a" if p is None else f"{p:.2g}"


def temperature_means(temperature: np.ndarray, values: dict[str, np.ndarray]) -> list[dict]:
    """Mean, standard deviation and count of each metric at each temperature, hottest first."""
    temps, inverse, counts = np.unique(temperature, return_inverse=True, return_counts=True)
    columns = {"temperature": temps, "n_frames": counts}
    for name, y in values.items():
        mean = np.bincount(inverse, weights=y) / counts
        var = np.bincount(inverse, weights=(y - mean[inverse]) ** 2) / counts
        columns[f"{name}_mean"] = mean
        columns[f"{name}_std"] = np.sqrt(var)
    order = np.argsort(-temps)
    return [{key: (col[i].item()) for key, col in columns.items()} for i in order]


def plot_metrics_vs_t(path: Path, table: list[dict], fits: dict, tg: float) -> None:
    """The paper's Fig. 10: each metric's mean ± std against T, the Eq. 12 lines and Tg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .fileio import atomic_path

    temps = np.array([r["temperature"] for r in table])
    fig, axes = plt.subplots(1, len(fits), figsize=(4.2 * len(fits), 3.6), dpi=120)
    grid = np.linspace(temps.min(), temps.max(), 200)
    for ax, (name, fit) in zip(np.atleast_1d(axes), fits.items()):
        mean = np.array([r[f"{name}_mean"] for r in table])
        std = np.array([r[f"{name}_std"] for r in table])
        ax.errorbar(temps, mean, yerr=std, fmt="o", ms=4, capsize=2, label="mean ± std")
        above = grid > tg
        line = fit["a0"] + fit["a1"] * grid + (fit["a2"] + fit["a3"] * grid) * above
        ax.plot(grid[~above], line[~above], "k-", lw=1)
        ax.plot(grid[above], line[above], "k-", lw=1, label="Eq. 12 fit")
        ax.axvline(tg, color="grey", ls="--", lw=1, label=f"Tg = {tg:.3g}")
        ax.set_xlabel("T")
        ax.set_title(f"{name.replace('_', ' ')}\na3 = {fit['a3']:.3g}, p = {pvalue_text(fit['a3_pvalue'])}",
                     fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return next(csv.reader(fh), [])
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{path} is not a manifest or a frames.csv: give the manifest.csv of "
                         "`glassml simulate` or the frames.csv of `glassml metrics` (a packed "
                         ".npz dataset goes where --data takes one)") from err


def _read_frames_table(path: Path):
    from .metrics import METRIC_NAMES

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InputError(f"{path} has no rows")
    try:
        temperature = np.array([float(r["temperature"]) for r in rows])
        values = {name: np.array([float(r[name]) for r in rows]) for name in METRIC_NAMES}
    except ValueError as err:
        raise InputError(f"{path} has a non-numeric temperature or metric ({err})") from err
    if np.any(np.isnan(temperature)):
        raise InputError(f"{path} has frames without a temperature; the fit needs T for each")
    return temperature, values
