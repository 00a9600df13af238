#!/usr/bin/env bash
# The issue #15 benchmark: a library of 100,000 and 1,000,000 objects (local sparse files) and
# of 100,000 objects in Garage, served by one build of bucketstream-server; the figures go into
# one column ("Before" or "After") of the table in BENCHMARKS.md's section "A million objects
# (issue #15): before and after" (between <!-- large:begin --> and <!-- large:end -->; rows are
# matched by dataset and figure, the other column and the text around the table are kept), and
# are printed as Markdown rows on stdout.
#
#   bash bench/large.sh                          # the After column, binaries of $CARGO_TARGET_DIR
#   COLUMN=before BIN=/path/bucketstream-server BENCH_COMMIT=5ba0056 bash bench/large.sh
#
# For each dataset, with `--no-scan --refresh-secs 0 --no-mdns`:
#  1. a fresh data dir: time from the process start until `/api/videos?limit=1` answers with
#     `total` = N ("serving"), until `/api/health` has `last_refresh` (the listing reconciled),
#     and until the database holds that listing (`listing_saves`); VmRSS/VmHWM then, idle, and again SETTLE_SECS later;
#  2. on that server: `/api/videos` paged and searched with wrk (WRK_CONNS connections,
#     WRK_SECS s per row, a Lua script rotating 1,000 queries: limit=50 at random offsets, the
#     same sorted by title, a common word, a rare word, two words); the whole list (curl,
#     plain and gzip, first and second request: time and bytes); the WebSocket on connect
#     (`bucketstream-bench ws-list`: `/ws`, `/ws?list=none`, `/ws?list=pages`; a mode the
#     server does not know is reported as not supported); VmRSS/VmHWM after all that;
#  3. a restart on the same data dir (served from the saved listing where the server can):
#     the same start-up times and VmRSS/VmHWM;
#  4. (local datasets) a restart with tags: N tag records (title, artist, album, genre,
#     duration…) written into the database as a scan would have left them, one start to let
#     the server keep them beside its saved listing, then the timed restart: the same figures,
#     whether the first page has its tags, and a search for a tag word (wrk).
# Datasets are kept in BENCH_DATA between runs and reused: lib-N (N sparse 1 MiB .mp3 files,
# `bucketstream-bench fixtures`, artist-NNNN/album-NN/track-NNNNNN.mp3) and garage/ (a
# one-node Garage, scripts/garage.sh, with bucket large-N of N empty objects under the same
# keys, uploaded by rclone: about 4 minutes for 100,000 the first time). Everything the script
# starts (servers, Garage) is stopped on exit; the data dirs of the servers are removed.
#
# Knobs (environment):
#   BIN=PATH          the server binary (default $CARGO_TARGET_DIR/release/bucketstream-server,
#                     else target/release/...)
#   BENCH_BIN=PATH    the bench binary (default: bucketstream-bench beside BIN)
#   BENCH_COMMIT=REV  what the column says was measured (default: git HEAD of this repo)
#   SIZES="A B"       local sizes (default "100000 1000000"; "" for none)
#   S3_SIZES="A"      Garage sizes (default "100000"; "" for none)
#   COLUMN=after      which column to fill: before | after | none (print only) | both (first
#                     Before with BEFORE_BIN, default $BENCH_DATA/bin-5ba0056/bucketstream-server,
#                     and BEFORE_COMMIT, default 5ba0056; then After: the same load for both)
#   BENCH_OUT=FILE    the Markdown file (default BENCHMARKS.md at the repo root)
#   BENCH_DATA=DIR    where datasets are kept (default /var/tmp/bucketstream-large)
#   WRK_SECS=10 WRK_CONNS=4 WRK_THREADS=2
#   PHASE_TIMEOUT=1800  longest wait for any start-up step (seconds)
#   SETTLE_SECS=15    after each start-up's idle VmRSS, how long to wait before the second
#                     sample (the figure a server keeps while idle)
# Needs curl, wrk, python3 (with sqlite3); for Garage also garage and rclone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/bucketstream-server}
BENCH=${BENCH_BIN:-$(dirname "$BIN")/bucketstream-bench}
COMMIT=${BENCH_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
SIZES=${SIZES-100000 1000000}
S3_SIZES=${S3_SIZES-100000}
COLUMN=${COLUMN:-after}
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
DATA=${BENCH_DATA:-/var/tmp/bucketstream-large}
WRK_SECS=${WRK_SECS:-10}
WRK_CONNS=${WRK_CONNS:-4}
WRK_THREADS=${WRK_THREADS:-2}
TIMEOUT=${PHASE_TIMEOUT:-1800}
SETTLE_SECS=${SETTLE_SECS:-15}

say() { printf '[large %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
case $COLUMN in before | after | none | both) ;; *) die "COLUMN is before, after, both or none, not '$COLUMN'" ;; esac
if [ "$COLUMN" = both ]; then
    # Both columns under the same load, one after the other, with the same bench binary.
    BEFORE_BIN=${BEFORE_BIN:-$DATA/bin-5ba0056/bucketstream-server}
    [ -x "$BEFORE_BIN" ] || die "$BEFORE_BIN is missing (BEFORE_BIN=the server binary of the Before column)"
    COLUMN=before BIN=$BEFORE_BIN BENCH_BIN=$BENCH BENCH_COMMIT=${BEFORE_COMMIT:-5ba0056} bash "${BASH_SOURCE[0]}"
    COLUMN=after BIN=$BIN BENCH_BIN=$BENCH BENCH_COMMIT=$COMMIT exec bash "${BASH_SOURCE[0]}"
