"""D-MPNN training steps with glibc's default allocator against heap allocation, in one run.

``ovito_glassml.allocator.heap_allocation`` (which ``train_dmpnn`` runs under) turns glibc's mmap
off while a network trains, so the large edge tensors of a batch reuse freed heap memory instead
of being mapped and page-faulted in at every step. This times the same training steps (forward,
backward, Adam) on the same prebuilt batches of 3D windows both ways, alternating ``--repeats``
times and keeping the best of each, with one torch thread:

* full: windows of l_win 0.3 (about 580 particles) of a 3D Kob-Andersen campaign frame
  (data/ka3d/slow/tcool200000/seed1/T0.05.dump.gz, N = 4096), k = 12, hidden 64, T = 6,
  batches of 50 windows: the largest corner of the 3D cross-validation's search space;
* ``--quick`` (the test suite's): a random 3D frame of 1000 particles, 2 windows, k = 4,
  hidden 16; its ratio measures nothing.

The figure of merit is ``speedup_heap_over_default`` (default seconds / heap seconds); beside it
the process's kernel (system) CPU seconds each way, where the difference comes from.

    python benchmarks/bench_allocator.py --json benchmarks/results/bench_allocator.json
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from figures import report
from torch.nn import functional as F
from torch_geometric.data import Batch

from ovito_glassml.allocator import available, heap_allocation
from ovito_glassml.configuration import Configuration
from ovito_glassml.frames import read_dump
from ovito_glassml.graph_spec import GraphSpec
from ovito_glassml.graphs import FrameGraphs
from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
from ovito_glassml.system import System

ROOT = Path(__file__).resolve().parents[1]
FRAME = "data/ka3d/slow/tcool200000/seed1/T0.05.dump.gz"
#: (k, hidden, message steps, windows per batch, batches) of the full run and of --quick
FULL, QUICK = (12, 64, 6, 50, 2), (4, 16, 3, 2, 1)
#: 5 x the side holding 173 particles at density 1.2 (training.dmpnn.training_length_scale)
LENGTH_SCALE = 5 * (172.8 / 1.2) ** (1 / 3)


def frame(quick: bool) -> tuple[Configuration, str]:
    """The 3D frame to cut windows from, and where it came from."""
    path = ROOT / FRAME
    if not quick and path.exists():
        return read_dump(path), FRAME
    if not quick:
        raise SystemExit(f"{FRAME} is missing; run the 3D campaign first (or use --quick)")
    rng = np.random.default_rng(0)
    side = (1000 / 1.2) ** (1 / 3)
    return (Configuration(rng.random((1000, 3)) * side, np.where(rng.random(1000) < 0.2, 2, 1),
                          np.full(3, side)), "random 3D frame, N = 1000")


def process_seconds() -> tuple[float, float]:
    """User and system CPU seconds of this process so far."""
    times = os.times()
    return times.user, times.system


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="a small random frame, tiny batches, one repeat (the tests' mode)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    k, hidden, steps, per_batch, n_batches = QUICK if args.quick else FULL
    config, source = frame(args.quick)
    system = System(3, (1, 2), ("A", "B"), 1.0)
    spec = GraphSpec(k, system=system, length_scale=LENGTH_SCALE, window_length=0.3)
    graphs = FrameGraphs(config, spec)
    rng = np.random.default_rng(1)
    batches = [Batch.from_data_list([graphs.random_window(rng) for _ in range(per_batch)])
               for _ in range(n_batches)]
    for b in batches:
        b.y = torch.arange(b.num_graphs) % 2
    torch.manual_seed(0)
    model = DMPNN(DMPNNHyperparameters(node_dim=spec.node_dim, edge_dim=spec.edge_dim,
                                       hidden_size=hidden, message_steps=steps)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_steps():
        for b in batches:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(b), b.y).backward()
            optimizer.step()

    with heap_allocation(enabled=False):  # warm up: first-touch costs are nobody's
        train_steps()
    repeats = 1 if args.quick else args.repeats
    seconds = {"default": [], "heap": []}
    system_seconds = {"default": [], "heap": []}
    for _ in range(repeats):
        for name in ("default", "heap"):
            with heap_allocation(enabled=name == "heap"):
                _, sys0 = process_seconds()
                start = time.perf_counter()
                train_steps()
                seconds[name].append(time.perf_counter() - start)
                system_seconds[name].append(process_seconds()[1] - sys0)
    best = {name: min(v) for name, v in seconds.items()}
    result = {
        "quick": args.quick,
        "frame": source,
        "glibc": available(),
        "torch_threads": 1,
        "setting": {"window_length": 0.3, "num_neighbors": k, "hidden_size": hidden,
                    "message_steps": steps, "windows_per_batch": per_batch, "batches": n_batches,
                    "edges_per_batch": int(np.mean([b.num_edges for b in batches]))},
        "seconds": best,
        "system_seconds": {name: min(v) for name, v in system_seconds.items()},
        "speedup_heap_over_default": best["default"] / best["heap"],
        "repeats": repeats,
        "all_seconds": seconds,
    }
    return report(result, args.json)


if __name__ == "__main__":
    main()
