"""Benchmark the CNN's two costs: rendering images and training the network, on this CPU.

In one run, on a 4320-particle configuration (a paper frame,
data/paper/slow/tcool200000/*/T0.05.dump.gz of the committed campaign, if there is one; else four different committed
data/small 30x30 frames tiled 2x2 into a 60x60 box):

* rendering, images/s: the vectorised rasteriser (:func:`ovito_glassml.images.render_image`,
  one image per call, and :func:`render_images`, a batch per call) against a naive pillow loop
  (one ``ImageDraw.ellipse`` per particle, no periodic images, so it even does less work); both
  as wall-clock images/s and as images per CPU-second (the "per core" figure, which a machine
  shared with other jobs does not distort); plus PNG encoding;
* training, ms/sample: the paper's network at the given batch sizes (forward + backward + Adam
  step, after warm-up), fed by the training pipeline (images rendered and augmented on the fly)
  and by images cached in memory (the difference is what rendering on the fly costs), in
  float32 (the paper's) and in Keras mixed precision with bfloat16 (``--precision
  mixed_bfloat16``), whose ratio is the speed-up;
* the analytic FLOPs of a training step, to say what bounds the ms/sample;
* the pooled head (``build_cnn(head="pooled")``, what the campaign's CNN cross-validations
  train) against the paper's dense head, float32, same batches: the ratio of ms/sample.

``--quick`` renders a few images and times one float32 batch of 2 per head, without the
oneDNN comparison (two more TensorFlow processes) and says so: what the test suite runs, every
part of the benchmark's own code runs, nothing is measured.

Usage: ``python benchmarks/bench_cnn.py --json FILE [--renders N] [--batches B]
[--batch-sizes 20,50] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ovito_glassml.configuration import Configuration
from ovito_glassml.frames import read_dump
from ovito_glassml.datasets import PackedDataset, load_dataset
from ovito_glassml.images import (BLUE, DIAMETERS, IMAGE_SIZE, ORANGE, WHITE, render_image,
                                  render_images)
from ovito_glassml.models.cnn import PRECISIONS

ROOT = Path(__file__).resolve().parents[1]
#: glass frames of the committed campaign (t_cool 2e5, T = 0.05), relative to the repository
PAPER_DUMPS = "data/paper/slow/tcool200000/seed*/T0.05.dump.gz"
TARGET_IMAGES_PER_CORE_SECOND = 300
TARGET_TRAIN_MS_PER_SAMPLE = 20


def paper_frames(count: int = 4) -> tuple[list[Configuration], str]:
    """``count`` 4320-particle configurations and where they came from."""
    dumps = sorted(ROOT.glob(PAPER_DUMPS))
    if dumps:
        frames = [read_dump(d) for d in dumps[:count]]
        return ((frames * count)[:count],
                f"{len(dumps[:count])} paper frame(s) {dumps[0].relative_to(ROOT)} ...")
    small = load_dataset(ROOT / "data/small/datasets/dataset1.npz")
    shifts = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    frames = []
    for k in range(count):
        parts = [small[(4 * k + q) % len(small)] for q in range(4)]
        pos = np.concatenate([p.positions + s * p.box for p, s in zip(parts, shifts)])
        frames.append(Configuration(pos, np.concatenate([p.types for p in parts]),
                                    2 * parts[0].box))
    return frames, "data/small dataset1 frames tiled 2x2 (4320 particles, 60x60 box)"


def naive_pillow(config: Configuration, size: int = IMAGE_SIZE) -> np.ndarray:
    """The obvious way: one ellipse per particle, A first, then B on top."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), WHITE)
    draw = ImageDraw.Draw(image)
    scale = size / config.box
    for ptype, colour in ((1, ORANGE), (2, BLUE)):
        radius = 0.5 * DIAMETERS[ptype]
        for x, y in config.positions[config.types == ptype]:
            cx, cy = x * scale[0], (config.box[1] - y) * scale[1]
            draw.ellipse([cx - radius * scale[0], cy - radius * scale[1],
                          cx + radius * scale[0], cy + radius * scale[1]], fill=colour)
    return np.asarray(image)


