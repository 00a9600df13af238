#!/usr/bin/env bash
# A single-node Garage (S3-compatible store) on loopback, for tests and benchmarks.
#
#   scripts/garage.sh start DIR    start (first time: configure layout and an access key)
#   scripts/garage.sh stop DIR     stop the server (data stays)
#   scripts/garage.sh restart DIR  stop then start with the same data and ports
#
# A three-node cluster on loopback (replication factor 3), for failover tests:
#   scripts/garage.sh start-cluster DIR   start nodes DIR/node1..3 (first time: connect them,
#                                         one layout with a zone each, an access key)
#   scripts/garage.sh stop-node DIR N     stop node N (1-3), killed after 2 s; its data stays
#   scripts/garage.sh start-node DIR N    start node N again (same data and ports) and wait
#                                         until it and the running nodes see each other
#   scripts/garage.sh stop DIR            on a cluster folder: stop every node
# DIR/env is as below, with the endpoint of node 1, plus BUCKETSTREAM_TEST_S3_ENDPOINTS (the
# three nodes' endpoints, space-separated); DIR/nodeN/env holds node N's own endpoint.
#
# After start, DIR/env holds shell assignments (source it, or read it as KEY=VALUE lines):
#   BUCKETSTREAM_TEST_S3_ENDPOINT  http://127.0.0.1:PORT (path-style, region "garage")
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION   a key allowed to create buckets
#   GARAGE_ADMIN_URL, GARAGE_METRICS_TOKEN                  Prometheus metrics at /metrics
# The key may create buckets: every test creates its own with CreateBucket.
set -euo pipefail

usage="usage: garage.sh start|stop|restart|start-cluster DIR, or stop-node|start-node DIR N"
cmd=${1:?$usage}
dir=${2:?$usage}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cfg="$dir/garage.toml"
GARAGE=${GARAGE:-garage}

# Three distinct free ports, held open together while they are picked (one at a time, the
# kernel may hand out the same ephemeral port twice).
free_ports() {
  python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}

write_config() {
  local rpc s3 admin
  read -r rpc s3 admin < <(free_ports)
  cat >"$cfg" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = ${REPLICATION:-1}
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "${RPC_SECRET:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"

[s3_api]
api_bind_addr = "127.0.0.1:$s3"
s3_region = "garage"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin"
admin_token = "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
metrics_token = "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
TOML
}

g() { "$GARAGE" -c "$cfg" "$@"; }

toml_value() { sed -n "s/^$1 = \"\\(.*\\)\"/\\1/p" "$cfg" | head -1; }

wait_until() {
  local what=$1; shift
  for _ in $(seq 1 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "garage.sh: timed out waiting for $what; log:" >&2
  tail -20 "$dir/garage.log" >&2 || true
  return 1
}

start() {
  [ -f "$cfg" ] || write_config
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then return 0; fi
  mkdir -p "$dir/meta" "$dir/data"
  # 9>&-: the server must not inherit (and hold forever) the start lock.
  RUST_LOG=${GARAGE_LOG:-warn} setsid "$GARAGE" -c "$cfg" server >>"$dir/garage.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/pid"
  wait_until "the RPC layer" g status
  if [ ! -f "$dir/env" ] && [ -n "${NODE_ONLY:-}" ]; then
    # A cluster node: its own endpoint; layout and key are the cluster's.
    echo "BUCKETSTREAM_TEST_S3_ENDPOINT=http://$(sed -n '/^\[s3_api\]/,/^\[/ s/^api_bind_addr = "\(.*\)"/\1/p' "$cfg")" >"$dir/env"
  fi
  if [ ! -f "$dir/env" ]; then
    local node key_out key_id secret
    node=$(g node id -q | cut -d@ -f1)
    g layout assign -z dc1 -c 1G "$node" >/dev/null
    g layout apply --version 1 >/dev/null
    key_out=$(g key create bucketstream-test)
    key_id=$(printf '%s\n' "$key_out" | sed -n 's/^Key ID: *//p' | head -1)
    secret=$(printf '%s\n' "$key_out" | sed -n 's/^Secret key: *//p' | head -1)
    if [ -z "$key_id" ] || [ -z "$secret" ]; then
      echo "garage.sh: cannot read the key from: $key_out" >&2
      return 1
    fi
    g key allow --create-bucket bucketstream-test >/dev/null
    cat >"$dir/env" <<ENV
BUCKETSTREAM_TEST_S3_ENDPOINT=http://$(toml_value api_bind_addr | head -1)
AWS_ACCESS_KEY_ID=$key_id
AWS_SECRET_ACCESS_KEY=$secret
AWS_REGION=garage
GARAGE_ADMIN_URL=http://$(sed -n '/^\[admin\]/,$ s/^api_bind_addr = "\(.*\)"/\1/p' "$cfg")
GARAGE_METRICS_TOKEN=$(toml_value metrics_token)
ENV
  fi
  local s3addr
  s3addr=$(sed -n '/^\[s3_api\]/,/^\[/ s/^api_bind_addr = "\(.*\)"/\1/p' "$cfg")
  wait_until "the S3 API" bash -c "exec 3<>/dev/tcp/${s3addr%:*}/${s3addr#*:}"
}

stop() {
  if [ -f "$dir/pid" ]; then
    local pid; pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    # Garage waits for open S3 connections (clients' idle keep-alives) before it exits.
    for _ in $(seq 1 "${STOP_GRACE_TENTHS:-100}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
}

node_dir() { # $1: cluster folder, $2: node number (1-3)
  case "$2" in 1|2|3) echo "$1/node$2" ;; *) echo "garage.sh: node is 1, 2 or 3, not '$2'" >&2; return 2 ;; esac
}

