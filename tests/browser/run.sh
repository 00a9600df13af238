#!/usr/bin/env bash
# tests/browser/run.sh: the player's real-browser tests, called from the repo root after
# `cargo build -p bucketstream-server`. Arguments, if any, name the test files to run
# (e.g. `bash tests/browser/run.sh playback.test.js`); by default all of them run.
#
# It installs the npm packages when missing, starts its own Garage (scripts/garage.sh) on
# loopback, makes fixture media with ffmpeg and uploads it to a fresh bucket, starts
# bucketstream-server on that bucket (and a second one on a local folder of 10,000 files for
# the scale test), runs the tests with node's test runner against Debian's chromium, and stops
# everything on exit. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/browser"
# shellcheck source=../../scripts/lib/listening-port.sh
. "$root/scripts/lib/listening-port.sh"
cd "$root"

say() { printf 'browser-tests: %s\n' "$*" >&2; }

server_bin="${CARGO_TARGET_DIR:-$root/target}/debug/bucketstream-server"
if [ ! -x "$server_bin" ]; then
  say "missing $server_bin: run 'cargo build -p bucketstream-server' first"
  exit 1
fi
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
# Debian packages the tests need; installed when missing and this user may (root with apt-get).
missing=()
for pair in node:nodejs npm:npm ffmpeg:ffmpeg python3:python3 "$chromium_bin:chromium"; do
  tool=${pair%:*}
  command -v "$tool" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing ${missing[*]} (Debian: apt-get install -y ${missing[*]})"
    exit 1
  fi
fi
export GARAGE=${GARAGE:-$(command -v garage || echo "$HOME/.cargo/bin/garage")}
if [ ! -x "$GARAGE" ]; then
  if command -v cargo >/dev/null 2>&1; then
    say "installing garage (cargo install garage --locked; this takes a while once)"
    cargo install garage --locked --quiet
  else
    say "missing garage (cargo install garage --locked)"
    exit 1
  fi
fi

# shellcheck source=node-env.sh
. "$here/node-env.sh"
browser_node_env "$root"
say "node $(node --version)"

