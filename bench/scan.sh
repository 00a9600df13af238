#!/usr/bin/env bash
# Benchmark of the media library scan (issue #13), written into BENCHMARKS.md at the repo root
# as the section "## Media library scan (issue #13)" (only that section is replaced).
#
#   bash bench/scan.sh
#
# A fresh Garage bucket (scripts/garage.sh) gets BENCH_SCAN_OBJECTS tagged songs (copies of
# ~20 distinct files made with ffmpeg: mp3 with ID3v2.4 and cover, m4a with cover, flac with
# cover, opus; 1-2 MB each, in album-like folders) plus a few big files under big/ (a 200 MB
# mp3, a 1 GB mp4 with its index at the end). A byte-counting proxy (bucketstream-bench
# byteproxy) sits between each reader and Garage. Then:
#  1. the release bucketstream-server with a fresh --data-dir scans the bucket (concurrency 4,
#     the default); wall time from start until /api/health's scan is done for every object;
#  2. the same server is restarted with the same data dir (and a fresh edge cache): it must
#     read no object bytes;
#  3. the anchor, what users do today: `rclone serve http` over the same bucket, and
#     `ffprobe -show_format -show_streams` on every object, 4 at a time.
# Everything it starts is stopped on exit. Environment knobs:
#   BENCH_OUT=FILE                where to write (default: BENCHMARKS.md at the repo root)
#   BENCH_SCAN_OBJECTS=N          tagged songs in the bucket (default 10000)
#   BENCH_SCAN_BIG_MP3_MB=N       size of the big mp3 (default 200; 0: none)
#   BENCH_SCAN_VIDEO_MB=N         size of the big mp4 (default 1000; 0: none)
#   BENCH_SCAN_ANCHOR_OBJECTS=N   songs the anchor reads (default: all; the big files always)
#   BENCH_SCAN_PROFILE=debug      try the script with debug builds (figures are meaningless)
#   BENCH_SCAN_CONCURRENCY=N      --scan-concurrency and the anchor's parallelism (default 16, the server's default)
# Needs garage, ffmpeg, ffprobe, python3 and rclone (installed with apt-get when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
N=${BENCH_SCAN_OBJECTS:-10000}
BIG_MP3_MB=${BENCH_SCAN_BIG_MP3_MB:-200}
VIDEO_MB=${BENCH_SCAN_VIDEO_MB:-1000}
PAR=${BENCH_SCAN_CONCURRENCY:-16}
ANCHOR_N=${BENCH_SCAN_ANCHOR_OBJECTS:-$N}
[ "$ANCHOR_N" -le "$N" ] || ANCHOR_N=$N
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BUCKET=scan-bench
started=$(date +%s)

say() { printf '[scan-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

# --- tools ------------------------------------------------------------------------------
for tool in garage ffmpeg ffprobe python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "scan.sh: $tool is missing (see scripts/setup.sh)" >&2; exit 1; }
done
if ! command -v rclone >/dev/null 2>&1; then
    say "installing rclone"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rclone >/dev/null
fi

PROFILE=${BENCH_SCAN_PROFILE:-release}
say "building bucketstream-server and bucketstream-bench ($PROFILE)"
if [ "$PROFILE" = release ]; then FLAG=--release; DIR=release; else FLAG=""; DIR=debug; fi
# One package at a time, so each gets the feature set it gets on its own.
cargo build $FLAG -p bucketstream-server
cargo build $FLAG -p bucketstream-bench
SERVER=$TARGET/$DIR/bucketstream-server
BENCH=$TARGET/$DIR/bucketstream-bench
dirty=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-scan-bench.XXXXXX")
PIDS=()
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    bash "$ROOT/scripts/garage.sh" stop "$WORK/garage" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# Nothing reads the user's config, keys or caches.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# Samples the 1-minute load average every 5 s into $WORK/load-$1 while a phase runs.
LOAD_PID=""
load_start() {
    (while :; do cut -d' ' -f1 /proc/loadavg >>"$WORK/load-$1"; sleep 5; done) &
    LOAD_PID=$!
}
load_stop() { stop_pid "$LOAD_PID"; LOAD_PID=""; }

