#!/usr/bin/env bash
# Run every fuzz target for a bounded time (default 60 s each). Needs nightly and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: drivers/fuzz/run-all.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
for target in idcard_frame idcard_text_block idcard_reply qr_line escpos_stream; do
    echo "== $target ($seconds s)"
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096
done