fi
for tool in "$BIN" "$BENCH"; do
    [ -x "$tool" ] || die "$tool is missing (cargo build --release -p bucketstream-server -p bucketstream-bench, or set BIN / BENCH_BIN)"
done
"$BENCH" startup --help >/dev/null 2>&1 || die "$BENCH has no 'startup' subcommand (build bucketstream-bench from this tree)"
for tool in curl wrk python3; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
if [ -n "$S3_SIZES" ]; then
    for tool in garage rclone; do command -v "$tool" >/dev/null || die "$tool is not installed (S3_SIZES= skips Garage)"; done
fi

mkdir -p "$DATA"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-large.XXXXXX")
SERVER_PID=""
GARAGE_STARTED=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    if [ -n "$GARAGE_STARTED" ]; then bash "$ROOT/scripts/garage.sh" stop "$DATA/garage" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Nothing reads the user's config, keys or caches.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

ROWS=$WORK/rows.tsv
: >"$ROWS"
# One figure: dataset, figure, value (tab-separated into $ROWS, and on stderr as it comes).
row() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$ROWS"
    say "$1 | $2 | $3"
}
fmt_n() { python3 -c "print(f'{int($1):,}')"; }
secs() { python3 -c "print(f'{float($1):,.2f} s')"; }

# ---- datasets ------------------------------------------------------------------------------
local_dataset() { # N -> prints the folder, made once
    local n=$1 dir=$DATA/lib-$1
    if [ ! -d "$dir" ]; then
        say "making $n sparse files in $dir"
        rm -rf "$dir.partial"
        "$BENCH" fixtures --dir "$dir.partial" --count "$n" >/dev/null
        sync
        mv "$dir.partial" "$dir"
    fi
    echo "$dir"
}

rcl() { env -u AWS_CA_BUNDLE rclone -q "$@"; }
garage_up() {
    [ -z "${BUCKETSTREAM_TEST_S3_ENDPOINT:-}" ] || return 0
    local pidfile=$DATA/garage/pid
    if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then GARAGE_STARTED=1; fi
    say "starting Garage in $DATA/garage"
    bash "$ROOT/scripts/garage.sh" start "$DATA/garage" >/dev/null
    set -a
    # shellcheck disable=SC1091
    . "$DATA/garage/env"
    set +a
    export RCLONE_CONFIG_GARAGE_TYPE=s3 RCLONE_CONFIG_GARAGE_PROVIDER=Other RCLONE_CONFIG_GARAGE_REGION=garage
    export RCLONE_CONFIG_GARAGE_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_GARAGE_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
    export RCLONE_CONFIG_GARAGE_ENDPOINT=$BUCKETSTREAM_TEST_S3_ENDPOINT
}
bucket_count() { rcl size "garage:$1" --json --fast-list 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['count'])" 2>/dev/null || echo 0; }
s3_dataset() { # N -> prints the bucket, filled once (after garage_up)
    local n=$1 bucket=large-$1 have
    have=$(bucket_count "$bucket")
    if [ "$have" != "$n" ]; then
        say "bucket $bucket has $have objects: uploading $n empty objects (once)"
        local src=$DATA/empty-$n
        rm -rf "$src"
        "$BENCH" fixtures --dir "$src" --count "$n" --size 0 >/dev/null
        rcl mkdir "garage:$bucket"
        rcl copy "$src" "garage:$bucket" --transfers 32 --checkers 32 --no-traverse --no-check-dest
        rm -rf "$src"
        have=$(bucket_count "$bucket")
        [ "$have" = "$n" ] || die "bucket $bucket has $have objects after the upload, want $n"
    fi
    echo "$bucket"
}

