# tests/browser/node-env.sh: sourced by scripts/setup.sh and tests/browser/run.sh to put a
# Node.js of version 20 or later first on PATH.
#
# The browser tests' packages (playwright-core, the AWS SDK) need Node 20, and Debian 12 and
# Ubuntu 24.04 ship Node 18. When the system's node is older, Node 22 is installed once from
# the npm registry (the `node-linux-<arch>` package: the official binaries, about 9 s) into
# tests/browser/.node, which is not tracked. A system node of 20 or later is used as it is.

# browser_node_env ROOT: ROOT is the repository root. Needs npm when it has to install.
browser_node_env() {
  local dir="$1/tests/browser/.node" arch major
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch= ;;
  esac
  local bin="$dir/node_modules/node-linux-$arch/bin"
  if [ -n "$arch" ] && [ -x "$bin/node" ]; then
    export PATH="$bin:$PATH"
    return 0
  fi
  major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
  [ "${major:-0}" -ge 20 ] && return 0
  if [ -z "$arch" ]; then
    echo "node-env: Node ${major:-(none)} is older than 20 and there is no prebuilt Node 22 for $(uname -m)" >&2
    return 1
  fi
  echo "node-env: Node ${major:-(none)} is older than the 20 the browser tests need: installing Node 22 into tests/browser/.node" >&2
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-$arch@22" >/dev/null
  export PATH="$bin:$PATH"
  "$bin/node" --version >/dev/null
}
