#!/usr/bin/env bash
# Edge-cache benchmarks of bucketstream-server against a local Garage; writes bench/cache/RESULTS.md.
#
#   bash bench/cache/run.sh
#
# 1. Warm: 1 MiB random ranges (32 connections, wrk + range.lua) of a cached object, through
#    Bucketstream and through nginx (sendfile) serving the same bytes from disk, alternated.
# 2. Cold: 16 curl clients fetch the same uncached object at once, through Bucketstream and
#    through `rclone serve http --vfs-cache-mode full` (fresh cache): Garage's block_bytes_read
#    and GetObject deltas, wall time.
# 3. Cold seek: time to first byte of 1 MiB in the middle of the object, fresh cache each time,
#    with Garage itself (a signed ranged GET with curl) as the floor.
# Everything runs on loopback; everything started is stopped on exit (trap).
# Knobs:
#   BENCH_SIZE_MIB=N      object size (default 256)
#   BENCH_WRK_SECS=N      length of each wrk run (default 20)
#   BENCH_WARM_ROUNDS=N   alternated nginx/Bucketstream rounds (default 3)
#   BENCH_SEEK_TRIALS=N   cold-seek trials (default 5)
#   BENCH_COLD_ROUNDS=N   alternated Bucketstream/rclone cold rounds (default 3)
#   BENCH_SERVER=PATH     use this server binary (default: build the committed HEAD from a
#                         temporary git worktree into target/, about a minute)
#   BENCH_OUT=FILE        default bench/cache/RESULTS.md
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${BENCH_OUT:-$HERE/RESULTS.md}
SIZE_MIB=${BENCH_SIZE_MIB:-256}
SIZE=$((SIZE_MIB * 1024 * 1024))
WRK_SECS=${BENCH_WRK_SECS:-20}
WARM_ROUNDS=${BENCH_WARM_ROUNDS:-3}
SEEK_TRIALS=${BENCH_SEEK_TRIALS:-5}
COLD_ROUNDS=${BENCH_COLD_ROUNDS:-3}
CLIENTS=16
MIB=1048576
SERVER=${BENCH_SERVER:-}
started=$(date +%s)

say() { printf '[cache-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
TCK=$(getconf CLK_TCK)
cpu_ticks() { # user+system CPU ticks of the given processes (all their threads)
    local t=0 p
    for p in "$@"; do t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done
    echo "$t"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

WORK=$(mktemp -d /tmp/bs-cache-bench.XXXXXX)
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null
    "$ROOT/scripts/garage.sh" stop "$WORK/garage" >/dev/null 2>&1
    [ -n "${BUILD_TREE:-}" ] && git -C "$ROOT" worktree remove --force "$BUILD_TREE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop_pid() { # stop one process we started and forget it
    local p=$1
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    local keep=() q
    for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    PIDS=("${keep[@]}")
}

# --- tools and the server ---------------------------------------------------------------
for t in wrk /usr/sbin/nginx rclone garage curl python3; do
    command -v "$t" >/dev/null || { say "missing $t (apt install wrk nginx-light rclone; garage)"; exit 1; }
done
python3 -c 'import boto3' 2>/dev/null || pip install -q boto3
SERVER_REV=$(git -C "$ROOT" rev-parse --short HEAD)
if [ -z "${BENCH_SERVER:-}" ]; then
    # The shared work tree may be mid-edit: build the committed HEAD from a detached worktree
    # (same target folder, so only the workspace crates recompile).
    say "building bucketstream-server at $SERVER_REV"
    BUILD_TREE=$WORK/build-src
    git -C "$ROOT" worktree add --detach "$BUILD_TREE" HEAD >/dev/null 2>&1
    (cd "$BUILD_TREE" && CARGO_TARGET_DIR=$ROOT/target cargo build --release -q -p bucketstream-server)
    cp "$ROOT/target/release/bucketstream-server" "$WORK/bucketstream-server"   # others may rebuild it
    SERVER=$WORK/bucketstream-server
else
    SERVER_REV="$SERVER_REV? (BENCH_SERVER=$SERVER)"
fi
"$SERVER" --help | grep -q -- --cache-dir || { say "$SERVER has no edge cache (--cache-dir)"; exit 1; }

# --- machine ----------------------------------------------------------------------------
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
NPROC=$(nproc)
FREE=$(free -h | sed -n 2p | awk '{print $2" total, "$7" available"}')
LOAD_START=$(load)
say "machine: $NPROC x $CPU, $FREE, load $LOAD_START"

# --- Garage and the objects -------------------------------------------------------------
say "starting Garage"
"$ROOT/scripts/garage.sh" start "$WORK/garage" >/dev/null
set -a; . "$WORK/garage/env"; set +a
EP=$BUCKETSTREAM_TEST_S3_ENDPOINT
BUCKET=cache-bench
mkdir -p "$WORK/src"
head -c "$SIZE" /dev/urandom >"$WORK/src/big.mp4"
SRC_MD5=$(md5sum "$WORK/src/big.mp4" | cut -d' ' -f1)
say "uploading ${SIZE_MIB} MiB"
env -u AWS_CA_BUNDLE python3 - "$EP" "$BUCKET" "$WORK/src/big.mp4" <<'PY'
import sys, boto3
from botocore.config import Config
ep, bucket, path = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=ep, region_name="garage",
                  config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket=bucket)
