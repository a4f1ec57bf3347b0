"""``glassml classify`` per particle in 3D against 2D, side by side in one run.

The same network (the shipped model's architecture: hidden 32, T = 3, k = 4, rbf edges, l_win 0.2
at the default length scale of its system) is saved twice, once for the 2D Kob-Andersen system
and once for the 3D one, and the whole ``glassml classify`` path (one torch thread: OVITO reads
each frame, the classifier reads the tiles and the whole periodic frame, the metrics, the
attention) runs over

* 2D: N = 4320 frames of the committed 2D campaign (data/paper/slow, 60 x 60),
* 3D: N = 4096 frames of the 3D campaign (data/ka3d/slow, a 15.06 cube),

alternating ``--repeats`` times, the best of each kept. The figure of merit is
``cost_ratio_3d_over_2d``: seconds per particle in 3D over seconds per particle in 2D (the issue's
bound: at most 1.5). ``--quick`` (the test suite's) times a few small frames of each made on the
spot, so a changed API breaks a test, not this benchmark.

    python benchmarks/bench_dimensions.py --json benchmarks/results/bench_dimensions.json
"""

from __future__ import annotations

import argparse
import glob
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from figures import report

from ovito_glassml.batch import classify_trajectory
from ovito_glassml.configuration import Configuration
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
from ovito_glassml.models.dmpnn_classifier import save_dmpnn
from ovito_glassml.system import System

ROOT = Path(__file__).resolve().parents[1]
FRAMES = {2: "data/paper/slow/tcool200000/seed1/T*[0-9].dump.gz",
          3: "data/ka3d/slow/tcool200000/seed1/T*[0-9].dump.gz"}
#: 5 x the side holding 173 particles at density 1.2 (training.dmpnn.training_length_scale)
LENGTH_SCALE = {2: 60.0, 3: 5 * (172.8 / 1.2) ** (1 / 3)}


def model_folder(folder: Path, dimension: int) -> Path:
    """An untrained network of the shipped architecture for the Kob-Andersen system in ``dimension``
    (timing needs the computation, not the training)."""
    system = System(dimension, (1, 2), ("A", "B"), 1.0)
    spec = GraphSpec(4, system=system, length_scale=LENGTH_SCALE[dimension], window_length=0.2)
    torch.manual_seed(0)
    model = DMPNN(DMPNNHyperparameters(node_dim=spec.node_dim, edge_dim=spec.edge_dim,
                                       hidden_size=32, message_steps=3, ffn_layers=2))
    return save_dmpnn(folder, model.eval(), spec)


def small_frames(folder: Path, dimension: int, count: int = 3) -> str:
    """A few Kob-Andersen-sized random frames (density 1.2) as LAMMPS dumps; their pattern."""
    from ovito_glassml.ovito_data import frame_data
    from ovito.io import export_file

    rng = np.random.default_rng(dimension)
    n = 1200 if dimension == 2 else 1000
    side = (n / 1.2) ** (1 / dimension)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        config = Configuration(rng.random((n, dimension)) * side,
                               np.where(rng.random(n) < 0.3, 2, 1), np.full(dimension, side))
        columns = ["Particle Identifier", "Particle Type", "Position.X", "Position.Y"]
        columns += ["Position.Z"] if dimension == 3 else []
        data = frame_data(config)
        data.particles_.create_property("Particle Identifier", data=np.arange(1, n + 1))
        export_file(data, str(folder / f"T{i}.dump"), "lammps/dump", columns=columns)
    return str(folder / "T*.dump")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def particles_of(pattern: str) -> int:
    from ovito_glassml.batch import open_trajectory

    return sum(frame.configuration.n_particles
               for _, frame in open_trajectory(pattern).frames())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="a few small frames made on the spot, one repeat (the tests' mode)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames, models = {}, {}
        for dim in (2, 3):
            models[dim] = str(model_folder(tmp / f"model{dim}d", dim))
            if args.quick:
                frames[dim] = small_frames(tmp / f"frames{dim}d", dim)
            else:
                frames[dim] = str(ROOT / FRAMES[dim])
                if not glob.glob(frames[dim]):
                    raise SystemExit(f"no frames match {FRAMES[dim]}; run the campaigns first")
        particles = {dim: particles_of(frames[dim]) for dim in (2, 3)}
        for dim in (2, 3):  # load (and cache) both models and warm OVITO up before timing
            classify_trajectory(frames[dim], tmp / f"warm{dim}", model=models[dim])
        repeats = 1 if args.quick else args.repeats
        times = {2: [], 3: []}
        for repeat in range(repeats):
            for dim in (2, 3):
                out = tmp / f"out{dim}_{repeat}"
                times[dim].append(timed(lambda: classify_trajectory(frames[dim], out,
                                                                    model=models[dim])))
    best = {dim: min(v) for dim, v in times.items()}
    per_particle = {f"{dim}d": best[dim] / particles[dim] for dim in (2, 3)}
    result = {
        "quick": args.quick,
        "torch_threads": 1,
        "particles": {f"{dim}d": particles[dim] for dim in (2, 3)},
        "seconds_per_particle": per_particle,
        "microseconds_per_particle": {k: 1e6 * v for k, v in per_particle.items()},
        "cost_ratio_3d_over_2d": per_particle["3d"] / per_particle["2d"],
        "repeats": repeats,
        "all_seconds": {f"{dim}d": v for dim, v in times.items()},
    }
    return report(result, args.json)


if __name__ == "__main__":
    main()
