#!/usr/bin/env bash
# Builds the desktop app's Debian package and prints its path and size.
#
#   src-tauri/package-deb.sh     release build + .deb (6 minutes on 2 cores when the server's
#                                release dependencies are built, 1.5 minutes after an app change)
#
# Installs what is missing first: the apt packages and Rust toolchain of scripts/setup.sh
# (WebKitGTK/GTK development files), Node + npm if there is no `npx`. The Tauri CLI is
# the prebuilt npm package @tauri-apps/cli run through npx (seconds) instead of
# `cargo install tauri-cli` (about 8 minutes of compiling); TAURI_CLI_VERSION overrides its
# version. The .deb is written by the CLI's own bundler (no dpkg-dev or fakeroot needed);
# `dpkg-deb` (always on Debian) is only used to print its summary.
#
# The binary is stripped of its symbol table between the build and the bundle steps, as
# Debian's dh_strip would (the release profile already drops debug info): about 2 MB less
# in the .deb, no change to the code. This keeps the workspace's [profile.release], which
# the server and the benchmarks share, untouched. BUCKETSTREAM_NO_STRIP=1 skips it.
#
# Note: the CLI builds with `tauri/custom-protocol` (the production asset protocol); a plain
# `cargo build --release` of the workspace relinks target/release/bucketstream-desktop
# without it. Measure the packaged binary (src-tauri/tests/measure.sh on `dpkg -x` output).
#
# The CLI runs from src-tauri/ so it takes src-tauri/ (with its tauri.conf.json symlink to
# the repository's) as the app folder; from the repository root it would take the root,
# whose Cargo.toml is the workspace, not the app (`TAURI_APP_PATH=src-tauri` also works).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli_version=${TAURI_CLI_VERSION:-2}

"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$PATH"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v npx >/dev/null; then
  echo "package-deb: installing nodejs and npm (for the Tauri CLI)"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$root/tauri.conf.json")
deb_dir="$target_dir/release/bundle/deb"
rm -f "$deb_dir"/*.deb

cd "$root/src-tauri"
tauri() { npx --yes "@tauri-apps/cli@$cli_version" "$@"; }
# Niced: the build machines are shared.
renice -n 10 $$ >/dev/null
tauri build --no-bundle --ci
bin="$target_dir/release/bucketstream-desktop"
if [ "${BUCKETSTREAM_NO_STRIP:-0}" != 1 ]; then
  before=$(stat -c %s "$bin")
  strip --strip-unneeded "$bin"
  echo "package-deb: stripped $bin: $before -> $(stat -c %s "$bin") bytes"
fi
tauri bundle --bundles deb --ci

deb=$(ls "$deb_dir"/*_"${version}"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "package-deb: no .deb found in $deb_dir" >&2; exit 1; }
bytes=$(stat -c %s "$deb")
echo
dpkg-deb -f "$deb" Package Version Architecture Depends Installed-Size
echo "package-deb: $deb"
echo "package-deb: size $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.2f MiB", b / 1048576 }'))"
