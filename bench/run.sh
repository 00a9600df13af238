#!/usr/bin/env bash
# Benchmarks of the Bucketstream LAN server, written into BENCHMARKS.md at the repo root.
#
#   bash bench/run.sh
#
# 1. GET /api/videos with wrk, at 1,000 and 100,000 objects (target: p99 < 5 ms at 1,000),
#    plain and with `Accept-Encoding: gzip` (what every browser sends).
# 2. WebSocket fan-out with 1,000 and 10,000 clients (target: 10,000 clients, p95 of a
#    simultaneous fetch_videos round < 500 ms), with plain `fetch_videos` and with the
#    generation the client holds (what the player sends).
# The library is a temporary folder of sparse .mp3 files served by the release
# bucketstream-server on loopback; everything it starts is stopped on exit. A run takes a few
# minutes. Environment knobs:
#   BENCH_OUT=FILE          where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_WRK_SECS=N        length of each wrk run (default 10)
#   BENCH_REV=REV           benchmark the server as committed at REV (e.g. HEAD): its tracked
#                           files are exported with `git archive` and built into
#                           target/bench-rev/ (useful when the work tree is being edited);
#                           default: the server of the work tree
#   BENCH_MAX_LOAD=X        first wait (at most BENCH_LOAD_WAIT_SECS, default 300) until the
#                           1-minute load average is below X (the machine may be shared)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
WRK_SECS=${BENCH_WRK_SECS:-10}
SMALL=1000
LARGE=100000
PUSH_ROUNDS=2
FETCH_ROUNDS=3
started=$(date +%s)

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- tools and limits -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
# 10,000 clients (and the server's 10,000 sockets) need more than the usual 1,024 fds.
NEED_FDS=12000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$NEED_FDS" ]; then
    ulimit -Hn "$NEED_FDS" 2>/dev/null || { echo "bench: the hard fd limit is $hard; need $NEED_FDS (run as root or raise it)" >&2; exit 1; }
fi
ulimit -n "$NEED_FDS"

# Built one package at a time so each gets the feature set it gets on its own.
if [ -n "${BENCH_REV:-}" ]; then
    SERVER_REV=$(git rev-parse --short "$BENCH_REV^{commit}")
    REV_SRC=$ROOT/target/bench-rev/src
    say "building bucketstream-server at $SERVER_REV (release, in target/bench-rev)"
    rm -rf "$REV_SRC"
    mkdir -p "$REV_SRC"
    git archive --format=tar "$SERVER_REV" | tar -x -C "$REV_SRC"
    CARGO_TARGET_DIR=$ROOT/target/bench-rev cargo build --release --manifest-path "$REV_SRC/Cargo.toml" -p bucketstream-server
    SERVER=$ROOT/target/bench-rev/release/bucketstream-server
    SERVER_DESC="commit \`$SERVER_REV\` (built from \`git archive\` with \`BENCH_REV=$BENCH_REV\`)"
else
    say "building bucketstream-server (release)"
    cargo build --release -p bucketstream-server
    SERVER=$ROOT/target/release/bucketstream-server
    dirty=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)
    SERVER_DESC="the work tree at commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\` ($dirty uncommitted changes under crates/ and the manifests)"
fi
say "building bucketstream-bench (release)"
cargo build --release -p bucketstream-bench
BENCH=$ROOT/target/release/bucketstream-bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-bench.XXXXXX")
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

built=$(date +%s)
if [ -n "${BENCH_MAX_LOAD:-}" ]; then
    deadline=$(( $(date +%s) + ${BENCH_LOAD_WAIT_SECS:-300} ))
    while awk -v l="$(load1)" -v m="$BENCH_MAX_LOAD" 'BEGIN { exit !(l >= m) }' && [ "$(date +%s)" -lt "$deadline" ]; do
        say "load $(loadavg); waiting for < $BENCH_MAX_LOAD"
        sleep 15
    done
fi
LOAD_START=$(loadavg)
measuring=$(date +%s)

RESULTS=$WORK/results.md
COMMANDS=$WORK/commands.md
: >"$RESULTS"
: >"$COMMANDS"
cmd() { printf '    %s\n' "$*" >>"$COMMANDS"; }

# Starts the server on folder $1 expecting $2 items; sets PORT, SERVER_PID, READY_SECS.
start_server() {
    local dir=$1 count=$2
    PORT=$("$BENCH" port)
    # From the temp dir so no .env of the checkout is read; no refresh timer (--refresh-secs 0).
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0) \
        >"$WORK/server-$count.log" 2>&1 &
    SERVER_PID=$!
    READY_SECS=$("$BENCH" wait --addr "127.0.0.1:$PORT" --count "$count" --timeout-secs 300)
    cmd "${SERVER#"$ROOT"/} --media-dir \$DIR_$count --bind 127.0.0.1 --port \$PORT --refresh-secs 0"
    say "server on :$PORT listed $count objects in ${READY_SECS}s"
}