s3.upload_file(path, bucket, "big.mp4")
assert s3.head_object(Bucket=bucket, Key="big.mp4")["ContentLength"] == __import__("os").path.getsize(path)
PY

metric() { # sum of all samples of one Garage metric (optional label filter)
    curl -s -H "Authorization: Bearer $GARAGE_METRICS_TOKEN" "$GARAGE_ADMIN_URL/metrics" |
        awk -v m="$1" -v f="${2:-}" '{ n = $1; sub(/\{.*/, "", n) } n == m && index($0, f) { s += $NF } END { printf "%.0f\n", s }'
}
gets() { metric api_s3_request_counter 'api_endpoint="GetObject"'; }

# --- Bucketstream instances -------------------------------------------------------------
BS_PID=""; BS_PORT=""
start_bs() { # start_bs CACHE_DIR: a fresh server on a free port; sets BS_PID, BS_PORT, BS_ID
    BS_PORT=$(free_port)
    XDG_CONFIG_HOME=$WORK/xdg-config XDG_CACHE_HOME=$WORK/xdg-cache \
        "$SERVER" --bind 127.0.0.1 --port "$BS_PORT" --bucket "$BUCKET" --endpoint "$EP" \
        --region garage --refresh-secs 0 --cache-dir "$1" --cache-max-bytes $((4 * 1024 * MIB)) \
        >>"$WORK/server.log" 2>&1 </dev/null &
    BS_PID=$!; PIDS+=("$BS_PID")
    BS_ID=""
    for _ in $(seq 1 200); do
        BS_ID=$(curl -sf "http://127.0.0.1:$BS_PORT/api/videos" 2>/dev/null |
            python3 -c 'import sys,json
d=json.load(sys.stdin); items=d if isinstance(d,list) else d.get("videos", d.get("items", []))
print(next((i["url"].rsplit("/",1)[1] for i in items if i.get("name","").startswith("big") or "big" in i.get("key","")), ""))' 2>/dev/null || true)
        [ -n "$BS_ID" ] && return 0
        sleep 0.1
    done
    say "bucketstream-server did not list big.mp4; log:"; tail -20 "$WORK/server.log" >&2; exit 1
}
stat_of() { # a /api/stats counter, or n/a (the endpoint is not in every build)
    curl -s "http://127.0.0.1:$BS_PORT/api/stats" 2>/dev/null |
        python3 -c "import sys,json; print(json.load(sys.stdin)['cache']['total']['$1'])" 2>/dev/null || echo n/a
}

# ======================================================================================
# 1. Warm
# ======================================================================================
say "warm: filling the cache with one full read"
start_bs "$WORK/cache-warm"
wb0=$(metric block_bytes_read); wg0=$(gets)
mkdir -p "$WORK/www"
curl -sf "http://127.0.0.1:$BS_PORT/media/$BS_ID" -o "$WORK/www/big.mp4"
[ "$(md5sum "$WORK/www/big.mp4" | cut -d' ' -f1)" = "$SRC_MD5" ] || { say "warm read differs from the source"; exit 1; }
sleep 0.5
WARM_FETCHED=$(( $(metric block_bytes_read) - wb0 )); WARM_GETS=$(( $(gets) - wg0 ))
say "warm fill: fetched $WARM_FETCHED bytes in $WARM_GETS GetObject"

NG_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<NGINX
user root;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    types { video/mp4 mp4; }
    server {
        listen 127.0.0.1:$NG_PORT;
        root $WORK/www;
    }
}
NGINX
/usr/sbin/nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NG_PID=$!; PIDS+=("$NG_PID")
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$NG_PORT/big.mp4" -r 0-0 && break; sleep 0.1; done
NGINX_VERSION=$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')

