#!/usr/bin/env bash
# The paper's ablations in the shapes world (issue #18): every stage-2 variant from the
# same stage-1 base, evaluated with the world's scorers, then bench/results/ablations.json,
# the Ablations section of bench/results/REPORT.md and its plot. See docs/training.md.
#
# Resumable and background-friendly: each run is a folder under training/runs/ablations/
# (ckpt.pt every 50 steps, final.pt when done, eval.json when scored); finished steps are
# skipped. Two lanes of runs go side by side, one thread each. One call works for at most
# PIECE_MINUTES (default 85) and then stops at a checkpoint: run it again to go on. E.g.
#   nohup npm run ablations > training/runs/ablations/ablations.log 2>&1 &
# or, unattended until everything is done (a finished piece is a quick no-op):
#   nohup sh -c 'for i in 1 2 3 4 5 6; do npm run ablations; done' >> training/runs/ablations/ablations.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."

PIECE_MINUTES=${PIECE_MINUTES:-85}
PY=/usr/bin/python3
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_WAIT_POLICY=PASSIVE  # idle OpenMP threads sleep instead of spinning on a shared machine
A="$PY training/ablations.py"
began=$(date +%s)
left() { echo $(( PIECE_MINUTES - ($(date +%s) - began) / 60 )); }
say() { echo "ablations: $(date -u +%H:%M) $*"; }

[ -f data/ablations-train/manifest.json ] || npm run -s world -- dataset --split train --count 24000 --seed 0 --out data/ablations-train
[ -f data/test/manifest.json ] || npm run -s world -- dataset --split test --count 2000 --seed 0 --out data/test
$A prepare

# lane RUN... [-- STEP...]: train and score each run in turn, then the extra steps
lane() {
  local extra=0
  for item in "$@"; do
    [ "$(left)" -gt 3 ] || { say "piece time spent; stopping this lane (run again to resume)"; return 0; }
    if [ "$item" = "--" ]; then extra=1; continue; fi
    say "$item"
    if [ $extra = 1 ]; then $A "$item"; continue; fi
    $A train "$item" --max-minutes "$(left)"
    [ -f "training/runs/ablations/$item/final.pt" ] || { say "$item not finished; stopping this lane (run again to resume)"; return 0; }
    $A eval "$item"
  done
}
mapfile -t lanes < <($A runs)
lane ${lanes[0]} -- lora-norms baselines &
lane ${lanes[1]} -- mask
wait
$PY training/ablations_report.py
say "this piece took $(( ($(date +%s) - began) / 60 )) minutes"
