"""Cooling campaigns of the Kob-Andersen glass formers (2D 65:35 and 3D 80:20), run by LAMMPS.

One run = one seed cooled linearly from T=2.0 to T=0.05 over ``t_cool`` steps by a plain LAMMPS
input, ``lammps_scripts/ka2d_cool.in`` or ``ka3d_cool.in`` (one per simulated system, registered
in :data:`SYSTEMS`). The Python driver executes *that same file* through the ``lammps`` module
(``lmp.file``) with the same ``-var`` overrides, so a run made by ``lmp -in ka2d_cool.in -var seed
S ...`` and a run made by :func:`run_simulation` are the same trajectory, byte for byte
(``tests/test_simulation.py`` checks it, in 2D and 3D).

A campaign is resumable: a run writes into a private ``.partial`` folder that becomes
``tcool<t_cool>/seed<seed>/`` in one atomic rename once everything in it is complete, and the
``manifest.csv`` is rebuilt atomically from the finished run folders. A campaign killed at any
moment and started again skips the finished runs and redoes the interrupted ones.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import socket
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from .errors import InputError
from .fileio import write_csv_atomic

T_HOT = 2.0
T_COLD = 0.05


def given_sides(box_length) -> tuple[float, ...]:
    """A box as given: one side (square or cubic) or one per axis, as floats."""
    if isinstance(box_length, (int, float)):
        return (float(box_length),)
    try:
        return tuple(float(x) for x in box_length)
    except (TypeError, ValueError) as err:
        raise InputError(f"cannot read box lengths {box_length!r}") from err


@dataclass(frozen=True)
class SimulatedSystem:
    """A glass former this package can simulate: its LAMMPS input and its composition."""

    name: str
    script: str
    dimension: int
    fraction_a: float
    description: str
    #: N must split into whole particles at ``fraction_a`` (the paper's 2D rule); else the input
    #: makes round(fraction_a * N) A particles (the 3D literature's N = 4096: 3277 A + 819 B)
    exact_composition: bool = True


#: The systems ``glassml simulate --system`` knows, one LAMMPS input each.
SYSTEMS: dict[str, SimulatedSystem] = {
    "ka2d": SimulatedSystem("ka2d", "ka2d_cool.in", 2, 0.65,
                            "2D Kob-Andersen 65:35 (Swanson et al. 2020)"),
    "ka3d": SimulatedSystem("ka3d", "ka3d_cool.in", 3, 0.80,
                            "3D Kob-Andersen 80:20 (Kob & Andersen 1995)",
                            exact_composition=False),
}
FRACTION_A = SYSTEMS["ka2d"].fraction_a

#: Liquid temperatures of datasets 1-5 and the glass temperature (paper Fig. 1).
DATASET_TEMPERATURES = (1.99, 1.76, 0.96, 0.55, 0.44, 0.05)
#: 3D: liquids of datasets 1-5 (1.99, 1.0, 0.7, 0.55, 0.5) and the glass; a grid dense around
#: Tg and the mode-coupling T_c = 0.435 for the E_IS(T) fit and the metrics against T.
KA3D_GRID = (1.99, 1.5, 1.0, 0.8, 0.7, 0.6, 0.55, 0.5, 0.47, 0.45, 0.43, 0.41, 0.39, 0.37,
             0.35, 0.33, 0.31, 0.28, 0.24, 0.2, 0.12, 0.05)
#: A grid for the E_IS(T) curve and the Tg fit, with the dataset temperatures included.
TG_GRID = (1.99, 1.76, 1.5, 1.25, 0.96, 0.85, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.47, 0.44,
           0.41, 0.38, 0.35, 0.32, 0.29, 0.26, 0.23, 0.2, 0.15, 0.1, 0.05)

#: ``path`` is the instantaneous configuration, ``is_path`` its inherent structure (FIRE-minimised);
#: ``e_is``/``e_inst`` are per particle, for the unshifted Kob-Andersen potential (the paper's scale).
MANIFEST_COLUMNS = ["path", "is_path", "seed", "t_cool", "temperature", "e_is", "e_inst", "t_kinetic",
                    "step", "n_particles", "box_x", "box_y", "box_z"]


@dataclass(frozen=True)
class SimulationConfig:
    """Physical and numerical parameters of one cooling run (LJ units).

    The defaults are the paper's system: N=4320 in a 60x60 periodic box (density 1.2),
    Nose-Hoover NVT, T ramped 2.0 -> 0.05 over ``t_cool`` steps. ``system`` names the glass
    former (a key of :data:`SYSTEMS`); ``box_length`` is the side of its square or cubic box,
    or one side per axis (``(Lx, Ly)`` in 2D, ``(Lx, Ly, Lz)`` in 3D) for a rectangular one.
    """

    system: str = "ka2d"
    n_particles: int = 4320
    box_length: float | tuple[float, ...] = 60.0
    t_cool: int = 200_000
    t_melt: int = 20_000
    temperatures: tuple[float, ...] = DATASET_TEMPERATURES
    timestep: float = 0.005
    tdamp: float = 0.5
    ftol: float = 1e-2
    pair_suffix: str | None = "opt"
    gzip: bool = False

    def validate(self) -> "SimulationConfig":
        """Raise :class:`InputError` naming the first bad parameter; return self."""
        if self.system not in SYSTEMS:
            raise InputError(f"unknown system {self.system!r}; choose one of {', '.join(SYSTEMS)}")
        system = SYSTEMS[self.system]
        n_a = system.fraction_a * self.n_particles
        split = f"{round(100 * system.fraction_a)}:{round(100 * (1 - system.fraction_a))}"
        if system.exact_composition and abs(n_a - round(n_a)) > 1e-9:
            raise InputError(f"N={self.n_particles} cannot be split {split} into whole "
                             "particles; choose N as a multiple of 20 (the paper uses 4320)")
        if self.n_particles < 3 or not 0 < round(n_a) < self.n_particles:
            raise InputError(f"N={self.n_particles} is too small to hold both species {split}")
        sides = given_sides(self.box_length)
        if len(sides) not in (1, system.dimension):
            raise InputError(f"the {system.dimension}D box takes one side or {system.dimension} "
                             f"sides, got {len(sides)}: {self.box_length}")
        if not all(math.isfinite(x) and x > 0 for x in sides):
            raise InputError(f"box lengths must be positive, got {self.box_length}")
        if self.t_cool <= 0:
            raise InputError(f"t_cool must be a positive number of steps, got {self.t_cool}")
        if self.t_melt < 0:
            raise InputError(f"t_melt must be >= 0, got {self.t_melt}")
        if not self.temperatures:
            raise InputError("no temperatures to save; give at least one in [0.05, 2.0]")
        for temp in self.temperatures:
            if not T_COLD <= temp <= T_HOT:
                raise InputError(
                    f"temperature {temp} is outside the cooling ramp {T_HOT} -> {T_COLD}; "
                    "saved temperatures must lie in [0.05, 2.0]")
        if len(set(self.temperatures)) != len(self.temperatures):
            raise InputError("saved temperatures must be distinct")
        if self.timestep <= 0 or self.tdamp <= 0 or self.ftol <= 0:
            raise InputError("timestep, tdamp and ftol must be positive")
        return self

    @property
    def sorted_temperatures(self) -> tuple[float, ...]:
        return tuple(sorted(self.temperatures, reverse=True))

    def lammps_variables(self, seed: int, outdir: str | os.PathLike) -> list[str]:
        """The ``-var`` arguments that turn the plain input into this run."""
        sides = self.box_lengths
        args = ["-var", "seed", str(int(seed)), "-var", "N", str(self.n_particles),
                "-var", "L", repr(sides[0])]
        if len(set(sides)) > 1:  # a rectangular box; a square or cubic one keeps the plain line
            args += [arg for name, side in zip(("Ly", "Lz"), sides[1:])
                     for arg in ("-var", name, repr(side))]
        args += ["-var", "t_cool", str(int(self.t_cool)),
                "-var", "t_melt", str(int(self.t_melt)), "-var", "dt", repr(float(self.timestep)),
                "-var", "tdamp", repr(float(self.tdamp)), "-var", "ftol", repr(float(self.ftol)),
                "-var", "outdir", str(outdir), "-var", "gzip", "yes" if self.gzip else "no",
                "-var", "temps"]
        args += [format_temperature(t) for t in self.sorted_temperatures]
        return args

    def lammps_command_line(self, seed: int, outdir) -> list[str]:
        """Full argument list (without the executable) shared by ``lmp`` and the driver."""
        args = ["-log", "none", "-screen", "none", "-nocite"]
        if self.pair_suffix:
            args += ["-sf", self.pair_suffix]
        return args + self.lammps_variables(seed, outdir)


    @property
    def simulated_system(self) -> SimulatedSystem:
        return SYSTEMS[self.system]

    @property
    def box_lengths(self) -> tuple[float, ...]:
        """One side per axis."""
        sides = given_sides(self.box_length)
        return sides * self.simulated_system.dimension if len(sides) == 1 else sides


#: Documented presets of the 2D system. ``paper`` is the paper's system and fast cooling rate
#: with the Tg grid; ``paper-slow`` its slow rate (2e7 steps: a cluster job); ``demo`` a quarter
#: of the paper's system at density 1.2 cooled 10x faster (``make demo``); ``small`` is for tests.
PRESETS: dict[str, SimulationConfig] = {
    "paper": SimulationConfig(t_cool=200_000, temperatures=TG_GRID),
    "paper-slow": SimulationConfig(t_cool=20_000_000, temperatures=TG_GRID),
    "demo": SimulationConfig(n_particles=1080, box_length=30.0, t_cool=20_000, t_melt=5000,
                             temperatures=(1.99, 1.5, 0.96, 0.8, 0.7, 0.6, 0.55, 0.5, 0.44, 0.38,
                                           0.32, 0.26, 0.2, 0.14, 0.05)),
    "small": SimulationConfig(n_particles=240, box_length=(240 / 1.2) ** 0.5, t_cool=4000,
                              t_melt=1000, temperatures=(1.99, 0.96, 0.44, 0.05)),
}

#: Presets of the 3D system: ``campaign`` the benchmark size of the glass literature (N=4096,
#: L=15.0566, density 1.2) at t_cool 2e5 on :data:`KA3D_GRID`; ``demo`` N=1000; ``small`` tests.
KA3D_PRESETS: dict[str, SimulationConfig] = {
    "campaign": SimulationConfig(system="ka3d", n_particles=4096, box_length=15.0566,
                                 t_cool=200_000, temperatures=KA3D_GRID),
    "demo": SimulationConfig(system="ka3d", n_particles=1000, box_length=(1000 / 1.2) ** (1 / 3),
                             t_cool=20_000, t_melt=5000,
                             temperatures=(1.99, 1.0, 0.7, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2,
                                           0.05)),
    "small": SimulationConfig(system="ka3d", n_particles=320, box_length=(320 / 1.2) ** (1 / 3),
                              t_cool=4000, t_melt=1000, temperatures=(1.99, 0.7, 0.5, 0.05)),
}

#: Every system's presets, looked up by ``config_from_preset``.
SYSTEM_PRESETS: dict[str, dict[str, SimulationConfig]] = {"ka2d": PRESETS, "ka3d": KA3D_PRESETS}


def format_temperature(temp: float) -> str:
    """Temperatures as they appear in file names (``T0.44.dump``)."""
    return f"{temp:.4g}"


def input_script(system: str = "ka2d") -> Path:
    """Path of the plain LAMMPS input that every run of ``system`` executes."""
    return Path(str(resources.files("ovito_glassml.lammps_scripts") / SYSTEMS[system].script))


def run_dir(outdir, t_cool: int, seed: int) -> Path:
    return Path(outdir) / f"tcool{int(t_cool)}" / f"seed{int(seed)}"


def run_simulation(config: SimulationConfig, seed: int, outdir) -> Path | None:
    """Run one cooling run with the ``lammps`` module; return its finished folder.

    Does nothing when the run's folder already exists (a finished run), and returns None without
    running when another live process on this host is running the same seed into the same folder.
    """
    config.validate()
    if int(seed) < 1:
        raise InputError(f"seed {seed} is not allowed: LAMMPS needs seeds >= 1")
    final = run_dir(outdir, config.t_cool, seed)
    if (final / "run.csv").exists():
        return final
    partial_root = Path(outdir) / ".partial"
    # leftovers of an interrupted attempt at this same run are removed; other runs' folders are
    # left alone, and so is this run's folder while a live process on this host writes it (two
    # campaigns on one output folder share the work instead of destroying each other's run)
    prefix = f"tcool{config.t_cool}_seed{seed}_"
    for other in partial_root.glob(prefix + "*"):
        # the tag is everything after the prefix: host names may hold underscores
        owner = _live_owner(other.name[len(prefix):])
        if owner is not None:
            print(f"seed {seed}: process {owner} is running it into {other}; skipped",
                  file=sys.stderr)
            return None
        shutil.rmtree(other, ignore_errors=True)
    partial = partial_root / f"{prefix}{os.getpid()}@{socket.gethostname()}"
    partial.mkdir(parents=True)

    from ._lammps import lammps_module

    # run a private copy: the run folder records its exact input, and editing the package's
    # input while a campaign runs cannot change runs already under way
    script = partial / config.simulated_system.script
    shutil.copyfile(input_script(config.system), script)
    lmp = lammps_module().lammps(cmdargs=config.lammps_command_line(seed, partial))
    try:
        lmp.file(str(script))
    finally:
        lmp.close()

    rows = _rows_from_run(partial, config, seed, prefix=f"tcool{config.t_cool}/seed{seed}")
    write_csv_atomic(partial / "run.csv", rows, MANIFEST_COLUMNS)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # an interrupted rename cannot happen, but a stale empty folder can
        shutil.rmtree(final)
    os.replace(partial, final)
    return final


def _live_owner(tag: str) -> int | None:
    """The pid in a partial folder's ``PID@HOST`` tag if that process is alive on this host."""
    pid_text, _, host = tag.partition("@")
    if not pid_text.isdigit() or (host and host != socket.gethostname()):
        return None   # another host's run (or an unknown tag): treated as left over
    pid = int(pid_text)
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _rows_from_run(folder: Path, config: SimulationConfig, seed: int, prefix: str) -> list[dict]:
    energies = folder / "energies.txt"
    if not energies.exists():
        raise RuntimeError(f"LAMMPS finished without writing {energies}; see its log")
    rows = []
    for line in energies.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        temp, step, e_inst, e_is, t_kinetic = line.split()
        ext = "dump.gz" if config.gzip else "dump"
        name, is_name = f"T{temp}.{ext}", f"T{temp}_is.{ext}"
        for written in (name, is_name):
            if not (folder / written).exists():
                raise RuntimeError(f"LAMMPS did not write {folder / written}")
        rows.append({"path": f"{prefix}/{name}", "is_path": f"{prefix}/{is_name}", "seed": int(seed), "t_cool": config.t_cool,
                     "temperature": float(temp), "e_is": float(e_is), "e_inst": float(e_inst), "t_kinetic": float(t_kinetic),
                     "step": int(step), "n_particles": config.n_particles,
                     **dict(zip(("box_x", "box_y", "box_z"), config.box_lengths))})
    if len(rows) != len(config.temperatures):
        raise RuntimeError(f"run {folder} saved {len(rows)} of {len(config.temperatures)} temperatures")
    return rows


