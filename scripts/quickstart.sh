#!/usr/bin/env bash
# berth's main job in one command: install, start berthd with its defaults
# (data root /var/lib/berth, socket /run/berth/berth.sock), make a busybox
# image from Debian's busybox-static, and run a container. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

SOCK=/run/berth/berth.sock
export BERTH_HOST="unix://$SOCK"
if ! ./bin/berth version >/dev/null 2>&1; then
  echo "==> starting berthd (log: /var/log/berthd.log)"
  mkdir -p /run/berth
  nohup ./bin/berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 100); do
    ./bin/berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ./bin/berth version >/dev/null || { tail -20 /var/log/berthd.log; exit 1; }
fi

if [ -z "$(./bin/berth images -q busybox)" ]; then
  echo "==> creating the busybox image from Debian's busybox-static"
  ./bin/berth base busybox
fi

echo "==> berth run --rm busybox echo 'Hello from a berth container!'"
./bin/berth run --rm busybox echo 'Hello from a berth container!'
echo
echo "berthd is running on $SOCK. Point the docker CLI at it with:"
echo "  export DOCKER_HOST=unix://$SOCK"
