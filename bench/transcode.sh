#!/usr/bin/env bash
# The issue #17 benchmark: how long a player waits for the first playable bytes of a remux,
# an audio transcode and a full transcode (720p source), from the start and after a seek,
# through bucketstream-server's /transcode (ffmpeg reading the server's own /media over
# loopback), side by side with ffmpeg alone writing its first fragment from the same file
# (the floor); and the CPU seconds each path costs per minute of media.
#
#   bash bench/transcode.sh      # prints Markdown; with BENCH_OUT, also writes the section
#
# "First playable bytes" is the end of the first `mdat` after a `moof` (one whole fragment:
# what a <video> needs before it can show a frame), timed from the request (or ffmpeg's
# start). Each figure is the median of RUNS runs with a fresh start time (so no run is a cache
# hit). The seek is a new request from the middle (start=MID), as the player sends it.
# CPU: user+system seconds of ffmpeg alone converting the whole file, per minute of media.
#
# Then the same in the player, in real chromium (bench/transcode-play.mjs; a second server
# whose scan reads the codecs, so the player picks its path as it would for a listener): from
# the click on an item to its first frame presented, and from a seek to the middle to the
# first frame after it, for an mp4 it plays directly, an mkv of H.264+AAC (remux), the
# H.264+AC3 mkv (audio transcode) and the HEVC mp4 (full transcode); beside ffmpeg alone's
# first fragment for the same path. Written between <!-- transcode-play:begin --> and
# <!-- transcode-play:end -->. Needs node and the browser tests' npm packages.
#
# Knobs: BIN (server binary; default $CARGO_TARGET_DIR/debug/bucketstream-server — the
# server only relays ffmpeg's bytes), RUNS=5, BENCH_OUT=FILE (replace the section between
# <!-- transcode:begin --> and <!-- transcode:end -->), BENCH_DATA (fixtures kept between
# runs; default /var/tmp/bucketstream-transcode). Needs ffmpeg, python3, curl.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/listening-port.sh
. "$ROOT/scripts/lib/listening-port.sh"
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/bucketstream-server}
RUNS=${RUNS:-5}
DATA=${BENCH_DATA:-/var/tmp/bucketstream-transcode}
OUT=${BENCH_OUT:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/bs-transcode-bench.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$DATA/media"
ff() { ffmpeg -nostdin -v error -y "$@"; }
# One minute of 720p at 25 fps, keyframes every 2 s: H.264 + AC3 in mkv (remux and audio
# transcode), HEVC + AAC in mp4 (full transcode).
src=(-f lavfi -i "testsrc2=size=1280x720:rate=25:duration=60" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60")
[ -s "$DATA/media/film.mkv" ] || ff "${src[@]}" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a ac3 "$DATA/media/film.mkv"
[ -s "$DATA/media/remux.mkv" ] || ff "${src[@]}" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac "$DATA/media/remux.mkv"
[ -s "$DATA/media/direct.mp4" ] || ff "${src[@]}" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -movflags +faststart "$DATA/media/direct.mp4"
[ -s "$DATA/media/hevc.mp4" ] || ff "${src[@]}" -c:v libx265 -preset ultrafast -tag:v hvc1 -g 50 -pix_fmt yuv420p -c:a aac "$DATA/media/hevc.mp4"

# Starts the server on the fixtures with data dir "$1" (and any further flags); sets port.
start_server() {
  local data=$1
  shift
  rm -f "$work/server.log"
  "$BIN" --bind 127.0.0.1 --port 0 --media-dir "$DATA/media" --no-mdns --refresh-secs 0 \
    --data-dir "$data" --transcode-cache-dir "$data-transcode" --transcode-max-concurrent 1 "$@" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  port=$(listening_port "$work/server.log" "$server_pid" 300) || { tail "$work/server.log" >&2; exit 1; }
}
start_server "$work/data" --no-scan

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$port" "$DATA/media" "$RUNS" "$OUT" "$commit" "$work/floors.json" <<'PY'
import json, os, resource, statistics, subprocess, sys, time, urllib.request

port, media, runs, out, commit, floors_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
base = f"http://127.0.0.1:{port}"
items = {i["key"]: i for i in json.load(urllib.request.urlopen(base + "/api/videos"))}

def first_fragment(read):
    """Reads until the end of the first mdat after a moof; returns the bytes read."""
    buf, moof, pos = b"", False, 0
    while True:
        piece = read(65536)
        if not piece:
            raise RuntimeError("stream ended before a fragment")
        buf += piece
        while len(buf) - pos >= 8:
            size = int.from_bytes(buf[pos:pos + 4], "big")
            kind = buf[pos + 4:pos + 8]
            if size == 1:
                if len(buf) - pos < 16:
                    break
                size = int.from_bytes(buf[pos + 8:pos + 16], "big")
            if kind == b"moof":
                moof = True
            if kind == b"mdat" and moof:
                if len(buf) >= pos + size:
                    return len(buf)
                break
            pos += size
            if pos > len(buf):
                break

def via_server(key, mode, start):
    url = f"{base}/transcode/{items[key]['id']}?mode={mode}&start={start}"
    t0 = time.monotonic()
    with urllib.request.urlopen(url) as resp:
        first_fragment(resp.read)
        return time.monotonic() - t0

ARGS = {
    "remux": ["-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy"],
    "audio": ["-map", "0:v:0?", "-map", "0:a:0?", "-c:v", "copy", "-c:a", "aac", "-ac", "2", "-b:a", "192k"],
    "full": ["-map", "0:v:0?", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
             "-pix_fmt", "yuv420p", "-vf", "scale=-2:min(720\\,ih)", "-force_key_frames", "expr:gte(t,n_forced*1)",
             "-c:a", "aac", "-ac", "2", "-b:a", "192k"],
}
FRAG = ["-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof+delay_moov", "pipe:1"]

def alone(key, mode, start, whole=False):
    cmd = ["ffmpeg", "-nostdin", "-v", "error"] + (["-ss", str(start)] if start else []) + \
          ["-i", os.path.join(media, key)] + ARGS[mode] + FRAG
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    if whole:
        p.stdout.read()
        p.wait()
        return time.monotonic() - t0
    first_fragment(p.stdout.read)
    took = time.monotonic() - t0
    p.kill()
    p.wait()
    return took

def median_ms(f):
    return round(statistics.median(f(i) for i in range(runs)) * 1000)

rows = []
floors = {}
for label, key, mode in [("remux (mkv H.264+AC3 → fMP4)", "film.mkv", "remux"),
                         ("audio transcode (AC3 → AAC, video copied)", "film.mkv", "audio"),
                         ("full transcode (720p HEVC → H.264 720p)", "hevc.mp4", "full")]:
    start = median_ms(lambda i: via_server(key, mode, round(0.001 * (i + 1), 3)))
    seek = median_ms(lambda i: via_server(key, mode, 30 + i))
    floor = median_ms(lambda i: alone(key, mode, 0))
    floor_seek = median_ms(lambda i: alone(key, mode, 30))
    floors[mode] = {"start": floor, "seek": floor_seek}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = alone(key, mode, 0, whole=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows.append(f"| {label} | {start} | {seek} | {floor} | {floor_seek} | {cpu:.1f} | {wall:.1f} |")

table = "\n".join([
    "| path | start, via server (ms) | seek to 0:30, via server (ms) | start, ffmpeg alone (ms) | seek, ffmpeg alone (ms) | CPU s per minute of media | wall s for the minute |",
    "|---|---|---|---|---|---|---|",
    *rows,
])
print(table)
json.dump(floors, open(floors_file, "w"))
if out:
    text = open(out).read()
    section = (f"<!-- transcode:begin -->\n_Measured by `bench/transcode.sh` at {commit}, median of {runs} runs, "
               f"{time.strftime('%Y-%m-%d')}; 1 minute of 720p/25 fps, keyframes every 2 s._\n\n{table}\n<!-- transcode:end -->")
    a, b = text.find("<!-- transcode:begin -->"), text.find("<!-- transcode:end -->")
    if a >= 0 and b > a:
        text = text[:a] + section + text[b + len("<!-- transcode:end -->"):]
    else:
        text = text.rstrip("\n") + "\n\n## Remux and transcode (issue #17)\n\n" + section + "\n"
    open(out, "w").write(text)
PY

# ---- the same paths in the player (real chromium) ------------------------------------------
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=
}
stop_server
# One server per run: the transcode cache is emptied at each start, so no run is served a
# finished output of an earlier one (the scan's records stay in the data dir).
start_play_server() {
  start_server "$work/data-play"
  # Until the scan has read every video's codecs (what the player decides by).
  python3 - "$port" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(600):
    items = json.load(urllib.request.urlopen(base + "/api/videos"))
    videos = [i for i in items if i.get("kind") == "video"]
    if len(videos) >= 4 and all(i.get("video_codec") for i in videos):
        sys.exit(0)
    time.sleep(0.2)
sys.exit("the scan did not read the videos' codecs")
PY
}
if [ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
  (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
runs_json="["
for r in $(seq 1 "$RUNS"); do
  start_play_server
  one=$(BENCH_URL="http://127.0.0.1:$port" BENCH_ITEMS="direct|remux|film|hevc" RUNS=1 node "$ROOT/bench/transcode-play.mjs")
  stop_server
  [ "$r" = 1 ] || runs_json+=","
  runs_json+=$one
done
runs_json+="]"
play=$(python3 -c '
import json, statistics, sys
runs = json.loads(sys.argv[1])
out = {}
for name in runs[0]:
    rs = [r[name] for r in runs]
    out[name] = {"path": rs[0]["path"], "paths": sorted({x["path"] for x in rs}), "runs": len(rs),
                 "play_ms": round(statistics.median(x["play_ms"] for x in rs)),
                 "seek_ms": round(statistics.median(x["seek_ms"] for x in rs))}
print(json.dumps(out))' "$runs_json")
python3 - "$play" "$work/floors.json" "$OUT" "$commit" "$RUNS" <<'PY'
import json, sys, time
play, floors, out, commit, runs = json.loads(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4], sys.argv[5]
LABEL = {"direct": "mp4 H.264+AAC", "remux": "mkv H.264+AAC", "film": "mkv H.264+AC3", "hevc": "mp4 HEVC+AAC"}
rows = ["| file | path the player chose | click → first frame (ms) | seek to the middle → first frame (ms) | ffmpeg alone, first fragment: start / seek (ms) |",
        "|---|---|---|---|---|"]
for name, r in play.items():
    f = floors.get(r["path"])
    floor = f"{f['start']} / {f['seek']}" if f else "— (no ffmpeg)"
    rows.append(f"| {LABEL.get(name, name)} | {'/'.join(r['paths'])} | {r['play_ms']} | {r['seek_ms']} | {floor} |")
table = "\n".join(rows)
print(table)
if out:
    text = open(out).read()
    section = (f"<!-- transcode-play:begin -->\n_Measured by `bench/transcode.sh` at {commit}, in Debian's chromium (headless, "
               f"software decoding), median of {runs} runs, each on a freshly started server (an empty transcode cache), {time.strftime('%Y-%m-%d')}._\n\n{table}\n<!-- transcode-play:end -->")
    a, b = text.find("<!-- transcode-play:begin -->"), text.find("<!-- transcode-play:end -->")
    if a >= 0 and b > a:
        text = text[:a] + section + text[b + len("<!-- transcode-play:end -->"):]
    else:
        end = text.find("<!-- transcode:end -->")
        at = end + len("<!-- transcode:end -->") if end >= 0 else len(text)
        text = text[:at] + "\n\n" + section + text[at:]
    open(out, "w").write(text)
PY
