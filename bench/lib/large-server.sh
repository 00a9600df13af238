# bench/lib/large-server.sh: one bucketstream-server at a time for bench/large.sh, which sources
# it: starting it on a dataset (start_server sets PORT, START and SERVER_PID), its memory
# (VmRSS / VmHWM), waiting for its listing to be saved in the database, its start-up figures
# (startup_rows), tag records written as a scan would have left them (fabricate_tags), and
# whether its first page has tags (first_title). Kept apart from large.sh so that the script
# reads as the benchmark's steps. Uses large.sh's settings (BIN, BENCH, WORK, TIMEOUT,
# SETTLE_SECS) and helpers (say, die, now, row, secs); stop_server stays in large.sh, beside
# the cleanup that calls it.
# shellcheck shell=bash

PORT=""
START=""
start_server() { # src where data tag
    local src=$1 where=$2 data=$3 tag=$4 args
    PORT=$("$BENCH" port)
    args=(--bind 127.0.0.1 --port "$PORT" --refresh-secs 0 --no-mdns --no-scan
        --data-dir "$data" --cache-dir "$data/cache" --access-key-file "$data/access-key")
    if [ "$src" = local ]; then
        args+=(--media-dir "$where")
    else
        args+=(--bucket "$where" --endpoint "$BUCKETSTREAM_TEST_S3_ENDPOINT" --region garage)
    fi
    START=$(now)
    (cd "$WORK" && exec "$BIN" "${args[@]}") >"$WORK/server-$tag.log" 2>&1 &
    SERVER_PID=$!
}
status_mib() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
rss_pair() { echo "$(status_mib VmRSS) / $(status_mib VmHWM) MiB"; }

# Waits until the database in $1 holds a listing of $2 objects saved after $3 (Unix seconds);
# prints the seconds since $3. With $4 = quiet, or without a listing_saves table (another
# schema), only until the database files have not changed for 3 s (a restart whose listing
# did not change saves nothing); prints "-" then.
wait_saved() {
    python3 - "$1" "$2" "$3" "$TIMEOUT" "${4:-saved}" <<'PY'
import glob, os, sqlite3, sys, time
data, n, since, timeout, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
db = os.path.join(data, "library.sqlite3")
deadline = time.time() + timeout
def saved():
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT count, saved_ms FROM listing_saves").fetchall()
    finally:
        con.close()
    return any(c == n and ms / 1000 >= since for c, ms in rows)
stable, last = time.time(), None
while time.time() < deadline:
    if mode == "saved":
        try:
            if saved():
                print(f"{time.time() - since:.2f}")
                sys.exit(0)
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                mode = "quiet"
    if mode == "quiet":
        sig = [(f, os.path.getsize(f), os.path.getmtime(f)) for f in sorted(glob.glob(db + "*"))]
        if sig != last:
            last, stable = sig, time.time()
        elif time.time() - stable >= 3:
            print("-")
            sys.exit(0)
    time.sleep(0.1)
sys.exit(f"no saved listing of {n} objects in {db} after {timeout:.0f} s")
PY
}

# Start-up figures of the server just started: serving, reconciled, saved; then RSS idle.
startup_rows() { # dataset data-dir n label
    local ds=$1 data=$2 n=$3 label=$4 times serving reconciled saved
    times=$("$BENCH" startup --addr "127.0.0.1:$PORT" --count "$n" --since "$START" --timeout-secs "$TIMEOUT") ||
        { tail -20 "$WORK"/server-*.log >&2; die "$ds: the server did not serve $n items"; }
    serving=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['serving'])" "$times")
    reconciled=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['reconciled'])" "$times")
    row "$ds" "start → serving (\`/api/videos?limit=1\` has \`total\` = N), $label" "$(secs "$serving")"
    row "$ds" "start → listing reconciled (\`/api/health\` \`last_refresh\` set), $label" "$(secs "$reconciled")"
    if [ "$label" = restart ]; then
        wait_saved "$data" "$n" "$START" quiet >/dev/null || die "$ds: the database does not settle"
    else
        saved=$(wait_saved "$data" "$n" "$START") || die "$ds: the listing was not saved"
        [ "$saved" = - ] || row "$ds" "start → listing saved in the database, $label" "$(secs "$saved")"
        wait_saved "$data" "$n" "$START" quiet >/dev/null || die "$ds: the database does not settle"
    fi
    sleep 1 # idle
    row "$ds" "VmRSS / VmHWM, serving and idle, $label" "$(rss_pair)"
    # Idle longer: the runtime's blocking threads (kept 10 s) end and the allocator takes back
    # what the start-up's temporary work left in their heaps.
    sleep "$SETTLE_SECS"
    row "$ds" "VmRSS / VmHWM, idle $SETTLE_SECS s later, $label" "$(rss_pair)"
}

# Writes a tag record for every listed object of the database in $1, as a scan of tagged files
# would (song NNNNNN, artist NNNN, album NN of that artist, 20 genres, 3–4 minute durations).
fabricate_tags() { # data-dir
    python3 - "$1/library.sqlite3" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
con.execute("DELETE FROM records")
con.execute("""
INSERT INTO records (source_id, key, etag, size, title, artist, album, album_artist, track, disc,
                     year, genre, duration_ms, bitrate_kbps, sample_rate, channels, audio_codec)
SELECT source_id, key, etag, size,
       printf('Song %06d', pos), printf('Artist %04d', pos / 1000),
       printf('Album %02d of artist %04d', (pos / 100) % 10, pos / 1000), printf('Artist %04d', pos / 1000),
       pos % 100 + 1, 1, 1970 + pos % 50, printf('Genre %02d', pos % 20), 180000 + pos % 60000,
       320, 44100, 2, 'mp3'
FROM listings WHERE key LIKE '%.mp3'""")
con.commit()
print(con.execute("SELECT count(*) FROM records").fetchone()[0])
PY
}

# Whether the first page of the server just started carries tags: its first item's title.
first_title() {
    curl -sS --max-time 60 "http://127.0.0.1:$PORT/api/videos?limit=1" |
        python3 -c "import json,sys; items = json.load(sys.stdin)['items']; t = items[0].get('title') if items else None; print(f'yes (\"{t}\")' if t else 'no (no title)')"
}
