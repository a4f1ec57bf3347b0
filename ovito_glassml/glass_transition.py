"""The glass transition temperature from inherent-structure energies (paper Fig. 1).

The mean inherent-structure energy per particle, E_IS(T), of a cooling run ensemble falls
linearly in the supercooled liquid and much more slowly (nearly flat) in the glass. We fit two
straight lines that meet at a breakpoint, ``E = a + b T + c max(T - Tg, 0)``, and choose Tg by
least squares over all breakpoints (no hand-picked regimes): the fit is linear in (a, b, c) for a
given Tg, so the residual is a one-dimensional function of Tg, minimised over a 2000-point grid. Tg's uncertainty is the standard deviation over bootstrap resamples of the runs.

Above T ~ 1 the liquid samples the top of its energy landscape, where E_IS saturates and is no
longer linear in T; ``t_max`` (default 1.0) bounds the fitted range so that the two regimes the
paper names (supercooled liquid, glass) are the only ones in the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class TwoLineFit:
    """Two lines meeting at ``tg``: glass ``e = a + b T`` (T < tg), liquid slope ``b + c`` above."""

    tg: float
    a: float
    b: float
    c: float
    sse: float

    def predict(self, temperature) -> np.ndarray:
        t = np.asarray(temperature, dtype=float)
        return self.a + self.b * t + self.c * np.maximum(t - self.tg, 0.0)

    @property
    def glass_slope(self) -> float:
        return self.b

    @property
    def liquid_slope(self) -> float:
        return self.b + self.c


def _design(tg: float, t: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(t), t, np.maximum(t - tg, 0.0)])


def _breakpoint_grid(t: np.ndarray, min_points: int, size: int = 2000) -> np.ndarray:
    uniq = np.unique(t)
    if len(uniq) < 2 * min_points:
        raise InputError(f"the Tg fit needs at least {2 * min_points} distinct temperatures, "
                         f"got {len(uniq)}; save more temperatures (e.g. --preset paper)")
    return np.linspace(uniq[min_points - 1], uniq[-min_points], size)


def _residual_makers(grid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For every breakpoint g, the matrix I - X_g pinv(X_g) that maps E to the fit's residuals."""
    designs = np.stack([_design(g, t) for g in grid])          # (G, n, 3)
    hat = designs @ np.linalg.pinv(designs)                      # (G, n, n)
    return np.eye(len(t))[None] - hat


def best_breakpoints(t, energies, min_points: int = 3, grid_size: int = 2000) -> np.ndarray:
    """Least-squares breakpoint for each row of ``energies`` (shape (B, n)), on a grid."""
    t = np.asarray(t, dtype=float)
    grid = _breakpoint_grid(t, min_points, grid_size)
    resid = np.einsum("gij,bj->bgi", _residual_makers(grid, t), np.atleast_2d(energies))
    return grid[np.argmin((resid ** 2).sum(axis=2), axis=1)]


def fit_two_lines(temperature, energy, min_points: int = 3) -> TwoLineFit:
    """Least-squares breakpoint fit of two lines to E(T); at least ``min_points`` on each side."""
    t = np.asarray(temperature, dtype=float)
    e = np.asarray(energy, dtype=float)
    tg = float(best_breakpoints(t, e[None], min_points)[0])
    design = _design(tg, t)
    (a, b, c), *_ = np.linalg.lstsq(design, e, rcond=None)
    resid = design @ np.array([a, b, c]) - e
    return TwoLineFit(tg=tg, a=float(a), b=float(b), c=float(c), sse=float(resid @ resid))


@dataclass(frozen=True)
class GlassTransition:
    """Tg of one cooling rate with a bootstrap uncertainty over runs."""

    tg: float
    tg_err: float
    n_runs: int
    t_cool: int
    fit: TwoLineFit
    temperatures: np.ndarray
    mean_e_is: np.ndarray
    std_e_is: np.ndarray
    t_max: float
    bootstrap_tg: np.ndarray

    def as_dict(self) -> dict:
        return {"tg": self.tg, "tg_err": self.tg_err, "n_runs": self.n_runs, "t_cool": self.t_cool,
                "t_max": self.t_max, "glass_slope": self.fit.glass_slope,
                "liquid_slope": self.fit.liquid_slope, "intercept": self.fit.a,
                "n_bootstrap": int(len(self.bootstrap_tg)),
                "temperatures": self.temperatures.tolist(), "mean_e_is": self.mean_e_is.tolist(),
                "std_e_is": self.std_e_is.tolist()}