# --- Garage and the fixtures ------------------------------------------------------------
say "starting Garage"
bash "$ROOT/scripts/garage.sh" start "$WORK/garage" >/dev/null
set -a
# shellcheck disable=SC1091
. "$WORK/garage/env"
set +a
GARAGE_ADDR=${BUCKETSTREAM_TEST_S3_ENDPOINT#http://}
export RCLONE_CONFIG_GARAGE_TYPE=s3 RCLONE_CONFIG_GARAGE_PROVIDER=Other RCLONE_CONFIG_GARAGE_REGION=garage
export RCLONE_CONFIG_GARAGE_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_GARAGE_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_GARAGE_ENDPOINT=$BUCKETSTREAM_TEST_S3_ENDPOINT

say "making the fixtures with ffmpeg"
SRC=$WORK/src
mkdir -p "$SRC"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
ff -f lavfi -i testsrc=size=800x800:duration=1 -frames:v 1 -q:v 2 "$SRC/cover.jpg"
# One short encode per format; the songs are loops of it (-c copy), so this is quick.
ff -f lavfi -i "sine=frequency=440:duration=10:sample_rate=44100" -ac 2 -b:a 256k "$SRC/base.mp3"
ff -f lavfi -i "sine=frequency=550:duration=10:sample_rate=44100" -ac 2 -c:a aac -b:a 256k "$SRC/base.m4a"
ff -f lavfi -i "sine=frequency=660:duration=10:sample_rate=48000" -ac 2 -c:a libopus -b:a 192k "$SRC/base.opus"
tags() { # title artist album track
    echo -metadata "title=$1" -metadata "artist=$2" -metadata "album=$3" -metadata "album_artist=$2" \
        -metadata "track=$4/12" -metadata date=2024 -metadata genre=Jazz
}
SONGS=()
for i in 0 1 2 3 4; do
    loops=$((2 + i))                      # 30 to 70 s: about 1.0 to 2.2 MB
    # shellcheck disable=SC2046
    ff -stream_loop "$loops" -i "$SRC/base.mp3" -i "$SRC/cover.jpg" -map 0:a -map 1:v -c copy \
        -disposition:v attached_pic -id3v2_version 4 $(tags "Song$i" "Artist$i" "Album$i" $((i + 1))) "$SRC/s$i.mp3"
    # shellcheck disable=SC2046
    ff -stream_loop "$loops" -i "$SRC/base.m4a" -i "$SRC/cover.jpg" -map 0:a -map 1:v -c copy \
        -disposition:v attached_pic $(tags "Song$i" "Artist$i" "Album$i" $((i + 1))) "$SRC/s$i.m4a"
    # FLAC is encoded whole (a looped copy keeps the first part's sample count); quiet pink
    # noise compresses like music, about 1.4 MB for 15 to 23 s.
    # shellcheck disable=SC2046
    ff -f lavfi -i "anoisesrc=color=pink:amplitude=0.02:duration=$((15 + 2 * i)):sample_rate=44100" \
        -i "$SRC/cover.jpg" -map 0:a -map 1:v -ac 2 -c:v copy -disposition:v attached_pic \
        $(tags "Song$i" "Artist$i" "Album$i" $((i + 1))) "$SRC/s$i.flac"
    # shellcheck disable=SC2046
    ff -stream_loop "$loops" -i "$SRC/base.opus" -c copy $(tags "Song$i" "Artist$i" "Album$i" $((i + 1))) "$SRC/s$i.opus"
    SONGS+=("s$i.mp3" "s$i.m4a" "s$i.flac" "s$i.opus")
done
BIG_KEYS=()
if [ "$BIG_MP3_MB" -gt 0 ]; then
    ff -f lavfi -i "sine=frequency=300:duration=20" -ac 2 -b:a 320k "$SRC/big-base.mp3"
    loops=$(( BIG_MP3_MB * 1000000 / $(stat -c %s "$SRC/big-base.mp3") ))
    # shellcheck disable=SC2046
    ff -stream_loop "$loops" -i "$SRC/big-base.mp3" -i "$SRC/cover.jpg" -map 0:a -map 1:v -c copy \
        -disposition:v attached_pic -id3v2_version 4 $(tags "Big" "Artist0" "Long" 1) "$SRC/big.mp3"
    BIG_KEYS+=("big/big.mp3")
fi
if [ "$VIDEO_MB" -gt 0 ]; then
    # 10 s at a constant 8 Mbit/s (x264 pads to the rate), looped: a film-sized mp4 whose
    # index (moov) is at the end, with keyframes 10 s apart.
    ff -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=10" -f lavfi -i "sine=duration=10" \
        -c:v libx264 -preset ultrafast -b:v 8M -minrate 8M -maxrate 8M -bufsize 2M -x264-params nal-hrd=cbr \
        -pix_fmt yuv420p -c:a aac -shortest "$SRC/film-base.mp4"
    loops=$(( VIDEO_MB * 1000000 / $(stat -c %s "$SRC/film-base.mp4") ))
    ff -stream_loop "$loops" -i "$SRC/film-base.mp4" -c copy -metadata title="A film" "$SRC/film.mp4"
    BIG_KEYS+=("big/film.mp4")
fi

# The upload: one chunk of CHUNK songs (hard links, so no disk) under c000/ is uploaded, then
# copied server-side (CopyObject: no data moves, Garage shares the blocks) to c001/, c002/, ...;
# a last partial chunk is uploaded on its own. Uploading 10,000 songs through rclone would
# take longer than the whole benchmark on a shared 2-core machine.
CHUNK=250
say "linking $N songs (+${#BIG_KEYS[@]} big files) for upload"
python3 - "$SRC" "$WORK" "$N" "$CHUNK" "${SONGS[@]}" <<'PY'
import os, sys
src, work, n, chunk, songs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
keys = open(os.path.join(work, "up.keys"), "w")
full = n // chunk
for i in range(n):
    c, j = divmod(i, chunk)
    name = songs[j % len(songs)]
    key = f"c{c:03d}/artist-{j // 50:02d}/album-{j // 10 % 5}/{j % 10 + 1:02d}-song.{name.split('.')[-1]}"
    keys.write(key + "\n")
    if c == 0 or c >= full:  # the first chunk and the partial last one are uploaded
        folder = "up" if c == 0 else "up-rest"
        path = os.path.join(work, folder, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.link(os.path.join(src, name), path)
PY
mkdir -p "$WORK/up-big/big"
for key in "${BIG_KEYS[@]}"; do
    ln "$SRC/${key#big/}" "$WORK/up-big/$key"
    echo "$key" >>"$WORK/up.keys"
done
TOTAL=$(wc -l <"$WORK/up.keys")
# The songs' bytes: the uploaded chunk times the copies, plus the partial chunk.
BULK_BYTES=$(python3 - "$WORK" "$N" "$CHUNK" <<'PY'
import os, sys
work, n, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
full = max(n // chunk, 1) if n >= chunk else 0
print(size(os.path.join(work, "up")) * max(full, 1) + (size(os.path.join(work, "up-rest")) if n > chunk else 0))
PY
)
big_size() { stat -c %s "$WORK/up-big/$1"; }
rcl() { env -u AWS_CA_BUNDLE rclone -q "$@"; }

say "uploading $TOTAL objects to Garage"
t0=$(now)
rcl mkdir "garage:$BUCKET"
for dir in up up-rest up-big; do
    if [ -d "$WORK/$dir" ]; then
        rcl copy "$WORK/$dir" "garage:$BUCKET" --transfers 8 --checkers 16 --no-traverse
    fi
done
full=$(( N / CHUNK ))
for c in $(seq 1 $(( full - 1 ))); do
    printf 'c%03d\n' "$c"
done | xargs -P 4 -I{} env -u AWS_CA_BUNDLE rclone -q copy "garage:$BUCKET/c000" "garage:$BUCKET/{}" --transfers 16 --checkers 16 --no-traverse
UPLOAD_SECS=$(python3 -c "print(f'{$(now) - $t0:.0f}')")
listed=$(rcl size "garage:$BUCKET" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['count'])")
[ "$listed" = "$TOTAL" ] || { echo "scan.sh: the bucket has $listed objects, want $TOTAL" >&2; exit 1; }
say "uploaded in ${UPLOAD_SECS}s"

# --- the byte-counting proxy --------------------------------------------------------------
PROXY_PORT=$("$BENCH" port)
"$BENCH" byteproxy --listen "127.0.0.1:$PROXY_PORT" --upstream "$GARAGE_ADDR" 2>"$WORK/proxy.log" &
PIDS+=($!)
PROXY=http://127.0.0.1:$PROXY_PORT
for _ in $(seq 1 100); do curl -fsS "$PROXY/__byteproxy" >/dev/null 2>&1 && break; sleep 0.1; done
# Proxy counts as JSON: $1 a key prefix ("" for all objects).
counts() { curl -fsS "$PROXY/__byteproxy?prefix=$1"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# --- 1. Bucketstream: a fresh data dir --------------------------------------------------
DATA=$WORK/data
start_server() { # $1: edge cache dir, then extra flags; sets SERVER_PID, PORT
    PORT=$("$BENCH" port)
    local cache=$1
    shift
    (cd "$WORK" && exec "$SERVER" --bucket "$BUCKET" --endpoint "$PROXY" --region garage \
        --data-dir "$DATA" --cache-dir "$cache" --access-key-file "$WORK/access-key" \
        --bind 127.0.0.1 --port "$PORT" --refresh-secs 0 --scan-concurrency "$PAR" "$@") \
        >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
}
say "bucketstream-server: scanning $TOTAL objects (load $(loadavg))"
LOAD_BS_START=$(loadavg)
load_start bs
t0=$(now)
start_server "$WORK/cache-1"
SCAN=$("$BENCH" scan-wait --addr "127.0.0.1:$PORT" --count "$TOTAL")
BS_SECS=$(python3 -c "print($(now) - $t0)")
load_stop
LOAD_BS_END=$(loadavg)
BS_ALL=$(counts "")
BS_BIG=$(counts "big/")
BS_CPU=$(awk '{print ($14 + $15) / 100}' "/proc/$SERVER_PID/stat")
declare -A BS_KEY
for key in "${BIG_KEYS[@]}"; do BS_KEY[$key]=$(field "$(counts "$key")" object_bytes); done
say "scan done in ${BS_SECS}s: $SCAN"
stop_pid "$SERVER_PID"

# --- 2. Restart with the same data dir --------------------------------------------------
say "bucketstream-server: restart with the same data dir"
before=$(field "$(counts "")" object_bytes)
before_gets=$(field "$(counts "")" object_requests)
before_other=$(field "$(counts "")" other_requests)
t0=$(now)
start_server "$WORK/cache-2"
RESTART_SCAN=$("$BENCH" scan-wait --addr "127.0.0.1:$PORT" --count "$TOTAL" --total 0)
RESTART_SECS=$(python3 -c "print($(now) - $t0)")
# Give a late scan every chance to show up before counting.
sleep 10
RESTART_SCAN=$(curl -fsS "http://127.0.0.1:$PORT/api/health" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["scan"]))')
after=$(counts "")
RESTART_BYTES=$(( $(field "$after" object_bytes) - before ))
RESTART_GETS=$(( $(field "$after" object_requests) - before_gets ))
RESTART_OTHER=$(( $(field "$after" other_requests) - before_other ))
say "restart: ${RESTART_BYTES} object bytes in ${RESTART_GETS} GETs; $RESTART_SCAN"
stop_pid "$SERVER_PID"

# --- 3. The anchor: ffprobe through rclone serve http -----------------------------------
A0=$(counts "")
declare -A A0_KEY
for key in "${BIG_KEYS[@]}"; do A0_KEY[$key]=$(field "$(counts "$key")" object_bytes); done
A0_BIG=$(counts "big/")
RCLONE_PORT=$("$BENCH" port)
{ head -n "$ANCHOR_N" "$WORK/up.keys" | grep -v '^big/' || true; grep '^big/' "$WORK/up.keys" || true; } >"$WORK/anchor.keys"
ANCHOR_TOTAL=$(wc -l <"$WORK/anchor.keys")
say "anchor: rclone serve http + ffprobe on $ANCHOR_TOTAL objects, $PAR at a time (load $(loadavg))"
LOAD_A_START=$(loadavg)
load_start anchor
t0=$(now)
RCLONE_CONFIG_GARAGE_ENDPOINT=$PROXY env -u AWS_CA_BUNDLE rclone serve http "garage:$BUCKET" --addr "127.0.0.1:$RCLONE_PORT" --read-only \
    2>"$WORK/rclone.log" &
RCLONE_PID=$!
PIDS+=("$RCLONE_PID")
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$RCLONE_PORT/" 2>/dev/null && break; sleep 0.1; done
: >"$WORK/anchor-failed"
# shellcheck disable=SC2016
xargs -P "$PAR" -I{} sh -c 'ffprobe -v error -show_format -show_streams -of json "$1" >/dev/null 2>&1 || echo "$1" >>"$2"' \
    _ "http://127.0.0.1:$RCLONE_PORT/{}" "$WORK/anchor-failed" <"$WORK/anchor.keys"
A_SECS=$(python3 -c "print($(now) - $t0)")
load_stop
LOAD_A_END=$(loadavg)
A1=$(counts "")
A1_BIG=$(counts "big/")
declare -A A_KEY
for key in "${BIG_KEYS[@]}"; do A_KEY[$key]=$(( $(field "$(counts "$key")" object_bytes) - ${A0_KEY[$key]} )); done
A_FAILED=$(wc -l <"$WORK/anchor-failed")
say "anchor done in ${A_SECS}s ($A_FAILED failed)"
stop_pid "$RCLONE_PID"

# --- 4. Playback during a scan, and idle ------------------------------------------------
# A player (bucketstream-bench play: buffers 2 s to start, reads up to 10 s ahead) plays
# PLAY_SECS of the film through the server twice from a cold edge cache: once with the scan
# off, once while a scan from scratch (a fresh data dir) runs. Different parts of the film,
# so neither finds the other's chunks cached.
PLAY_SECS=${BENCH_SCAN_PLAY_SECS:-60}
PLAY_IDLE='{}' PLAY_SCAN='{}' PLAY_SCAN_BEFORE='{}' PLAY_SCAN_AFTER='{}' FILM_BITRATE=0
if [ "$VIDEO_MB" -gt 0 ]; then
    FILM_BYTES=$(big_size big/film.mp4)
    FILM_SECS=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$SRC/film.mp4")
    FILM_BITRATE=$(python3 -c "print(round($FILM_BYTES * 8 / $FILM_SECS))")
    film_url() {
        curl -fsS "http://127.0.0.1:$PORT/api/videos" | python3 -c \
            'import json, sys; print(next(i["url"] for i in json.load(sys.stdin) if i["key"] == "big/film.mp4"))'
    }
    health_scan() { curl -fsS "http://127.0.0.1:$PORT/api/health" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["scan"]))'; }
    say "playback: $PLAY_SECS s of the film with the scan off (load $(loadavg))"
    DATA=$WORK/data-play-idle
    start_server "$WORK/cache-play-idle" --no-scan
    "$BENCH" wait --addr "127.0.0.1:$PORT" --count "$TOTAL" >/dev/null
    PLAY_IDLE=$("$BENCH" play --url "http://127.0.0.1:$PORT$(film_url)" --start $((FILM_BYTES / 10)) \
        --secs "$PLAY_SECS" --bitrate "$FILM_BITRATE")
    stop_pid "$SERVER_PID"
    say "playback: $PLAY_SECS s of the film while a scan from scratch runs (load $(loadavg))"
    DATA=$WORK/data-play-scan
    start_server "$WORK/cache-play-scan"
    "$BENCH" wait --addr "127.0.0.1:$PORT" --count "$TOTAL" >/dev/null
    PLAY_SCAN_BEFORE=$(health_scan)
    PLAY_SCAN=$("$BENCH" play --url "http://127.0.0.1:$PORT$(film_url)" --start $((FILM_BYTES / 2)) \
        --secs "$PLAY_SECS" --bitrate "$FILM_BITRATE")
    PLAY_SCAN_AFTER=$(health_scan)
    stop_pid "$SERVER_PID"
    say "playback: idle $PLAY_IDLE; during the scan $PLAY_SCAN ($PLAY_SCAN_BEFORE -> $PLAY_SCAN_AFTER)"
fi

# --- BENCHMARKS.md ----------------------------------------------------------------------
big_rows=""
for key in "${BIG_KEYS[@]}"; do big_rows+="$key $(big_size "$key") ${BS_KEY[$key]} ${A_KEY[$key]}"$'\n'; done
finished=$(date +%s)
export PROFILE N TOTAL PAR ANCHOR_N ANCHOR_TOTAL BULK_BYTES BS_SECS BS_ALL BS_BIG BS_CPU SCAN RESTART_SCAN RESTART_SECS RESTART_BYTES RESTART_GETS \
    RESTART_OTHER A0 A1 A0_BIG A1_BIG A_SECS A_FAILED LOAD_BS_START LOAD_BS_END LOAD_A_START LOAD_A_END COMMIT dirty \
    UPLOAD_SECS big_rows WORK PLAY_SECS PLAY_IDLE PLAY_SCAN PLAY_SCAN_BEFORE PLAY_SCAN_AFTER FILM_BITRATE
export ELAPSED=$((finished - started)) CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
export NPROC=$(nproc) RCLONE_V="$(rclone version 2>/dev/null | head -n1)" FFPROBE_V="$(ffprobe -version | head -n1 | cut -d' ' -f1-3)"
export WHEN="$(date -u '+%Y-%m-%d %H:%M UTC')"
python3 - >"$WORK/section.md" <<'PY'
import json, os
e = os.environ
j = lambda k: json.loads(e[k])
n, total, par = int(e["N"]), int(e["TOTAL"]), int(e["PAR"])
an, atotal = int(e["ANCHOR_N"]), int(e["ANCHOR_TOTAL"])
bulk_bytes = int(e["BULK_BYTES"])
bs_all, bs_big, scan, rscan = j("BS_ALL"), j("BS_BIG"), j("SCAN"), j("RESTART_SCAN")
a0, a1, a0b, a1b = j("A0"), j("A1"), j("A0_BIG"), j("A1_BIG")
bs_secs, a_secs = float(e["BS_SECS"]), float(e["A_SECS"])
bs_obj = bs_all["object_bytes"]
a_obj = a1["object_bytes"] - a0["object_bytes"]
bs_bulk = bs_obj - bs_big["object_bytes"]
a_bulk = a_obj - (a1b["object_bytes"] - a0b["object_bytes"])
a_other_req = a1["other_requests"] - a0["other_requests"]
a_other_bytes = a1["other_bytes"] - a0["other_bytes"]
a_gets = a1["object_requests"] - a0["object_requests"]
def loads(name):
    try:
        xs = [float(x) for x in open(os.path.join(e["WORK"], "load-" + name)).read().split()]
    except FileNotFoundError:
        xs = []
    return f"{sum(xs) / len(xs):.2f} mean, {max(xs):.2f} max" if xs else "no sample"
def mb(b): return f"{b / 1e6:,.1f} MB"
def kb(b): return f"{b / 1e3:,.1f} kB"
def ratio(a, b): return f"{a / b:,.1f}x" if b else "n/a (0 bytes)"
bs_rate, a_rate = total / bs_secs, atotal / a_secs
per_bs, per_a = bs_obj / total, a_obj / atotal
a_song = a_bulk / an if an else 0
print("<!-- scan:begin (generated by bench/scan.sh; everything up to scan:end is rewritten by each run) -->")
print("## Media library scan (issue #13)")
print()
print(f"Generated by `bash bench/scan.sh` on {e['WHEN']} (BENCH_SCAN_OBJECTS={n}); the run took {e['ELAPSED']} s, "
      f"of which {e['UPLOAD_SECS']} s uploading. Server: {e['PROFILE']} `bucketstream-server` of the work tree at commit "
      f"`{e['COMMIT']}` ({e['dirty']} uncommitted changes under crates/ and the manifests). Machine: {e['CPU_MODEL']}, "
      f"`nproc` = {e['NPROC']}, shared with other builds (load below). Anchor tools: {e['RCLONE_V']}, {e['FFPROBE_V']}.")
print()
print(f"The bucket (a fresh single-node Garage on loopback) holds {total:,} objects: {n:,} tagged songs, copies under "
      f"distinct keys (10 per album folder, 250 per top folder) of 20 distinct files made with ffmpeg (5 each of mp3 with ID3v2.4 and an "
      f"800x800 JPEG cover, m4a (AAC) with cover, FLAC with cover, Ogg Opus), average size {mb(bulk_bytes / n)} "
      f"({mb(bulk_bytes)} in all), plus {total - n} big files under `big/` (table below). Bytes are counted by "
      f"`bucketstream-bench byteproxy`, a streaming HTTP proxy between the reader and Garage: body bytes of GetObject "
      f"answers that crossed it (a reader that closes early stops the transfer), other requests (listings, HEAD) apart.")
print()
print(f"| | Bucketstream scan (`--scan-concurrency {par}`, fresh `--data-dir`) | Anchor: `ffprobe -show_format -show_streams` via `rclone serve http`, {par} at a time | Anchor / Bucketstream |")
print("|---|---:|---:|---:|")
print(f"| Objects | {total:,} | {atotal:,} | |")
print(f"| Wall time | {bs_secs:,.1f} s | {a_secs:,.1f} s | |")
print(f"| Objects/s | **{bs_rate:,.0f}** | {a_rate:,.1f} | |")
print(f"| Objects/s ratio | | | {bs_rate / a_rate:,.1f}x faster |")
print(f"| GetObject body bytes, all objects | {mb(bs_obj)} | {mb(a_obj)} | |")
print(f"| ... per object (all) | {kb(per_bs)} | {kb(per_a)} | **{ratio(per_a, per_bs)}** |")
print(f"| ... per song (bulk objects, average {mb(bulk_bytes / n)}) | {kb(bs_bulk / n)} | {kb(a_song)} | **{ratio(a_song, bs_bulk / n)}** |")
print(f"| GetObject requests | {bs_all['object_requests']:,} | {a_gets:,} | |")
print(f"| Other requests (listings, HEAD) and their bytes | {bs_all['other_requests']:,}, {mb(bs_all['other_bytes'])} | {a_other_req:,}, {mb(a_other_bytes)} | |")
print(f"| Objects that failed | {scan.get('failed')} (scan.failed) | {e['A_FAILED']} (ffprobe exit code) | |")
print(f"| Load average (1/5/15) start → end; 1-min samples every 5 s | {e['LOAD_BS_START']} → {e['LOAD_BS_END']}; {loads('bs')} | {e['LOAD_A_START']} → {e['LOAD_A_END']}; {loads('anchor')} | |")
print()
print(f"Targets: at least 10x fewer bytes than the anchor: **{ratio(per_a, per_bs)}** per object, "
      f"{ratio(a_song, bs_bulk / n)} per song ({'met' if per_bs * 10 <= per_a else 'NOT met'}); at least 100 objects/s: "
      f"**{bs_rate:,.0f}/s** ({'met' if bs_rate >= 100 else 'NOT met'}). Bucketstream's wall time runs from starting the "
      f"process (first listing included) until `/api/health` shows `scan.running: false`, `done == total == {total:,}`; "
      f"the server used {e['BS_CPU']} s of CPU. The scan's own count, `scan.fetched_bytes` = {scan.get('fetched_bytes'):,} "
      f"bytes; the proxy saw {bs_obj:,} (videos are probed and get their poster through the server's own `/media`, "
      f"i.e. the edge cache, which `fetched_bytes` does not count). The anchor's wall time runs from starting rclone "
      f"until the last ffprobe ended"
      + (f"; it read the first {an:,} songs and the big files (`BENCH_SCAN_ANCHOR_OBJECTS={an}`: at its rate all "
         f"{n:,} would take {n / a_rate / 60:,.0f} more minutes), so its per-object figures are over those." if an < n else "."))
print()
rows = [r.split() for r in e["big_rows"].splitlines() if r.strip()]
if rows:
    print("Big files (bytes per object on the wire):")
    print()
    print("| Object | Size | Bucketstream | Anchor | Anchor / Bucketstream |")
    print("|---|---:|---:|---:|---:|")
    for key, size, b, a in rows:
        print(f"| `{key}` | {mb(int(size))} | {kb(int(b))} | {kb(int(a))} | {ratio(int(a), int(b))} |")
    print()
play_idle, play_scan = j("PLAY_IDLE"), j("PLAY_SCAN")
if play_idle and play_scan:
    sb, sa = j("PLAY_SCAN_BEFORE"), j("PLAY_SCAN_AFTER")
    print(f"Playback while the scan runs (\"a scan must not make a playing video stutter\"): `bucketstream-bench play` plays "
          f"{e['PLAY_SECS']} s of `big/film.mp4` ({int(e['FILM_BITRATE']) / 1e6:.1f} Mbit/s) through the server like a media element "
          f"(playback starts at 2 s buffered; it reads up to 10 s ahead, then pauses until 8 s are left; the lowest buffer is taken after it first reached 10 s), from a cold edge cache, "
          f"once with `--no-scan` (from 10% into the film) and once while a scan from scratch runs (from 50%). A stall is the buffer "
          f"running dry after the start. The scan read {sa.get('done', 0) - sb.get('done', 0):,} objects during that playback "
          f"({sb.get('done')} → {sa.get('done')} of {sa.get('total')}; while a stream plays it reads one object at a time).")
    print()
    print("| | Startup | Stalls | Time stalled | Lowest buffer | Time per MiB while reading, p50 / p99 / max |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, p in (("Scan off", play_idle), ("During a scan", play_scan)):
        print(f"| {label} | {p['startup_ms']:,.0f} ms | **{p['stalls']}** | {p['stalled_ms']:,.0f} ms | {p['min_buffer_s']:.1f} s | "
              f"{p['mib_p50_ms']} / {p['mib_p99_ms']} / {p['mib_max_ms']} ms |")
    print()
print(f"Restart with the same `--data-dir` (and a fresh edge cache, so nothing comes from it): **{int(e['RESTART_BYTES']):,} "
      f"object bytes** in {int(e['RESTART_GETS'])} GetObject requests ({int(e['RESTART_OTHER'])} other requests: the listing); "
      f"`/api/health` showed the {total:,} objects and a finished scan after {float(e['RESTART_SECS']):.1f} s, and "
      f"10 s later `scan` = `{json.dumps(rscan)}`.")
print()
print("Commands (`$PROXY` is the byte proxy in front of Garage):")
print()
print(f"    bucketstream-server --bucket scan-bench --endpoint $PROXY --region garage --data-dir $DATA --cache-dir $CACHE --bind 127.0.0.1 --port $PORT --refresh-secs 0 --scan-concurrency {par}")
print(f"    RCLONE_CONFIG_GARAGE_ENDPOINT=$PROXY env -u AWS_CA_BUNDLE rclone serve http garage:scan-bench --addr 127.0.0.1:$RPORT --read-only")
print(f"    xargs -P {par} -I{{}} ffprobe -v error -show_format -show_streams -of json http://127.0.0.1:$RPORT/{{}} <keys")
print()
print("<!-- scan:end -->")
PY
python3 - "$OUT" "$WORK/section.md" <<'PY'
import sys, re
out, section = sys.argv[1], open(sys.argv[2]).read()
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
begin, end = "<!-- scan:begin", "<!-- scan:end -->"
if begin in text and end in text:
    head = text[: text.index(begin)]
    tail = text[text.index(end) + len(end):].lstrip("\n")
    text = head + section + ("\n" + tail if tail else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text)
PY
cat "$WORK/section.md"
say "wrote the scan section of $OUT in ${ELAPSED}s"
