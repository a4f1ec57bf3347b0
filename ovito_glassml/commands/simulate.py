"""``glassml simulate``: a resumable ensemble of LAMMPS cooling runs and its manifest."""

from __future__ import annotations

from ..errors import InputError


def parse_seeds(text: str) -> list[int]:
    """'0-15' -> 0..15, '1,5,9' -> [1, 5, 9]; ranges and lists can be mixed."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                lo, hi = part.rsplit("-", 1)
                seeds.extend(range(int(lo), int(hi) + 1))
            elif part.strip():
                seeds.append(int(part))
    except ValueError as err:
        raise InputError(f"cannot read seeds {text!r}; write e.g. '0-15' or '1,5,9'") from err
    if not seeds:
        raise InputError("no seeds given")
    if min(seeds) < 1:
        raise InputError(f"seed {min(seeds)} is not allowed: LAMMPS needs seeds >= 1")
    return sorted(set(seeds))


def register(sub) -> None:
    p = sub.add_parser("simulate", help="cool a Kob-Andersen liquid (2D or 3D) with LAMMPS, save dumps + manifest.csv",
                       description="Run one LAMMPS cooling run per seed (resumable: finished runs are kept).")
    p.add_argument("--out", required=True, help="output folder (manifest.csv and dumps go here)")
    p.add_argument("--system", default="ka2d", choices=["ka2d", "ka3d"],
                   help="ka2d: the paper's 2D 65:35 mixture; ka3d: 3D Kob-Andersen 80:20 (default: ka2d)")
    p.add_argument("--preset", default="small",
                   help="ka2d: paper, paper-slow, demo, small; ka3d: campaign, demo, small (default: small)")
    p.add_argument("--seeds", default="1-4", help="e.g. 1-16 or 1,5,9; LAMMPS seeds are >= 1 (default: 1-4)")
    p.add_argument("--t-cool", type=int, help="cooling steps from T=2.0 to 0.05")
    p.add_argument("--n-particles", type=int, help="total particles (65%% type A in 2D, 80%% in 3D)")
    p.add_argument("--box", help="side of the square (2D) or cubic (3D) box (sigma_AA), or one side "
                   "per axis, e.g. 30,15,15 (default: the preset's, scaled to keep density 1.2 "
                   "when --n-particles is given)")
    p.add_argument("--t-melt", type=int, help="equilibration steps at T=2.0")
    p.add_argument("--temperatures", help="comma-separated temperatures to save, in [0.05, 2.0]")
    p.add_argument("--timestep", type=float)
    p.add_argument("--tdamp", type=float, help="Nose-Hoover damping time")
    p.add_argument("--ftol", type=float, help="FIRE force tolerance for inherent structures")
    p.add_argument("--pair-suffix", default=None,
                   help="LAMMPS accelerator suffix (default: opt; 'none' for the plain pair style)")
    p.add_argument("--gzip", action="store_true", help="write gzipped dumps (T<temp>.dump.gz)")
    p.add_argument("--processes", type=int, help="LAMMPS runs side by side (default: one per core)")
    p.add_argument("--ray-address", help="run every seed as a Ray task on this cluster ('local' starts one)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _numbers(text: str, what: str, hint: str) -> tuple[float, ...]:
    """Comma-separated numbers of an option, or an :class:`InputError` naming it."""
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError as err:
        raise InputError(f"cannot read {what} {text!r}{hint}") from err


def run(args) -> int:
    from ..simulation import Campaign, config_from_preset

    temps = _numbers(args.temperatures, "temperatures", "") if args.temperatures else None
    box = _numbers(args.box, "--box", ": give L or Lx,Ly[,Lz]") if args.box else None
    if box is not None and len(box) == 1:
        box = box[0]
    if args.processes is not None and args.processes < 1:
        raise InputError(f"--processes must be at least 1, got {args.processes}")
    suffix = args.pair_suffix
    if suffix is not None and suffix.lower() == "none":
        suffix = ""
    config = config_from_preset(
        args.preset, system=args.system, t_cool=args.t_cool, n_particles=args.n_particles, box_length=box,
        t_melt=args.t_melt, temperatures=temps, timestep=args.timestep, tdamp=args.tdamp,
        ftol=args.ftol, pair_suffix=suffix, gzip=args.gzip or None)
    campaign = Campaign(config, seeds=parse_seeds(args.seeds), outdir=args.out)
    manifest = campaign.run(processes=args.processes, ray_address=args.ray_address,
                            progress=not args.no_progress)
    print(f"wrote {manifest}")
    return 0