def rate(fn, repeats: int) -> dict:
    """Calls per wall second and per CPU second (best of three rounds)."""
    fn()
    best_wall = best_cpu = np.inf
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {"per_wall_second": repeats / best_wall, "per_cpu_second": repeats / best_cpu,
            "ms_wall": 1e3 * best_wall / repeats, "ms_cpu": 1e3 * best_cpu / repeats}


def bench_rendering(frames: list[Configuration], renders: int) -> dict:
    from ovito_glassml.images import save_png

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_cnn.png"
    config = frames[0]
    vectorised = rate(lambda: render_image(config), renders)
    batch = rate(lambda: render_images(frames), max(1, renders // len(frames)))
    # one call renders len(frames) images
    batch = {k: v * len(frames) if k.startswith("per") else v / len(frames)
             for k, v in batch.items()}
    naive = rate(lambda: naive_pillow(config), max(3, renders // 20))
    png = rate(lambda: save_png(config, tmp), max(3, renders // 10))
    tmp.unlink(missing_ok=True)
    differ = float(np.mean(np.any(render_image(config) != naive_pillow(config), axis=-1)))
    return {
        "particles": int(config.n_particles),
        "vectorised_images_per_s": vectorised, "vectorised_batch_images_per_s": batch,
        "naive_pillow_images_per_s": naive, "png_write_per_s": png,
        "speedup_vectorised_over_naive_cpu": vectorised["per_cpu_second"] / naive["per_cpu_second"],
        "pixels_differing_from_naive_pillow": differ,
        "target_images_per_core_second": TARGET_IMAGES_PER_CORE_SECOND,
        "meets_target": vectorised["per_cpu_second"] >= TARGET_IMAGES_PER_CORE_SECOND,
    }


def training_flops_per_sample() -> dict:
    """FLOPs of a forward pass and of a training step (~3x: forward, two backward products)."""
    conv1 = 241 * 241 * 6 * (10 * 10 * 3)
    conv2 = 237 * 237 * 16 * (5 * 5 * 6)
    dense = 16 * 237 * 237 * 80 + 80 * 2
    forward_flops = 2 * (conv1 + conv2 + dense)
    # conv1's gradient with respect to its input image is never needed
    train_flops = 3 * forward_flops - 2 * conv1
    return {"forward_gflop": forward_flops / 1e9, "train_gflop": train_flops / 1e9}


def bench_training(frames: list[Configuration], batch_size: int, batches: int,
                   precision: str = "float32", head: str = "dense") -> dict:
    import keras

    from ovito_glassml.training.cnn import compile_cnn, epoch_plan, image_pipeline
    from ovito_glassml.models.cnn import build_cnn

    n = batch_size * (batches + 2)
    configs = [frames[i % len(frames)] for i in range(n)]
    dataset = PackedDataset.from_configurations(configs, label=np.arange(n) % 2,
                                                seed=np.arange(n), t_cool=np.zeros(n))
    keras.utils.set_random_seed(0)
    model = compile_cnn(build_cnn(0.1, precision, head), steps_per_epoch=batches + 2, epochs=10)

    def timed(make_batches) -> tuple[float, float]:
        """Wall and CPU (all threads) ms per sample over ``batches`` steps after two warm-ups."""
        iterator = iter(make_batches())
        for _ in range(2):
            model.train_on_batch(*next(iterator))
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(batches):
            x, y = next(iterator)
            model.train_on_batch(x, y)
        samples = batches * batch_size
        return (1e3 * (time.perf_counter() - wall) / samples,
                1e3 * (time.process_time() - cpu) / samples)

    order, seeds = epoch_plan(np.arange(n), 0, 0)
    on_the_fly, on_the_fly_cpu = timed(lambda: image_pipeline(dataset, order, seeds, batch_size))
    cached_images = render_images(dataset)
    labels = dataset.label.astype(np.int64)
    cached, cached_cpu = timed(lambda: ((cached_images[i:i + batch_size], labels[i:i + batch_size])
                                        for i in range(0, n, batch_size)))
    flops = training_flops_per_sample()
    return {
        "batch_size": batch_size, "precision": precision, "head": head, "timed_batches": batches,
        "ms_per_sample_on_the_fly": on_the_fly, "ms_per_sample_cached": cached,
        "cpu_ms_per_sample_on_the_fly": on_the_fly_cpu, "cpu_ms_per_sample_cached": cached_cpu,
        "on_the_fly_overhead": on_the_fly / cached - 1,
        **flops, "achieved_gflop_per_s_cached": flops["train_gflop"] / (cached / 1e3),
        "target_ms_per_sample": TARGET_TRAIN_MS_PER_SAMPLE,
        "meets_target": min(on_the_fly, cached) <= TARGET_TRAIN_MS_PER_SAMPLE,
        "paper_v100_ms_per_sample": 7.5,
    }


def onednn_ratio(batch_size: int, batches: int) -> dict:
    """Float32 training with TensorFlow's oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1, the package's
    default) and without (=0), each in a fresh process (TensorFlow reads the switch at import),
    one after the other on the same frames."""
    rows = {}
    for flag in ("0", "1"):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag)
        done = subprocess.run([sys.executable, __file__, "--json", os.devnull, "--onednn-child",
                               "--batch-sizes", str(batch_size), "--batches", str(batches)],
                              env=env, capture_output=True, text=True, check=True)
        rows[flag] = json.loads(done.stdout.strip().splitlines()[-1])
    off, on = rows["0"]["ms_per_sample_cached"], rows["1"]["ms_per_sample_cached"]
    return {"batch_size": batch_size, "precision": "float32",
            "ms_per_sample_tensorflow_kernels": off, "ms_per_sample_onednn": on,
            "cpu_ms_per_sample_tensorflow_kernels": rows["0"]["cpu_ms_per_sample_cached"],
            "cpu_ms_per_sample_onednn": rows["1"]["cpu_ms_per_sample_cached"],
            "speedup": off / on}


def main(argv=None) -> dict:
    """Run the benchmark, print the figures, write them to ``--json`` and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the figures")
    parser.add_argument("--renders", type=int, default=200, help="images per rendering round")
    parser.add_argument("--batch-sizes", default="20,50",
                        help="training batch sizes, comma-separated (paper: 10-100)")
    parser.add_argument("--batches", type=int, default=5, help="timed training batches")
    parser.add_argument("--precisions", default=",".join(PRECISIONS),
                        help="training precisions, comma-separated (mixed_bfloat16 is ~6x slower "
                             "than float32 on CPUs without AVX-512 BF16)")
    parser.add_argument("--quick", action="store_true",
                        help="3 renders, one float32 batch of 2, no oneDNN comparison (the test "
                             "suite's mode)")
    parser.add_argument("--onednn-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.renders, args.batch_sizes, args.batches, args.precisions = 3, "2", 1, "float32"

    frames, source = paper_frames()
    if args.onednn_child:       # one float32 timing in this process's TensorFlow, as JSON
        row = bench_training(frames, int(args.batch_sizes.split(",")[0]), args.batches, "float32")
        print(json.dumps(row))
        return row
    print(f"configuration: {source}", flush=True)
    rendering = bench_rendering(frames, args.renders)
    rows = {"vectorised, one per call": rendering["vectorised_images_per_s"],
            f"vectorised, batch of {len(frames)}": rendering["vectorised_batch_images_per_s"],
            "naive pillow loop": rendering["naive_pillow_images_per_s"]}
    print(f"rendering {rendering['particles']} particles, images per CPU-second (per wall second):")
    for name, r in rows.items():
        print(f"  {name:26s}{r['per_cpu_second']:6.0f} ({r['per_wall_second']:.0f})")
    print(f"  speed-up {rendering['speedup_vectorised_over_naive_cpu']:.1f}x; target "
          f">= {TARGET_IMAGES_PER_CORE_SECOND}/core-s: "
          f"{'met' if rendering['meets_target'] else 'missed'}; PNG writes "
          f"{rendering['png_write_per_s']['per_cpu_second']:.0f}/CPU-s", flush=True)
    precisions = [p for p in args.precisions.split(",") if p]
    unknown = sorted(set(precisions) - set(PRECISIONS))
    if unknown:
        parser.error(f"--precisions: unknown {unknown}; choose from {', '.join(PRECISIONS)}")
    training = []
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        for precision in precisions:
            row = bench_training(frames, batch_size, args.batches, precision)
            training.append(row)
            print(f"training, batch {batch_size}, {precision}: "
                  f"{row['ms_per_sample_on_the_fly']:.1f} ms/sample rendering on the fly, "
                  f"{row['ms_per_sample_cached']:.1f} from cached images "
                  f"({100 * row['on_the_fly_overhead']:+.0f}%); CPU "
                  f"{row['cpu_ms_per_sample_cached']:.1f} ms/sample (all threads); "
                  f"{row['achieved_gflop_per_s_cached']:.0f} GFLOP/s", flush=True)
        if len(precisions) == 2:
            pair = training[-2:]
            speedup = pair[0]["ms_per_sample_cached"] / pair[1]["ms_per_sample_cached"]
            for row in pair:
                row["speedup_bfloat16_over_float32"] = speedup
            print(f"  mixed_bfloat16 is {speedup:.2f}x float32 at batch {batch_size}", flush=True)
    best = min(training, key=lambda row: min(row["ms_per_sample_on_the_fly"],
                                             row["ms_per_sample_cached"]))
    best_ms = min(best["ms_per_sample_on_the_fly"], best["ms_per_sample_cached"])
    print(f"fastest: {best_ms:.1f} ms/sample (batch {best['batch_size']}, {best['precision']}); "
          f"target <= {TARGET_TRAIN_MS_PER_SAMPLE} ms: "
          f"{'met' if best_ms <= TARGET_TRAIN_MS_PER_SAMPLE else 'missed'}", flush=True)
    if args.quick:
        onednn = {"skipped": "not in --quick (two more TensorFlow processes)"}
        print("oneDNN comparison skipped: not in --quick", flush=True)
    else:
        onednn = onednn_ratio(int(args.batch_sizes.split(",")[0]), args.batches)
        print(f"oneDNN kernels: {onednn['ms_per_sample_onednn']:.1f} ms/sample against "
              f"{onednn['ms_per_sample_tensorflow_kernels']:.1f} without (float32, batch "
              f"{onednn['batch_size']}): {onednn['speedup']:.2f}x", flush=True)
    batch_size = int(args.batch_sizes.split(",")[0])
    pooled = bench_training(frames, batch_size, args.batches, "float32", "pooled")
    # the paper's head at the same batch size and precision, timed above unless float32 was left out
    dense = next((row for row in training
                  if row["batch_size"] == batch_size and row["precision"] == "float32"), None) \
        or bench_training(frames, batch_size, args.batches, "float32")
    heads = {"batch_size": pooled["batch_size"],
             "ms_per_sample_dense": dense["ms_per_sample_cached"],
             "ms_per_sample_pooled": pooled["ms_per_sample_cached"],
             "speedup_pooled_over_dense": dense["ms_per_sample_cached"]
             / pooled["ms_per_sample_cached"]}
    print(f"pooled head: {heads['ms_per_sample_pooled']:.1f} ms/sample against "
          f"{heads['ms_per_sample_dense']:.1f} for the paper's dense head (float32, batch "
          f"{heads['batch_size']}, cached images): {heads['speedup_pooled_over_dense']:.2f}x",
          flush=True)
    result = {
        "quick": args.quick, "configuration": source, "rendering": rendering, "training": training,
        "onednn": onednn, "heads": heads,
        "training_fastest": {"ms_per_sample": best_ms, "batch_size": best["batch_size"],
                             "precision": best["precision"],
                             "target_ms_per_sample": TARGET_TRAIN_MS_PER_SAMPLE,
                             "meets_target": best_ms <= TARGET_TRAIN_MS_PER_SAMPLE},
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15": os.getloadavg()},
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