def energy_table(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(temperatures, run seeds, E_IS matrix [run, temperature]) from manifest rows of one rate.

    Only temperatures that every run saved are kept, so every mean is over the same runs.
    """
    seeds = np.array(sorted({r["seed"] for r in rows}))
    per_run = [{r["temperature"] for r in rows if r["seed"] == s} for s in seeds]
    temps = np.array(sorted(set.intersection(*per_run)))
    table = np.full((len(seeds), len(temps)), np.nan)
    si = {s: i for i, s in enumerate(seeds)}
    ti = {t: j for j, t in enumerate(temps)}
    for r in rows:
        if r["temperature"] in ti:
            table[si[r["seed"]], ti[r["temperature"]]] = r["e_is"]
    return temps, seeds, table


def glass_transition(rows: list[dict], t_max: float = 1.0, n_bootstrap: int = 1000,
                     rng=0) -> GlassTransition:
    """Tg from manifest rows of one cooling rate (keys ``seed``, ``temperature``, ``e_is``, ``t_cool``)."""
    rates = {r["t_cool"] for r in rows}
    if len(rates) != 1:
        raise InputError(f"the manifest mixes cooling rates {sorted(rates)}; choose one with --t-cool")
    if any(r.get("e_is") in (None, "") or np.isnan(r["e_is"]) for r in rows):
        raise InputError("some manifest rows have no e_is; the Tg fit needs inherent-structure energies")
    temps, seeds, table = energy_table(rows)
    keep = temps <= t_max
    temps, table = temps[keep], table[:, keep]
    mean = table.mean(axis=0)
    fit = fit_two_lines(temps, mean)
    gen = np.random.default_rng(rng)
    picks = gen.integers(0, len(seeds), (n_bootstrap, len(seeds)))
    # a 500-point grid (steps of ~0.002 in T) is far finer than the bootstrap spread
    boot = best_breakpoints(temps, table[picks].mean(axis=1), grid_size=500)
    std = table.std(axis=0, ddof=1) if len(seeds) > 1 else np.zeros_like(mean)
    return GlassTransition(tg=fit.tg, tg_err=float(boot.std(ddof=1)) if n_bootstrap > 1 else float("nan"),
                           n_runs=len(seeds), t_cool=int(next(iter(rates))), fit=fit,
                           temperatures=temps, mean_e_is=mean, std_e_is=std, t_max=t_max,
                           bootstrap_tg=boot)


def plot_glass_transitions(results: list[GlassTransition], path, paper_tg: dict | None = None) -> None:
    """Paper Fig. 1: mean E_IS vs T per cooling rate, the two fitted lines and Tg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.2), squeeze=False)
    for ax, res in zip(axes[0], results):
        ax.errorbar(res.temperatures, res.mean_e_is, yerr=res.std_e_is, fmt="o", ms=4,
                    color="tab:blue", capsize=2, label=f"mean over {res.n_runs} runs (±1 sd)")
        tt = np.linspace(res.temperatures.min(), res.temperatures.max(), 200)
        glass = tt <= res.tg
        ax.plot(tt[glass], res.fit.predict(tt[glass]), "k:", lw=1.5)
        ax.plot(tt[~glass], res.fit.predict(tt[~glass]), "k:", lw=1.5)
        # extend each line past Tg, as in the paper's figure
        ax.plot(tt, res.fit.a + res.fit.b * tt, color="0.6", lw=0.8, ls="--")
        ax.plot(tt, res.fit.a + res.fit.b * res.tg + res.fit.liquid_slope * (tt - res.tg),
                color="0.6", lw=0.8, ls="--")
        ax.axvline(res.tg, color="tab:red", lw=1)
        label = f"Tg = {res.tg:.3f} ± {res.tg_err:.3f}"
        if paper_tg and res.t_cool in paper_tg:
            label += f" (paper {paper_tg[res.t_cool]})"
        ax.set_title(f"t_cool = {res.t_cool:.0e} steps\n{label}", fontsize=10)
        ax.set_xlabel("T (LJ units)")
        ax.set_ylabel("inherent-structure energy per particle")
        lo = res.mean_e_is.min() - 0.01
        hi = res.mean_e_is.max() + 0.01
        ax.set_ylim(lo, hi)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


#: The paper's values (Swanson et al. 2020, §2.2) for the figure's labels.
PAPER_TG = {200_000: 0.39, 20_000_000: 0.37}


def fit_campaign(manifest, out, t_cool=None, t_max: float = 1.0,
                 n_bootstrap: int = 1000, seeds=None) -> list[GlassTransition]:
    """Tg of every cooling rate of a ``glassml simulate`` manifest, written to ``out``.

    Writes ``tcool_<rate>.json`` per rate (with the paper's Tg where it has one), ``tg.json``
    when there is one rate, and the figure ``tg.png``. ``t_cool`` lists the rates to fit
    (default: all); ``seeds`` keeps only those runs (e.g. a model's training runs).
    """
    from .datasets import read_manifest, rows_of_seeds
    from .fileio import atomic_path, write_json_atomic

    rows = read_manifest(manifest)
    if "e_is" not in rows[0] or "t_cool" not in rows[0]:
        raise InputError(f"{manifest} has no e_is/t_cool columns; is it a `glassml simulate` "
                         "manifest?")
    rows = rows_of_seeds(rows, seeds)
    if not rows:
        raise InputError(f"{manifest} has no runs with seeds {sorted(seeds)}")
    rates = sorted({r["t_cool"] for r in rows}, reverse=True)
    chosen = t_cool or rates
    missing = set(chosen) - set(rates)
    if missing:
        raise InputError(f"no rows with t_cool={sorted(missing)}; the manifest has {rates}")
    results = [glass_transition([r for r in rows if r["t_cool"] == tc], t_max=t_max,
                                n_bootstrap=n_bootstrap) for tc in chosen]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for res in results:
        info = res.as_dict()
        if res.t_cool in PAPER_TG:
            info["paper_tg"] = PAPER_TG[res.t_cool]
        write_json_atomic(out / f"tcool_{res.t_cool}.json", info)
    if len(results) == 1:
        write_json_atomic(out / "tg.json", results[0].as_dict())
    with atomic_path(out / "tg.png") as tmp:
        plot_glass_transitions(results, str(tmp) + ".png", PAPER_TG)
        Path(str(tmp) + ".png").replace(tmp)
    return results
