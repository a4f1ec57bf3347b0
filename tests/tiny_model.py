"""A tiny D-MPNN trained on data/small in seconds, for tests that need a real model folder.

The package's shipped model (ovito_glassml/models/default) is what users get; tests must not
depend on it, so they use this one, trained the way the shipped model is trained: every saved
temperature of the slow-cooling seeds 1-10 of data/small, labelled glass below Tg and liquid
above it (build_tg_dataset), random windows, ovito_glassml.training.dmpnn.train_dmpnn.
Seeds 11 and 12 are never seen, so their cooling runs are fair test trajectories.

The folder is committed (tests/data/tiny-dmpnn, 25 kB), so that the tests that only read a model
train none; tests/test_train_dmpnn.py (slow) trains it again and compares. After a change of
the trainer or the model folder, write it anew with ``python tests/tiny_model.py``.
"""

import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "small" / "slow" / "manifest.csv"
#: the committed tiny model folder
TINY_MODEL = ROOT / "tests" / "data" / "tiny-dmpnn"
#: Tg of the demo preset's runs is ~0.36; data/small saves 0.44 and 0.55 above it, 0.05 below
TINY_TG = 0.3
TRAIN_SEEDS = tuple(range(1, 11))
HELD_OUT_SEEDS = (11, 12)


def train_tiny_dmpnn(folder, *, epochs=30, seed=0, window_length=0.4):
    """Train and save a small attention D-MPNN (the default recipe, hidden 32, T=3) with the package's own
    trainer, four windows per frame per epoch at a constant learning rate; returns the folder."""
    import torch

    from ovito_glassml.datasets import build_tg_dataset
    from ovito_glassml.graph_spec import GraphSpec
    from ovito_glassml.training.dmpnn import DMPNNTrainingConfig, train_dmpnn

    torch.set_num_threads(1)  # two threads on a loaded 2-core machine run ~50x slower
    train = build_tg_dataset(MANIFEST, TINY_TG, band=0.05, seeds=TRAIN_SEEDS)
    config = DMPNNTrainingConfig(
        graph=GraphSpec(window_length=window_length),
        hidden_size=32, message_steps=3, ffn_layers=2, batch_size=32, epochs=epochs,
        windows_per_epoch=4, seed=seed, initial_lr=1e-3, peak_lr=1e-3, final_lr=1e-3)
    train_dmpnn(train, folder, config, progress=False,
                data_provenance={"labels": train.meta["labels"], "train_seeds": list(TRAIN_SEEDS)})
    return Path(folder)


def write_dump(path, positions, types, box, *, z=None, with_types=True, timestep=0, extra=None,
               append=False):
    """A LAMMPS text dump (``id type x y [z] [extra...]``) of one frame, for hand-made frames.

    ``extra`` maps further column names to per-particle values; ``append`` adds the frame to an
    existing file (a multi-frame trajectory).
    """
    positions = np.asarray(positions, dtype=float)
    n = len(positions)
    extra = dict(extra or {})
    ints = ["id"] + (["type"] if with_types else [])
    floats = ["x", "y"] + (["z"] if z is not None else []) + list(extra)
    columns = [np.arange(1, n + 1)] + ([np.asarray(types)] if with_types else [])
    columns += [positions[:, 0], positions[:, 1]] + ([np.asarray(z)] if z is not None else [])
    columns += [np.asarray(v, dtype=float) for v in extra.values()]
    zlo, zhi = (-0.5, 0.5) if z is None else (0.0, float(box[0]))
    header = "\n".join(["ITEM: TIMESTEP", str(timestep), "ITEM: NUMBER OF ATOMS", str(n),
                        "ITEM: BOX BOUNDS pp pp pp", f"0 {box[0]}", f"0 {box[1]}", f"{zlo} {zhi}",
                        "ITEM: ATOMS " + " ".join(ints + floats)])
    with open(path, "a" if append else "w") as fh:
        np.savetxt(fh, np.column_stack(columns), fmt=["%d"] * len(ints) + ["%.6f"] * len(floats),
                   header=header, comments="")
    return Path(path)


