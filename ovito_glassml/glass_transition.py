"""The glass transition temperature from inherent-structure energies (paper Fig. 1).

The mean inherent-structure energy per particle, E_IS(T), of a cooling-run ensemble has three
regimes (Sastry, Debenedetti & Stillinger, Nature 1998): above the onset temperature the liquid
samples the top of its landscape and E_IS is flat; between the onset and Tg it falls steeply (the
supercooled liquid); below Tg the glass is frozen and E_IS falls slowly. The project's Tg is the
lower break of a continuous piecewise-linear fit with three straight pieces over the whole
cooling curve (``method="regimes"``, the default). It has no fit range to choose: the curvature
of the liquid near the onset, which moves the paper's two-line fit with its upper limit ``t_max``
(in 3D from 0.29 at ``t_max`` 1.0 to 0.36 at 0.6), is absorbed by the third piece. In 2D it gives
0.398 +/- 0.008 on the 64-run campaign (the paper: 0.39).

The paper's two lines, ``E = a + b T + c max(T - Tg, 0)`` fitted on ``T <= t_max``, remain as
``method="two-line"``. In both, the breaks are chosen by least squares over a grid (the fit is
linear in the coefficients for given breaks, so the residual is a function of the breaks only),
Tg's uncertainty is the standard deviation over bootstrap resamples of the runs, and its
sensitivity is the range of Tg when any one temperature is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError

#: Tg is not settled by the runs when leaving out one temperature moves it by more than this
#: fraction of its value (the 64-run 2D campaign: 9%; two noisy N = 1000 3D runs: 35%).
UNSETTLED_SPREAD = 0.2

#: The fit methods of `glass_transition` and how many breaks each has.
METHODS = {"regimes": 2, "two-line": 1}


@dataclass(frozen=True)
class LineFit:
    """Continuous straight pieces meeting at ``breaks``; ``coef`` = (a, b, c_1, ...) of
    ``E = a + b T + sum_k c_k max(T - break_k, 0)``."""

    breaks: tuple[float, ...]
    coef: tuple[float, ...]
    sse: float

    def predict(self, temperature) -> np.ndarray:
        t = np.asarray(temperature, dtype=float)
        return _design(self.breaks, t) @ np.asarray(self.coef)

    @property
    def tg(self) -> float:
        return self.breaks[0]

    @property
    def onset(self) -> float | None:
        """The upper break (the onset of the landscape-influenced liquid), if the fit has one."""
        return self.breaks[1] if len(self.breaks) > 1 else None

    @property
    def slopes(self) -> list[float]:
        return list(np.cumsum(self.coef[1:]))

    @property
    def a(self) -> float:
        return self.coef[0]

    @property
    def glass_slope(self) -> float:
        return self.slopes[0]

    @property
    def liquid_slope(self) -> float:
        """The slope just above Tg (the supercooled liquid)."""
        return self.slopes[1]


def _design(breaks, t: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(t), t, *(np.maximum(t - g, 0.0) for g in breaks)])


def _candidate_breaks(t: np.ndarray, n_breaks: int, min_points: int, size: int) -> np.ndarray:
    """Grid of break tuples (B, n_breaks): ``min_points`` temperatures below the first and above
    the last, and at least two between consecutive breaks (so every piece is determined)."""
    uniq = np.unique(t)
    need = 2 * min_points + 2 * (n_breaks - 1)
    if len(uniq) < need:
        hint = "; or fit the paper's two lines (--method two-line)" if n_breaks > 1 else ""
        raise InputError(f"the Tg fit needs at least {need} distinct temperatures, "
                         f"got {len(uniq)}; save more temperatures (e.g. --preset paper){hint}")
    grid = np.linspace(uniq[min_points - 1], uniq[-min_points], size)
    if n_breaks == 1:
        return grid[:, None]
    lo, hi = np.triu_indices(size, 1)
    pairs = np.column_stack([grid[lo], grid[hi]])
    between = ((t[None, :] > pairs[:, :1]) & (t[None, :] < pairs[:, 1:])).sum(axis=1)
    return pairs[between >= 2]


def best_breaks(t, energies, n_breaks: int = 1, min_points: int = 3,
                grid_size: int | None = None) -> np.ndarray:
    """Least-squares breaks (B, n_breaks) for each row of ``energies`` (shape (B, n)), on a grid."""
    t = np.asarray(t, dtype=float)
    size = grid_size or (2000 if n_breaks == 1 else 160)
    candidates = _candidate_breaks(t, n_breaks, min_points, size)
    designs = np.stack([_design(c, t) for c in candidates])              # (G, n, p)
    makers = np.eye(len(t))[None] - designs @ np.linalg.pinv(designs)    # residual makers
    energies = np.atleast_2d(energies)
    best = []
    for chunk in np.array_split(energies, max(1, len(energies) // 50)):  # bounded memory
        resid = np.einsum("gij,bj->bgi", makers, chunk)
        best.append(candidates[np.argmin((resid ** 2).sum(axis=2), axis=1)])
    return np.concatenate(best)


def best_breakpoints(t, energies, min_points: int = 3, grid_size: int = 2000) -> np.ndarray:
    """The paper's single break for each row of ``energies`` (shape (B, n))."""
    return best_breaks(t, energies, 1, min_points, grid_size)[:, 0]