# ---- one server ----------------------------------------------------------------------------
# start_server, its memory, its saved listing, its start-up figures, tags as a scan leaves them.
# shellcheck source=lib/large-server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/large-server.sh"

# ---- the queries ---------------------------------------------------------------------------
# A wrk Lua script rotating 1,000 paths made by python from a pattern: $2 (a Python expression
# of r, a seeded random.Random, and n, the library size).
make_lua() { # file pattern n
    python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, pattern, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = random.Random(15)
paths = [eval(pattern, {"r": r, "n": n}) for _ in range(1000)]
with open(path, "w") as f:
    f.write("local paths = {\n")
    for p in paths:
        f.write(f'  "{p}",\n')
    f.write("}\n")
    f.write("local counter = 0\n")
    f.write("function setup(thread) thread:set('first', counter); counter = counter + 337 end\n")
    f.write("local i = 0\n")
    f.write("function request() i = i + 1; return wrk.format('GET', paths[((first or 0) + i) % #paths + 1]) end\n")
print(paths[0])
PY
}

wrk_row() { # dataset figure pattern n
    local ds=$1 figure=$2 lua=$WORK/q.lua first total out
    first=$(make_lua "$lua" "$3" "$4")
    total=$(curl -sS --max-time 600 "http://127.0.0.1:$PORT$first" |
        python3 -c "import json,sys; print(json.load(sys.stdin).get('total','?'))" 2>/dev/null || echo '?')
    out=$WORK/wrk.txt
    wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECS}s" --timeout 120s --latency -s "$lua" "http://127.0.0.1:$PORT" >"$out" 2>&1 ||
        { cat "$out" >&2; die "$ds: wrk failed"; }
    row "$ds" "$figure" "$(python3 - "$out" "$total" <<'PY'
import re, sys
text, total = open(sys.argv[1]).read(), sys.argv[2]
def pct(p):
    m = re.search(rf"^\s*{p}%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)
    if not m:
        return "?"
    v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m.group(2)]
    return f"{v:,.2f} ms" if v < 10 else f"{v:,.0f} ms"
rps = re.search(r"Requests/sec:\s+(\S+)", text)
reqs = re.search(r"(\d+) requests in", text)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
note = []
if bad: note.append(f"{bad.group(1)} non-2xx")
if errs and int(errs.group(4)): note.append(f"{errs.group(4)} timeouts")
t = f"{int(total):,}" if total.isdigit() else total
print(f"{pct(50)} / {pct(99)}, {float(rps.group(1)) if rps else 0:,.1f} req/s ({reqs.group(1) if reqs else '?'} requests; total {t})"
      + (f" ({', '.join(note)})" if note else ""))
PY
)"
}

