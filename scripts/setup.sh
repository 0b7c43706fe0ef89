#!/usr/bin/env bash
# Installs what berth needs and builds it. Safe to run again: it only
# installs what is missing and rebuilds when sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# libarchive-dev: the layer applier's tar reader (build/Release/berth-untar, src/host/native/untar.c).
# libdeflate-dev: push's parallel gzip (build/Release/berth_gzip.node, src/host/native/gzip.c).
# e2fsprogs: tests put a data root on a small ext4 of its own to fill it.
# strace: the image GC crash tests stop berthd at an exact syscall.
# netavark, aardvark-dns, iptables: bridge networking (src/engine/network); util-linux: unshare --net for network namespaces.
# tini: --init's pid 1 (its static build, tini-static, runs in any image).
# zsh, fish: the completion tests load `berth completion zsh|fish` in them; man-db: they render the man pages.
# docker-compose: 1.29, driven against berthd by test/integration/docker-compose.test.ts and bench/run.mjs.
# python3: node-gyp, and the TTY tests' terminal (test/integration/tty/pty-run.py, the pty module).
DEB_PACKAGES=(runc crun conmon netavark aardvark-dns busybox-static iproute2 iptables util-linux mount e2fsprogs strace procps bsdutils zstd docker-registry apache2-utils openssl libarchive-dev libdeflate-dev libseccomp-dev libjansson-dev tini python3 zsh fish man-db docker-compose)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f build/Release/berth_host.node ]; then
  echo "==> installing npm packages (and building the native addon)"
  npm ci --no-audit --no-fund
else
  # node-gyp's outputs (binding.gyp): rebuilt when one is missing or older
  # than the C sources.
  for out in build/Release/berth_host.node build/Release/berth_gzip.node build/Release/berth-untar; do
    if [ ! -f "$out" ] || [ -n "$(find src/host/native binding.gyp -newer "$out" -print -quit)" ]; then
      echo "==> rebuilding the native addons and berth-untar"
      npm run install --silent
      break
    fi
  done
fi

stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src scripts test package.json tsconfig.json -newer "$stamp" -print -quit)" ] || [ ! -x bin/berthd ]; then
  echo "==> building"
  npm run build --silent
  touch "$stamp"
fi
