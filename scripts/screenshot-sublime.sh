#!/usr/bin/env bash
# scripts/screenshot-sublime.sh: Sublime Music (a Subsonic desktop client from Debian, written by
# nobody on this project) browsing a Bucketstream library, as a screenshot:
#
#   scripts/screenshot-sublime.sh [OUT.png]     (default docs/screenshots/sublime-music.png)
#
# It makes a small library in a temporary folder (the samples, plus three albums of tagged tones
# with covers made here by ffmpeg, so the albums view has art), starts bucketstream-server on it
# with a Subsonic password, writes a Sublime Music settings file pointing at it, runs Sublime
# Music under Xvfb with a private session bus and a throwaway HOME, waits for the albums to be
# drawn, opens the first album, and grabs the screen. Needs `cargo build -p bucketstream-server` first and the Debian
# packages sublime-music xvfb xauth xdotool imagemagick ffmpeg dbus. Not part of the tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/listening-port.sh
. "$root/scripts/lib/listening-port.sh"
out=$(realpath -m "${1:-$root/docs/screenshots/sublime-music.png}")
server_bin="${CARGO_TARGET_DIR:-$root/target}/debug/bucketstream-server"
say() { printf 'screenshot-sublime: %s\n' "$*" >&2; }

[ -x "$server_bin" ] || { say "missing $server_bin: run 'cargo build -p bucketstream-server'"; exit 1; }
for tool in sublime-music xvfb-run xdotool import ffmpeg dbus-run-session python3; do
  command -v "$tool" >/dev/null || {
    say "missing $tool (Debian: apt-get install -y sublime-music xvfb xauth xdotool imagemagick ffmpeg dbus)"
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bs-sublime.XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the library -----------------------------------------------------------------------------
lib="$work/library"
mkdir -p "$lib"
cp -r "$root/samples/." "$lib/"
rm -f "$lib/make-samples.sh"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# cover COLOUR INNER OUT: a 480 px square cover, two colours.
cover() {
  ff -f lavfi -i "color=c=$1:s=480x480" -vf "drawbox=x=90:y=90:w=300:h=300:color=$2:t=fill" -frames:v 1 "$3"
}
# track FILE SECONDS FREQ TITLE N ARTIST ALBUM YEAR GENRE COVER
track() {
  mkdir -p "$(dirname "$1")"
  ff -f lavfi -i "sine=frequency=$3:duration=$2" -i "${10}" -map 0:a -map 1:v \
    -c:a libmp3lame -b:a 64k -c:v mjpeg -disposition:v attached_pic -id3v2_version 3 \
    -metadata:s:v comment="Cover (front)" \
    -metadata title="$4" -metadata track="$5" -metadata artist="$6" -metadata album_artist="$6" \
    -metadata album="$7" -metadata date="$8" -metadata genre="$9" "$1"
}
cover 0xd05a1b 0x1b6ad0 "$work/c1.jpg"
cover 0x1f7a4d 0xf2d13a "$work/c2.jpg"
cover 0x5b2a86 0xe8e8e8 "$work/c3.jpg"
track "$lib/Music/The Keepers/Lighthouse Sessions/01 Opening.mp3" 8 523 "Opening" 1 "The Keepers" "Lighthouse Sessions" 2021 Jazz "$work/c1.jpg"
track "$lib/Music/The Keepers/Lighthouse Sessions/02 Middle.mp3" 9 587 "Middle" 2 "The Keepers" "Lighthouse Sessions" 2021 Jazz "$work/c1.jpg"
track "$lib/Music/The Keepers/Lighthouse Sessions/03 Closing.mp3" 7 659 "Closing" 3 "The Keepers" "Lighthouse Sessions" 2021 Jazz "$work/c1.jpg"
track "$lib/Music/Marina/Night Drive/01 Harbour Lights.mp3" 8 698 "Harbour Lights" 1 "Marina" "Night Drive" 2019 Synthwave "$work/c2.jpg"
track "$lib/Music/Marina/Night Drive/02 Coast Road.mp3" 6 784 "Coast Road" 2 "Marina" "Night Drive" 2019 Synthwave "$work/c2.jpg"
track "$lib/Music/Anna Ito/Paper Boats/01 Fold.mp3" 7 440 "Fold" 1 "Anna Ito" "Paper Boats" 2023 Ambient "$work/c3.jpg"
track "$lib/Music/Anna Ito/Paper Boats/02 Float.mp3" 7 494 "Float" 2 "Anna Ito" "Paper Boats" 2023 Ambient "$work/c3.jpg"

# ---- the server --------------------------------------------------------------------------------
user=owner
password="sublime-$$-$RANDOM"
say "starting bucketstream-server on $lib"
BUCKETSTREAM_SUBSONIC_PASSWORD="$password" BUCKETSTREAM_MDNS=false \
  "$server_bin" --bind 127.0.0.1 --port 0 --data-dir "$work/data" --media-dir "$lib" \
  --subsonic-user "$user" >"$work/server.log" 2>&1 &
server_pid=$!
port=$(listening_port "$work/server.log" "$server_pid" 300) ||
  { say "the server did not start:"; tail -20 "$work/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
# Tags and covers are read in the background: wait for the scan.
python3 - "$base" <<'PY'
import json, sys, time, urllib.request
for _ in range(600):
    try:
        h = json.load(urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=2))
        s = h.get("scan") or {}
        if h.get("ok") and not s.get("running") and s.get("total", 0) > 0 and s.get("done") == s.get("total"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("the scan did not finish")
PY

# ---- Sublime Music -----------------------------------------------------------------------------
home="$work/home"
mkdir -p "$home/.config/sublime-music" "$home/.local/share" "$home/.cache" "$work/run"
chmod 700 "$work/run"
python3 - "$home/.config/sublime-music/config.json" "$base" "$user" "$password" "$home/.local/share/sublime-music" <<'PY'
import json, sys
path, base, user, password, cache = sys.argv[1:]
config = {
    "version": 5,
    "cache_location": cache,
    "providers": {
        "bucketstream": {
            "id": "bucketstream",
            "name": "Bucketstream",
            "ground_truth_adapter_type": "SubsonicAdapter",
            "ground_truth_adapter_config": {
                "server_address": base,
                "username": user,
                # Sublime Music's own plaintext form (its keyring form needs a Secret Service).
                "password": ["plaintext", password],
                "verify_cert": False,
                "sync_enabled": True,
                "salt_auth": True,
            },
            "caching_adapter_type": "FilesystemAdapter",
            "caching_adapter_config": {},
        }
    },
    "current_provider_id": "bucketstream",
    "song_play_notification": False,
    "allow_song_downloads": False,
    "download_on_stream": False,
}
with open(path, "w") as f:
    json.dump(config, f)
PY
mkdir -p "$(dirname "$out")"
say "running Sublime Music under Xvfb"
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$work/run" NO_AT_BRIDGE=1 OUT="$out" \
  xvfb-run -a -s "-screen 0 1280x820x24" dbus-run-session -- sh -c '
    # In a process group of its own: it forks a helper that outlives a plain kill.
    setsid sublime-music >"$HOME/sublime.log" 2>&1 &
    app=$!
    # The window, then time for the albums and their covers to arrive over /rest.
    for _ in $(seq 1 100); do
      win=$(xdotool search --name "Sublime Music" 2>/dev/null | head -n1) && [ -n "$win" ] && break
      sleep 0.3
    done
    stop() { kill -- -$app 2>/dev/null; sleep 2; kill -9 -- -$app 2>/dev/null; wait $app 2>/dev/null; }
    [ -n "${win:-}" ] || { echo "no Sublime Music window" >&2; cat "$HOME/sublime.log" >&2; stop; exit 1; }
    xdotool windowsize "$win" 1280 820 windowmove "$win" 0 0 2>/dev/null || true
    sleep 12
    # Open the first album: its tracks show under the grid.
    xdotool mousemove 178 220 click 1
    sleep 5
    import -window root "$OUT"
    stop
    exit 0
  '
say "wrote $out"
[ -s "$out" ] || { say "no screenshot"; exit 1; }