# ------------------------------------------------------------------------------ 3D systems

#: The small 3D Kob-Andersen runs of the tests (LAMMPS, ka3d_cool.in): 320 particles each.
KA3D_SEEDS = (1, 2, 3, 4, 5, 6)
KA3D_TRAIN_SEEDS = (1, 2, 3, 4)


def ka3d_runs(folder):
    """Six short 3D Kob-Andersen cooling runs (the ``small`` 3D preset) and their manifest, made
    by LAMMPS through the package's driver; returns the manifest path."""
    from ovito_glassml.simulation import KA3D_PRESETS, Campaign

    return Campaign(KA3D_PRESETS["small"], seeds=list(KA3D_SEEDS), outdir=folder).run(
        processes=1, progress=False)


def labelled_manifest(manifest, path, *, seeds, glass=(0.05,), liquid=(1.99, 0.7), convert=None):
    """A user's labelled manifest (``path,label,seed,temperature``) of some rows of a campaign
    manifest; ``convert(source, target)`` may rewrite each dump (another unit, types, names)."""
    import csv

    path = Path(path)
    rows = []
    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh):
            t, seed = float(row["temperature"]), int(row["seed"])
            if seed not in seeds or (t not in glass and t not in liquid):
                continue
            source = Path(manifest).parent / row["path"]
            target = source
            if convert is not None:
                target = path.parent / "frames" / f"seed{seed}_T{row['temperature']}.dump"
                target.parent.mkdir(parents=True, exist_ok=True)
                convert(source, target)
            rows.append({"path": str(target.relative_to(path.parent) if target.is_relative_to(
                path.parent) else target), "label": "glass" if t in glass else "liquid",
                         "seed": seed, "temperature": t})
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "seed", "temperature"])
        writer.writeheader()
        writer.writerows(rows)
    return path


#: The made-up 3D ternary of the tests: type ids that are not 1..n, element names, Angstrom.
TERNARY_TYPES = {1: (3, "Cu"), 2: (11, "Zr")}
TERNARY_THIRD = (7, "Al")
ANGSTROM_PER_SIGMA = 2.5


def to_ternary_angstrom(source, target):
    """Rewrite a 3D Kob-Andersen dump as a ternary in Angstrom: types 1 -> 3 (Cu), every fifth A
    -> 7 (Al), 2 -> 11 (Zr), positions and box x 2.5, with an ``element`` column."""
    from ovito_glassml.frames import read_dump

    config = read_dump(source)
    types = np.array([TERNARY_TYPES[int(t)][0] for t in config.types])
    types[np.flatnonzero(config.types == 1)[::5]] = TERNARY_THIRD[0]
    names = {v[0]: v[1] for v in TERNARY_TYPES.values()} | {TERNARY_THIRD[0]: TERNARY_THIRD[1]}
    write_dump3d(target, config.positions * ANGSTROM_PER_SIGMA, types,
                 config.box * ANGSTROM_PER_SIGMA, names)


def write_dump3d(path, positions, types, box, names=None):
    """A 3D LAMMPS text dump (``id type [element] x y z``) of one frame."""
    n = len(positions)
    header = ["ITEM: TIMESTEP", "0", "ITEM: NUMBER OF ATOMS", str(n), "ITEM: BOX BOUNDS pp pp pp",
              *[f"0 {float(b)!r}" for b in box],
              "ITEM: ATOMS id type " + ("element " if names else "") + "x y z"]
    lines = []
    for i in range(n):
        element = f" {names[int(types[i])]}" if names else ""
        x, y, z = positions[i]
        lines.append(f"{i + 1} {int(types[i])}{element} {x:.6f} {y:.6f} {z:.6f}")
    Path(path).write_text("\n".join(header + lines) + "\n")
    return Path(path)


if __name__ == "__main__":
    # writes the committed folder anew; the trainer's resumable checkpoint is not part of it
    shutil.rmtree(TINY_MODEL, ignore_errors=True)
    train_tiny_dmpnn(TINY_MODEL)
    (TINY_MODEL / "checkpoint.pt").unlink(missing_ok=True)
    print(f"wrote {TINY_MODEL}")