if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  say "installing npm packages"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash "$root/scripts/garage.sh" stop "$work/garage" >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ] && [ -z "${KEEP_LOGS:-}" ]; then
    for log in "$work"/server*.log; do
      [ -f "$log" ] && { say "last lines of $(basename "$log"):"; tail -15 "$log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Garage and fixtures ----------------------------------------------------------------------
say "starting Garage"
bash "$root/scripts/garage.sh" start "$work/garage" >/dev/null
set -a
# shellcheck disable=SC1091
. "$work/garage/env"
set +a
export S3_ENDPOINT="$BUCKETSTREAM_TEST_S3_ENDPOINT"
# The locked @aws-sdk/client-s3 runs on Debian's node 20; its notice about future releases
# needing node 22 is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

say "making fixture media"
fx="$work/fixtures"
mkdir -p "$fx/Music" "$fx/Video" "$fx/Clips" "$fx/Broken"
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff -f lavfi -i "sine=frequency=440:duration=30" -c:a libmp3lame -b:a 64k "$fx/Music/Long tone.mp3"
ff -f lavfi -i "sine=frequency=660:duration=2" -c:a libmp3lame -b:a 64k "$fx/Music/Short chime.mp3"
ff -f lavfi -i "sine=frequency=550:duration=20" -c:a libmp3lame -b:a 64k "$fx/Music/Follow up.mp3"
# Ten minutes of small noisy video (~20 MB at ~300 kbit/s), made from a 10 s clip repeated
# without re-encoding: far bigger than the browser's read-ahead, so a seek to the middle needs
# a new ranged request.
ff -f lavfi -i "testsrc2=size=192x108:rate=10:duration=10" -f lavfi -i "sine=frequency=330:duration=10" \
  -vf "noise=alls=30:allf=t" -c:v libx264 -preset veryfast -crf 32 -g 20 -pix_fmt yuv420p \
  -c:a aac -b:a 32k -ac 1 "$work/clip.mp4"
for _ in $(seq 60); do echo "file '$work/clip.mp4'"; done >"$work/clips.txt"
ff -f concat -safe 0 -i "$work/clips.txt" -c copy -movflags +faststart "$fx/Video/Noisy pattern.mp4"
cp "$root/samples/A440 tone.mp3" "$fx/A440 tone.mp3"
cp "$root/samples/Test pattern.mp4" "$fx/Video/Test pattern.mp4"
cp "$root/samples/E660 tone.m4a" "$fx/E660 tone.m4a"
cp "$root/samples/Clips/Test pattern (VP9).webm" "$fx/Clips/Test pattern (VP9).webm"
cp "$fx/Music/Short chime.mp3" "$fx/<img src=x onerror=alert(1)>.mp3"
mkdir -p "$fx/\"><svg onload=alert(2)>" "$fx/Música"
cp "$fx/Music/Short chime.mp3" "$fx/\"><svg onload=alert(2)>/<iframe src=javascript:alert(3)>.mp3"
cp "$fx/Music/Short chime.mp3" "$fx/Música/Canción #1 ?&%+.mp3"
head -c 65536 /dev/urandom >"$fx/Broken/Not really audio.mp3"

# The media library (media.test.js): an album of three tagged mp3s whose track numbers run
# against their file names' order, all with an embedded front cover (a PNG made here); a second
# album without art holding a track whose title and artist are HTML; a tagged video.
hostile_tag='<img src=x onerror="window.__pwned=1">'
mkdir -p "$fx/Albums/Lighthouse Sessions" "$fx/Albums/Night Drive" "$fx/Films"
ff -f lavfi -i "color=c=0xd05a1b:s=320x320" -vf "drawbox=x=60:y=60:w=200:h=200:color=0x1b6ad0:t=fill" \
  -frames:v 1 "$work/cover.png"
# album_track OUT SECONDS FREQ TITLE TRACK: a track of "Lighthouse Sessions" with the cover.
album_track() {
  ff -f lavfi -i "sine=frequency=$3:duration=$2" -i "$work/cover.png" -map 0:a -map 1:v \
    -c:a libmp3lame -b:a 64k -c:v png -disposition:v attached_pic \
    -metadata:s:v title="Album cover" -metadata:s:v comment="Cover (front)" \
    -metadata title="$4" -metadata artist="The Keepers" -metadata album="Lighthouse Sessions" \
    -metadata track="$5/3" -metadata disc=1 -metadata date=2021 -metadata genre=Jazz "$1"
}
album_track "$fx/Albums/Lighthouse Sessions/Track A.mp3" 5 523 "Closing" 3
album_track "$fx/Albums/Lighthouse Sessions/Track B.mp3" 3 587 "Opening" 1
album_track "$fx/Albums/Lighthouse Sessions/Track C.mp3" 61 659 "Middle" 2
ff -f lavfi -i "sine=frequency=698:duration=4" -c:a libmp3lame -b:a 64k \
  -metadata title="Harbour Lights" -metadata artist="Marina" -metadata album_artist="Marina" \
  -metadata album="Night Drive" -metadata track=1 -metadata date=2019 -metadata genre=Synthwave \
  "$fx/Albums/Night Drive/01.mp3"
ff -f lavfi -i "sine=frequency=784:duration=3" -c:a libmp3lame -b:a 64k \
  -metadata title="$hostile_tag" -metadata artist="$hostile_tag" -metadata album_artist="Marina" \
  -metadata album="Night Drive" -metadata track=2 -metadata date=2019 -metadata genre=Synthwave \
  "$fx/Albums/Night Drive/02.mp3"
ff -f lavfi -i "testsrc2=size=320x180:rate=10:duration=6" -f lavfi -i "sine=frequency=262:duration=6" \
  -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -c:a aac -b:a 32k -ac 1 \
  -metadata title="Evening Ferry" -movflags +faststart "$fx/Films/Ferry.mp4"

# What browsers do not play as it is (transcode.test.js), served from a local folder by a
# server of its own: ten seconds each, small, with sound.
tx="$work/transcode"
mkdir -p "$tx"
txv=(-f lavfi -i "testsrc2=size=320x180:rate=25:duration=10" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10")
ff "${txv[@]}" -c:v libx264 -g 25 -pix_fmt yuv420p -c:a ac3 "$tx/Film mkv.mkv"
ff "${txv[@]}" -c:v libx265 -tag:v hvc1 -g 25 -pix_fmt yuv420p -c:a aac "$tx/Film hevc.mp4"
ff "${txv[@]}" -c:v mpeg4 -c:a libmp3lame "$tx/Film avi.avi"
ff "${txv[@]}" -c:v mpeg2video -c:a mp2 "$tx/Film ts.ts"
ff -f lavfi -i "sine=frequency=523:sample_rate=44100:duration=10" -c:a wmav2 "$tx/Song wma.wma"
ff -f lavfi -i "sine=frequency=587:sample_rate=48000:duration=10" -c:a ac3 "$tx/Song ac3.ac3"
# Subtitles (subtitles.test.js), served from a local folder by a server of their own (the
# files beside the videos are not items, so they stay out of the main bucket's counts): two
# videos with sidecar SRT/WebVTT files and one mp4 with a French mov_text track inside.
subs="$work/subs"
mkdir -p "$subs"
printf '1\n00:00:01,000 --> 00:00:05,000\nHello from the <i>English</i> track\n\n2\n00:00:05,500 --> 00:00:09,000\nSecond English line\n' >"$subs/Film.en.srt"
printf 'WEBVTT\n\n00:00:01.000 --> 00:00:09.000\nHallo aus der deutschen Spur\n' >"$subs/Film.de.vtt"
printf '1\n00:00:01,000 --> 00:00:09,000\nThe second film, in English\n' >"$subs/Second.en.srt"
printf '1\n00:00:01,000 --> 00:00:09,000\nLe second film\n' >"$subs/Second.fr.srt"
printf '1\n00:00:01,000 --> 00:00:09,000\nBonjour de la piste incluse\n' >"$work/inside.srt"
for name in Film Second; do
  ff -f lavfi -i "testsrc2=size=320x180:rate=10:duration=10" -f lavfi -i "sine=frequency=262:duration=10" \
    -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -c:a aac -b:a 32k -ac 1 -movflags +faststart "$subs/$name.mp4"
done
ff -f lavfi -i "testsrc2=size=320x180:rate=10:duration=10" -f lavfi -i "sine=frequency=330:duration=10" \
  -i "$work/inside.srt" -map 0:v -map 1:a -map 2 -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p \
  -c:a aac -b:a 32k -ac 1 -c:s mov_text -metadata:s:s:0 language=fra -movflags +faststart "$subs/Inside.mp4"

export BS_BUCKET="bucketstream-ui-$(date +%s)-$$"
node "$here/lib/harness.js" upload "$BS_BUCKET" "$fx"

# 10,000 empty files for the scale test (served from a local folder).
big="$work/big"
python3 - "$big" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(root)
for i in range(10000):
    open(os.path.join(root, f"Track {i:05d} of the big library.mp3"), "wb").close()
PY

# ---- servers ----------------------------------------------------------------------------------
wait_health() {
  local url=$1 want=$2
  for _ in $(seq 1 300); do
    if python3 - "$url" "$want" <<'PY' 2>/dev/null; then return 0; fi
import json, sys, urllib.request
h = json.load(urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=2))
sys.exit(0 if h.get("ok") and h.get("count", 0) >= int(sys.argv[2]) else 1)
PY
    sleep 0.2
  done
  say "server at $url did not become healthy"
  return 1
}

# Starts bucketstream-server on an ephemeral port (bound by the server itself, so two servers
# can never be handed the same port) with its own library database beside its log; $1 is its
# log, the rest its flags. Sets server_port.
start_server() {
  local log=$1 pid
  shift
  : >"$log"   # exists before the poll below (the child opens it asynchronously)
  "$server_bin" --bind 127.0.0.1 --port 0 --data-dir "${log%.log}-data" "$@" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  server_port=$(listening_port "$log" "$pid") && return 0
  say "bucketstream-server $* did not start:"
  tail -n 20 "$log" >&2
  return 1
}

say "starting bucketstream-server (bucket $BS_BUCKET)"
# With the Subsonic API on: bookmarks.test.js makes bookmarks as a phone app would.
export BS_SUBSONIC_USER=browser BS_SUBSONIC_PASSWORD="resume-$$"
BUCKETSTREAM_SUBSONIC_PASSWORD="$BS_SUBSONIC_PASSWORD" \
  start_server "$work/server.log" --bucket "$BS_BUCKET" --endpoint "$S3_ENDPOINT" \
  --region "${AWS_REGION:-garage}" --refresh-secs 2 --subsonic-user "$BS_SUBSONIC_USER"
port=$server_port
# (No tag scan there: its 10,000 empty files hold none, and the scale test measures the list.)
# perf.test.js measures the whole-list mode at 10,000 items, above the default paging threshold
# (5,000): this server keeps whole lists (paging.test.js and bench/player.sh measure paging).
start_server "$work/server-big.log" --media-dir "$big" --refresh-secs 3600 --no-scan --paging-threshold 1000000
big_port=$server_port
# An empty bucket and an empty local folder: the player's empty states.
mkdir -p "$work/empty-dir"
node "$here/lib/harness.js" upload "$BS_BUCKET-empty" "$work/empty-dir"
start_server "$work/server-empty.log" --bucket "$BS_BUCKET-empty" --endpoint "$S3_ENDPOINT" \
  --region "${AWS_REGION:-garage}" --refresh-secs 30
empty_port=$server_port
start_server "$work/server-local.log" --media-dir "$work/empty-dir" --refresh-secs 30
local_port=$server_port
# A server on a bucket that does not exist: the player's error state.
start_server "$work/server-bad.log" --bucket "no-such-bucket-$$" --endpoint "$S3_ENDPOINT" \
  --region "${AWS_REGION:-garage}" --refresh-secs 30
bad_port=$server_port
start_server "$work/server-tx.log" --media-dir "$tx" --refresh-secs 3600
tx_port=$server_port
# The same folder on a host without ffmpeg: the player says so and offers the download.
start_server "$work/server-noff.log" --media-dir "$tx" --refresh-secs 3600 --no-scan --ffmpeg /nonexistent/ffmpeg
noff_port=$server_port
fixture_count=$(find "$fx" -type f | wc -l)
wait_health "http://127.0.0.1:$port" "$fixture_count"
wait_health "http://127.0.0.1:$big_port" 10000
wait_health "http://127.0.0.1:$tx_port" 6
wait_health "http://127.0.0.1:$noff_port" 6
start_server "$work/server-subs.log" --media-dir "$subs" --refresh-secs 30 --no-scan
subs_port=$server_port
fixture_count=$(find "$fx" -type f | wc -l)
wait_health "http://127.0.0.1:$port" "$fixture_count"
wait_health "http://127.0.0.1:$big_port" 10000
wait_health "http://127.0.0.1:$subs_port" 3

export BS_URL="http://127.0.0.1:$port"
export BS_BIG_URL="http://127.0.0.1:$big_port"
export BS_BAD_URL="http://127.0.0.1:$bad_port"
export BS_EMPTY_URL="http://127.0.0.1:$empty_port"
export BS_LOCAL_EMPTY_URL="http://127.0.0.1:$local_port"
export BS_TX_URL="http://127.0.0.1:$tx_port"
export BS_NOFF_URL="http://127.0.0.1:$noff_port"
export BS_SUBS_URL="http://127.0.0.1:$subs_port"
for url in "$BS_BAD_URL" "$BS_EMPTY_URL" "$BS_LOCAL_EMPTY_URL"; do
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] + '/api/health', timeout=2)" "$url" 2>/dev/null && break
    sleep 0.2
  done
done
export CHROMIUM="$chromium_bin"
export BS_SERVER_BIN="$server_bin"
mkdir -p "$here/screenshots"

# ---- tests ------------------------------------------------------------------------------------
say "running the browser tests"
cd "$here"
set +e
if [ "$#" -gt 0 ]; then files=("$@"); else files=(./*.test.js); fi
node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec "${files[@]}"
rc=$?
set -e
exit "$rc"
