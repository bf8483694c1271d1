#!/usr/bin/env bash
# Installs what building Shrike needs on Debian 12; with --tests also what the
# tests need (redis-server as the reference, redis-tools, redis-py, pytest).
# Runs apt-get only when something is missing (root, or sudo when available).
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config
          libboost1.81-dev libboost-program-options1.81-dev libboost-test1.81-dev nlohmann-json3-dev
          # Lua for EVAL/FUNCTION (linked statically): PUC Lua 5.1 by default, LuaJIT with
          # -DSHRIKE_LUA=luajit; cjson, and bit for PUC Lua.
          liblua5.1-0-dev libluajit-5.1-dev lua-cjson-dev lua-bitop-dev)
if [ "${1:-}" = "--tests" ]; then
  # pytest-asyncio, pytest-timeout, async-timeout: for redis-py's own suite (test/redis-py/).
  packages+=(redis-server redis-tools redis-sentinel python3-redis python3-pytest python3-hiredis
            python3-pytest-asyncio python3-pytest-timeout python3-async-timeout)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  # Debian's redis-server package starts a service on 6379, the port
  # shrike-server uses by default; the tests start their own instances.
  # The same for redis-sentinel (26379).
  for service in redis-server redis-sentinel; do
    if printf '%s\n' "${missing[@]}" | grep -qx $service && command -v systemctl >/dev/null &&
       systemctl is-active --quiet $service 2>/dev/null; then
      $SUDO systemctl disable --now $service || true
    fi
  done
fi
