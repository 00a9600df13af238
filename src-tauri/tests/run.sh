#!/usr/bin/env bash
# The desktop app's tests that need special setup, in one command (run from anywhere):
#
#   src-tauri/tests/run.sh
#
# 1. cargo tests of bucketstream-keyring and bucketstream-desktop (mock runtime, no display),
#    with a throwaway Garage so the S3 error codes are checked against a real server;
# 2. the Secret Service round trip (tests/run-keyring.sh: gnome-keyring under dbus-run-session);
# 3. the end-to-end test of the real webview (tauri-driver + WebKitWebDriver under Xvfb,
#    gnome-keyring on a private session bus, throwaway HOME), then the leak grep: the test
#    secret must appear in no file of the config folder, no log, and no captured reply.
#
# Needs: garage (cargo install garage --locked), tauri-driver (cargo install tauri-driver
# --locked), Debian packages xvfb xauth dbus gnome-keyring webkit2gtk-driver. A missing
# garage / tauri-driver / WebKitWebDriver skips the parts that need it with a message, unless
# BUCKETSTREAM_REQUIRE_ALL=1, which makes it a failure. BUCKETSTREAM_E2E_ONLY=1 runs part 3
# only; BUCKETSTREAM_E2E_SCREENSHOT=FILE.png keeps the window's screenshot.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
export PATH="$CARGO_HOME/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/bs-desktop-tests.XXXXXX")
garage_dir="$work/garage"
cleanup() {
  [ -f "$garage_dir/pid" ] && scripts/garage.sh stop "$garage_dir" || true
  rm -rf "$work"
}
trap cleanup EXIT

skip() {
  if [ "${BUCKETSTREAM_REQUIRE_ALL:-0}" = 1 ]; then echo "run.sh: FAIL: $*" >&2; exit 1; fi
  echo "run.sh: SKIP: $*" >&2
}

have_garage=0
if command -v garage >/dev/null; then
  scripts/garage.sh start "$garage_dir" >/dev/null
  set -a; . "$garage_dir/env"; set +a
  denied=$(garage -c "$garage_dir/garage.toml" key create bs-denied)
  BUCKETSTREAM_TEST_S3_DENIED_KEY_ID=$(printf '%s\n' "$denied" | sed -n 's/^Key ID: *//p' | head -1)
  BUCKETSTREAM_TEST_S3_DENIED_SECRET=$(printf '%s\n' "$denied" | sed -n 's/^Secret key: *//p' | head -1)
  BUCKETSTREAM_TEST_GARAGE_CONFIG="$garage_dir/garage.toml"
  export BUCKETSTREAM_TEST_S3_DENIED_KEY_ID BUCKETSTREAM_TEST_S3_DENIED_SECRET BUCKETSTREAM_TEST_GARAGE_CONFIG
  have_garage=1
else
  skip "garage not installed: S3 error codes and the end-to-end test need it"
fi

if [ "${BUCKETSTREAM_E2E_ONLY:-0}" != 1 ]; then
  echo "== 1/3 cargo tests (keyring crate, desktop commands on the mock runtime)"
  cargo test -p bucketstream-keyring -p bucketstream-desktop

  echo "== 2/3 Secret Service round trip"
  src-tauri/tests/run-keyring.sh
fi

echo "== 3/3 end-to-end (tauri-driver, WebKitWebDriver, Xvfb)"
missing=""
command -v tauri-driver >/dev/null || missing="$missing tauri-driver"
command -v WebKitWebDriver >/dev/null || missing="$missing WebKitWebDriver(webkit2gtk-driver)"
command -v xvfb-run >/dev/null || missing="$missing xvfb-run"
[ "$have_garage" = 1 ] || missing="$missing garage"
if [ -n "$missing" ]; then
  skip "end-to-end test needs:$missing"
  exit 0
fi
cargo build -p bucketstream-desktop --bin bucketstream-desktop
cargo test -p bucketstream-desktop --test e2e --no-run
e2e_home="$work/home"
mkdir -p "$e2e_home" "$work/run" "$work/artifacts"
chmod 700 "$work/run"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
secret=$AWS_SECRET_ACCESS_KEY
set +e
# WEBKIT_DISABLE_COMPOSITING_MODE=0 keeps WebKit's GPU compositing (llvmpipe under Xvfb):
# without a GPU the app otherwise renders on the CPU (src/rendering.rs), where
# WebKitWebDriver's screenshot command never answers (WebKitGTK 2.50); page, IPC and media
# work in both modes.
(
  cd "$work"   # no stray .env from the checkout
  HOME="$e2e_home" XDG_CONFIG_HOME="$e2e_home/.config" XDG_DATA_HOME="$e2e_home/.local/share" \
  XDG_CACHE_HOME="$e2e_home/.cache" XDG_RUNTIME_DIR="$work/run" \
  BUCKETSTREAM_BIND=127.0.0.1 BUCKETSTREAM_MDNS=false BUCKETSTREAM_E2E_WEBDRIVER="http://127.0.0.1:$port" \
  BUCKETSTREAM_E2E_CAPTURE="$work/captured-replies.txt" BUCKETSTREAM_E2E_ARTIFACTS="$work/artifacts" \
  BUCKETSTREAM_LOG=debug \
  WEBKIT_DISABLE_COMPOSITING_MODE=0 \
  xvfb-run -a dbus-run-session -- sh -c '
    echo "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    # The app gets no AWS_* variables: its credentials come from the settings form.
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION \
      tauri-driver --port "$0" >"$1/app.log" 2>&1 &
    driver=$!
    for _ in $(seq 1 100); do
      (exec 3<>/dev/tcp/127.0.0.1/$0) 2>/dev/null && break
      sleep 0.1
    done
    cargo test --manifest-path "$2/Cargo.toml" -p bucketstream-desktop --test e2e -- --nocapture
    rc=$?
    kill $driver 2>/dev/null
    wait $driver 2>/dev/null
    exit $rc
  ' "$port" "$work" "$root" 2>&1 | tee "$work/e2e-test.log"
)
rc=${PIPESTATUS[0]}
set -e
if [ -n "${BUCKETSTREAM_E2E_SCREENSHOT:-}" ]; then
  for shot in window settings; do
    [ -s "$work/artifacts/$shot.b64" ] || continue
    out="${BUCKETSTREAM_E2E_SCREENSHOT%.png}"; [ "$shot" = window ] && out="$out.png" || out="$out-$shot.png"
    base64 -d "$work/artifacts/$shot.b64" >"$out" && echo "run.sh: screenshot in $out"
  done
fi
if [ "$rc" != 0 ]; then
  echo "run.sh: end-to-end test failed; app log:" >&2
  tail -40 "$work/app.log" >&2 || true
  exit "$rc"
fi

echo "== leak grep: the test secret in config files, logs, captured replies"
[ -s "$work/captured-replies.txt" ] || { echo "run.sh: nothing was captured" >&2; exit 1; }
grep -q '"ok"' "$work/captured-replies.txt" || { echo "run.sh: no IPC reply captured" >&2; exit 1; }
leaks=$(grep -rlF -- "$secret" "$e2e_home/.config" "$work/app.log" "$work/e2e-test.log" "$work/captured-replies.txt" 2>/dev/null || true)
if [ -n "$leaks" ]; then
  echo "run.sh: FAIL: the secret appears in: $leaks" >&2
  exit 1
fi
ls "$e2e_home/.config/bucketstream/config.toml" >/dev/null
echo "run.sh: all desktop tests passed (no secret in $(find "$e2e_home/.config" -type f | wc -l) config file(s), 2 logs, $(wc -l <"$work/captured-replies.txt") captured replies)"
