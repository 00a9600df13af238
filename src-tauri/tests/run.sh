#!/usr/bin/env bash
# The desktop app's tests that need special setup, in one command (run from anywhere):
#
#   src-tauri/tests/run.sh
#
# 1. cargo tests of bucketstream-keyring and bucketstream-desktop (mock runtime, no display),
#    with a throwaway Garage so the S3 error codes are checked against a real server;
# 2. the Secret Service round trip (tests/run-keyring.sh: gnome-keyring under dbus-run-session);
# 3. the end-to-end test of the real webview (tauri-driver + WebKitWebDriver under Xvfb,
#    gnome-keyring on a private session bus, throwaway HOME), twice: with WebKit's compositing
#    and with the CPU rendering a machine without a GPU gets; then the leak grep: the test
#    secret must appear in no file of the config folders, no log, and no captured reply.
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
# One end-to-end pass: run_e2e NAME MODE, with its own throwaway HOME. MODE "gpu" sets
# WEBKIT_DISABLE_COMPOSITING_MODE=0, keeping WebKit's compositing (on llvmpipe under Xvfb), and
# keeps screenshots; MODE "cpu" leaves the variable unset, so the app picks CPU rendering as on
# any machine without a GPU (src/rendering.rs). In CPU mode WebKitWebDriver's screenshot
# command never answers (WebKitGTK 2.50), so that pass takes none; page, IPC and media are
# checked in both.
run_e2e() {
  local name=$1 mode=$2 home="$work/home-$1" port
  local -a mode_env=(-u WEBKIT_DISABLE_COMPOSITING_MODE -u BUCKETSTREAM_E2E_ARTIFACTS)
  if [ "$mode" = gpu ]; then
    mode_env+=(WEBKIT_DISABLE_COMPOSITING_MODE=0 BUCKETSTREAM_E2E_ARTIFACTS="$work/artifacts")
  fi
  mkdir -p "$home" "$work/run-$name" "$work/artifacts"
  chmod 700 "$work/run-$name"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  echo "-- end-to-end pass '$name' ($mode rendering)"
  set +e
  (
    cd "$work"   # no stray .env from the checkout
    env "${mode_env[@]}" \
      HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
      XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$work/run-$name" \
      BUCKETSTREAM_BIND=127.0.0.1 BUCKETSTREAM_MDNS=false BUCKETSTREAM_E2E_WEBDRIVER="http://127.0.0.1:$port" \
      BUCKETSTREAM_E2E_CAPTURE="$work/captured-$name.txt" BUCKETSTREAM_LOG=debug \
      xvfb-run -a dbus-run-session -- sh -c '
      echo "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      # The app gets no AWS_* variables: its credentials come from the settings form.
      env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION \
        tauri-driver --port "$0" >"$1/app-$3.log" 2>&1 &
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
    ' "$port" "$work" "$root" "$name" 2>&1 | tee "$work/e2e-$name.log"
  )
  local rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    echo "run.sh: end-to-end pass '$name' failed; app log:" >&2
    tail -40 "$work/app-$name.log" >&2 || true
    exit "$rc"
  fi
  # The app logs the mode it chose; make sure the pass ran in the mode it claims.
  local want=UserChoice
  [ "$mode" = cpu ] && [ ! -d /dev/dri ] && want=CpuWithoutGpu
  [ "$mode" = cpu ] && [ -d /dev/dri ] && want='(CpuWithoutGpu|Gpu)'
  if ! sed 's/\x1b\[[0-9;]*m//g' "$work/app-$name.log" | grep -E "rendering=$want WebKit rendering|WebKit rendering rendering=$want" >/dev/null; then
    echo "run.sh: pass '$name' did not log WebKit rendering $want:" >&2
    grep -i "rendering" "$work/app-$name.log" >&2 || true
    exit 1
  fi
}

secret=$AWS_SECRET_ACCESS_KEY
run_e2e gpu gpu
run_e2e cpu cpu
if [ -n "${BUCKETSTREAM_E2E_SCREENSHOT:-}" ]; then
  for shot in window settings; do
    [ -s "$work/artifacts/$shot.b64" ] || continue
    out="${BUCKETSTREAM_E2E_SCREENSHOT%.png}"; [ "$shot" = window ] && out="$out.png" || out="$out-$shot.png"
    base64 -d "$work/artifacts/$shot.b64" >"$out" && echo "run.sh: screenshot in $out"
  done
fi

echo "== leak grep: the test secret in config files, logs, captured replies"
captured=0
for name in gpu cpu; do
  [ -s "$work/captured-$name.txt" ] || { echo "run.sh: nothing was captured in pass $name" >&2; exit 1; }
  grep -q '"ok"' "$work/captured-$name.txt" || { echo "run.sh: no IPC reply captured in pass $name" >&2; exit 1; }
  ls "$work/home-$name/.config/bucketstream/config.toml" >/dev/null
  captured=$((captured + $(wc -l <"$work/captured-$name.txt")))
done
leaks=$(grep -rlF -- "$secret" "$work"/home-*/.config "$work"/app-*.log "$work"/e2e-*.log "$work"/captured-*.txt 2>/dev/null || true)
if [ -n "$leaks" ]; then
  echo "run.sh: FAIL: the secret appears in: $leaks" >&2
  exit 1
fi
echo "run.sh: all desktop tests passed, both rendering modes (no secret in $(find "$work"/home-*/.config -type f | wc -l) config file(s), 4 logs, $captured captured replies)"
