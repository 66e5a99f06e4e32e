#!/usr/bin/env bash
# Builds the libFuzzer target fuzz/config_fuzzer.cc with clang (ASan + UBSan + libFuzzer)
# into a separate build dir and runs it for a bounded time on the seed corpus.
#
#   fuzz/run.sh [SECONDS]        default 60 (or $FUZZ_SECONDS); 0 = build only
#   FUZZ_BUILD_DIR=build-fuzz    where the binary and the grown corpus go
#   FUZZ_JOBS=N                  parallel fuzzing processes (default: one, in-process)
#   FUZZ_SEED=N                  libFuzzer's -seed (CI fixes it: the same run every time)
#
# The project itself builds with g++; only the config loader and the unit parsers (a few
# files, plus the system yaml-cpp) are compiled here, so this takes seconds, not a full build.
# Exit 0: no crash within the time. Exit 1: the fuzzer found a crash (its reproducer is
# printed; rerun with `build-fuzz/config_fuzzer CRASH_FILE`). Exit 77: clang or libFuzzer is
# missing (install: clang libclang-rt-14-dev, or MAINTD_FUZZ_DEPS=1 scripts/setup-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${FUZZ_SECONDS:-60}}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
CXX=${FUZZ_CXX:-clang++}

if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "fuzz: $CXX not found; skipped" >&2
  exit 77
fi
mkdir -p "$BUILD"
probe="$BUILD/probe.cc"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe"
if ! "$CXX" -fsanitize=fuzzer "$probe" -o "$BUILD/probe" >/dev/null 2>&1; then
  echo "fuzz: $CXX cannot link libFuzzer (-fsanitize=fuzzer); skipped" >&2
  exit 77
fi

SOURCES=(fuzz/config_fuzzer.cc daemon/config_yaml*.cc lib/config/config.cc lib/core/units.cc
         lib/core/status.cc)
BIN="$BUILD/config_fuzzer"
newest=$(ls -t "${SOURCES[@]}" daemon/*.h lib/config/*.h lib/core/*.h "$0" | head -1)
if [ ! -x "$BIN" ] || [ "$newest" -nt "$BIN" ]; then
  start=$(date +%s)
  "$CXX" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I. "${SOURCES[@]}" -lyaml-cpp -o "$BIN"
  echo "fuzz: built $BIN in $(( $(date +%s) - start )) s"
fi
[ "$SECS" = 0 ] && exit 0

# The seed corpus stays as committed; what the fuzzer finds goes to the build dir.
mkdir -p "$BUILD/corpus" "$BUILD/artifacts"
start=$(date +%s)
set +e
"$BIN" "$BUILD/corpus" fuzz/corpus tests/reliability/hostile_configs \
  -dict=fuzz/config.dict -max_total_time="$SECS" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -malloc_limit_mb=1024 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
  ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
  -artifact_prefix="$BUILD/artifacts/" -print_final_stats=1 >"$BUILD/fuzz.log" 2>&1
rc=$?
set -e
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/fuzz.log" | awk '{s+=$2} END {print s+0}')
cov=$(grep -o 'cov: [0-9]*' "$BUILD/fuzz.log" | tail -1 | awk '{print $2}')
echo "fuzz: $(( $(date +%s) - start )) s, ${runs} inputs, coverage ${cov:-?} edges, exit $rc"
if [ $rc -ne 0 ]; then
  tail -40 "$BUILD/fuzz.log" >&2
  ls -1 "$BUILD"/artifacts/* 2>/dev/null | sed 's/^/fuzz: reproducer: /' >&2
  exit 1
fi
