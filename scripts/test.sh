#!/usr/bin/env bash
# Sets up what is missing, then runs every check: formatting, clippy (-D warnings), the unit
# and integration tests (against a real Garage started here), the desktop app's tests and the
# real-browser tests. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh --test

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

garage_dir=$(mktemp -d "${TMPDIR:-/tmp}/bucketstream-garage.XXXXXX")
cleanup() {
  scripts/garage.sh stop "$garage_dir" || true
  rm -rf "$garage_dir"
  # The it suite's three-node cluster (started on first use under target/) is not left running.
  if [ -d target/garage-cluster-test/node1 ]; then
    scripts/garage.sh stop target/garage-cluster-test >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
step "starting Garage on loopback ($garage_dir)"
scripts/garage.sh start "$garage_dir"
export BUCKETSTREAM_TEST_GARAGE="$garage_dir"

step "cargo test --workspace"
cargo test --workspace --quiet

if [ -f src-tauri/tests/run.sh ]; then
  step "desktop app tests (src-tauri/tests/run.sh)"
  BUCKETSTREAM_REQUIRE_ALL=1 bash src-tauri/tests/run.sh
fi

if [ -f tests/browser/run.sh ]; then
  step "browser tests (tests/browser/run.sh)"
  cargo build -p bucketstream-server --quiet
  bash tests/browser/run.sh
fi

step "all checks passed"
