#!/bin/sh
# The nested cross-validations of issue 12 on the 64-run campaign, as a queue that one or more
# workers share: each worker takes the next job no live worker holds and no finished
# crossval.json answers, so start one per core (one torch thread each):
#   OMP_NUM_THREADS=1 nohup sh scripts/crossval_campaign.sh > runs/cv_a.log 2>&1 &
#   OMP_NUM_THREADS=1 nohup sh scripts/crossval_campaign.sh > runs/cv_b.log 2>&1 &
# Every job resumes where it stopped (finished folds, trial logs, epoch checkpoints), so an
# interrupted queue is restarted with the same commands. The datasets are built first if missing:
#   glassml dataset data/paper/slow/manifest.csv --fast data/paper/fast/manifest.csv --out DATA [--inherent]
#   sh scripts/crossval_campaign.sh [DATA] [OUT] [CAMPAIGN]
#       (default data/paper/datasets results/paper/crossval data/paper)
# The 3D campaign (issue 24; the D-MPNN only: the CNN reads 2D images):
#   JOBS="dmpnn:dataset1 dmpnn:dataset2 dmpnn:dataset3 dmpnn:dataset4 dmpnn:dataset5 dmpnn:dataset6
#         dmpnn:dataset5-is dmpnn:dataset6-is dmpnn:dataset1-is dmpnn:dataset2-is dmpnn:dataset3-is
#         dmpnn:dataset4-is" IS_WINDOWS=0.1:0.35:0.05 \
#   sh scripts/crossval_campaign.sh data/ka3d/datasets results/ka3d/crossval data/ka3d
# IS_WINDOWS is the window range of the inherent-structure jobs. In 2D (N = 4320) l_win 0.5
# holds ~1080 particles; in 3D (N = 4096, density 1.2) the same number fits in l_win 0.35
# (~930) and l_win 0.5 holds ~2700 of the 4096, at 4-5 times the cost of a trial at 0.3.
set -eu
DATA=${1:-data/paper/datasets}
OUT=${2:-results/paper/crossval}
CAMPAIGN=${3:-data/paper}
GLASSML=${GLASSML:-.venv/bin/glassml}
IS_WINDOWS=${IS_WINDOWS:-0.1:0.5:0.05}
LOCKS=$OUT/.locks
HOST=$(hostname)
mkdir -p "$LOCKS"

take() {    # take NAME: hold the lock NAME unless a live worker on this host holds it
    if ! mkdir "$LOCKS/$1" 2>/dev/null; then
        owner=$(cat "$LOCKS/$1/owner" 2>/dev/null || true)
        pid=${owner%@*}
        if [ "${owner#*@}" = "$HOST" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            echo "$1: worker $owner has it" >&2
            return 1
        fi
        echo "$1: taking over from a stopped worker (${owner:-unknown})" >&2
    fi
    echo "$$@$HOST" > "$LOCKS/$1/owner"
}

build_missing() {   # build each kind of dataset that is missing and that no live worker builds
    for kind in "" "--inherent"; do
        [ -z "$kind" ] && file="$DATA/dataset6.npz" || file="$DATA/dataset6-is.npz"
        if [ ! -f "$file" ] && take "build$kind" 2>/dev/null; then
            # shellcheck disable=SC2086
            "$GLASSML" dataset "$CAMPAIGN/slow/manifest.csv" --fast "$CAMPAIGN/fast/manifest.csv" \
                --out "$DATA" $kind
            rm -rf "$LOCKS/build$kind"
        fi
    done
}
# two workers starting together build one kind each; both go on when both kinds are there
build_missing
until [ -f "$DATA/dataset6.npz" ] && [ -f "$DATA/dataset6-is.npz" ]; do
    sleep 30
    build_missing        # a builder that died leaves its lock to be taken over
done

# the order in which results matter most: the D-MPNN on the paper's datasets, the inherent-
# structure datasets of the open question (5-is, 6-is), the other -is datasets, the CNN with the
# pooled head (~0.5 core-h a dataset, see docs/cnn.md) before the last -is job (~2 core-h)
JOBS=${JOBS:-"dmpnn:dataset1 dmpnn:dataset2 dmpnn:dataset3 dmpnn:dataset4 dmpnn:dataset5 dmpnn:dataset6
dmpnn:dataset5-is dmpnn:dataset6-is dmpnn:dataset1-is dmpnn:dataset2-is dmpnn:dataset3-is
cnn:dataset1 cnn:dataset2 cnn:dataset3 cnn:dataset4 cnn:dataset5 cnn:dataset6 dmpnn:dataset4-is"}

for job in $JOBS; do
    model=${job%%:*}; name=${job#*:}
    out="$OUT/$model/$name"
    [ -f "$out/crossval.json" ] && continue
    take "$model-$name" || continue
    case "$job" in
        # inherent structures: the readout norm (without it the D-MPNN stays at loss ln 2 on
        # minimised frames) and windows up to half the box
        dmpnn:*-is) extra="--preset campaign --space readout_norm=1 --space window_length=$IS_WINDOWS" ;;
        # the CNN with the pooled head: the paper's flatten + dense head stays at loss ln 2 on
        # the campaign's 82 training images a fold (docs/cnn.md, results/paper/cnn_pilot/)
        cnn:*)      extra="--preset campaign --space pooled_head=1" ;;
        *)          extra="--preset campaign" ;;
    esac
    echo "== $(date -u +%FT%TZ) $job" >&2
    # shellcheck disable=SC2086
    "$GLASSML" crossval --model "$model" --data "$DATA/$name.npz" --out "$out" $extra
    rm -rf "$LOCKS/$model-$name"
done
