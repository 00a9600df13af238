#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS (default 600), one at a time and niced, and prints
# libFuzzer's final stats. Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); on a stable
# toolchain RUSTC_BOOTSTRAP=1 unlocks the nightly flags it uses. Usage:
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(range ws_message config_file lan_guard origin probe subsonic dlna subtitle)
export RUSTC_BOOTSTRAP=1
nice -n 10 cargo fuzz build -s none -a
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${secs}s"
    nice -n 10 cargo fuzz run -s none -a "$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -max_len=4096 -timeout=10 \
        >"logs/$t.log" 2>&1 || { echo "$t: FAILED (see fuzz/logs/$t.log, fuzz/artifacts/$t/)"; continue; }
    grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|stat::new_units_added' "logs/$t.log" || true
done
