#!/usr/bin/env bash
# Resident memory per item of the LAN server and its start from the database (issue #15,
# "Memory and start"), written into BENCHMARKS.md at the repo root as the section
# "## Memory per item (issue #15, LABEL)" between <!-- memory-LABEL:begin --> and
# <!-- memory-LABEL:end --> (only that section is replaced; appended when missing). LABEL is
# $BENCH_MEM_LABEL, "after" by default (the "before" section, written by this script before
# #15's compaction with the markers <!-- memory:begin/end -->, is left as it is).
#
#   bash bench/memory.sh
#
# The library is a local folder of N sparse .mp3 files (`bucketstream-bench fixtures`, as in
# bench/run.sh) served by the release bucketstream-server on loopback, at N = 0 (the baseline),
# 100,000 and 1,000,000, each twice: with `--no-scan`, and with the scan on and a fresh
# `--data-dir` (an empty library database; the scan then runs in the background and is not
# waited for: the figures are taken when the list is served, and the scan's progress at that
# moment is shown). For each run:
#   - time from starting the process until `/api/health` counts N items (`bucketstream-bench wait`);
#   - VmRSS and VmHWM (/proc/PID/status) right then ("served");
#   - one `GET /api/videos` without and one with `Accept-Encoding: gzip` (curl: bytes on the
#     wire and total time), then VmRSS and VmHWM again ("after GETs": the serialised JSON and
#     the gzip copy the server keeps per generation);
#   - per item = (RSS(N) - RSS(empty, same mode)) / N.
# And a restart (mode "restart"): the server runs once with --no-scan and a fresh --data-dir
# until the listing is served and saved in the library database, is stopped, and starts again
# on the same --data-dir: the time from starting that second process until
# `GET /api/videos?limit=1` answers `total` = N (served from the saved listing, the folder
# listed again in the background), VmRSS/VmHWM then, after one whole `GET /api/videos`, and
# once the background listing has ended (`/api/health` last_refresh set).
# Everything it starts lives under one temp dir and is stopped and removed on exit (the 1M
# files included: sparse, but one inode each). Environment knobs:
#   BENCH_OUT=FILE            where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_MEM_COUNTS="A B"    library sizes besides the empty one (default "100000 1000000")
#   BENCH_MEM_MODES="a b"     modes among no-scan, scan and restart (default "no-scan scan restart")
#   BENCH_MEM_LABEL=WORD      the section's label (default "after")
#   BENCH_BIN_DIR=DIR         use DIR/bucketstream-server and DIR/bucketstream-bench, built
#                             before (release), instead of building them
#   BENCH_MEM_FIXTURES=DIR    take the library of N items from DIR/lib-N when it exists
#                             (made by `bucketstream-bench fixtures`; kept) instead of making it
#   BENCH_MEM_TIMEOUT_SECS=N  longest wait for a list to be served (default 3600)
#   BENCH_MEM_SCAN_SECS=N     with the scan on, sample RSS/HWM and the scan's progress once
#                             more N s after the GETs (default 60)
# Uses $CARGO_TARGET_DIR (default target/) and builds both binaries (release) first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
COUNTS=${BENCH_MEM_COUNTS:-100000 1000000}
MODES=${BENCH_MEM_MODES:-no-scan scan restart}
LABEL=${BENCH_MEM_LABEL:-after}
TIMEOUT=${BENCH_MEM_TIMEOUT_SECS:-3600}
SCAN_SECS=${BENCH_MEM_SCAN_SECS:-60}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET_BYTES=1024
started=$(date +%s)

say() { printf '[memory-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

for tool in curl awk python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "memory.sh: $tool is missing" >&2; exit 1; }
done

if [ -n "${BENCH_BIN_DIR:-}" ]; then
    # Binaries built before (a target dir shared between work trees may hold another's).
    SERVER=$BENCH_BIN_DIR/bucketstream-server
    BENCH=$BENCH_BIN_DIR/bucketstream-bench
else
    say "building bucketstream-server and bucketstream-bench (release)"
    # One package at a time, so each gets the feature set it gets on its own.
    cargo build --release -p bucketstream-server
    cargo build --release -p bucketstream-bench
    SERVER=$TARGET/release/bucketstream-server
    BENCH=$TARGET/release/bucketstream-bench
