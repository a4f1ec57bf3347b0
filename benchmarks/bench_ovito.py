"""OVITO-side throughput on the paper's frame size (N=4320, 60x60): metrics and classification.

Measures, in one run on the same frames:

* ``metrics_pipeline``: frames/s of ``GlassMetricsModifier`` through an OVITO pipeline (file
  reading included), the way ``glassml metrics`` runs;
* ``metrics_core`` vs ``metrics_networkx``: seconds per frame of the vectorised
  ``GlassGraphMetrics`` and of the plain networkx reference (tests/networkx_reference.py) on the
  same configurations, their counts checked equal; the ratio is the speed-up (target >= 50x);
* ``classify_pipeline``: frames/s of ``GlassClassifierModifier`` (tiled windows + the whole
  periodic frame) through an OVITO pipeline, with one torch thread.

Frames: the paper campaign's dumps (``--frames``, default the committed campaign's
data/paper/slow/tcool200000/seed*/T*.dump.gz, relative to the repository).
While that campaign has not written any, the benchmark tiles 2x2 copies of data/small frames
(1080 particles in 30x30) into 4320-particle 60x60 frames and says so in the JSON.
Model: ``--model`` (default: the shipped model if present, else the tests' tiny model, trained here).
``--quick`` reads two frames (what the test suite runs: every part runs, nothing is measured).

    python benchmarks/bench_ovito.py --json benchmarks/results/bench_ovito.json
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import networkx_reference  # noqa: E402  (tests/ is on the path only for the benchmark)

from ovito_glassml.configuration import Configuration
from ovito_glassml.frames import read_dump  # noqa: E402
from ovito_glassml.metrics import GlassGraphMetrics  # noqa: E402

PAPER_FRAMES = "data/paper/slow/tcool200000/seed*/T*.dump.gz"


def tiled_frames(folder: Path, count: int) -> tuple[list[str], str]:
    """4320-particle frames made of 2x2 copies of data/small frames (the paper's N and box)."""
    from tiny_model import write_dump

    sources = sorted((ROOT / "data" / "small" / "slow").glob("tcool*/seed*/T*.dump"))[:count]
    paths = []
    for i, source in enumerate(sources):
        config = read_dump(source)
        shifts = np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) * config.box
        positions = (config.positions[None, :, :] + shifts[:, None, :]).reshape(-1, 2)
        paths.append(str(write_dump(folder / f"tiled{i:03d}.dump", positions,
                                    np.tile(config.types, 4), 2 * config.box)))
    return paths, "2x2 tiles of data/small frames (paper campaign frames not yet written)"


def time_pipeline(files: list[str], modifier) -> float:
    """Frames per second of one modifier through an OVITO pipeline over ``files``."""
    from ovito.io import import_file

    pipeline = import_file(files)
    pipeline.modifiers.append(modifier)
    pipeline.compute(0)  # warm-up: imports, model load
    start = time.perf_counter()
    for frame in range(pipeline.num_frames):
        pipeline.compute(frame)
    return pipeline.num_frames / (time.perf_counter() - start)


def time_metrics(configs: list[Configuration]) -> dict:
    """Seconds per frame of the vectorised metrics and of the networkx reference, same frames."""
    start = time.perf_counter()
    ours = [GlassGraphMetrics().compute(c).as_dict() for c in configs]
    t_ours = (time.perf_counter() - start) / len(configs)
    start = time.perf_counter()
    ref = [networkx_reference.glass_graph_metrics(c.positions, c.types, c.box) for c in configs]
    t_ref = (time.perf_counter() - start) / len(configs)
    if ours != ref:
        raise SystemExit("the vectorised metrics disagree with the networkx reference")
    return {"metrics_core_s_per_frame": t_ours, "metrics_networkx_s_per_frame": t_ref,
            "metrics_speedup_vs_networkx": t_ref / t_ours}


def main(argv=None) -> dict:
    """Run the benchmark, print the figures, write them to ``--json`` and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="file for the figures")
    parser.add_argument("--frames", default=PAPER_FRAMES, help="glob of 4320-particle dumps")
    parser.add_argument("--max-frames", type=int, default=20)
    parser.add_argument("--model", default="", help="model folder (default: shipped, else tiny)")
    parser.add_argument("--quick", action="store_true",
                        help="two frames (the test suite's mode)")
    args = parser.parse_args(argv)
    max_frames = 2 if args.quick else args.max_frames

    import torch

    torch.set_num_threads(1)  # two threads on a busy 2-core machine are far slower than one
    from ovito_glassml.modifiers import GlassClassifierModifier, GlassMetricsModifier
    from ovito_glassml.modifiers.loading import DEFAULT_MODEL

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pattern = args.frames if Path(args.frames).is_absolute() else str(ROOT / args.frames)
        files = sorted(glob.glob(pattern))[:max_frames]
        source = f"paper campaign dumps ({args.frames})"
        if not files:
            files, source = tiled_frames(tmp, max_frames)
        configs = [read_dump(f) for f in files]

        model = args.model
        model_source = model
        if not model:
            if (DEFAULT_MODEL / "config.json").exists():
                model, model_source = str(DEFAULT_MODEL), "shipped default model"
            else:
                from tiny_model import train_tiny_dmpnn

                model = str(train_tiny_dmpnn(tmp / "tiny"))
                model_source = "tests' tiny D-MPNN (hidden 32, k=2, T=3), trained here"

        results = {"quick": args.quick, "frames": len(files), "particles_per_frame": int(configs[0].n_particles),
                   "frame_source": source, "model": model_source}
        results.update(time_metrics(configs))
        results["metrics_pipeline_frames_per_s"] = time_pipeline(files, GlassMetricsModifier())
        results["classify_pipeline_frames_per_s"] = time_pipeline(
            files, GlassClassifierModifier(model_path=model, local_probability=True))

    for key, value in results.items():
        print(f"{key:36s} {value:.4g}" if isinstance(value, float) else f"{key:36s} {value}")
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
