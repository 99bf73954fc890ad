#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for a bounded time each, one after the other.
#
# Usage: drivers/fuzz/run-all.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Works on the stable toolchain:
# cargo-fuzz passes nightly-only flags (-Zsanitizer, -Cpasses=sancov…), which stable rustc
# accepts with RUSTC_BOOTSTRAP=1. Environment:
#   FUZZ_TOOLCHAIN=+nightly   use a nightly toolchain instead of stable + RUSTC_BOOTSTRAP
#   FUZZ_SANITIZER=none       turn the address sanitizer off (default: address)
#   FUZZ_JOBS=N               libFuzzer worker processes per target (default 1)
#   FUZZ_MAX_LEN=N            longest input (default 4096; 12288 for idcard_reply and qr_line)
#
# Each target reads its committed seeds (fuzz/seeds/<target>/) and grows its own corpus in
# fuzz/corpus/<target>/ (git-ignored). A crash or timeout lands in fuzz/artifacts/<target>/; the
# script then goes on with the next target and exits 1 at the end. It always stops by itself:
# libFuzzer's -max_total_time bounds each run, -timeout=10 turns a hang on one input into a
# reported timeout, and `timeout` kills a run that overstays its budget by more than 5 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(idcard_frame idcard_text_block idcard_reply qr_line escpos_stream)
fi

toolchain="${FUZZ_TOOLCHAIN:-}"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"
if [ -z "$toolchain" ]; then
    export RUSTC_BOOTSTRAP=1
fi
parallel=()
if [ "$jobs" -gt 1 ]; then
    # libFuzzer then writes each worker's output to fuzz-N.log in the current directory.
    parallel=(-jobs="$jobs" -workers="$jobs")
fi

failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s, sanitizer ${sanitizer}"
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
    # Room for the longest input worth trying: a 30 10 reply (2 321 bytes) as hex text is
    # about 7 000 characters; a QR line must pass MAX_LINE (4 096) to reach the overlong path.
    case "$target" in
        idcard_reply | qr_line) max_len="${FUZZ_MAX_LEN:-12288}" ;;
        *) max_len="${FUZZ_MAX_LEN:-4096}" ;;
    esac
    # Build first so that the time limit below only covers fuzzing.
    if ! cargo $toolchain fuzz build --sanitizer "$sanitizer" "$target"; then
        failed+=("$target (build)")
        continue
    fi
    timeout --signal=INT --kill-after=30 "$((seconds + 300))" \
        cargo $toolchain fuzz run --sanitizer "$sanitizer" "$target" \
        "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 "${parallel[@]}"
    status=$?
    if [ "$status" -ne 0 ]; then
        failed+=("$target (exit $status, see fuzz/artifacts/$target/)")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "== failed: ${failed[*]}" >&2
    exit 1
fi
echo "== all ${#targets[@]} targets ran ${seconds} s without a crash"