# Runs "$@" with dir and cfg set to node $1 of the cluster in $cluster.
on_node() {
  local n=$1; shift
  local nd; nd=$(node_dir "$cluster" "$n")
  mkdir -p "$nd"
  ( dir=$nd; cfg=$nd/garage.toml; "$@" )
}

node_running() { # $1: node number
  local pidfile=$cluster/node$1/pid
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Whether the node whose config is $cfg lists node id $1 (a prefix is enough) as healthy.
sees_healthy() {
  g status 2>/dev/null | sed -n '/HEALTHY NODES/,/FAILED NODES/p' | grep -q "^${1:0:16}"
}

# A restarted node does not always find its peers again by itself (it may list them as
# "never seen" and the others retry with a growing backoff): connect it to every running
# node and wait until it sees them healthy, so the cluster has its quorum when this returns.
cluster_join() {
  local n=$1 m id
  for m in 1 2 3; do
    if [ "$m" = "$n" ] || ! node_running "$m"; then continue; fi
    id=$(on_node "$m" g node id -q)
    # Both ways: each side then has its own connection to send requests on.
    on_node "$n" wait_until "node $n to connect to node $m" g node connect "$id"
    on_node "$m" wait_until "node $m to connect to node $n" g node connect "$(on_node "$n" g node id -q)"
    on_node "$n" wait_until "node $n to see node $m healthy" sees_healthy "$id"
  done
}

cluster_start_node() {
  local n=$1
  [ -f "$cluster/rpc_secret" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$cluster/rpc_secret"
  local was_running=""
  if node_running "$n"; then was_running=1; fi
  REPLICATION=3 RPC_SECRET=$(cat "$cluster/rpc_secret") NODE_ONLY=1 on_node "$n" start
  if [ -f "$cluster/env" ] && [ -z "$was_running" ]; then cluster_join "$n"; fi
}

start_cluster() {
  local n
  for n in 1 2 3; do cluster_start_node "$n"; done
  if [ ! -f "$cluster/env" ]; then
    local ids=() id
    for n in 1 2 3; do
      id=$(on_node "$n" g node id -q)
      ids+=("$id")
    done
    # Node 1 learns the others; the cluster gossips the rest.
    for n in 2 3; do on_node 1 g node connect "${ids[$((n - 1))]}" >/dev/null; done
    for n in 1 2 3; do
      on_node 1 wait_until "node $n in the cluster" g layout assign -z "dc$n" -c 1G "${ids[$((n - 1))]%@*}"
    done
    on_node 1 g layout apply --version 1 >/dev/null
    local key_out key_id secret endpoints=""
    key_out=$(on_node 1 g key create bucketstream-test)
    key_id=$(printf '%s\n' "$key_out" | sed -n 's/^Key ID: *//p' | head -1)
    secret=$(printf '%s\n' "$key_out" | sed -n 's/^Secret key: *//p' | head -1)
    if [ -z "$key_id" ] || [ -z "$secret" ]; then
      echo "garage.sh: cannot read the key from: $key_out" >&2
      return 1
    fi
    on_node 1 g key allow --create-bucket bucketstream-test >/dev/null
    for n in 1 2 3; do
      endpoints="$endpoints $(sed -n 's/^BUCKETSTREAM_TEST_S3_ENDPOINT=//p' "$cluster/node$n/env")"
    done
    endpoints=${endpoints# }
    cat >"$cluster/env.tmp" <<ENV
BUCKETSTREAM_TEST_S3_ENDPOINT=${endpoints%% *}
BUCKETSTREAM_TEST_S3_ENDPOINTS=$endpoints
AWS_ACCESS_KEY_ID=$key_id
AWS_SECRET_ACCESS_KEY=$secret
AWS_REGION=garage
ENV
    mv "$cluster/env.tmp" "$cluster/env"
  fi
}

stop_cluster() {
  local n
  for n in 1 2 3; do [ -d "$cluster/node$n" ] && on_node "$n" stop; done
  return 0
}

# Tests may call start concurrently on one folder: one at a time.
exec 9>"$dir/.lock"
flock 9

cluster=$dir
case "$cmd" in
  start) start ;;
  stop) if [ -d "$dir/node1" ]; then stop_cluster; else stop; fi ;;
  restart) stop; start ;;
  start-cluster) start_cluster ;;
  # A node going down: two seconds to finish, then killed (as a crash would).
  stop-node) STOP_GRACE_TENTHS=20 on_node "${3:?$usage}" stop ;;
  start-node) cluster_start_node "${3:?$usage}" ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
