#!/usr/bin/env bash
# Installs what Bucketstream needs on a fresh Debian/Ubuntu machine, skipping what is there:
# apt packages (WebKitGTK for the desktop window, ffmpeg, chromium, Xvfb, dbus, gnome-keyring),
# the Rust toolchain (rustup, if cargo is missing), Garage (an S3-compatible store, for tests),
# and the browser tests' npm packages. Safe to run again.
#
#   scripts/setup.sh          everything needed to run the app
#   scripts/setup.sh --test   also what the tests need (and Node 22 for the browser tests
#                             when the system's Node is older than 20)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_pkgs=(build-essential pkg-config libssl-dev curl ca-certificates python3
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev libayatana-appindicator3-dev
  xvfb xauth dbus dbus-x11 gnome-keyring ffmpeg)
if [ "$want_test" = 1 ]; then
  apt_pkgs+=(chromium nodejs npm webkit2gtk-driver python3-venv minidlna curl)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node from another source (nvm, nodesource) is fine: do not ask apt for it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # minidlna is only a reference server for the DLNA tests: do not leave it running as a service.
  if [[ " ${missing[*]} " == *" minidlna "* ]] && command -v systemctl >/dev/null; then
    sudo_ systemctl disable --now minidlna >/dev/null 2>&1 || true
  fi
fi

if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing the Rust toolchain with rustup"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

if [ "$want_test" = 1 ]; then
  rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt
  if ! command -v garage >/dev/null; then
    echo "setup: building Garage 2 from crates.io (about 15 minutes on 2 cores, once)"
    cargo install garage --version '^2.5' --locked --quiet
  fi
  if ! command -v tauri-driver >/dev/null; then
    echo "setup: installing tauri-driver (WebDriver for the desktop app's end-to-end test)"
    cargo install tauri-driver --locked --quiet
  fi
  # tuspy, a tus client nobody here wrote, for the upload tests (crates/lan/tests/it/uploads_local.rs
  # looks for it in target/py; Debian's own Python is externally managed, hence the venv).
  # py-sonic and py-opensonic, Subsonic clients nobody here wrote, for the Subsonic API tests
  # (crates/lan/tests/it/subsonic.rs); async-upnp-client's upnp-client, a UPnP control point,
  # for the DLNA tests (crates/lan/tests/it/dlna.rs).
  if ! target/py/bin/python -c "import tusclient, libsonic, libopensonic, async_upnp_client" 2>/dev/null; then
    echo "setup: installing tuspy, py-sonic, py-opensonic and async-upnp-client from PyPI into target/py"
    [ -x target/py/bin/pip ] || python3 -m venv target/py
    target/py/bin/pip install --quiet --disable-pip-version-check tuspy py-sonic py-opensonic async-upnp-client
  fi
  # shellcheck source=tests/browser/node-env.sh
  . tests/browser/node-env.sh
  browser_node_env "$PWD"
  # Also when the lock file lists packages the installed ones lack (a package added since).
  if [ -f tests/browser/package-lock.json ] && { [ ! -d tests/browser/node_modules ] ||
    [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; }; then
    echo "setup: installing the browser tests' npm packages"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
