#!/bin/sh
# A pilot of the 3D inherent-structure task (issue 24) before the campaign is whole: a D-MPNN
# (readout norm, l_win 0.3) trained on the inherent structures of slow runs 1-6, labelled by their
# Tg (0.356, band 0.04), scored on the 3D datasets 1-is, 4-is, 5-is, 6-is of held-out runs 7-9
# and fast runs 1001-1040 beside the one-number baselines on the same window sizes. Resumable.
#   sh scripts/pilot_ka3d_inherent.sh [WORK] [OUT]   (default runs/ka3d_is_pilot results/ka3d/pilot_is)
set -eu
W=${1:-runs/ka3d_is_pilot}
OUT=${2:-results/ka3d/pilot_is}
G=${GLASSML:-.venv/bin/glassml}
S=data/ka3d/slow/manifest.csv
F=data/ka3d/fast/manifest.csv
export OMP_NUM_THREADS=1
[ -f "$W/train/tg_labelled-is.npz" ] || "$G" dataset "$S" --by-tg 0.356 --band 0.04 --seeds 1-6 \
    --inherent --out "$W/train"
[ -f "$W/model/config.json" ] || "$G" train dmpnn --data "$W/train/tg_labelled-is.npz" \
    --out "$W/model" --hidden-size 32 --num-neighbors 4 --window-length 0.3 --epochs 40 \
    --windows-per-epoch 8 --batch-size 32 --seed 1 --readout-norm --no-progress
[ -f "$W/heldout_data/dataset6-is.npz" ] || "$G" dataset "$S" --fast "$F" --seeds 7-9 \
    --fast-seeds 1001-1040 --inherent --out "$W/heldout_data"
mkdir -p "$OUT"
for k in 1 4 5 6; do
    "$G" experiment size-transfer --model "$W/model" --data "$W/heldout_data/dataset$k-is.npz" \
        --window-lengths 0.2 0.3 0.5 --windows-per-config 20 --out "$OUT/size_transfer_$k-is.json" \
        --force > /dev/null
    "$G" experiment baselines --data "$W/heldout_data/dataset$k-is.npz" --window-lengths 0.2 0.3 \
        --windows-per-config 20 --out "$OUT/baselines_$k-is.json" --force > /dev/null
done
echo "-> $OUT"