# both sides answer a range with the same bytes
off=$((SIZE / 3 + 12345))
a=$(curl -sf -r "$off-$((off + MIB - 1))" "http://127.0.0.1:$BS_PORT/media/$BS_ID" | md5sum)
b=$(curl -sf -r "$off-$((off + MIB - 1))" "http://127.0.0.1:$NG_PORT/big.mp4" | md5sum)
[ "$a" = "$b" ] || { say "range bytes differ between Bucketstream and nginx"; exit 1; }

wrk_run() { # wrk_run URL_BASE PATH -> RESULT line
    BENCH_PATH=$2 BENCH_SIZE=$SIZE wrk -t2 -c32 -d"${WRK_SECS}s" --timeout 10s \
        -s "$HERE/range.lua" "$1" | grep '^RESULT'
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
NG_PIDS=("$NG_PID" $(pgrep -P "$NG_PID"))   # master and workers
WARM_ROWS=""; ratios=(); cpu_ratios=()
for r in $(seq 1 "$WARM_ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="nginx bucketstream"; else order="bucketstream nginx"; fi
    for side in $order; do
        l=$(load)
        if [ $side = nginx ]; then
            c0=$(cpu_ticks "${NG_PIDS[@]}")
            res=$(wrk_run "http://127.0.0.1:$NG_PORT" /big.mp4)
            c1=$(cpu_ticks "${NG_PIDS[@]}")
        else
            c0=$(cpu_ticks "$BS_PID")
            res=$(wrk_run "http://127.0.0.1:$BS_PORT" "/media/$BS_ID")
            c1=$(cpu_ticks "$BS_PID")
        fi
        # server CPU seconds per GB served: a figure less at the mercy of the shared machine
        cpg=$(python3 -c "print(f'{($c1-$c0)/$TCK/($(field mbps "$res")*$(field secs "$res")/1000):.2f}')")
        say "warm round $r $side: $res server_cpu_s_per_GB=$cpg"
        eval "${side}_rps=$(field rps "$res"); ${side}_cpg=$cpg"
        WARM_ROWS+="| $r | $side | $(field rps "$res") | $(field mbps "$res") | $(field p50_ms "$res") | $(field p99_ms "$res") | $cpg | $(field non2xx "$res")/$(field socket_errors "$res") | $l |"$'\n'
    done
    ratios+=("$(python3 -c "print(f'{$bucketstream_rps/$nginx_rps:.2f}')")")
    cpu_ratios+=("$(python3 -c "print(f'{$bucketstream_cpg/$nginx_cpg:.2f}')")")
done
WARM_AFTER_FETCHED=$(( $(metric block_bytes_read) - wb0 )); WARM_AFTER_GETS=$(( $(gets) - wg0 ))
BS_RSS_WARM=$(awk '/VmHWM/ {print $2" "$3}' "/proc/$BS_PID/status")
stop_pid "$NG_PID"
stop_pid "$BS_PID"

# ======================================================================================
# 2. Cold: 16 clients at once
# ======================================================================================
cold_run() { # cold_run URL NAME -> "egress_ratio gets wall_s ok_clients"
    local url=$1 name=$2 b0 g0 t0 t1 b1 g1 ok c cl=()
    b0=$(metric block_bytes_read); g0=$(gets)
    t0=$(date +%s.%N)
    for i in $(seq 1 $CLIENTS); do
        curl -s -o /dev/null --max-time 600 -w '%{http_code} %{size_download} %{time_total}\n' "$url" \
            >"$WORK/$name.client.$i" &
        cl+=("$!")
    done
    for c in "${cl[@]}"; do wait "$c" || true; done
    t1=$(date +%s.%N)
    sleep 1   # let metrics settle
    b1=$(metric block_bytes_read); g1=$(gets)
    ok=$(cat "$WORK/$name".client.* | awk -v s="$SIZE" '$1==200 && $2==s' | wc -l)
    python3 -c "print(f'{($b1-$b0)/$SIZE:.3f} {$g1-$g0} {$t1-$t0:.2f} $ok')"
}

start_rclone() { # a fresh rclone serve http with an empty VFS cache; sets RC_PID, RC_PORT
    RC_PORT=$(free_port)
    env -u AWS_CA_BUNDLE RCLONE_CONFIG_GS_TYPE=s3 RCLONE_CONFIG_GS_PROVIDER=Other \
        RCLONE_CONFIG_GS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" RCLONE_CONFIG_GS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
        RCLONE_CONFIG_GS_ENDPOINT="$EP" RCLONE_CONFIG_GS_REGION=garage RCLONE_CONFIG_GS_FORCE_PATH_STYLE=true \
        rclone serve http "gs:$BUCKET" --vfs-cache-mode full --cache-dir "$1" \
        --addr "127.0.0.1:$RC_PORT" --config /dev/null >>"$WORK/rclone.log" 2>&1 </dev/null &
    RC_PID=$!; PIDS+=("$RC_PID")
    for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$RC_PORT/" && break; sleep 0.1; done
}
RCLONE_VERSION=$(rclone version 2>/dev/null | head -1)
LOAD_COLD=$(load)
COLD_ROWS=""; bs_walls=(); rc_walls=(); bs_egs=(); COLD_BS_STATS=""
for r in $(seq 1 "$COLD_ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="bucketstream rclone"; else order="rclone bucketstream"; fi
    for side in $order; do
        l=$(load)
        if [ $side = bucketstream ]; then
            start_bs "$WORK/cache-cold-$r"
            c0=$(cpu_ticks "$BS_PID")
            res=$(cold_run "http://127.0.0.1:$BS_PORT/media/$BS_ID" "bs$r")
            c1=$(cpu_ticks "$BS_PID")
            COLD_BS_STATS+=" $(stat_of fetched_bytes)/$(stat_of get_requests)"
            stop_pid "$BS_PID"
        else
            start_rclone "$WORK/rclone-cache-$r"
            c0=$(cpu_ticks "$RC_PID")
            res=$(cold_run "http://127.0.0.1:$RC_PORT/big.mp4" "rc$r")
            c1=$(cpu_ticks "$RC_PID")
            stop_pid "$RC_PID"
        fi
        read -r eg g w ok <<<"$res"
        cpu=$(python3 -c "print(f'{($c1-$c0)/$TCK:.1f}')")
        say "cold round $r $side: egress/size $eg, GetObject $g, wall $w s, clients ok $ok/$CLIENTS, server CPU $cpu s"
        if [ $side = bucketstream ]; then bs_walls+=("$w"); bs_egs+=("$eg"); else rc_walls+=("$w"); fi
        COLD_ROWS+="| $r | $side | $eg | $g | $w | $cpu | $ok / $CLIENTS | $l |"$'\n'
    done
done

# ======================================================================================
# 3. Cold seek
# ======================================================================================
say "cold seek: $SEEK_TRIALS fresh caches"
LOAD_SEEK=$(load)
mid=$((SIZE / 2 + 4321))
SEEK_ROWS=""; seek_bs=(); seek_garage=(); seek_warm=()
for i in $(seq 1 "$SEEK_TRIALS"); do
    start_bs "$WORK/cache-seek-$i"
    o=$((mid + i * 7 * MIB))
    rng="$o-$((o + MIB - 1))"
    sb0=$(metric block_bytes_read); sg0=$(gets)
    bs=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total}' -r "$rng" "http://127.0.0.1:$BS_PORT/media/$BS_ID")
    warm=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total}' -r "$rng" "http://127.0.0.1:$BS_PORT/media/$BS_ID")
    sleep 0.3
    fetched=$(( $(metric block_bytes_read) - sb0 )); fgets=$(( $(gets) - sg0 ))
    gar=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total}' -r "$rng" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:garage:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$EP/$BUCKET/big.mp4")
    stop_pid "$BS_PID"
    say "seek $i: bucketstream cold [$bs] warm [$warm] garage [$gar] fetched $fetched"
    ms() { awk '{printf "%.1f", $2*1000}' <<<"$1"; }
    msT() { awk '{printf "%.1f", $3*1000}' <<<"$1"; }
    seek_bs+=("$(ms "$bs")"); seek_garage+=("$(ms "$gar")"); seek_warm+=("$(ms "$warm")")
    SEEK_ROWS+="| $i | $(ms "$bs") / $(msT "$bs") | $(ms "$warm") / $(msT "$warm") | $(ms "$gar") / $(msT "$gar") | $(python3 -c "print(f'{$fetched/$MIB:.2f}')") MiB in $fgets GetObject |"$'\n'
