#!/usr/bin/env bash
# Runs a training/ script with the Python that has PyTorch and ONNX (Debian's /usr/bin/python3
# unless PY says otherwise), with the OpenBLAS build Debian's PyTorch needs.
#   bash scripts/training-python.sh training/tiny_hf.py --out DIR
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
if [ -d /usr/lib/x86_64-linux-gnu/openblas-openmp ]; then
  export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
"$PY" -c 'import torch, onnx, PIL' 2>/dev/null || {
  echo "$PY needs PyTorch, ONNX and Pillow (Debian: apt-get install python3-torch python3-onnx python3-pil libopenblas0-openmp; or set PY)" >&2
  exit 2
}
exec "$PY" "$@"
