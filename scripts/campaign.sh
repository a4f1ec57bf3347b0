#!/bin/sh
# The reproduction campaign (issue 12), the paper's system (N=4320, 60x60), gzipped instantaneous
# and inherent-structure dumps:
#   slow: 64 runs at t_cool 2e5 on a 17-temperature grid (the six dataset temperatures, and a grid
#         dense around Tg for the E_IS(T) fit and Fig. 10);
#   fast: 64 runs at t_cool 5e4, saved at T=0.05 only: the glass of dataset 6, whose mean E_IS
#         matches the slow liquid near T=0.55.
# A FIRE minimisation of a hot liquid costs ~30 s, so a slow run takes ~8 min and a fast one
# ~1.5 min on one core. Resumable: rerun it and finished runs are skipped. With RATE=both, slow
# and fast runs alternate in blocks so an interrupted campaign holds both rates; with two free
# cores, run `slow` and `fast` side by side instead.
#   sh scripts/campaign.sh [OUT] [both|slow|fast]     (default data/paper both)
set -eu
OUT=${1:-data/paper}
RATE=${2:-both}
GLASSML=${GLASSML:-.venv/bin/glassml}
SLOW_TEMPS=1.99,1.76,0.96,0.8,0.65,0.55,0.5,0.44,0.41,0.38,0.35,0.32,0.29,0.26,0.2,0.12,0.05
for block in 0 1 2 3 4 5 6 7; do
    lo=$((block * 8 + 1)); hi=$((block * 8 + 8))
    [ "$RATE" = fast ] || "$GLASSML" simulate --preset paper --gzip --processes 1 --no-progress \
        --temperatures "$SLOW_TEMPS" --seeds "$lo-$hi" --out "$OUT/slow"
    [ "$RATE" = slow ] || "$GLASSML" simulate --preset paper --gzip --processes 1 --no-progress --t-cool 50000 \
        --temperatures 0.05 --seeds "$((lo + 1000))-$((hi + 1000))" --out "$OUT/fast"
done
