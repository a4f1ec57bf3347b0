#!/bin/sh
# The 3D Kob-Andersen campaign (issue 24): N=4096 at density 1.2 (L=15.0566), gzipped
# instantaneous and inherent-structure dumps with x y z.
#   slow: 64 runs at t_cool 2e5 on the 3D grid (the dataset temperatures 1.99, 1.0, 0.7, 0.55,
#         0.5 and a grid dense around Tg and T_c = 0.435, down to 0.05): ~12-15 min a run;
#   fast: 64 runs at t_cool $FAST_TCOOL, saved at T=0.05 only: the glass of dataset 6, whose
#         mean E_IS matches a slow liquid above Tg (the rate chosen from a pilot, docs/ka3d.md).
# Resumable: rerun it and finished runs are skipped; interrupted ones start over.
#   sh scripts/campaign_ka3d.sh [OUT] [both|slow|fast] [FIRST_BLOCK]   (default data/ka3d both 0)
set -eu
OUT=${1:-data/ka3d}
RATE=${2:-both}
FIRST=${3:-0}
GLASSML=${GLASSML:-.venv/bin/glassml}
FAST_TCOOL=${FAST_TCOOL:-30000}
for block in $(seq "$FIRST" 15); do
    lo=$((block * 4 + 1)); hi=$((block * 4 + 4))
    [ "$RATE" = fast ] || "$GLASSML" simulate --system ka3d --preset campaign --gzip --processes 1 \
        --no-progress --seeds "$lo-$hi" --out "$OUT/slow"
    [ "$RATE" = slow ] || "$GLASSML" simulate --system ka3d --preset campaign --gzip --processes 1 \
        --no-progress --t-cool "$FAST_TCOOL" --temperatures 0.05 \
        --seeds "$((lo + 1000))-$((hi + 1000))" --out "$OUT/fast"
done