# wrk against /api/videos: $1 objects, $2 threads, $3 connections, $4 target p99 ms or "",
# $5 "gzip" to send `Accept-Encoding: gzip` (as browsers do) or "" for none.
wrk_row() {
    local objects=$1 threads=$2 conns=$3 target=$4 gzip=${5:-} body file gz=""
    body=$("$BENCH" videos-size --addr "127.0.0.1:$PORT" --count "$objects")
    echo "$body" >"$WORK/body-$objects"
    file=$WORK/wrk-$objects-$conns-${gzip:-plain}.txt
    local args=(-t"$threads" -c"$conns" -d"${WRK_SECS}s" --timeout 30s --latency)
    if [ -n "$gzip" ]; then
        args+=(-H "Accept-Encoding: gzip")
        gz=$(curl -sS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/api/videos" | wc -c)
    fi
    args+=("http://127.0.0.1:$PORT/api/videos")
    say "wrk ${args[*]} (load $(loadavg))"
    echo "$objects objects, $conns connections${gzip:+, gzip}: $(loadavg)" >>"$WORK/wrk-loads.txt"
    wrk "${args[@]}" >"$file"
    local shown="${args[*]/127.0.0.1:$PORT/127.0.0.1:\$PORT}"
    cmd "wrk ${shown/Accept-Encoding: gzip/\'Accept-Encoding: gzip\'}"
    "$BENCH" wrk-row --file "$file" --objects "$objects" --connections "$conns" --body-bytes "$body" \
        ${gz:+--gzip-bytes "$gz"} ${target:+--target-p99-ms "$target"} >>"$WORK/wrk-rows.md"
}

# --- 1. /api/videos ---------------------------------------------------------------------
: >"$WORK/wrk-rows.md"
for count in "$SMALL" "$LARGE"; do
    say "making $count sparse files"
    "$BENCH" fixtures --dir "$WORK/lib-$count" --count "$count" >/dev/null
    cmd "bucketstream-bench fixtures --dir \$DIR_$count --count $count   # sparse 1 MiB .mp3 files, 100 per folder"
    start_server "$WORK/lib-$count" "$count"
    echo "$count $READY_SECS" >>"$WORK/ready.txt"
    for gzip in "" gzip; do
        if [ "$count" = "$SMALL" ]; then
            wrk_row "$count" 1 1 "" "$gzip"
            wrk_row "$count" 2 16 5 "$gzip"
            wrk_row "$count" 2 64 "" "$gzip"
        else
            wrk_row "$count" 1 1 "" "$gzip"
            wrk_row "$count" 2 4 "" "$gzip"
        fi
    done
    if [ "$count" = "$SMALL" ]; then
        # --- 2. WebSocket fan-out on the 1,000-object library ------------------------------
        objects=$count
        for follow in "" --follow-generation; do
            for clients in 1000 10000; do
                say "fan-out: $clients clients ${follow:-plain} (load $(loadavg))"
                args=(fanout --url "ws://127.0.0.1:$PORT/ws" --clients "$clients" --expect-count "$objects"
                    --media-dir "$WORK/lib-$count" --push-rounds "$PUSH_ROUNDS" --fetch-rounds "$FETCH_ROUNDS"
                    --server-pid "$SERVER_PID" $follow)
                out=$WORK/fanout-$clients${follow:+-follow}.md
                echo "load before this run: $(loadavg)" >"$out"
                echo >>"$out"
                "$BENCH" "${args[@]}" >>"$out"
                cmd "bucketstream-bench fanout --url ws://127.0.0.1:\$PORT/ws --clients $clients --expect-count $objects --media-dir \$DIR_$count --push-rounds $PUSH_ROUNDS --fetch-rounds $FETCH_ROUNDS --server-pid \$SERVER_PID $follow"
                objects=$((objects + PUSH_ROUNDS))
                sleep 2
            done
        done
    fi
    stop_server
done
# --- 3. Diagnostic: the same 10,000-client fan-out with tiny answers (10 objects) --------------
# Separates the per-message cost of the server from the cost of the list's bytes.
TINY=10
"$BENCH" fixtures --dir "$WORK/lib-$TINY" --count "$TINY" >/dev/null
start_server "$WORK/lib-$TINY" "$TINY"
say "fan-out diagnostic: 10000 clients, $TINY objects (load $(loadavg))"
echo "load before this run: $(loadavg)" >"$WORK/fanout-tiny.md"
echo >>"$WORK/fanout-tiny.md"
"$BENCH" fanout --url "ws://127.0.0.1:$PORT/ws" --clients 10000 --expect-count "$TINY" --media-dir "$WORK/lib-$TINY" \
    --push-rounds 1 --fetch-rounds 2 --server-pid "$SERVER_PID" >>"$WORK/fanout-tiny.md"
cmd "bucketstream-bench fanout --url ws://127.0.0.1:\$PORT/ws --clients 10000 --expect-count $TINY --media-dir \$DIR_$TINY --push-rounds 1 --fetch-rounds 2 --server-pid \$SERVER_PID"
stop_server
LOAD_END=$(loadavg)
finished=$(date +%s)
elapsed=$((finished - started))
timing="build $((built - started)) s, waiting for a lower load $((measuring - built)) s, measurements $((finished - measuring)) s"

# --- BENCHMARKS.md ----------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
    echo "<!-- bench:begin (generated by bench/run.sh; everything up to bench:end is rewritten by each run) -->"
    echo "# Benchmarks"
    echo
    echo "Generated by \`bash bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); the run took ${elapsed} s ($timing). Server measured: $SERVER_DESC."
    echo
    echo "## Machine"
    echo
    echo "- CPU: $cpu, \`nproc\` = $(nproc)"
    echo "- Memory (\`free -h\`):"
    echo
    free -h | sed 's/^/      /'
    echo
    echo "- Kernel: $(uname -sr); $(rustc --version 2>/dev/null || echo rustc unknown); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "- Load average (1/5/15 min): $LOAD_START at the start, $LOAD_END at the end. The machine is shared with other builds, so a high load inflates latencies."
    echo "- Server and load generator share the same cores over loopback: every figure includes the client's own CPU use."
    echo
    echo "## Commands"
    echo
    echo "Fixtures are sparse files in a temporary folder; the server is the release build, started from that folder and ready when \`/api/health\` reports the count (time to list the folder at start: $(awk '{printf "%s%s objects %s s", sep, $1, $2; sep="; "}' "$WORK/ready.txt"))."
    echo
    cat "$COMMANDS"
    echo
    echo "## GET /api/videos (wrk, ${WRK_SECS} s per row)"
    echo
    echo "Response size is the body on the wire. Rows with \`Accept-Encoding: gzip\` are what a browser gets (every browser sends it); rows without it are what a client that accepts no encoding gets. The target applies to the 16-connection rows at 1,000 objects; both are judged."
    echo
    "$BENCH" wrk-header
    cat "$WORK/wrk-rows.md"
    echo
    echo "Load average (1/5/15 min) before each row:"
    echo
    sed 's/^/- /' "$WORK/wrk-loads.txt"
    echo
    echo "## WebSocket fan-out (1,000-object library, \`/ws\`)"
    echo
    echo "Clients connect at most 256 handshakes at a time. Push rounds add one file to the folder and have client 0 send \`fetch_videos\`; the time runs from the file's creation until each client has \`library_changed\`. Fetch rounds: every client sends \`fetch_videos\` when told (all at once) and times its own round trip to the \`media_list\` answer."
    echo
    echo "### Plain \`fetch_videos\`: every answer is the whole list"
    echo
    echo "The answer carries the same JSON as \`/api/videos\` ($(cat "$WORK/body-$SMALL") bytes)."
    echo
    cat "$WORK/fanout-1000.md"
    echo
    cat "$WORK/fanout-10000.md"
    echo
    echo "### \`fetch_videos\` with the generation the client holds (what the player sends)"
    echo
    echo "Each client sends \`{\"type\":\"fetch_videos\",\"generation\":N}\` with the generation of the last \`media_list\` or \`library_changed\` it got. The server still refreshes (coalesced); a client that is current gets \`{\"type\":\"media_list\",\"generation\":N,\"count\":N,\"unchanged\":true}\`, a client that is behind the whole list."
    echo
    cat "$WORK/fanout-1000-follow.md"
    echo
    cat "$WORK/fanout-10000-follow.md"
    echo
    echo "## Diagnostic: 10,000 clients with a 10-object library"
    echo
    echo "Not a target: the same fan-out with answers of a few KiB instead of $(cat "$WORK/body-$SMALL") bytes, to tell the server's per-message cost from the cost of the list's size."
    echo
    cat "$WORK/fanout-tiny.md"
    echo
    echo "<!-- bench:end -->"
} >"$WORK/generated.md"

# Keep any hand-written notes after the generated block.
if [ -f "$OUT" ] && grep -q '<!-- bench:end -->' "$OUT"; then
    sed -n '/<!-- bench:end -->/,$p' "$OUT" | tail -n +2 >"$WORK/notes.md"
else
    : >"$WORK/notes.md"
fi
cat "$WORK/generated.md" "$WORK/notes.md" >"$OUT"
say "wrote $OUT in ${elapsed}s"
