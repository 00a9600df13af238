#!/usr/bin/env bash
# Sets up what is missing, then runs Bucketstream on its embedded default library (your Music
# and Videos folders if they exist, and the repository's sample folder).
# With a display this opens the desktop window; without one (no $DISPLAY / $WAYLAND_DISPLAY,
# e.g. over SSH) it runs the headless LAN server on port 8080 instead.
# Extra arguments go to the program (e.g. --port 9000, --bucket NAME --endpoint URL).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec cargo run --release -p bucketstream-desktop -- "$@"
fi
exec cargo run --release -p bucketstream-server -- "$@"