fi
dirty=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-memory-bench.XXXXXX")
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Nothing reads the user's config, keys, database or caches.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# The kB value of FIELD (VmRSS, VmHWM) in /proc/$SERVER_PID/status.
status_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status"; }
health_scan() {
    curl -sS "http://127.0.0.1:$PORT/api/health" |
        python3 -c 'import json,sys; s=json.load(sys.stdin).get("scan") or {}; print("%s/%s" % (s.get("done", "?"), s.get("total", "?")))' 2>/dev/null ||
        echo "?"
}

ROWS=$WORK/rows.txt
: >"$ROWS"
INODES=""

# One run: mode $1 (no-scan | scan) on folder $2 holding $3 items; appends a line to $ROWS:
# mode n ready_s rss_kib hwm_kib plain_bytes plain_s gzip_bytes gzip_s rss2_kib hwm2_kib scan load1
# rss3_kib hwm3_kib scan3 (the last three "-" unless the scan is on)
run_one() {
    local mode=$1 dir=$2 n=$3 flags=() t0 t1 ready rss hwm rss2 hwm2 plain gz scan load
    PORT=$("$BENCH" port)
    if [ "$mode" = no-scan ]; then flags+=(--no-scan); fi
    local data=$WORK/data-$mode-$n
    say "$mode, $n items: starting the server on :$PORT (load $(loadavg))"
    load=$(loadavg)
    t0=$(now)
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 \
        --no-mdns --data-dir "$data" --cache-dir "$WORK/cache-$mode-$n" "${flags[@]}") \
        >"$WORK/server-$mode-$n.log" 2>&1 &
    SERVER_PID=$!
    "$BENCH" wait --addr "127.0.0.1:$PORT" --count "$n" --timeout-secs "$TIMEOUT" >/dev/null
    t1=$(now)
    # An empty library counts 0 before its first listing too: give it a moment to settle.
    if [ "$n" = 0 ]; then sleep 2; fi
    rss=$(status_kib VmRSS)
    hwm=$(status_kib VmHWM)
    scan=-
    if [ "$mode" = scan ]; then scan=$(health_scan); fi
    ready=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    say "$mode, $n items: served after ${ready} s; VmRSS $rss kB, VmHWM $hwm kB; scan $scan"
    plain=$(curl -sS -o /dev/null -w '%{size_download} %{time_total}' "http://127.0.0.1:$PORT/api/videos")
    gz=$(curl -sS -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download} %{time_total}' "http://127.0.0.1:$PORT/api/videos")
    rss2=$(status_kib VmRSS)
    hwm2=$(status_kib VmHWM)
    say "$mode, $n items: /api/videos $plain (plain), $gz (gzip); then VmRSS $rss2 kB, VmHWM $hwm2 kB"
    # With the scan on, a third sample SCAN_SECS after the GETs, the scan running meanwhile.
    local rss3=- hwm3=- scan3=-
    if [ "$mode" = scan ] && [ "$n" != 0 ]; then
        sleep "$SCAN_SECS"
        rss3=$(status_kib VmRSS)
        hwm3=$(status_kib VmHWM)
        scan3=$(health_scan)
        say "$mode, $n items: ${SCAN_SECS} s later VmRSS $rss3 kB, VmHWM $hwm3 kB; scan $scan3"
    fi
    echo "$mode $n $ready $rss $hwm $plain $gz $rss2 $hwm2 $scan ${load%% *} $rss3 $hwm3 $scan3" >>"$ROWS"
    stop_server
}

RESTARTS=$WORK/restarts.txt
: >"$RESTARTS"

# Seconds from $3 (epoch seconds) until `/api/videos?limit=1` on port $1 answers total = $2.
wait_total() {
    python3 - "$1" "$2" "$3" "$TIMEOUT" <<'PY'
import json, sys, time, urllib.request
port, n, t0, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
url = f"http://127.0.0.1:{port}/api/videos?limit=1"
while time.time() - t0 < timeout:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            if json.load(r).get("total") == n:
                print(f"{time.time() - t0:.3f}")
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.002)
sys.exit(1)
PY
}

