#!/usr/bin/env bash
# Cold start to page load, and idle RSS, of the desktop app under Xvfb (throwaway HOME).
#
#   src-tauri/tests/measure.sh [BINARY] [RUNS]     default: target/release/bucketstream-desktop, 3 runs
#
# "page loaded" is Tauri's PageLoadEvent::Finished for the main window, timed from the
# start of main() (the app logs it); the wall time from exec is also printed. Idle RSS is
# read 10 s after start: the app process alone, and with its WebKit child processes. RSS
# counts a shared library's pages in every process that maps it, so the sum over processes
# overstates what they use together; PSS (each shared page divided among the processes
# mapping it, from /proc/PID/smaps_rollup) is printed beside it. The environment passes
# through to the app (e.g. WEBKIT_* variables, BUCKETSTREAM_LOG).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/release/bucketstream-desktop}
runs=${2:-3}
bin=$(realpath "$bin" 2>/dev/null || echo "$bin")
[ -x "$bin" ] || { echo "measure.sh: no binary at $bin" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bs-measure.XXXXXX")
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$runs"); do
  rm -rf "$work/home" "$work/run"; mkdir -p "$work/home" "$work/run"; chmod 700 "$work/run"
  (cd "$work" && HOME="$work/home" XDG_RUNTIME_DIR="$work/run" BUCKETSTREAM_BIND=127.0.0.1 \
    xvfb-run -a dbus-run-session -- sh -c '
      echo "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      t0=$(date +%s%N)
      "$0" >"$1/app.log" 2>&1 &
      pid=$!
      while ! grep -q "page loaded" "$1/app.log" 2>/dev/null; do
        kill -0 $pid 2>/dev/null || { echo "app exited"; exit 1; }
        sleep 0.02
      done
      t1=$(date +%s%N)
      sleep 10
      app=$(awk "/VmRSS/ {print \$2}" /proc/$pid/status)
      pss() { awk "/^Pss:/ {print \$2}" /proc/$1/smaps_rollup; }
      app_pss=$(pss $pid)
      total=$app; total_pss=$app_pss
      for c in $(pgrep -P $pid); do
        total=$((total + $(awk "/VmRSS/ {print \$2}" /proc/$c/status)))
        total_pss=$((total_pss + $(pss $c)))
      done
      ms=$(sed "s/\x1b\[[0-9;]*m//g" "$1/app.log" | sed -n "s/.*since_start_ms=Some(\([0-9]*\)).*/\1/p" | head -1)
      echo "run: page loaded ${ms} ms after main(), $(( (t1 - t0) / 1000000 )) ms after exec (incl. polling); idle RSS app $((app / 1024)) MiB, app+WebKit $((total / 1024)) MiB; PSS app $((app_pss / 1024)) MiB, app+WebKit $((total_pss / 1024)) MiB"
      kill $pid; wait $pid 2>/dev/null || true
    ' "$bin" "$work") 2>"$work/err.log" | grep '^run:' | sed "s/^run:/run $i:/" || { echo "measure.sh: run $i failed:" >&2; tail -n 5 "$work/err.log" "$work/app.log" >&2; }
done
