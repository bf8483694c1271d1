#!/usr/bin/env bash
# Installs what building, running and testing Shrike needs on Debian 12.
# Runs apt-get only when something is missing (root, or sudo when available).
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config
          libboost1.81-dev libboost-program-options1.81-dev libboost-test1.81-dev nlohmann-json3-dev
          redis-server redis-tools python3-redis python3-pytest python3-hiredis)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian's redis-server package starts a service on 6379; tests never use it.
