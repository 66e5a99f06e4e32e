#!/usr/bin/env bash
# Configures and builds sqlite-maintd (Release) into ${BUILD_DIR:-build}.
#   scripts/build.sh [CMAKE_ARGS...]       everything (daemon, test binaries, tools)
#   BUILD_TARGETS="sqlite-maintd" MAINTD_DAEMON_ONLY=1 scripts/build.sh -DMAINTD_BUILD_TESTS=OFF
#                                          only the daemon (scripts/demo.sh: that, in build-demo/)
# BUILD_TYPE (default Release) is CMAKE_BUILD_TYPE; MAINTD_DAEMON_ONLY=1 reaches
# scripts/setup-deps.sh (no test packages).
set -euo pipefail
cd "$(dirname "$0")/.."
"$(pwd)/scripts/setup-deps.sh"
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
