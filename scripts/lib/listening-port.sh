# Sourced by the scripts that start bucketstream-server with `--port 0`: the server binds an
# ephemeral port itself (so two servers are never handed the same one) and logs
# "listening on http://127.0.0.1:PORT/".
#
# listening_port LOG PID [TENTHS]: waits until the server started as PID, logging to LOG,
# names its port, and prints it; fails when PID ends first or after TENTHS tenths of a
# second (default 600).
listening_port() {
  local log=$1 pid=$2 tenths=${3:-600} port
  for _ in $(seq 1 "$tenths"); do
    port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$log" 2>/dev/null | head -n1 || true)
    if [ -n "$port" ]; then
      echo "$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
