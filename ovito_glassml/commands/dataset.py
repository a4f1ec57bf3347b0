"""``glassml dataset``: the paper's datasets 1-6 as packed files, from campaign manifests."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("dataset", help="build datasets 1-6 (glass vs liquid) from manifests",
                       description="Datasets 1-5: slow-cooled glass at T=0.05 vs liquid at 1.99, 1.76, "
                                   "0.96, 0.55, 0.44 (a 3D campaign: 1.99, 1.0, 0.7, 0.55, 0.5). "
                                   "Dataset 6: fast-cooled glass vs the slow-cooled "
                                   "liquid of the same mean inherent-structure energy.")
    p.add_argument("manifest", help="manifest.csv of the slow-cooling campaign")
    p.add_argument("--fast", help="manifest.csv of the fast-cooling campaign (for dataset 6)")
    p.add_argument("--t-cool-slow", type=int, help="use only rows with this t_cool from MANIFEST")
    p.add_argument("--t-cool-fast", type=int, help="use only rows with this t_cool from --fast")
    p.add_argument("--datasets", default="1,2,3,4,5,6", help="which datasets (default: all six)")
    p.add_argument("--inherent", action="store_true",
                   help="build the datasets from the inherent structures (minimised frames, "
                        "the manifest's is_path column): dataset<k>-is.npz")
    p.add_argument("--by-tg", type=float, metavar="TG",
                   help="instead of datasets 1-6: every configuration of MANIFEST labelled glass "
                        "below TG - band and liquid above TG + band (tg_labelled.npz; the shipped "
                        "model's training set)")
    p.add_argument("--seeds", help="only these runs of MANIFEST, e.g. 1-12 (default: all)")
    p.add_argument("--fast-seeds", help="only these runs of --fast, e.g. 1001-1012 (default: all)")
    p.add_argument("--band", type=float, default=0.05,
                   help="temperatures within this distance of TG are left out (default 0.05)")
    p.add_argument("--out", required=True, help="folder for dataset<k>.npz")
    p.add_argument("--force", action="store_true", help="replace datasets already in --out")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..datasets import build_datasets, build_tg_dataset
    from ..errors import InputError
    from .simulate import parse_seeds

    from ..fileio import refuse_existing

    seeds = parse_seeds(args.seeds) if args.seeds else None
    structure = "inherent" if args.inherent else "instantaneous"
    suffix = "-is" if args.inherent else ""
    if args.by_tg is not None:
        refuse_existing([Path(args.out) / f"tg_labelled{suffix}.npz"], args.force)
        ds = build_tg_dataset(args.manifest, args.by_tg, args.band, seeds=seeds, structure=structure)
        path = ds.save(Path(args.out) / f"tg_labelled{'-is' if args.inherent else ''}.npz")
        print(f"{ds.meta['n_glass']} glass + {ds.meta['n_liquid']} liquid ({ds.meta['labels']}) -> {path}")
        return 0
    try:
        numbers = [int(x) for x in args.datasets.split(",")]
    except ValueError as err:
        raise InputError(f"cannot read --datasets {args.datasets!r}; write e.g. 1,6") from err
    if 6 in numbers and not args.fast:
        numbers.remove(6)
        print("no --fast manifest: skipping dataset 6")
    refuse_existing([Path(args.out) / f"dataset{n}{suffix}.npz" for n in numbers], args.force)
    slow = _filtered(args.manifest, args.t_cool_slow, args.out, "slow")
    fast = _filtered(args.fast, args.t_cool_fast, args.out, "fast") if args.fast else None
    fast_seeds = parse_seeds(args.fast_seeds) if args.fast_seeds else None
    datasets = build_datasets(slow, fast, numbers=numbers, structure=structure, seeds=seeds,
                              fast_seeds=fast_seeds)
    out = Path(args.out)
    for number, ds in datasets.items():
        path = ds.save(out / f"dataset{number}{suffix}.npz")
        print(f"dataset {number}{suffix}: {ds.meta['n_glass']} glass (T=0.05) + {ds.meta['n_liquid']} liquid "
              f"(T={ds.meta['liquid_temperature']}) -> {path}")
    return 0


def _filtered(manifest, t_cool, out, tag):
    """A manifest restricted to one cooling rate (written beside the datasets), or the original."""
    if t_cool is None:
        return manifest
    import csv

    from ..errors import InputError
    from ..fileio import write_csv_atomic

    manifest = Path(manifest)
    if not manifest.exists():
        raise InputError(f"manifest {manifest} does not exist")
    with open(manifest, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if int(float(r["t_cool"])) == t_cool]
        fields = reader.fieldnames
    if not rows:
        raise InputError(f"{manifest} has no rows with t_cool={t_cool}")
    base = manifest.parent.resolve()
    for r in rows:
        for key in ("path", "is_path"):
            if r.get(key):
                r[key] = str((base / r[key]).resolve())
    path = Path(out) / f"manifest_{tag}.csv"
    write_csv_atomic(path, rows, fields)
    return path