done

# ======================================================================================
# Report
# ======================================================================================
elapsed=$(( $(date +%s) - started ))
mean_ratio=$(python3 -c "import sys; r=[float(x) for x in sys.argv[1:]]; print(f'{sum(r)/len(r):.2f}')" "${ratios[@]}")
yn() { python3 -c "print('met' if $1 else 'NOT met')"; }
cat >"$OUT" <<MD
# Edge-cache benchmarks

Written by \`bash bench/cache/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (took ${elapsed} s), server
built from commit \`$SERVER_REV\`. Object: ${SIZE_MIB} MiB of random bytes (\`big.mp4\`) in a
single-node Garage on loopback; everything on loopback on one machine.

**Machine**: $NPROC x $CPU, RAM $FREE. Load average (1/5/15 min) at start: $LOAD_START.
**The machine is shared**: other engineers compile on the same $NPROC cores while this runs, and
the load generator (wrk, curl) shares those cores with the servers, so absolute figures are
noisy; each comparison's two sides are taken in the same run, back to back.

## 1. Warm: random 1 MiB ranges, 32 connections

wrk -t2 -c32 -d${WRK_SECS}s with [\`range.lua\`](range.lua): each request a 1 MiB range at a random
(unaligned, so usually two 1 MiB chunks) offset. Bucketstream's cache was filled by one full read
first (Garage served $WARM_FETCHED bytes in $WARM_GETS GetObject for it; counted from that fill to
the end of the wrk runs: $WARM_AFTER_FETCHED bytes in $WARM_AFTER_GETS GetObject, so the runs were all hits
if the two agree). nginx ($NGINX_VERSION,
\`sendfile on\`, 2 workers, access log off) serves the same bytes (checked) from a file on disk.
Both files sit in the page cache.

| round | server | requests/s | MB/s | p50 ms | p99 ms | server CPU s per GB | non-2xx / socket errors | load at start |
|---|---|---|---|---|---|---|---|---|
$WARM_ROWS
Bucketstream / nginx requests/s per round: ${ratios[*]}; mean **${mean_ratio}x** (target ≥ 1.0x:
**$(yn "$mean_ratio >= 1.0")**). The order alternates per round. Server CPU per GB served,
Bucketstream / nginx, per round: ${cpu_ratios[*]} (above 1 means Bucketstream spends more CPU per
byte; on a 2-core machine shared with wrk and compilers, that is what bounds throughput). Bucketstream peak RSS during the warm runs: $BS_RSS_WARM.

## 2. Cold: $CLIENTS clients fetch the same uncached object at once

$CLIENTS \`curl\` processes start together and each reads the whole object; Garage's metrics are
read before and after (\`block_bytes_read\`, \`api_s3_request_counter{api_endpoint="GetObject"}\`).
Each side has a fresh, empty cache. Load average before: $LOAD_COLD.

| round | server | Garage bytes read / object size | GetObject | wall time (s) | server CPU s | clients with all bytes | load at start |
|---|---|---|---|---|---|---|---|
$COLD_ROWS
rclone is $RCLONE_VERSION (\`serve http --vfs-cache-mode full\`, defaults otherwise); each round
starts both servers afresh on empty cache folders, and the order alternates per round.
$(case "$COLD_BS_STATS" in *n/a*) ;; *) echo "Bucketstream's own /api/stats (fetched bytes/GetObject) per round:$COLD_BS_STATS." ;; esac)
Median wall time: Bucketstream **$(median "${bs_walls[@]}") s**, rclone **$(median "${rc_walls[@]}") s**
(ratio $(python3 -c "print(f'{$(median "${bs_walls[@]}")/$(median "${rc_walls[@]}"):.2f}')")x).
Targets: egress 1.00x in every round — **$(yn "all(abs(x - 1.0) < 0.005 for x in [$(IFS=,; echo "${bs_egs[*]}")])")**;
wall time ≤ rclone's (medians) — **$(yn "$(median "${bs_walls[@]}") <= $(median "${rc_walls[@]}")")**.

## 3. Cold seek: first byte of 1 MiB in the middle of an uncached object

Each trial starts a server on a fresh, empty cache and asks for a 1 MiB range a little past the
middle of the object (a different offset per trial), then the same range again (warm), then
the same range straight from Garage (signed \`curl --aws-sigv4\`, the floor). Load before: $LOAD_SEEK.

| trial | Bucketstream cold: TTFB / total ms | warm: TTFB / total ms | Garage direct: TTFB / total ms | Garage served for the two Bucketstream requests |
|---|---|---|---|---|
$SEEK_ROWS
Median time to first byte: cold **$(median "${seek_bs[@]}") ms**, warm $(median "${seek_warm[@]}") ms, Garage direct $(median "${seek_garage[@]}") ms.
MD
say "wrote $OUT in ${elapsed} s"
