#!/usr/bin/env bash
# The player at 1,000,000 items (issue #15, "smooth at 1,000,000"): the release server on a
# local folder of N sparse .mp3 files (`bucketstream-bench fixtures`, 100 per folder:
# artist-NNNN/album-NN/track-NNNNNN.mp3, as bench/memory.sh and bench/query.sh), the page in
# real chromium (playwright-core, as tests/browser) driven by bench/player.mjs:
#   - time from navigation to the first rows drawn;
#   - in Songs (every item, by title): requestAnimationFrame gaps (p50/p99/max) during a
#     scripted fling through the whole list, and the time the rows take to fill in after jumps
#     to random places;
#   - keystroke to results drawn for a few searches (including the player's 150 ms pause);
#   - a folder opened from its row to its rows drawn (a top folder, then one of its albums).
# Written into BENCHMARKS.md between <!-- player:begin --> and <!-- player:end --> (replaced;
# appended when missing).
#
#   bash bench/player.sh
#
# Environment knobs:
#   BENCH_OUT=FILE               where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_PLAYER_COUNTS="A B"    library sizes (default "1000000")
#   BENCH_FIXTURES=DIR           keep the libraries in DIR/lib-N and reuse them when present
#   BENCH_PLAYER_THRESHOLD=N     the server's --paging-threshold (default: the server's, 5,000)
#   CHROMIUM=PATH                the browser (default /usr/bin/chromium)
#   BENCH_SERVER=PATH BENCH_BIN=PATH  use these release binaries instead of building them
# Uses $CARGO_TARGET_DIR (default target/) and builds both binaries (release) first; needs the
# browser tests' npm packages (tests/browser: npm ci) and node 20 or later.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
COUNTS=${BENCH_PLAYER_COUNTS:-1000000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf '[player-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

for tool in node curl python3 "$CHROMIUM"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "player.sh: $tool is missing" >&2; exit 1; }
done
if [ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
    say "installing the browser tests' npm packages"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ -n "${BENCH_SERVER:-}" ] && [ -n "${BENCH_BIN:-}" ]; then
    SERVER=$BENCH_SERVER
    BENCH=$BENCH_BIN
else
    say "building bucketstream-server and bucketstream-bench (release)"
    cargo build --release -p bucketstream-server
    cargo build --release -p bucketstream-bench
    SERVER=$TARGET/release/bucketstream-server
    BENCH=$TARGET/release/bucketstream-bench
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-player-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

ROWS=$WORK/rows.md
: >"$ROWS"
for count in $COUNTS; do
    dir=${BENCH_FIXTURES:-$WORK}/lib-$count
    if [ ! -d "$dir" ]; then
        say "making $count sparse files in $dir"
        "$BENCH" fixtures --dir "$dir" --count "$count" >/dev/null
    fi
    PORT=$("$BENCH" port)
    threshold=()
    [ -n "${BENCH_PLAYER_THRESHOLD:-}" ] && threshold=(--paging-threshold "$BENCH_PLAYER_THRESHOLD")
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 \
        --no-scan --data-dir "$WORK/data-$count" "${threshold[@]}") >"$WORK/server-$count.log" 2>&1 &
    SERVER_PID=$!
    ready=$("$BENCH" wait --addr "127.0.0.1:$PORT" --count "$count" --timeout-secs 1800)
    say "server on :$PORT listed $count objects in ${ready}s"
    load=$(cut -d' ' -f1 /proc/loadavg)
    json=$(BENCH_URL="http://127.0.0.1:$PORT" node "$ROOT/bench/player.mjs")
    say "$json"
    rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status")
    python3 - "$count" "$load" "$rss" "$json" >>"$ROWS" <<'PY'
import json, sys
count, load, rss, data = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
f, j = data["fling"], data["jump_fill"]
searches = "; ".join(f"`{s['q']}` {s['ms']} ms ({s['counts']})" for s in data["searches"])
folders = "; ".join(f"{x['name']} {x['ms']} ms" for x in data["folders"])
mode = "paged" if data["paged"] == "true" else "whole list"
print(f"| {count:,} | {mode}, {data['songs']} | {data['navigation_to_first_row_ms']} ms | {f['p50_ms']} / {f['p99_ms']} / {f['max_ms']} ms ({f['frames']} frames, {f['over_50ms']} over 50 ms) | {data['settle_after_fling_ms']} ms | {j['p50_ms']} / {j['max_ms']} ms | {searches} | {folders} | {rss} MiB | {load} |")
if data["errors"]:
    print(f"| | *page errors: {'; '.join(data['errors'])}* | | | | | | | | |")
PY
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    [ -n "${BENCH_FIXTURES:-}" ] || rm -rf "$dir"
done

SECTION=$WORK/section.md
{
    echo "<!-- player:begin (generated by bench/player.sh; everything up to player:end is rewritten by each run) -->"
    echo "## The player at 1,000,000 items (issue #15)"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, release server at $(git -C "$ROOT" rev-parse --short HEAD), chromium headless"
    echo "(software rendering), 1280x800. Sparse local files, 100 per folder, no scan. Above"
    echo "\`lan.paging_threshold\` the page connects with \`/ws?list=none\` and fetches pages of 100"
    echo "(\`/api/videos?offset&limit&sort&q&folder\`), folder levels (\`/api/folders\`) and searches"
    echo "from the server. Fling: the list scrolled top to bottom, one step per frame; frame gaps"
    echo "p50 / p99 / max. Fill: time until the rows in view are drawn (pages fetched) after the"
    echo "fling and after 20 jumps (p50 / max). Search: input event to the answer's rows drawn, the"
    echo "player's 150 ms typing pause included. Folder: click to its rows drawn. Load: 1-minute"
    echo "load average at the start (the machine is shared)."
    echo
    echo "| items | mode | first rows | fling frame gaps | fill after fling | fill after a jump | search | folder open | server RSS | load |"
    echo "|---:|---|---:|---|---:|---|---|---|---:|---:|"
    cat "$ROWS"
    echo "<!-- player:end -->"
} >"$SECTION"

if grep -q '<!-- player:begin' "$OUT" 2>/dev/null; then
    awk -v section="$SECTION" '
        /<!-- player:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
        /<!-- player:end -->/ { skip = 0; next }
        !skip { print }
    ' "$OUT" >"$WORK/out.md"
    cat "$WORK/out.md" >"$OUT"
else
    { echo; cat "$SECTION"; } >>"$OUT"
fi
say "written to $OUT"
