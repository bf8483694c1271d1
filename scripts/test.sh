#!/usr/bin/env bash
# Fresh Debian 12 -> every test: unit, integration (redis-cli, redis-py) and
# the differential comparison with redis-server, in a normal build and in an
# ASan+UBSan build and in a TSan build (the server under test stops at the
# first race it sees). Set SKIP_SANITIZERS=1 to run the normal build only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
BUILD_DIR=build scripts/build.sh -DWARNINGS_AS_ERRORS=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  BUILD_DIR=build-asan scripts/build.sh -DWARNINGS_AS_ERRORS=ON -DENABLE_ASAN=ON
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
  BUILD_DIR=build-tsan scripts/build.sh -DWARNINGS_AS_ERRORS=ON -DENABLE_TSAN=ON
  # The randomized differential test drives one connection: nothing for
  # TSan to see that the other tests do not show, so it is left out there.
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" -E differential_fuzz
fi
