#!/bin/sh
# Retrain the shipped D-MPNN on the campaign's slow runs and measure it on runs it never saw
# (issue 11). Every step resumes: rerun after an interruption.
#   sh scripts/retrain_shipped.sh [TRAIN_SEEDS] [TEST_SEEDS] [FAST_TEST_SEEDS] [WORK]
#   (defaults 1-32, 33-35, 1001-1012, runs/retrain)
# Then copy WORK/model/{config.json,weights.safetensors} to ovito_glassml/models/default/ and
# WORK/heldout, WORK/size_transfer, WORK/energy_bound.json to results/model/shipped/.
set -eu
TRAIN=${1:-1-32}
TEST=${2:-33-35}
FAST_TEST=${3:-1001-1012}
WORK=${4:-runs/retrain}
G=${GLASSML:-.venv/bin/glassml}
PY=${PYTHON:-.venv/bin/python}
SLOW=data/paper/slow/manifest.csv
FAST=data/paper/fast/manifest.csv
export OMP_NUM_THREADS=1

# Tg of the training runs labels the frames (glass T <= Tg - 0.05, liquid T >= Tg + 0.05)
"$G" tg "$SLOW" --seeds "$TRAIN" --out "$WORK/tg"
TG=$("$PY" -c "import json; print(round(json.load(open('$WORK/tg/tcool_200000.json'))['tg'], 3))")
echo "Tg of runs $TRAIN: $TG"
[ -f "$WORK/train/tg_labelled.npz" ] || "$G" dataset "$SLOW" --by-tg "$TG" --seeds "$TRAIN" --out "$WORK/train"
if [ ! -f "$WORK/model/config.json" ]; then
    RESUME=""
    [ -f "$WORK/model/checkpoint.pt" ] && RESUME="--resume"
    "$G" train dmpnn --data "$WORK/train/tg_labelled.npz" --out "$WORK/model" --hidden-size 32 \
        --num-neighbors 4 --window-length 0.2 --epochs 40 --windows-per-epoch 8 --batch-size 32 \
        --seed 1 --no-progress $RESUME
fi
"$G" heldout --model "$WORK/model" --slow "$SLOW" --seeds "$TEST" --fast "$FAST" \
    --fast-seeds "$FAST_TEST" --tg "$TG" --windows 20 --out "$WORK/heldout" --no-progress
# the held-out datasets 1-6, for the size-transfer table
"$G" dataset "$SLOW" --fast "$FAST" --seeds "$TEST" --fast-seeds "$FAST_TEST" --out "$WORK/heldout_data"
for k in 1 5 6; do
    "$G" experiment size-transfer --model "$WORK/model" --data "$WORK/heldout_data/dataset$k.npz" \
        --window-lengths 0.1 0.15 0.2 0.25 0.3 0.5 --windows-per-config 20 \
        --out "$WORK/size_transfer/dataset$k.json" > /dev/null
done
# the yardstick: a threshold on the window's mean pair energy, labelled by the same Tg
"$PY" scripts/window_energy_bound.py --train-seeds "$TRAIN" --test-seeds "$TEST" --tg "$TG" \
    --out "$WORK/energy_bound.json"
