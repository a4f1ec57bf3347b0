#!/bin/sh
# The reproduction campaign (issue 12): 64 slow runs (t_cool 2e5, the Tg grid) and 64 fast runs
# (t_cool 5e4, whose glass matches the slow liquid at T=0.55 in mean E_IS) of the paper's system,
# N=4320, gzipped instantaneous + inherent-structure dumps. Resumable: rerun it and finished runs
# are skipped. Slow and fast runs alternate in blocks of 8 so that an interrupted campaign still
# holds both rates. One LAMMPS process (the other core stays free for training).
#   sh scripts/campaign.sh [OUT]     (default data/paper)
set -eu
OUT=${1:-data/paper}
GLASSML=${GLASSML:-.venv/bin/glassml}
for block in 0 1 2 3 4 5 6 7; do
    lo=$((block * 8 + 1)); hi=$((block * 8 + 8))
    "$GLASSML" simulate --preset paper --gzip --processes 1 --no-progress \
        --seeds "$lo-$hi" --out "$OUT/slow"
    "$GLASSML" simulate --preset paper --gzip --processes 1 --no-progress --t-cool 50000 \
        --seeds "$((lo + 1000))-$((hi + 1000))" --out "$OUT/fast"
done