# Waits until the database in $1 holds a saved listing.
wait_saved() {
    python3 - "$1" "$TIMEOUT" <<'PY'
import sqlite3, sys, time
path, timeout = sys.argv[1], float(sys.argv[2])
t0 = time.time()
while time.time() - t0 < timeout:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        if con.execute("SELECT count(*) FROM listing_saves").fetchone()[0] > 0:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}
# Waits until /api/health says a listing has ended (last_refresh set).
wait_listed() {
    local i
    for i in $(seq 1 "$TIMEOUT"); do
        if curl -sS "http://127.0.0.1:$PORT/api/health" |
            python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("last_refresh") else 1)' 2>/dev/null; then
            return 0
        fi
        sleep 1
    done
    return 1
}

# A restart from the database on folder $1 of $2 items; appends to $RESTARTS:
# n first_s restart_s rss hwm plain_bytes plain_s rss2 hwm2 rss3 hwm3 load1
run_restart() {
    local dir=$1 n=$2 data=$WORK/data-restart-$2 t0 t1 first ready rss hwm plain rss2 hwm2 rss3 hwm3 load
    PORT=$("$BENCH" port)
    say "restart, $n items: first run on :$PORT (load $(loadavg))"
    t0=$(now)
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 \
        --no-mdns --data-dir "$data" --cache-dir "$WORK/cache-restart-$n" --no-scan) \
        >"$WORK/server-restart1-$n.log" 2>&1 &
    SERVER_PID=$!
    "$BENCH" wait --addr "127.0.0.1:$PORT" --count "$n" --timeout-secs "$TIMEOUT" >/dev/null
    t1=$(now)
    first=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    wait_saved "$data/library.sqlite3"
    stop_server
    PORT=$("$BENCH" port)
    load=$(loadavg)
    t0=$(now)
    (cd "$WORK" && exec "$SERVER" --media-dir "$dir" --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 \
        --no-mdns --data-dir "$data" --cache-dir "$WORK/cache-restart-$n" --no-scan) \
        >"$WORK/server-restart2-$n.log" 2>&1 &
    SERVER_PID=$!
    ready=$(wait_total "$PORT" "$n" "$t0")
    rss=$(status_kib VmRSS)
    hwm=$(status_kib VmHWM)
    say "restart, $n items: served from the database after ${ready} s (first run ${first} s); VmRSS $rss kB, VmHWM $hwm kB"
    plain=$(curl -sS -o /dev/null -w '%{size_download} %{time_total}' "http://127.0.0.1:$PORT/api/videos")
    rss2=$(status_kib VmRSS)
    hwm2=$(status_kib VmHWM)
    wait_listed
    rss3=$(status_kib VmRSS)
    hwm3=$(status_kib VmHWM)
    say "restart, $n items: /api/videos $plain; then VmRSS $rss2 kB; listed again: VmRSS $rss3 kB, VmHWM $hwm3 kB"
    echo "$n $first $ready $rss $hwm $plain $rss2 $hwm2 $rss3 $hwm3 ${load%% *}" >>"$RESTARTS"
    stop_server
}

LOAD_START=$(loadavg)
mkdir -p "$WORK/lib-0"
for mode in $MODES; do
    if [ "$mode" != restart ]; then run_one "$mode" "$WORK/lib-0" 0; fi
done
for n in $COUNTS; do
    lib=$WORK/lib-$n
    if [ -n "${BENCH_MEM_FIXTURES:-}" ] && [ -d "$BENCH_MEM_FIXTURES/lib-$n" ]; then
        lib=$BENCH_MEM_FIXTURES/lib-$n
        say "using the $n files in $lib"
    else
        say "making $n sparse files"
        "$BENCH" fixtures --dir "$lib" --count "$n" >/dev/null
        # Let the new inodes reach the disk first, so the first run does not pay for the writeback.
        sync
    fi
    INODES="$INODES $n:$(df --output=iused "$WORK" | tail -n 1 | tr -d ' ')"
    for mode in $MODES; do
        if [ "$mode" = restart ]; then run_restart "$lib" "$n"; else run_one "$mode" "$lib" "$n"; fi
    done
    if [ "$lib" = "$WORK/lib-$n" ]; then
        say "removing the $n files"
        rm -rf "$lib"
    fi
done
LOAD_END=$(loadavg)
elapsed=$(( $(date +%s) - started ))

