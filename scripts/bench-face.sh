#!/usr/bin/env bash
# Face-check benchmark: single-thread medians of detect / align / embed / whole verification in
# release (tract), then the same ONNX files and images in PyPI onnxruntime, with the ratio.
#   scripts/bench-face.sh [ITERATIONS]
# Python part needs face/scripts/requirements.txt (a venv is created in target/face-bench-venv
# unless FACE_BENCH_PYTHON points at a Python that has them). Skipped with NO_ORT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
echo "== tract (release, 1 thread)"
cargo run --release -q -p kiosk-face --example face_bench -- "$n" | tee "$target/face-bench.json"
[ "${NO_ORT:-0}" = 1 ] && exit 0
py="${FACE_BENCH_PYTHON:-}"
if [ -z "$py" ]; then
  venv="$target/face-bench-venv"
  [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q -r face/scripts/requirements.txt; }
  py="$venv/bin/python"
fi
echo "== onnxruntime (1 thread) and ratio tract/onnxruntime"
OMP_NUM_THREADS=1 "$py" face/scripts/compare_onnxruntime.py -n "$n" --rust "$target/face-bench.json"
