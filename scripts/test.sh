#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit and
# integration tests (integration tests need root: they start real daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
command -v docker >/dev/null || { echo "the docker CLI (a client only) must be on PATH for the compatibility tests"; exit 1; }
exec node scripts/test.mjs "$@"
