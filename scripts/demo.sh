#!/usr/bin/env bash
# The one demo command: installs what is missing, then starts the embedded central service, the
# device simulators and the kiosk. With a display it opens the kiosk window; without one it walks
# every demo journey through the real UI and writes screenshots and a transcript to ./shots.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh

if [ "$#" -gt 0 ]; then
  exec cargo run --release --bin kiosk -- "$@"
elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec cargo run --release --bin kiosk -- --config kiosk-config/demo.toml
else
  echo "demo: no display found, walking the journeys headless; screenshots go to ./shots"
  exec cargo run --release --bin kiosk -- --config kiosk-config/demo.toml --headless --shots shots
fi