whole_list_rows() { # dataset
    local ds=$1 enc label out
    for enc in plain gzip; do
        for label in first second; do
            if [ "$enc" = gzip ]; then
                out=$(curl -sS --max-time 900 -o /dev/null -H 'Accept-Encoding: gzip' -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:$PORT/api/videos")
            else
                out=$(curl -sS --max-time 900 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:$PORT/api/videos")
            fi
            row "$ds" "whole list \`GET /api/videos\`, $enc, $label request: time, bytes" "$(python3 -c "
import sys
code, size, t = sys.argv[1:4]
size = int(size)
b = f'{size / 1e6:,.1f} MB' if size >= 1e6 else f'{size / 1e3:,.1f} kB' if size >= 1e3 else f'{size} B'
print(f'{float(t) * 1000:,.0f} ms, {b}' + ('' if code == '200' else f' (HTTP {code})'))" $out)"
        done
    done
}

ws_row() { # dataset query figure
    local ds=$1 query=$2 figure=$3 json
    json=$("$BENCH" ws-list --url "ws://127.0.0.1:$PORT/ws$query" --timeout-secs 900) || die "$ds: ws-list $query failed"
    row "$ds" "$figure" "$(python3 - "$json" "$query" <<'PY'
import json, sys
r, query = json.loads(sys.argv[1]), sys.argv[2]
if r["mode"] == "rejected":
    print(f"not supported (HTTP {r['status']})")
    sys.exit()
b = r["bytes"]
size = f"{b / 1e6:,.1f} MB" if b >= 1e6 else f"{b / 1e3:,.1f} kB" if b >= 1e3 else f"{b} B"
fig = f"{r['done_ms']:,.0f} ms, {size} in {r['frames']} frame{'s' if r['frames'] != 1 else ''}"
if r["mode"] == "pages":
    fig += f" (first page after {r['first_ms']:,.0f} ms, {r['items']:,} items)"
if r["mode"] == "none":
    fig += f" (count {r['count']:,}, no items)"
if query and r["mode"] == "whole":
    fig = f"not supported (the whole list was sent: {fig})"
print(fig)
PY
)"
}

# ---- one dataset ---------------------------------------------------------------------------
run_dataset() { # src n
    local src=$1 n=$2 where ds data
    if [ "$src" = local ]; then
        where=$(local_dataset "$n")
        ds="$(fmt_n "$n") local"
    else
        garage_up # here, not in the $(...) below: it exports the store's address and key
        where=$(s3_dataset "$n")
        ds="$(fmt_n "$n") Garage"
    fi
    data=$WORK/data-$src-$n
    rm -rf "$data"
    mkdir -p "$data"
    row "$ds" "load average (1/5/15 min) at the start" "$(loadavg)"
    say "$ds: fresh data dir"
    start_server "$src" "$where" "$data" "$src-$n-fresh"
    startup_rows "$ds" "$data" "$n" "fresh data dir"
    wrk_row "$ds" "paged: \`limit=50\` at random offsets — p50 / p99, req/s" \
        '"/api/videos?limit=50&offset=%d" % r.randrange(max(1, n - 50))' "$n"
    wrk_row "$ds" "paged, sorted by title: \`sort=title&limit=50\` at random offsets" \
        '"/api/videos?sort=title&limit=50&offset=%d" % r.randrange(max(1, n - 50))' "$n"
    wrk_row "$ds" "search, a common word: \`q=album-0D\` (10% match), \`limit=50\`" \
        '"/api/videos?limit=50&q=album-%02d" % r.randrange(10)' "$n"
    wrk_row "$ds" "search, a rare word: \`q=track-NNNNNN\` (1 match), \`limit=50\`" \
        '"/api/videos?limit=50&q=track-%06d" % r.randrange(n)' "$n"
    wrk_row "$ds" "search, two words: \`q=artist-NNNN album-0D\` (100 match), \`limit=50\`" \
        '"/api/videos?limit=50&q=artist-%04d%%20album-%02d" % (r.randrange(max(1, n // 1000)), r.randrange(10))' "$n"
    wrk_row "$ds" "search, a word in every item: \`q=track\` (100% match), \`limit=50\` at random offsets" \
        '"/api/videos?limit=50&q=track&offset=%d" % r.randrange(1000)' "$n"
    whole_list_rows "$ds"
    ws_row "$ds" "" "WebSocket \`/ws\`: connect → the whole \`media_list\` received: time, size"
    ws_row "$ds" "?list=none" "WebSocket \`/ws?list=none\`: connect → count received"
    ws_row "$ds" "?list=pages" "WebSocket \`/ws?list=pages\`: connect → every page received"
    row "$ds" "VmRSS / VmHWM after the queries above" "$(rss_pair)"
    stop_server
    say "$ds: restart on the same data dir"
    start_server "$src" "$where" "$data" "$src-$n-restart"
    startup_rows "$ds" "$data" "$n" "restart"
    stop_server
    if [ "$src" = local ]; then
        say "$ds: restart with tags"
        local tagged
        tagged=$(fabricate_tags "$data") || die "$ds: could not write tag records"
        # One start to let the server keep the tags beside its saved listing (it saves the
        # listing again once the records are loaded and the listing reconciled).
        start_server "$src" "$where" "$data" "$src-$n-tags-first"
        wait_saved "$data" "$n" "$START" >/dev/null || die "$ds: the listing with tags was not saved"
        wait_saved "$data" "$n" "$START" quiet >/dev/null || die "$ds: the database does not settle"
        stop_server
        start_server "$src" "$where" "$data" "$src-$n-tags"
        startup_rows "$ds" "$data" "$n" "restart with $(fmt_n "$tagged") tag records"
        row "$ds" "restart with tags: the first page has its tags" "$(first_title)"
        wrk_row "$ds" "restart with tags: search a tag word, \`q=artist NNNN\` (1,000 match), \`limit=50\`" \
            '"/api/videos?limit=50&q=artist%%20%04d" % r.randrange(max(1, n // 1000))' "$n"
        wrk_row "$ds" "restart with tags: search a word in every item, \`q=song\`, \`limit=50\` at random offsets" \
            '"/api/videos?limit=50&q=song&offset=%d" % r.randrange(1000)' "$n"
        stop_server
    fi
    rm -rf "$data"
}

STARTED=$(date +%s)
LOAD_START=$(loadavg)
say "server $BIN ($COMMIT), bench $BENCH; local sizes: ${SIZES:-none}; Garage sizes: ${S3_SIZES:-none}"
for n in $SIZES; do run_dataset local "$n"; done
for n in $S3_SIZES; do run_dataset s3 "$n"; done
ELAPSED=$(($(date +%s) - STARTED))
HEADING="\`$COMMIT\`, $(date -u '+%Y-%m-%d %H:%M UTC'), ${ELAPSED} s, load $LOAD_START → $(loadavg)"

# ---- output --------------------------------------------------------------------------------
RESULT=$DATA/results-$COMMIT-$(date -u +%Y%m%d-%H%M).md
{
    echo "| Dataset | Figure | $COMMIT |"
    echo "|---|---|---:|"
    printf '| all | binary, date, run time, load average (1/5/15 min) at start → end | %s |\n' "$HEADING"
    awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$ROWS"
} | tee "$RESULT"
say "rows kept in $RESULT"
[ "$COLUMN" != none ] || exit 0
python3 - "$OUT" "$ROWS" "$COLUMN" "$HEADING" <<'PY'
import re, sys
out, rows_file, column, heading = sys.argv[1:5]
rows = [("all", "binary, date, run time, load average (1/5/15 min) at start → end", heading)]
rows += [tuple(l.rstrip("\n").split("\t")) for l in open(rows_file) if l.strip()]
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
intro = """## A million objects (issue #15): before and after

`bash bench/large.sh` (see its header) fills one column of this table per run: *Before* is the
code before the #15 work on compact items, the search index and the paged WebSocket
(`COLUMN=before`), *After* the merged code (`COLUMN=after`, the default). Local datasets are
sparse 1 MiB `.mp3` files, 100 per folder (`artist-NNNN/album-NN/track-NNNNNN.mp3`, no tags);
the Garage one is a one-node Garage on loopback with empty objects under the same keys. The
server runs with `--no-scan --refresh-secs 0 --no-mdns`. wrk: 2 threads, 4 connections, 10 s
per row, rotating 1,000 queries. The machine has 2 cores shared with builds and other
benchmarks: the load average is in the table, and absolute figures are inflated by it.
"""
m = re.search(r"<!-- large:begin -->\n(.*?)<!-- large:end -->\n?", text, re.S)
body = m.group(1) if m else intro + "\n"
lines = body.split("\n")
table = [i for i, l in enumerate(lines) if l.startswith("| Dataset |")]
if table:
    start = table[0]
    end = start
    while end + 1 < len(lines) and lines[end + 1].startswith("|"):
        end += 1
    before, rows_md, after = lines[:start], lines[start + 2:end + 1], lines[end + 1:]
else:
    before, rows_md, after = lines, [], [""]
while before and not before[-1].strip():
    before.pop()
before.append("")
def cells(l):
    return [c.strip() for c in l.strip().strip("|").split(" | ")]
table_rows = {}
order = []
for l in rows_md:
    c = cells(l) + ["", "", "", ""]
    key = (c[0], c[1])
    table_rows[key] = [c[2], c[3]]
    order.append(key)
idx = 0 if column == "before" else 1
prev = None
for ds, fig, val in rows:
    key = (ds, fig)
    if key not in table_rows:
        # A new figure goes right after the one this run measured before it.
        table_rows[key] = ["", ""]
        same = [i for i, k in enumerate(order) if k[0] == ds]
        at = order.index(prev) + 1 if prev in order and prev[0] == ds else (same[-1] + 1 if same else len(order))
        order.insert(at, key)
    table_rows[key][idx] = val
    prev = key
new_table = ["| Dataset | Figure | Before | After |", "|---|---|---:|---:|"]
new_table += [f"| {k[0]} | {k[1]} | {table_rows[k][0]} | {table_rows[k][1]} |" for k in order]
body = "\n".join(before + new_table + after)
section = "<!-- large:begin -->\n" + body.rstrip("\n") + "\n<!-- large:end -->\n"
if m:
    text = text[:m.start()] + section + text[m.end():]
else:
    text = text.rstrip("\n") + ("\n\n" if text else "") + section
open(out, "w").write(text)
PY
say "the $COLUMN column of $OUT is filled"
