"""LAMMPS throughput: the Python driver vs `lmp -in` on the same input, plain vs OPT pair style.

Every variant runs the same cooling input (N=4320 at density 1.2, the paper's system) for the same
number of MD steps, with the inherent-structure minimisation switched off (ftol huge) so that only
MD is timed. Variants are interleaved and repeated; the best of the repeats counts, and the ratios
(driver / lmp, opt / plain) are what to read on a noisy machine. ``--quick`` runs each variant once
on the ``small`` preset's 240 particles and a 100-step ramp (what the test suite runs: every part
runs, nothing is measured).

    python benchmarks/bench_lammps.py --json benchmarks/results/bench_lammps.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ovito_glassml._lammps import lmp_environment, lmp_executable
from ovito_glassml.simulation import PRESETS, input_script

DRIVER = """
import sys
from ovito_glassml._lammps import lammps_module
lmp = lammps_module().lammps(cmdargs=sys.argv[2:])
lmp.file(sys.argv[1])
lmp.close()
"""


def run_variant(kind: str, suffix: str, config, outdir: Path) -> float:
    """Wall seconds of one run of the input by ``lmp -in`` (``kind="lmp"``) or the driver."""
    args = replace(config, pair_suffix=suffix).lammps_command_line(seed=5, outdir=outdir)
    if kind == "lmp":
        cmd = [lmp_executable(), "-in", str(input_script()), *args]
        env = lmp_environment()
    else:
        cmd = [sys.executable, "-c", DRIVER, str(input_script()), *args]
        env = None
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=outdir, capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> dict:
    """Run the benchmark, print the figures, write them to ``--json`` and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True)
    parser.add_argument("--t-cool", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="one repeat, 240 particles, a 100-step ramp (the test suite's mode)")
    args = parser.parse_args(argv)

    preset, t_cool, repeats = (("small", 100, 1) if args.quick
                               else ("paper", args.t_cool, args.repeats))
    config = replace(PRESETS[preset], t_cool=t_cool, t_melt=0, temperatures=(0.05,), ftol=1e9)
    # soft push (3000) + LJ relaxation (2000) + melt + ramp, all MD steps
    steps = 3000 + 2000 + config.t_melt + config.t_cool
    atom_steps = steps * config.n_particles
    variants = [(kind, suffix) for suffix in ("opt", "") for kind in ("driver", "lmp")]
    best = {v: float("inf") for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            for kind, suffix in variants:
                out = Path(tmp) / f"{kind}_{suffix or 'plain'}_{rep}"
                out.mkdir()
                best[(kind, suffix)] = min(best[(kind, suffix)], run_variant(kind, suffix, config, out))
    rate = {f"{k}_{s or 'plain'}": atom_steps / t for (k, s), t in best.items()}
    result = {
        "quick": args.quick, "n_particles": config.n_particles, "md_steps": steps,
        "repeats": repeats,
        "atom_steps_per_s": rate,
        "driver_over_lmp_opt": rate["driver_opt"] / rate["lmp_opt"],
        "driver_over_lmp_plain": rate["driver_plain"] / rate["lmp_plain"],
        "opt_over_plain_lmp": rate["lmp_opt"] / rate["lmp_plain"],
        "opt_over_plain_driver": rate["driver_opt"] / rate["driver_plain"],
    }
    for key, value in result["atom_steps_per_s"].items():
        print(f"{key:>14s}: {value / 1e6:7.2f} M atom-steps/s")
    for key in ("driver_over_lmp_opt", "driver_over_lmp_plain", "opt_over_plain_lmp", "opt_over_plain_driver"):
        print(f"{key:>22s}: {result[key]:.3f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
