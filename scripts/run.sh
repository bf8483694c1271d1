#!/usr/bin/env bash
# Fresh Debian 12 -> a running shrike-server on port 6379 with its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/app/shrike-server "$@"
