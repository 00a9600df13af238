#!/usr/bin/env bash
# Benchmark of listing a large bucket (issue #15), written into BENCHMARKS.md at the repo root
# between the markers <!-- list:begin --> and <!-- list:end --> (only that part is replaced;
# the section is appended when the markers are missing).
#
#   bash bench/list.sh
#
# A fresh Garage bucket (scripts/garage.sh) gets BENCH_LIST_OBJECTS zero-byte .mp3 objects in a
# music layout (artist-NNN/album-N/NN track.mp3: 200 per artist, 20 per album), uploaded with
# rclone. Then, BENCH_LIST_RUNS times each (the median is reported):
#  1. bucketstream-server (release, --no-scan, a fresh data dir): wall time from the process
#     start until /api/health's count equals the number of objects (the parallel listing);
#  2. the same with the old binary, whose listing is the sequential ListObjectsV2 walk
#     ($BENCH_LIST_OLD_SERVER; default: $CARGO_TARGET_DIR/bucketstream-server-seq, a copy of
#     the release build of main before the parallel listing);
#  3. `rclone lsf -R` on the same bucket (folder by folder, --checkers 8, rclone's default),
#     and `rclone lsf -R --fast-list` (one flat walk).
# Environment knobs:
#   BENCH_OUT=FILE             where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_LIST_OBJECTS=N       objects in the bucket (default 100000; a multiple of 200)
#   BENCH_LIST_RUNS=N          runs of each lister (default 3)
#   BENCH_LIST_OLD_SERVER=PATH the sequential-walk binary (skipped when missing)
# Needs garage, python3, curl and rclone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
N=${BENCH_LIST_OBJECTS:-100000}
RUNS=${BENCH_LIST_RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OLD=${BENCH_LIST_OLD_SERVER:-$TARGET/bucketstream-server-seq}
BUCKET=list-bench

say() { printf '[list-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
for tool in garage python3 curl rclone; do
    command -v "$tool" >/dev/null 2>&1 || { echo "list.sh: $tool is missing (see scripts/setup.sh)" >&2; exit 1; }
done

SERVER=$TARGET/release/bucketstream-server
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-list-bench.XXXXXX")
SERVER_PID=""
stop_pid() { [ -n "$1" ] || return 0; kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    stop_pid "$SERVER_PID"
    bash "$ROOT/scripts/garage.sh" stop "$WORK/garage" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# cargo (built after HOME moves) keeps finding its toolchain.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

say "starting Garage"
bash "$ROOT/scripts/garage.sh" start "$WORK/garage" >/dev/null
set -a
# shellcheck disable=SC1091
. "$WORK/garage/env"
set +a
export RCLONE_CONFIG_GARAGE_TYPE=s3 RCLONE_CONFIG_GARAGE_PROVIDER=Other RCLONE_CONFIG_GARAGE_REGION=garage
export RCLONE_CONFIG_GARAGE_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_GARAGE_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_GARAGE_ENDPOINT=$BUCKETSTREAM_TEST_S3_ENDPOINT
rcl() { env -u AWS_CA_BUNDLE rclone -q "$@"; }

say "making $N empty files"
python3 - "$WORK/src" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    a, r = divmod(i, 200)
    b, t = divmod(r, 20)
    d = os.path.join(root, f"artist-{a:03d}", f"album-{b}")
    if t == 0:
        os.makedirs(d, exist_ok=True)
    open(os.path.join(d, f"{t + 1:02d} track.mp3"), "w").close()
PY
say "uploading to Garage"
t0=$(now)
rcl mkdir "garage:$BUCKET"
rcl copy "$WORK/src" "garage:$BUCKET" --transfers 32 --checkers 32 --no-traverse --no-check-dest
UPLOAD_SECS=$(python3 -c "print(f'{$(now) - $t0:.0f}')")
listed=$(rcl size "garage:$BUCKET" --json --fast-list | python3 -c "import json,sys; print(json.load(sys.stdin)['count'])")
[ "$listed" = "$N" ] || { echo "list.sh: the bucket has $listed objects, want $N" >&2; exit 1; }
say "uploaded in ${UPLOAD_SECS}s"

# Built after the upload, which does not need it (the two overlap when a build runs already).
say "building bucketstream-server (release)"
cargo build --release -p bucketstream-server

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Seconds from the start of server binary $1 until /api/health counts $N items.
time_server() {
    local bin=$1 port data
    port=$(free_port)
    data=$(mktemp -d "$WORK/data.XXXX")
    local t0
    t0=$(now)
    (cd "$WORK" && exec "$bin" --bucket "$BUCKET" --endpoint "$BUCKETSTREAM_TEST_S3_ENDPOINT" --region garage \
        --data-dir "$data" --cache-dir "$data/cache" --access-key-file "$data/access-key" \
        --bind 127.0.0.1 --port "$port" --refresh-secs 0 --no-scan) >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    while :; do
        if curl -fsS "http://127.0.0.1:$port/api/health" 2>/dev/null | grep -q "\"count\":$N[,}]"; then break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "list.sh: $bin exited; log:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
        sleep 0.02
    done
    python3 -c "print(f'{$(now) - $t0:.2f}')"
    stop_pid "$SERVER_PID"
    SERVER_PID=""
    rm -rf "$data"
}

# Seconds for `rclone lsf -R` (extra flags: $@) to list $N objects.
time_rclone() {
    local t0 got
    t0=$(now)
    got=$(rcl lsf -R --files-only "garage:$BUCKET" "$@" | wc -l)
    [ "$got" = "$N" ] || { echo "list.sh: rclone lsf listed $got, want $N" >&2; exit 1; }
    python3 -c "print(f'{$(now) - $t0:.2f}')"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A TIMES
run() { # name, command...
    local name=$1 t all=()
    shift
    for r in $(seq 1 "$RUNS"); do
        t=$("$@")
        all+=("$t")
        say "$name run $r: ${t}s"
    done
    TIMES[$name]="$(median "${all[@]}") (runs: ${all[*]})"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
run new time_server "$SERVER"
if [ -x "$OLD" ]; then run old time_server "$OLD"; else TIMES[old]="not measured ($OLD missing)"; fi
run rclone time_rclone
run rclone_fast time_rclone --fast-list
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

section=$(cat <<MD
<!-- list:begin -->
## Listing a large bucket (issue #15)

\`bash bench/list.sh\` at $COMMIT, $(date -u +%Y-%m-%d): a Garage bucket on loopback (one node) with
$(printf "%'d" "$N") zero-byte objects, \`artist-NNN/album-N/NN track.mp3\` ($((N / 200)) artists, 10 albums of 20 tracks each;
uploaded by rclone in ${UPLOAD_SECS} s). Median of $RUNS runs, seconds; load average $LOAD_START at the start, $LOAD_END at the end.

| lister | seconds to the whole list |
|---|---|
| bucketstream-server, parallel listing (8 pages in flight), start to \`/api/health\` count = $(printf "%'d" "$N") | ${TIMES[new]} |
| bucketstream-server, sequential ListObjectsV2 walk (the release binary before it), same measure | ${TIMES[old]} |
| \`rclone lsf -R\` (folder by folder, 8 checkers) | ${TIMES[rclone]} |
| \`rclone lsf -R --fast-list\` (one flat walk) | ${TIMES[rclone_fast]} |

The server rows include the process start and the catalog build from the listing (\`--no-scan\`, a fresh data dir).
<!-- list:end -->
MD
)
python3 - "$OUT" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
try:
    text = open(path).read()
except FileNotFoundError:
    text = ""
pat = re.compile(r"<!-- list:begin -->.*?<!-- list:end -->", re.S)
text = pat.sub(lambda _: section, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
say "written to $OUT"
printf '%s\n' "$section"
