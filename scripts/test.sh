#!/usr/bin/env bash
# The one test command: installs what is missing, then format check, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
