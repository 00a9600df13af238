#!/usr/bin/env bash
# Benchmark of uploads (issue #14), written into BENCHMARKS.md at the repo root as the section
# "## Uploads (issue #14)" (only that section is replaced).
#
#   bash bench/upload.sh
#
# One file of BENCH_UPLOAD_MB random bytes (default 1000: 1 GB) goes into a fresh Garage
# bucket (scripts/garage.sh) three ways, one after the other, each timed:
#  1. through the release bucketstream-server's /api/uploads with tuspy (tus 1.0.0, 64 MiB
#     PATCH requests, the server sending 5 MiB multipart parts); the server's peak RSS
#     (VmHWM) is read after the upload;
#  2. `rclone copy` straight to Garage (the target: at least 0.9x its throughput);
#  3. `aws s3 cp` straight to Garage (PyPI awscli).
# Every upload is checked byte for byte (sha256 of what `rclone cat` reads back). Everything it starts is
# stopped on exit. Environment knobs:
#   BENCH_OUT=FILE          where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_UPLOAD_MB=N       size of the file in MB (default 1000)
#   BENCH_UPLOAD_PROFILE=debug   try the script with a debug build (figures are meaningless)
# Needs garage, python3 (with venv), curl; rclone (apt) and tuspy + awscli (PyPI, into
# target/py) are installed when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
MB=${BENCH_UPLOAD_MB:-1000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BUCKET=upload-bench
CHUNK=$((64 * 1024 * 1024))

say() { printf '[upload-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }

# --- tools ------------------------------------------------------------------------------
for tool in garage python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "upload.sh: $tool is missing (see scripts/setup.sh)" >&2; exit 1; }
done
if ! command -v rclone >/dev/null 2>&1; then
    say "installing rclone"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rclone >/dev/null
fi
PY=$ROOT/target/py/bin/python
if ! "$PY" -c "import tusclient, awscli" 2>/dev/null; then
    say "installing tuspy and awscli from PyPI into target/py"
    python3 -m venv "$ROOT/target/py"
    "$ROOT/target/py/bin/pip" install --quiet --disable-pip-version-check tuspy awscli
fi
AWS=$ROOT/target/py/bin/aws

PROFILE=${BENCH_UPLOAD_PROFILE:-release}
say "building bucketstream-server ($PROFILE)"
if [ "$PROFILE" = release ]; then FLAG=--release; DIR=release; else FLAG=""; DIR=debug; fi
cargo build $FLAG -p bucketstream-server
SERVER=$TARGET/$DIR/bucketstream-server
dirty=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-upload-bench.XXXXXX")
PIDS=()
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    bash "$ROOT/scripts/garage.sh" stop "$WORK/garage" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
# Some S3 clients fail on a CA bundle they cannot load (rclone 1.60); Garage is plain HTTP.
unset AWS_CA_BUNDLE

# --- Garage, the bucket and the file -------------------------------------------------------
say "starting Garage"
bash "$ROOT/scripts/garage.sh" start "$WORK/garage" >/dev/null
set -a
# shellcheck disable=SC1091
. "$WORK/garage/env"
set +a
EP=$BUCKETSTREAM_TEST_S3_ENDPOINT
export RCLONE_CONFIG_GARAGE_TYPE=s3 RCLONE_CONFIG_GARAGE_PROVIDER=Other RCLONE_CONFIG_GARAGE_REGION=$AWS_REGION
export RCLONE_CONFIG_GARAGE_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_GARAGE_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_GARAGE_ENDPOINT=$EP RCLONE_CONFIG_GARAGE_FORCE_PATH_STYLE=true
"$AWS" --endpoint-url "$EP" s3 mb "s3://$BUCKET" >/dev/null

FILE=$WORK/song.mp3
say "writing $MB MB of random bytes"
head -c "$((MB * 1000 * 1000))" /dev/urandom >"$FILE"
BYTES=$(stat -c %s "$FILE")
WANT=$(sha256sum "$FILE" | cut -d' ' -f1)
check() { # key
    local got
    # rclone reads it back (awscli 1.x's HeadObject before a download gets a 400 from Garage).
    got=$(rclone cat "garage:$BUCKET/$1" 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$WANT" ] || { echo "upload.sh: $1 differs from the file" >&2; exit 1; }
}

# --- 1. the server, tuspy -------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SERVER" --bucket "$BUCKET" --endpoint "$EP" --region "$AWS_REGION" --bind 127.0.0.1 --port "$PORT" \
    --data-dir "$WORK/data" --no-scan --no-mdns --cache-dir "$WORK/cache" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
RSS_IDLE=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
# Peak RSS sampled every 0.2 s during the upload too (VmHWM is the peak since start).
(while kill -0 "$SERVER_PID" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" >>"$WORK/rss"; sleep 0.2; done) &
PIDS+=($!)
say "uploading through the server with tuspy"
t0=$(now)
"$PY" - "http://127.0.0.1:$PORT/api/uploads" "$FILE" "$CHUNK" <<'PYEOF'
import sys
from tusclient import client
endpoint, path, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
up = client.TusClient(endpoint).uploader(path, chunk_size=chunk, metadata={"filename": "song.mp3", "folder": "tus"})
up.upload()
PYEOF
t1=$(now)
TUS_S=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
RSS_PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
RSS_SAMPLED=$(sort -n "$WORK/rss" | tail -1)
check tus/song.mp3
say "tuspy: $TUS_S s, server peak RSS $((RSS_PEAK / 1024)) MiB"

# --- 2. rclone copy, 3. aws s3 cp -------------------------------------------------------------
say "rclone copy"
mkdir -p "$WORK/r" && ln "$FILE" "$WORK/r/song.mp3"
t0=$(now)
rclone copy "$WORK/r/song.mp3" "garage:$BUCKET/rclone/"
t1=$(now)
RCLONE_S=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
check rclone/song.mp3
say "aws s3 cp"
t0=$(now)
"$AWS" --endpoint-url "$EP" s3 cp --only-show-errors "$FILE" "s3://$BUCKET/aws/song.mp3"
t1=$(now)
AWS_S=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
check aws/song.mp3

# --- the section --------------------------------------------------------------------------
mbps() { python3 -c "print(f'{$BYTES / $1 / 1e6:.0f}')"; }
RATIO=$(python3 -c "print(f'{$RCLONE_S / $TUS_S:.2f}')")
SECTION=$WORK/section.md
{
    echo "## Uploads (issue #14)"
    echo
    echo "\`bash bench/upload.sh\` at $COMMIT$([ "$dirty" -gt 0 ] && echo " (uncommitted changes)"), $(date -u +%Y-%m-%d), $PROFILE build;"
    echo "one file of $BYTES random bytes into a single-node Garage on loopback, each upload checked"
    echo "byte for byte; the machine's load average when it ended: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| how | time | throughput | vs rclone |"
    echo "|---|---:|---:|---:|"
    echo "| bucketstream-server \`/api/uploads\`, tuspy (64 MiB PATCHes, 5 MiB parts) | $TUS_S s | $(mbps "$TUS_S") MB/s | ${RATIO}x (target ≥ 0.9x) |"
    echo "| \`rclone copy\` straight to Garage | $RCLONE_S s | $(mbps "$RCLONE_S") MB/s | 1.00x |"
    echo "| \`aws s3 cp\` straight to Garage | $AWS_S s | $(mbps "$AWS_S") MB/s | $(python3 -c "print(f'{$RCLONE_S / $AWS_S:.2f}')")x |"
    echo
    echo "The server's RSS: $((RSS_IDLE / 1024)) MiB idle, peak $((RSS_PEAK / 1024)) MiB (VmHWM; highest sample"
    echo "during the upload $((RSS_SAMPLED / 1024)) MiB); target < 150 MB. The server stages each part on disk"
    echo "and holds one request body frame per upload in memory."
    echo
} >"$SECTION"
python3 - "$OUT" "$SECTION" <<'PYEOF'
import sys, re
out, section = sys.argv[1], open(sys.argv[2]).read()
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
head = "## Uploads (issue #14)"
if head in text:
    start = text.index(head)
    rest = text[start + len(head):]
    m = re.search(r"^## ", rest, re.M)
    end = start + len(head) + (m.start() if m else len(rest))
    text = text[:start] + section + text[end:]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text)
PYEOF
cat "$SECTION"
