#!/usr/bin/env bash
# Paged and searched GET /api/videos (issue #15) at 100,000 and 1,000,000 objects, written
# into BENCHMARKS.md between the query:begin and query:end markers.
#
# Per library: the first query of the generation (which builds the search index: its size
# and build time are read from the server's log line "search index built"), then each
# request below: its first call (curl; the first query sorted by a field builds that field's
# order, "sort order built"), then p50/p99 with wrk; last, all the requests rotated by one
# wrk run (a Lua script), the mix a player would send.
#
#   bash bench/query.sh
#
# The library is a temporary folder of sparse .mp3 files (bucketstream-bench fixtures: 100
# per folder, artist-NNNN/album-NN/track-NNNNNN.mp3) served by the release server on
# loopback; each request is measured with wrk (1 connection, so the latency is one query's
# cost, not queueing). Everything started is stopped on exit. Knobs:
#   BENCH_OUT=FILE        where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_BIN=DIR         where the release bucketstream-server and bucketstream-bench are
#                         (default: $CARGO_TARGET_DIR/release, else target/release)
#   BENCH_WRK_SECS=N      length of each wrk run (default 5)
#   BENCH_COUNTS="A B"    library sizes (default "100000 1000000")
#   BENCH_FIXTURES=DIR    keep the libraries in DIR/lib-N and reuse them when present
#                         (default: made in a temporary folder and deleted)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
SERVER=$BIN/bucketstream-server
BENCH=$BIN/bucketstream-bench
SECS=${BENCH_WRK_SECS:-5}
COUNTS=${BENCH_COUNTS:-"100000 1000000"}
say() { printf '[query %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

for tool in "$SERVER" "$BENCH"; do
    [ -x "$tool" ] || { echo "bench: $tool is missing; cargo build --release -p bucketstream-server -p bucketstream-bench" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The requests: a label and a query string ("@N" stands for 90% of the library's size).
REQUESTS=(
    "search, rare word (1 match)|q=track-000042"
    "search, common word (every item)|q=track"
    "search, common word, far page|q=track&offset=@N"
    "search, two words|q=artist-0042%20album-03"
    "search, two words, common first|q=track%20album-03"
    "search, accented word (no match)|q=beyonc%C3%A9"
    "search, no match, long word|q=nothing-matches-this-word"
    "page 1 of everything (key)|limit=100"
    "page in the middle (key)|limit=100&offset=50000"
    "far page (key)|limit=100&offset=@N"
    "far page (key, descending)|sort=-key&offset=@N"
    "page 1 sorted by name, descending|sort=-name&limit=100"
    "far page sorted by name, descending|sort=-name&offset=@N"
    "page 1 sorted by size|sort=size"
    "far page sorted by modified, descending|sort=-modified&offset=@N"
    "search sorted by title, descending|q=track-0000&sort=-title"
    "common word sorted by name, far page|q=track&sort=name&offset=@N"
    "one folder|folder=artist-0042/album-03"
    "one folder and below, search|under=artist-0042&q=track"
    "kind video (none)|kind=video"
    "kind audio (all), far page|kind=audio&offset=@N"
)
LUA=$WORK/rotate.lua

ROWS=$WORK/rows.md
: >"$ROWS"
for count in $COUNTS; do
    dir=${BENCH_FIXTURES:-$WORK}/lib-$count
    if [ ! -d "$dir" ]; then
        say "making $count sparse files"
        "$BENCH" fixtures --dir "$dir" --count "$count" >/dev/null
    fi
    PORT=$("$BENCH" port)
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 --no-scan --no-mdns --data-dir "$WORK/data-$count" --cache-dir "$WORK/cache-$count") \
        >"$WORK/server-$count.log" 2>&1 &
    SERVER_PID=$!
    ready=$("$BENCH" wait --addr "127.0.0.1:$PORT" --count "$count" --timeout-secs 900)
    rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status")
    say "server on :$PORT listed $count objects in ${ready}s, RSS ${rss} MiB"
    # The first query of the generation builds the index.
    first=$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/videos?q=track-000042")
    rss_index=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status")
    built=$(grep -a 'search index built' "$WORK/server-$count.log" | tail -1 | tr -d '\033' | sed 's/\[[0-9;]*m//g')
    index_bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$built")
    index_ms=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$built")
    per_item=$(( ${index_bytes:-0} / count ))
    say "$count first query ${first}s; index ${index_bytes} B (${per_item} B/item) built in ${index_ms} ms; RSS ${rss_index} MiB"
    printf '| %s | **first query of the generation** (builds the index: %s ms, %s B = **%s B an item**; RSS %s → %s MiB) | `q=track-000042` | | | %.0f ms | | | | %s |\n' \
        "$count" "$index_ms" "$index_bytes" "$per_item" "$rss" "$rss_index" "$(awk -v t="$first" 'BEGIN {print t * 1000}')" \
        "$(cut -d' ' -f1 /proc/loadavg)" >>"$ROWS"
    far=$(( count * 9 / 10 ))
    printf 'local paths = {\n' >"$LUA"
    for entry in "${REQUESTS[@]}"; do
        label=${entry%%|*}
        query=${entry#*|}
        query=${query//@N/$far}
        printf '  "/api/videos?%s",\n' "$query" >>"$LUA"
        url="http://127.0.0.1:$PORT/api/videos?$query"
        firstms=$(curl -sS -o "$WORK/body.json" -w '%{time_total}' "$url" | awk '{print $1 * 1000}')
        total=$(sed -n 's/^{"total":\([0-9]*\),.*/\1/p' "$WORK/body.json")
        bytes=$(wc -c <"$WORK/body.json")
        load=$(cut -d' ' -f1 /proc/loadavg)
        wrk -t1 -c1 -d"${SECS}s" --timeout 30s --latency "$url" >"$WORK/wrk.txt"
        p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
        p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
        rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
        say "$count $label: first ${firstms} ms, p50 $p50 p99 $p99 ($rps/s, total $total, load $load)"
        printf '| %s | %s | `%s` | %s | %s | %.0f ms | %s | %s | %s | %s |\n' \
            "$count" "$label" "$query" "$total" "$bytes" "$firstms" "$p50" "$p99" "$rps" "$load" >>"$ROWS"
    done
    printf '}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", paths[(n %% #paths) + 1])\nend\n' >>"$LUA"
    load=$(cut -d' ' -f1 /proc/loadavg)
    wrk -t1 -c2 -d"$(( SECS * 3 ))s" --timeout 30s --latency -s "$LUA" "http://127.0.0.1:$PORT" >"$WORK/wrk.txt"
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    say "$count all rotated: p50 $p50 p99 $p99 ($rps/s)"
    printf '| %s | **all of the above, rotated** (wrk Lua script, 2 connections) | | | | | %s | %s | %s | %s |\n' \
        "$count" "$p50" "$p99" "$rps" "$load" >>"$ROWS"
    orders=$(grep -a 'sort order built' "$WORK/server-$count.log" | tr -d '\033' | sed 's/\[[0-9;]*m//g' \
        | sed -n 's/.*field=\([A-Za-z]*\).*bytes=\([0-9]*\).*ms=\([0-9]*\).*/\1 \3 ms/p' | paste -sd, - | sed 's/,/, /g')
    rss_after=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status")
    printf '| %s | *(server RSS: %s MiB after listing, %s MiB after the queries; sort orders built: %s)* | | | | | | | | |\n' \
        "$count" "$rss" "$rss_after" "$orders" >>"$ROWS"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    [ -n "${BENCH_FIXTURES:-}" ] || rm -rf "$dir"
done

SECTION=$WORK/section.md
{
    echo "<!-- query:begin (generated by bench/query.sh; everything up to query:end is rewritten by each run) -->"
    echo "## Paged and searched \`/api/videos\` (issue #15), with the search index"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, release server at $(git -C "$ROOT" rev-parse --short HEAD)."
    echo "*first*: the row's first request (curl), which builds what it needs (the index, a sort"
    echo "order); then wrk, 1 thread, 1 connection, ${SECS} s per row (so a row is one query's cost,"
    echo "not queueing); load is the 1-minute load average when the row started (the machine is shared)."
    echo "Sparse local files, 100 per folder (\`artist-NNNN/album-NN/track-NNNNNN.mp3\`); no tags,"
    echo "so a search looks at name and folder only. Target: a search under 100 ms at 1,000,000."
    echo
    echo "| objects | request | query | total | bytes | first | p50 | p99 | req/s | load |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
    cat "$ROWS"
    echo "<!-- query:end -->"
} >"$SECTION"

if grep -q '<!-- query:begin' "$OUT" 2>/dev/null; then
    awk -v section="$SECTION" '
        /<!-- query:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
        /<!-- query:end -->/ { skip = 0; next }
        !skip { print }
    ' "$OUT" >"$WORK/out.md"
    cat "$WORK/out.md" >"$OUT"
else
    { echo; cat "$SECTION"; } >>"$OUT"
fi
say "written to $OUT"
