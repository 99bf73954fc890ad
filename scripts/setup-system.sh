#!/usr/bin/env bash
# Installs the Debian packages the kiosk needs to build, test and run, when they are missing.
# Used by scripts/test.sh and scripts/demo.sh; safe to run again (it only installs what is absent).
set -euo pipefail

packages=(
  build-essential pkg-config   # C parts of -sys crates (SQLite is bundled)
  libfontconfig1-dev libfreetype-dev  # Slint's software renderer finds and draws system fonts
  libudev-dev                  # udev headers for device crates
  libclang-dev                 # camera (kiosk-drivers feature camera-v4l): bindgen generates the V4L2
                               # bindings from linux/videodev2.h (linux-libc-dev, via build-essential);
                               # libv4l-dev is not needed (the v4l crate's libv4l feature is off)
  fonts-noto-cjk               # Chinese text; the kiosk refuses to start without a CJK font
  fontconfig
  postgresql                   # the central service's storage tests run against PostgreSQL too
  cups cups-client cups-filters cups-pdf ghostscript  # A4 printing: a private cupsd with a PDF queue in tests and the demo
  poppler-utils                # reading printed PDFs back (pdftotext, pdfinfo, pdftoppm) in tests
  tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng  # reading a PDF that went through CUPS (its text layer is gone)
  chromium chromium-driver     # the central console's browser test (headless Chromium over WebDriver)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: no Rust toolchain found. Install one with rustup (https://rustup.rs), Rust 1.92 or newer," >&2
    echo "       then run this command again." >&2
    exit 1
  fi
fi

if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component" || true
  done
fi
