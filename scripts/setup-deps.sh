#!/usr/bin/env bash
# Installs the Debian 12 packages that sqlite-maintd needs to build, test and bench.
# Idempotent: prints nothing and installs nothing when everything is already present.
# MAINTD_DAEMON_ONLY=1 leaves out what only the test binaries and test runners need.
# MAINTD_FUZZ_DEPS=1 adds clang and libFuzzer (libclang-rt-14-dev) for fuzz/run.sh.
# MAINTD_PACKAGE_DEPS=1 adds lintian and man-db for scripts/package.sh (the .deb check).
# MAINTD_TEST_DEPS=1 adds what only the tests use: man-db (the man page test runs `man
# --warnings`) and Debian's `prometheus` (promtool and the
# server, 2.42) for tests/monitoring (scripts/test.sh sets it).
set -euo pipefail

PACKAGES=(
  g++ cmake make pkg-config
  libsqlite3-dev sqlite3
  libboost-dev
  libyaml-cpp-dev
  libspdlog-dev libfmt-dev
  libsystemd-dev
  libcli11-dev
  nlohmann-json3-dev
)
# MAINTD_DAEMON_ONLY=1 (scripts/demo.sh): only what the daemon needs to build: no
# GoogleTest (the test binaries) and none of the tests' and benches' tools (python3 runs the
# doc tests and bench scripts; procps).
if [ "${MAINTD_DAEMON_ONLY:-0}" != 1 ]; then
  PACKAGES+=(libgtest-dev libgmock-dev python3 procps)
fi
# The bounded fuzz run of CI (fuzz/run.sh, .ci/run) needs clang with libFuzzer; only then.
if [ "${MAINTD_FUZZ_DEPS:-0}" = 1 ]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi
# The .deb check of CI (scripts/package.sh): only then.
if [ "${MAINTD_PACKAGE_DEPS:-0}" = 1 ]; then
  PACKAGES+=(lintian man-db dpkg-dev)
fi
# The package also installs a systemd unit; the tests never start it: they run the binary
# on a loopback port of their own (in containers without systemd, policy-rc.d keeps it off).
if [ "${MAINTD_TEST_DEPS:-0}" = 1 ]; then
  PACKAGES+=(prometheus man-db)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done" >&2
