#!/usr/bin/env bash
# Keyring round trip against a real Secret Service (and the desktop's Subsonic password through it): gnome-keyring-daemon under dbus-run-session,
# with a throwaway HOME so no real keyring is touched. Exits non-zero on failure.
#
#   src-tauri/tests/run-keyring.sh        (from anywhere; needs Debian packages dbus, gnome-keyring)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "run-keyring.sh: $tool is missing (apt-get install dbus gnome-keyring)" >&2; exit 1; }
done

# cargo and rustup find their homes through HOME: pin them before HOME changes.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}

cargo test -p bucketstream-keyring --test secret_service --no-run
cargo test -p bucketstream-desktop --test commands --no-run

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/run"
chmod 700 "$tmp/run"

HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" XDG_CONFIG_HOME="$tmp/home/.config" \
XDG_RUNTIME_DIR="$tmp/run" BUCKETSTREAM_SECRET_SERVICE_TEST=1 \
  dbus-run-session -- sh -c '
    # An empty line (not an empty stdin) unlocks a new login keyring with an empty password.
    echo "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    cargo test -p bucketstream-keyring --test secret_service -- --test-threads=1 --nocapture &&
    exec cargo test -p bucketstream-desktop --test commands subsonic_password_in_the_real_keyring -- --nocapture
  '
echo "run-keyring.sh: Secret Service round trip passed"
