"""``glassml classify --workers 2`` against one worker, side by side on the same frames.

48 frames of the committed 2D campaign (N = 4320, data/paper/slow), the shipped model, the whole
classify path (tiles, whole frame, attention, metrics). One worker runs in this process with one
torch thread; two workers are a kept process pool with one torch thread each. Both are warmed
first (model loaded, pool started), then timed alternately ``--repeats`` times, best of each.
The figure of merit is ``speedup_2_over_1`` (the issue's bound: >= 1.6 on two free cores; a
machine whose cores are busy with something else cannot show it). ``--quick`` (the test
suite's) uses 6 small frames of data/small and one repeat.

    python benchmarks/bench_workers.py --json benchmarks/results/bench_workers.json
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from figures import report

from ovito_glassml.batch import classify_trajectory

ROOT = Path(__file__).resolve().parents[1]
FRAMES = "data/paper/slow/tcool200000/seed[123]/T*[0-9].dump.gz"
QUICK_FRAMES = "data/small/slow/tcool20000/seed11/T*.dump"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--frames", type=int, default=48, help="frames to classify (default 48)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="6 small frames, one repeat")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    pattern = QUICK_FRAMES if args.quick else FRAMES
    files = sorted(glob.glob(str(ROOT / pattern)))[: 6 if args.quick else args.frames]
    if not files:
        raise SystemExit(f"no frames match {pattern}")
    repeats = 1 if args.quick else args.repeats
    times = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        frames = Path(tmp) / "frames"
        frames.mkdir()
        for i, f in enumerate(files):   # one folder, names in input order
            shutil.copy(f, frames / f"frame{i:03d}{''.join(Path(f).suffixes)}")
        source = str(frames / "frame*")
        for workers in (1, 2):  # warm: the model loaded, the pool's workers started
            classify_trajectory(source, Path(tmp) / f"warm{workers}", workers=workers)
        for repeat in range(repeats):
            for workers in (1, 2):
                start = time.perf_counter()
                classify_trajectory(source, Path(tmp) / f"out{workers}_{repeat}", workers=workers)
                times[workers].append(time.perf_counter() - start)
        identical = ((Path(tmp) / "out1_0" / "frames.csv").read_bytes()
                     == (Path(tmp) / "out2_0" / "frames.csv").read_bytes())
    best = {w: min(v) for w, v in times.items()}
    result = {
        "quick": args.quick,
        "frames": len(files),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "seconds": {f"{w}_workers": best[w] for w in (1, 2)},
        "frames_per_second": {f"{w}_workers": len(files) / best[w] for w in (1, 2)},
        "speedup_2_over_1": best[1] / best[2],
        "identical_output": identical,
        "repeats": repeats,
        "all_seconds": {f"{w}_workers": v for w, v in times.items()},
    }
    return report(result, args.json)


if __name__ == "__main__":
    main()