# --- BENCHMARKS.md ----------------------------------------------------------------------
export ROWS RESTARTS LABEL LOAD_START LOAD_END COMMIT dirty elapsed TARGET_BYTES SCAN_SECS
export WHEN=$(date -u '+%Y-%m-%d %H:%M UTC')
export CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
export NPROC=$(nproc) MEM_TOTAL=$(free -h | awk '/^Mem:/ { print $2 }') KERNEL=$(uname -sr)
python3 - >"$WORK/section.md" <<'PY'
import os
e = os.environ
rows = [l.split() for l in open(e["ROWS"]) if l.strip()]
keys = "mode n ready rss hwm plain plain_s gz gz_s rss2 hwm2 scan load rss3 hwm3 scan3".split()
runs = [dict(zip(keys, r)) for r in rows]
base = {r["mode"]: r for r in runs if r["n"] == "0"}
target = int(e["TARGET_BYTES"])  # bytes per item
def mib(kib): return f"{int(kib) / 1024:,.1f} MiB"
def mb(b): return f"{int(b) / 1e6:,.1f} MB" if int(b) >= 100_000 else f"{int(b):,} B"
def per(r, field):
    b = base.get(r["mode"])
    if not b or r["n"] == "0":
        return ""
    v = (int(r[field]) - int(b[field])) * 1024 / int(r["n"])
    return f"{v:,.0f} B"
label = e["LABEL"]
print(f"<!-- memory-{label}:begin (generated by bench/memory.sh; everything up to memory-{label}:end is rewritten by each run) -->")
print(f"## Memory per item (issue #15, {label})")
print()
print(f"Generated by `bash bench/memory.sh` on {e['WHEN']}; the run took {e['elapsed']} s. Server: release "
      f"`bucketstream-server` of the work tree at commit `{e['COMMIT']}` ({e['dirty']} uncommitted changes under "
      f"crates/ and the manifests). Machine: {e['CPU_MODEL']}, `nproc` = {e['NPROC']}, {e['MEM_TOTAL']} of memory, "
      f"{e['KERNEL']}; shared with other builds: load average (1/5/15 min) {e['LOAD_START']} at the start, "
      f"{e['LOAD_END']} at the end (1-min load at each start in the table).")
print()
print("The library is a local folder of sparse 1 MiB `.mp3` files, 100 per folder (`bucketstream-bench fixtures`), "
      "served on loopback with `--refresh-secs 0`. *no-scan*: `--no-scan`. *scan*: the background scan on, with a "
      "fresh (empty) `--data-dir`; the figures are taken when the list is served, while the scan is still reading "
      "(its `done/total` then is shown; `0/0`: not started yet). *Served*: from starting the process until `/api/health` counts every item "
      "(`bucketstream-bench wait`); RSS and HWM are `VmRSS` and `VmHWM` from `/proc/PID/status` at that moment. "
      "Then one `GET /api/videos` without and one with `Accept-Encoding: gzip` (curl; size on the wire and total "
      "time, the first request of each kind, which builds what the server keeps per generation), and RSS/HWM "
      "again (*after GETs*). Per item = (RSS(N) - RSS(empty library, same mode)) / N.")
