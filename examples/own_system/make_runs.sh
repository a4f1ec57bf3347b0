#!/bin/sh
# The worked example of docs/own-system.md: cool the made-up ternary (ternary_lj.in) once per
# seed with plain `lmp -in`, gzip the dumps, and write the labelled manifest a user writes for
# their own system: glass = the 50 K frame, liquid = 900, 600, 450 and 350 K.
#   sh examples/own_system/make_runs.sh [OUT] [SEEDS]      (default data/own_system, 1..16)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-data/own_system}
SEEDS=${2:-$(seq 1 16)}
LMP=${LMP:-.venv/bin/lmp}
mkdir -p "$OUT"
for seed in $SEEDS; do
    [ -f "$OUT/seed$seed/T50.dump.gz" ] && continue     # resumable: finished runs are kept
    rm -rf "$OUT/.seed$seed"
    "$LMP" -in "$HERE/ternary_lj.in" -var seed "$seed" -var outdir "$OUT/.seed$seed" \
        -log none -screen none
    gzip -n "$OUT/.seed$seed"/T*.dump
    rm -rf "$OUT/seed$seed"
    mv "$OUT/.seed$seed" "$OUT/seed$seed"
done
{
    echo "path,label,seed,temperature"
    for dir in "$OUT"/seed*; do
        seed=${dir##*/seed}
        for t in 900 600 450 350; do echo "seed$seed/T$t.dump.gz,liquid,$seed,$t"; done
        echo "seed$seed/T50.dump.gz,glass,$seed,50"
    done
} > "$OUT/manifest.csv"
echo "wrote $OUT/manifest.csv"