def fit_lines(temperature, energy, n_breaks: int = 1, min_points: int = 3) -> LineFit:
    """Least-squares fit of ``n_breaks + 1`` continuous straight pieces to E(T)."""
    t = np.asarray(temperature, dtype=float)
    e = np.asarray(energy, dtype=float)
    breaks = tuple(float(g) for g in best_breaks(t, e[None], n_breaks, min_points)[0])
    design = _design(breaks, t)
    coef, *_ = np.linalg.lstsq(design, e, rcond=None)
    resid = design @ coef - e
    return LineFit(breaks=breaks, coef=tuple(float(c) for c in coef), sse=float(resid @ resid))


def fit_two_lines(temperature, energy, min_points: int = 3) -> LineFit:
    """The paper's fit: two lines with a least-squares breakpoint, ``min_points`` on each side."""
    return fit_lines(temperature, energy, 1, min_points)


def fit_three_regimes(temperature, energy, min_points: int = 3) -> LineFit:
    """Glass, supercooled liquid and high-temperature liquid: Tg is ``.tg``, the onset ``.onset``."""
    return fit_lines(temperature, energy, 2, min_points)


@dataclass(frozen=True)
class GlassTransition:
    """Tg of one cooling rate: the fit, a bootstrap error over runs, and the range of Tg when
    any one temperature is left out (its sensitivity to the temperatures fitted)."""

    tg: float
    tg_err: float
    n_runs: int
    t_cool: int
    method: str
    fit: LineFit
    temperatures: np.ndarray
    mean_e_is: np.ndarray
    std_e_is: np.ndarray
    t_max: float | None
    bootstrap_tg: np.ndarray
    leave_one_out_tg: np.ndarray

    @property
    def settled(self) -> bool:
        """Whether the runs settle Tg: leaving out any one temperature moves it by less than
        `UNSETTLED_SPREAD` of its value (a few noisy runs of a small system do not)."""
        return float(np.ptp(self.leave_one_out_tg)) <= UNSETTLED_SPREAD * self.tg

    def as_dict(self) -> dict:
        return {"tg": self.tg, "tg_err": self.tg_err, "n_runs": self.n_runs, "t_cool": self.t_cool,
                "settled": self.settled,
                "method": self.method, "t_max": self.t_max,
                "onset_temperature": self.fit.onset, "breaks": list(self.fit.breaks),
                "slopes": self.fit.slopes, "glass_slope": self.fit.glass_slope,
                "liquid_slope": self.fit.liquid_slope, "intercept": self.fit.a,
                "tg_leave_one_temperature_out": [float(self.leave_one_out_tg.min()),
                                                 float(self.leave_one_out_tg.max())],
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


def glass_transition(rows: list[dict], method: str = "regimes", t_max: float | None = None,
                     n_bootstrap: int = 1000, rng=0) -> GlassTransition:
    """Tg from manifest rows of one cooling rate (keys ``seed``, ``temperature``, ``e_is``, ``t_cool``).

    ``method`` is ``"regimes"`` (three pieces over every temperature, the default) or
    ``"two-line"`` (the paper's fit on ``T <= t_max``, default ``t_max`` 1.0).
    """
    if method not in METHODS:
        raise InputError(f"unknown Tg method {method!r}; choose one of {sorted(METHODS)}")
    rates = {r["t_cool"] for r in rows}
    if len(rates) != 1:
        raise InputError(f"the manifest mixes cooling rates {sorted(rates)}; choose one with --t-cool")
    if any(r.get("e_is") in (None, "") or np.isnan(r["e_is"]) for r in rows):
        raise InputError("some manifest rows have no e_is; the Tg fit needs inherent-structure energies")
    if t_max is None and method == "two-line":
        t_max = 1.0
    temps, seeds, table = energy_table(rows)
    if t_max is not None:
        keep = temps <= t_max
        temps, table = temps[keep], table[:, keep]
    n_breaks = METHODS[method]
    mean = table.mean(axis=0)
    fit = fit_lines(temps, mean, n_breaks)
    gen = np.random.default_rng(rng)
    picks = gen.integers(0, len(seeds), (n_bootstrap, len(seeds)))
    # coarser grids for the resamples: still far finer than the bootstrap spread
    boot = best_breaks(temps, table[picks].mean(axis=1), n_breaks,
                       grid_size=500 if n_breaks == 1 else 100)[:, 0]
    leave_out = np.array([fit_lines(np.delete(temps, j), np.delete(mean, j), n_breaks).tg
                          for j in range(len(temps))])
    std = table.std(axis=0, ddof=1) if len(seeds) > 1 else np.zeros_like(mean)
    return GlassTransition(tg=fit.tg, tg_err=float(boot.std(ddof=1)) if n_bootstrap > 1 else float("nan"),
                           n_runs=len(seeds), t_cool=int(next(iter(rates))), method=method, fit=fit,
                           temperatures=temps, mean_e_is=mean, std_e_is=std, t_max=t_max,
                           bootstrap_tg=boot, leave_one_out_tg=leave_out)


def plot_glass_transitions(results: list[GlassTransition], path, paper_tg: dict | None = None) -> None:
    """Paper Fig. 1: mean E_IS vs T per cooling rate, the fitted pieces, Tg (and the onset)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.2), squeeze=False)
    for ax, res in zip(axes[0], results):
        ax.errorbar(res.temperatures, res.mean_e_is, yerr=res.std_e_is, fmt="o", ms=4,
                    color="tab:blue", capsize=2, label=f"mean over {res.n_runs} runs (±1 sd)")
        tt = np.linspace(res.temperatures.min(), res.temperatures.max(), 400)
        ax.plot(tt, res.fit.predict(tt), "k:", lw=1.5, label=f"{res.method} fit")
        # extend the glass line and the supercooled-liquid line past Tg, as in the paper's figure
        slopes = res.fit.slopes
        e_tg = res.fit.predict([res.tg])[0]
        ax.plot(tt, e_tg + slopes[0] * (tt - res.tg), color="0.6", lw=0.8, ls="--")
        ax.plot(tt, e_tg + slopes[1] * (tt - res.tg), color="0.6", lw=0.8, ls="--")
        ax.axvline(res.tg, color="tab:red", lw=1)
        if res.fit.onset is not None:
            ax.axvline(res.fit.onset, color="0.5", lw=0.8, ls=":")
        label = f"Tg = {res.tg:.3f} ± {res.tg_err:.3f}"
        if paper_tg and res.t_cool in paper_tg:
            label += f" (paper {paper_tg[res.t_cool]})"
        if res.fit.onset is not None:
            label += f", onset {res.fit.onset:.2f}"
        ax.set_title(f"t_cool = {res.t_cool:.0e} steps\n{label}", fontsize=10)
        ax.set_xlabel("T (LJ units)")
        ax.set_ylabel("inherent-structure energy per particle")
        span = res.mean_e_is.max() - res.mean_e_is.min()
        ax.set_ylim(res.mean_e_is.min() - 0.1 * span, res.mean_e_is.max() + 0.1 * span)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


#: The paper's values (Swanson et al. 2020, §2.2) for the figure's labels.
PAPER_TG = {200_000: 0.39, 20_000_000: 0.37}


#: Upper limits of the paper's two-line fit reported beside every Tg (its sensitivity).
TWO_LINE_T_MAX = (0.6, 0.7, 0.8, 1.0)


def two_line_sensitivity(rows: list[dict]) -> dict:
    """The paper's two-line Tg at each of `TWO_LINE_T_MAX` on the same runs ({t_max: Tg})."""
    temps, _, table = energy_table(rows)
    mean = table.mean(axis=0)
    out = {}
    for t_max in TWO_LINE_T_MAX:
        keep = temps <= t_max
        if len(np.unique(temps[keep])) >= 6:
            out[str(t_max)] = fit_two_lines(temps[keep], mean[keep]).tg
    return out


def fit_campaign(manifest, out, t_cool=None, method: str = "regimes", t_max: float | None = None,
                 n_bootstrap: int = 1000, seeds=None) -> list[GlassTransition]:
    """Tg of every cooling rate of a ``glassml simulate`` manifest, written to ``out``.

    Writes ``tcool_<rate>.json`` per rate (with the paper's Tg where it has one), ``tg.json``
    when there is one rate, and the figure ``tg.png``. ``t_cool`` lists the rates to fit
    (default: all); ``seeds`` keeps only those runs (e.g. a model's training runs).
    """
    from .datasets import is_3d_campaign, read_manifest, rows_of_seeds
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
    # the paper's values are for its 2D mixture
    paper_tg = None if is_3d_campaign(rows) else PAPER_TG
    results = [glass_transition([r for r in rows if r["t_cool"] == tc], method=method,
                                t_max=t_max, n_bootstrap=n_bootstrap) for tc in chosen]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    infos = []
    for res in results:
        info = res.as_dict()
        info["two_line_tg_by_t_max"] = two_line_sensitivity(
            [r for r in rows if r["t_cool"] == res.t_cool])
        if paper_tg and res.t_cool in paper_tg:
            info["paper_tg"] = paper_tg[res.t_cool]
        write_json_atomic(out / f"tcool_{res.t_cool}.json", info)
        infos.append(info)
    if len(results) == 1:
        write_json_atomic(out / "tg.json", infos[0])
    with atomic_path(out / "tg.png") as tmp:
        plot_glass_transitions(results, str(tmp) + ".png", paper_tg)
        Path(str(tmp) + ".png").replace(tmp)
    return results