def write_manifest(outdir) -> Path:
    """Rebuild ``outdir/manifest.csv`` from every finished run folder (atomic)."""
    outdir = Path(outdir)
    rows: list[dict] = []
    for run_csv in sorted(outdir.glob("tcool*/seed*/run.csv"), key=_run_sort_key):
        with open(run_csv, newline="") as fh:
            rows.extend(csv.DictReader(fh))
    path = outdir / "manifest.csv"
    write_csv_atomic(path, rows, MANIFEST_COLUMNS)
    return path


def _run_sort_key(run_csv: Path):
    return (int(run_csv.parent.parent.name[5:]), int(run_csv.parent.name[4:]))


@dataclass
class Campaign:
    """An ensemble of independent cooling runs (one per seed) at one cooling rate."""

    config: SimulationConfig
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    outdir: Path = Path("runs")

    def pending_seeds(self) -> list[int]:
        return [s for s in self.seeds
                if not (run_dir(self.outdir, self.config.t_cool, s) / "run.csv").exists()]

    def run(self, processes: int | None = None, ray_address: str | None = None,
            progress: bool = True) -> Path:
        """Run every unfinished seed and return the manifest path.

        ``processes`` LAMMPS instances run side by side on this machine (default: one per
        core); with ``ray_address`` every run is a Ray task on that cluster instead.
        """
        self.config.validate()
        self.outdir = Path(self.outdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        pending = self.pending_seeds()
        from tqdm.auto import tqdm

        bar = tqdm(total=len(self.seeds), initial=len(self.seeds) - len(pending),
                   desc=f"t_cool={self.config.t_cool}", unit="run", disable=not progress)
        try:
            if ray_address:
                _run_on_ray(self.config, pending, self.outdir, ray_address, bar)
            else:
                _run_local(self.config, pending, self.outdir, processes, bar)
        finally:
            bar.close()
            write_manifest(self.outdir)
        return self.outdir / "manifest.csv"


def _run_local(config, seeds, outdir, processes, bar) -> None:
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(seeds) <= 1:
        for seed in seeds:
            run_simulation(config, seed, outdir)
            write_manifest(outdir)
            bar.update()
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: each worker imports LAMMPS and MPI afresh, nothing inherited from the parent
    with ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(run_simulation, config, seed, outdir) for seed in seeds]
        for fut in as_completed(futures):
            fut.result()
            write_manifest(outdir)
            bar.update()


