#!/usr/bin/env bash
# The paper's ablations in the shapes world (issue #18): every stage-2 variant from the
# same stage-1 base, evaluated with the world's scorers, then bench/results/ablations.json,
# the Ablations section of bench/results/REPORT.md and its plot. See docs/training.md.
#
# Resumable and background-friendly: each run is a folder under training/runs/ablations/
# (ckpt.pt every 50 steps, final.pt when done, eval.json when scored); finished steps are
# skipped. One call works for at most PIECE_MINUTES (default 85) and then stops at a
# checkpoint: run it again to go on. E.g. in the background:
#   nohup npm run ablations > training/runs/ablations/ablations.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."

PIECE_MINUTES=${PIECE_MINUTES:-85}
PY=/usr/bin/python3
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
A="$PY training/ablations.py"
began=$(date +%s)
left() { echo $(( PIECE_MINUTES - ($(date +%s) - began) / 60 )); }
stop() { echo "ablations: this piece's $PIECE_MINUTES minutes are spent; run npm run ablations again to resume"; exit 0; }

[ -f data/ablations-train/manifest.json ] || npm run -s world -- dataset --split train --count 24000 --seed 0 --out data/ablations-train
[ -f data/test/manifest.json ] || npm run -s world -- dataset --split test --count 2000 --seed 0 --out data/test
$A prepare
for run in $($A runs); do
  [ "$(left)" -gt 3 ] || stop
  echo "ablations: $(date -u +%H:%M) $run"
  $A train "$run" --max-minutes "$(left)"
  [ -f "training/runs/ablations/$run/final.pt" ] || stop
  [ "$(left)" -gt 3 ] || stop
  $A eval "$run"
done
for step in lora-norms mask baselines; do
  [ "$(left)" -gt 3 ] || stop
  echo "ablations: $(date -u +%H:%M) $step"
  $A "$step"
done
$PY training/ablations_report.py
echo "ablations: done in $(( ($(date +%s) - began) / 60 )) minutes"
