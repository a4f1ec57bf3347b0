"""``glassml classify`` on the paper's frames: the shipped model against ovito-glassml 0.1's.

In one run, on the same N=4320 frames of the committed campaign (data/paper/slow, 60x60, gzipped
LAMMPS dumps), with one torch thread, it times the whole ``glassml classify`` path
(:func:`ovito_glassml.batch.classify_trajectory`: OVITO reads each frame, the classifier modifier
reads the tiles and the whole periodic frame, the metrics modifier, the attention modifier) for

* ``old``: the model shipped with ovito-glassml 0.1 (tests/data/dmpnn-0.1: hidden size 300,
  neighbours searched per window, attention in a second pass),
* ``new``: the shipped model (``--model`` to time another folder),

and ``glassml metrics`` on the same frames as the floor every classify pays. The figure of merit
is ``speedup = frames/s new / frames/s old``, measured side by side (a ratio, because this machine
is noisy). Runs alternate old/new ``--repeats`` times; the best of each is kept. ``--quick`` times
one frame once (what the test suite runs: every part runs, nothing is measured).

    python benchmarks/bench_classify.py --json benchmarks/results/bench_classify.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from figures import report

from ovito_glassml.batch import classify_trajectory, metrics_rows, open_trajectory
from ovito_glassml.frames import read_dump

ROOT = Path(__file__).resolve().parents[1]
OLD_MODEL = ROOT / "tests" / "data" / "dmpnn-0.1"
FRAMES = "data/paper/slow/tcool200000/seed[12]/T*[0-9].dump.gz"
#: one glass frame of the committed campaign, for ``--quick``
QUICK_FRAMES = "data/paper/slow/tcool200000/seed1/T0.05.dump.gz"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    """Run the benchmark, print the figures, write them to ``--json`` and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--model", default="", help="the new model folder (default: shipped)")
    parser.add_argument("--frames", help=f"glob of dumps (default: {FRAMES}, N=4320)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help=f"one repeat on {QUICK_FRAMES} (the test suite's mode)")
    args = parser.parse_args(argv)
    frames = args.frames or str(ROOT / (QUICK_FRAMES if args.quick else FRAMES))
    repeats = 1 if args.quick else args.repeats
    torch.set_num_threads(1)
    n_frames = len(metrics_rows(frames))  # also warms OVITO's importer up
    n_particles = read_dump(open_trajectory(frames).files[0]).n_particles
    times = {"old": [], "new": [], "metrics": []}
    with tempfile.TemporaryDirectory() as tmp:
        models = {"old": str(OLD_MODEL), "new": args.model}
        for name, model in models.items():  # load (and cache) both models before timing
            classify_trajectory(frames, Path(tmp) / f"warm_{name}", model=model)
        for repeat in range(repeats):
            for name, model in models.items():
                out = Path(tmp) / f"{name}{repeat}"
                times[name].append(timed(lambda: classify_trajectory(frames, out, model=model)))
            times["metrics"].append(timed(lambda: metrics_rows(frames)))
    best = {k: min(v) for k, v in times.items()}
    result = {
        "quick": args.quick,
        "frames": n_frames,
        "n_particles": n_particles,
        "torch_threads": 1,
        "seconds_per_frame": {k: v / n_frames for k, v in best.items()},
        "frames_per_second": {k: n_frames / v for k, v in best.items()},
        "speedup_new_over_old": best["old"] / best["new"],
        "classify_over_metrics_new": best["new"] / best["metrics"],
        "repeats": repeats,
        "all_seconds": times,
    }
    return report(result, args.json)


if __name__ == "__main__":
    main()
