#!/usr/bin/env bash
# Where the warm path's CPU goes: perf + strace on bucketstream-server while wrk asks for random
# 1 MiB ranges of a cached 64 MiB object (the same load as benchmark 1, smaller object).
#
#   bash bench/cache/profile.sh [SERVER_BINARY]     (default target/release/bucketstream-server)
#
# Prints wrk's result, the top of `perf report` (by symbol) and `strace -c`. Needs perf and
# strace; everything runs on loopback and stops on exit. About 40 s.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SERVER=${1:-$ROOT/target/release/bucketstream-server}
SIZE=$((64 * 1048576))
W=$(mktemp -d /tmp/bs-cache-profile.XXXXXX)
SP=""
cleanup() {
    set +e
    [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
    "$ROOT/scripts/garage.sh" stop "$W/g" >/dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/garage.sh" start "$W/g" >/dev/null
set -a; . "$W/g/env"; set +a
head -c "$SIZE" /dev/urandom >"$W/big.mp4"
env -u AWS_CA_BUNDLE python3 - "$BUCKETSTREAM_TEST_S3_ENDPOINT" "$W/big.mp4" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="garage",
                  config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="profile")
s3.upload_file(sys.argv[2], "profile", "big.mp4")
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$SERVER" --bind 127.0.0.1 --port "$PORT" --bucket profile --endpoint "$BUCKETSTREAM_TEST_S3_ENDPOINT" \
    --region garage --refresh-secs 0 --cache-dir "$W/cache" >"$W/server.log" 2>&1 </dev/null &
SP=$!
ID=""
for _ in $(seq 1 100); do
    ID=$(curl -sf "http://127.0.0.1:$PORT/api/videos" 2>/dev/null | python3 -c 'import sys,json; print(json.load(sys.stdin)[0]["id"])' 2>/dev/null || true)
    [ -n "$ID" ] && break; sleep 0.1
done
[ -n "$ID" ] || { echo "server did not start" >&2; exit 1; }
curl -sf -o /dev/null "http://127.0.0.1:$PORT/media/$ID"   # warm the cache

BENCH_PATH=/media/$ID BENCH_SIZE=$SIZE timeout 40 wrk -t2 -c32 -d14s \
    -s "$HERE/range.lua" "http://127.0.0.1:$PORT" >"$W/wrk.txt" &
WP=$!
sleep 1
timeout 20 perf record -q -F 499 -g -p "$SP" -o "$W/perf.data" -- sleep 5 >/dev/null 2>&1 || true
timeout -s INT 5 strace -c -f -p "$SP" -o "$W/strace.txt" 2>/dev/null || true
wait "$WP" || true
grep RESULT "$W/wrk.txt"
echo "--- perf, self time by symbol (server process, 5 s under load) ---"
perf report -i "$W/perf.data" --no-children -g none --sort symbol --stdio 2>/dev/null |
    grep '%' | cut -c1-100 | sed 's/ *$//' | head -15
echo "--- strace -c (5 s under load; 'calls' per request: divide by recvfrom) ---"
head -16 "$W/strace.txt"