print()
print(f"| Mode | Items | Served after | RSS served | HWM served | RSS per item, served | "
      f"`/api/videos` plain: size, time | gzip: size, time | RSS after GETs | HWM after GETs | "
      f"RSS per item after GETs | Target per item | Scan done/total when served | Load (1 min) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    n = int(r["n"])
    def judged(field):
        p = per(r, field)
        if not p:
            return ""
        v = (int(r[field]) - int(base[r["mode"]][field])) * 1024 / n
        return f"**{p}**" + ("" if v <= target else " (over)")
    print(f"| {r['mode']} | {n:,} | {float(r['ready']):,.1f} s | {mib(r['rss'])} | {mib(r['hwm'])} | {judged('rss')} | "
          f"{mb(r['plain'])}, {float(r['plain_s']) * 1000:,.0f} ms | {mb(r['gz'])}, {float(r['gz_s']) * 1000:,.0f} ms | "
          f"{mib(r['rss2'])} | {mib(r['hwm2'])} | {judged('rss2')} | {'' if n == 0 else '≤ 1 KiB'} | {r['scan']} | {r['load']} |")
print()
later = [r for r in runs if r["rss3"] != "-"]
if later and "scan" in base:
    print(f"With the scan on, {e['SCAN_SECS']} s after the GETs (the scan reading meanwhile; every flush of its results, "
          "every 256 objects or every second, installs a new snapshot):")
    print()
    print("| Items | RSS | HWM | RSS per item | Scan done/total |")
    print("|---:|---:|---:|---:|---:|")
    for r in later:
        n = int(r["n"])
        v = (int(r["rss3"]) - int(base["scan"]["rss"])) * 1024 / n
        print(f"| {n:,} | {mib(r['rss3'])} | {mib(r['hwm3'])} | **{v:,.0f} B**{'' if v <= target else ' (over)'} | {r['scan3']} |")
    print()
restarts = [dict(zip("n first ready rss hwm plain plain_s rss2 hwm2 rss3 hwm3 load".split(), l.split()))
            for l in open(e["RESTARTS"]) if l.strip()]
if restarts:
    nb = base.get("no-scan")
    print("Restart from the library database (*restart*): a first run with `--no-scan` and a fresh `--data-dir` until the "
          "listing is served and saved, then a second process on the same `--data-dir`. *Served from the database*: from "
          "starting the second process until `GET /api/videos?limit=1` answers `total` = N (polled every 2 ms; the saved "
          "listing is served while the folder is listed again in the background). RSS then, after one whole `GET /api/videos`, "
          "and once the background listing has ended (`/api/health` `last_refresh` set; unchanged objects keep their items). "
          "Per item against the empty no-scan run.")
    print()
    print("| Items | First run: served after | **Served from the database after** | RSS served | RSS per item | `/api/videos` plain: size, time | RSS after GET | RSS, listed again | RSS per item, listed again | HWM, listed again | Load (1 min) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in restarts:
        n = int(r["n"])
        def pi(field):
            if not nb:
                return ""
            v = (int(r[field]) - int(nb["rss"])) * 1024 / n
            return f"**{v:,.0f} B**" + ("" if v <= target else " (over)")
        print(f"| {n:,} | {float(r['first']):,.1f} s | **{float(r['ready']) * 1000:,.0f} ms** | {mib(r['rss'])} | {pi('rss')} | "
              f"{mb(r['plain'])}, {float(r['plain_s']) * 1000:,.0f} ms | {mib(r['rss2'])} | {mib(r['rss3'])} | {pi('rss3')} | "
              f"{mib(r['hwm3'])} | {r['load']} |")
    print()
print("Target (issue #15): at most 1 KiB per item resident (intern folder names, share strings, keep serialised "
      "forms out of the resident set where they are not needed); \"(over)\" marks a figure above it.")
print()
print("Commands (`$DIR` holds the fixtures, `$DATA` a fresh folder per run):")
print()
print("    bucketstream-bench fixtures --dir $DIR --count N")
print("    bucketstream-server --media-dir $DIR --bind 127.0.0.1 --port $PORT --refresh-secs 0 --no-mdns --data-dir $DATA --cache-dir $CACHE [--no-scan]")
print("    bucketstream-bench wait --addr 127.0.0.1:$PORT --count N")
print("    grep -E 'VmRSS|VmHWM' /proc/$PID/status")
print("    curl -sS -o /dev/null [-H 'Accept-Encoding: gzip'] -w '%{size_download} %{time_total}' http://127.0.0.1:$PORT/api/videos")
print()
print(f"<!-- memory-{label}:end -->")
PY
python3 - "$OUT" "$WORK/section.md" "$LABEL" <<'PY'
import sys, re
out, section, label = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
pattern = re.compile(r"<!-- memory-" + re.escape(label) + r":begin.*?<!-- memory-" + re.escape(label) + r":end -->\n?", re.S)
before = re.compile(r"<!-- memory:begin.*?<!-- memory:end -->\n?", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text, count=1)
elif label != "before" and before.search(text):
    # Next to the "before" section.
    m = before.search(text)
    text = text[:m.end()] + "\n" + section + text[m.end():]
else:
    text = text.rstrip("\n") + ("\n\n" if text else "") + section
open(out, "w").write(text)
PY
say "wrote the memory section of $OUT in ${elapsed} s (inodes used after making the fixtures:${INODES:- none})"
