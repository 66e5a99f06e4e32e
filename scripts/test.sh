#!/usr/bin/env bash
# Installs what the build needs, builds from scratch and runs every test.
#   scripts/test.sh            Release build in build/, then ctest
#   SANITIZE=1 scripts/test.sh ASan+UBSan build in build-asan/, then ctest
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests also need promtool and prometheus (tests/monitoring).
MAINTD_TEST_DEPS=1 ./scripts/setup-deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build-asan}
  EXTRA=(-DMAINTD_SANITIZE=ON)
  BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
else
  BUILD_DIR=${BUILD_DIR:-build}
  EXTRA=()
  BUILD_TYPE=${BUILD_TYPE:-Release}
fi
if [ "${CLEAN:-1}" = 1 ]; then rm -rf "$BUILD_DIR"; fi
# MAINTD_BUILD_TESTS=ON explicitly: the build dir may have been configured by the demo (OFF).
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DMAINTD_BUILD_TESTS=ON "${EXTRA[@]}" \
  >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300