def _run_on_ray(config, seeds, outdir, address, bar) -> None:
    try:
        import ray
    except ImportError as err:
        raise InputError("--ray-address needs Ray: pip install 'ovito-glassml[ray]'") from err
    ray.init(address=None if address == "local" else address, ignore_reinit_error=True,
             log_to_driver=False)
    remote = ray.remote(num_cpus=1)(run_simulation)
    # the output folder must be on a file system every node shares (as on SLURM clusters)
    pending = [remote.remote(config, seed, str(Path(outdir).resolve())) for seed in seeds]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        ray.get(done)
        write_manifest(outdir)
        bar.update(len(done))


def config_from_preset(name: str, system: str = "ka2d", **overrides) -> SimulationConfig:
    """A preset of ``system`` with some fields replaced (``None`` values are ignored).

    A new ``n_particles`` without a ``box_length`` scales the preset's box to keep its number
    density (1.2 for every preset), as a user asking for N = 1000 expects."""
    if system not in SYSTEM_PRESETS:
        raise InputError(f"unknown system {system!r}; choose one of {', '.join(SYSTEM_PRESETS)}")
    presets = SYSTEM_PRESETS[system]
    if name not in presets:
        raise InputError(f"unknown preset {name!r} of system {system}; choose one of "
                         f"{', '.join(presets)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    preset = presets[name]
    if "n_particles" in overrides and "box_length" not in overrides:
        factor = (overrides["n_particles"] / preset.n_particles) ** (1 / preset.simulated_system.dimension)
        sides = tuple(x * factor for x in given_sides(preset.box_length))
        overrides["box_length"] = sides[0] if len(sides) == 1 else sides
    return replace(preset, **overrides).validate()

