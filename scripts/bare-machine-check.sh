#!/usr/bin/env bash
# Runs one of the README's commands as a first run on a bare Debian 12: a debootstrap
# `minbase` root holding only what a fresh machine of this project's kind starts with (git and
# the rustup toolchain, nothing else: no apt packages of ours, no Garage, no tauri-driver, an
# empty cargo registry), and a fresh clone of this repository's HEAD. It is how the "works on a
# fresh machine" promise of the README is checked without Docker or a spare machine.
#
#   sudo scripts/bare-machine-check.sh [COMMAND] [ROOT]
#
# COMMAND defaults to `scripts/test.sh`; ROOT (default /var/tmp/bucketstream-bare) is created
# with debootstrap on first use and reused afterwards (delete it for a new bare run; the
# clone inside is always made afresh). The host's rustup toolchains are bind-mounted read-only;
# its ~/.cargo (registry, installed tools) is not. Needs root, debootstrap, and the network to
# Debian's mirror, crates.io and the npm registry. Measured on 2 cores: `scripts/test.sh` on a
# new root about 31 minutes (apt 1, Garage from crates.io 12, the rest a cold build and every
# test), 18 on a root that already has the packages and tools; the run command (scripts/run.sh
# under Xvfb until the window's page loads) 12 minutes of release build. Not part of CI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
command=${1:-scripts/test.sh}
root=${2:-/var/tmp/bucketstream-bare}
[ "$(id -u)" = 0 ] || { echo "bare-machine-check: run as root (it uses chroot and mount)" >&2; exit 1; }
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[ -d "$rustup_home/toolchains" ] || { echo "bare-machine-check: no rustup toolchain at $rustup_home" >&2; exit 1; }

if [ ! -x "$root/bin/bash" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  echo "bare-machine-check: debootstrap bookworm into $root"
  debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" http://deb.debian.org/debian
fi

mounted=()
unmount() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap unmount EXIT
mnt() { # mnt TARGET mount-args...
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}
mnt "$root/proc" -t proc proc
mnt "$root/sys" --rbind /sys
mnt "$root/dev" --rbind /dev
mnt "$root/dev/shm" -t tmpfs -o mode=1777 shm
mnt "$root/run" -t tmpfs -o mode=755 run
mnt "$root/root/.rustup" --bind -o ro "$rustup_home"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# Certificate authorities the host's administrator added (a network's TLS-inspecting proxy,
# say) belong to the machine, not to the project: the bare root trusts them too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -f /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi

# The rustup proxies only (cargo, rustc, ...): the machine's one toolchain, no installed tools.
mkdir -p "$root/root/.cargo/bin"
for tool in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  [ -e "$cargo_bin/$tool" ] && cp -f "$cargo_bin/$tool" "$root/root/.cargo/bin/"
done

rm -rf "$root/work/bucketstream"
git clone --quiet "$repo" "$root/work/bucketstream"
echo "bare-machine-check: $(git -C "$root/work/bucketstream" log --oneline -1) in $root/work/bucketstream"
echo "bare-machine-check: running '$command' (started $(date -u +%H:%M:%S) UTC)"
start=$(date +%s)
status=0
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c "cd /work/bucketstream && $command" || status=$?
echo "bare-machine-check: '$command' exited $status after $(( ($(date +%s) - start) / 60 )) min"
exit "$status"
