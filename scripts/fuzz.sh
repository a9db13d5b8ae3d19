#!/usr/bin/env bash
# fuzz.sh — every fuzz target (fuzz/*_fuzz.cc) under libFuzzer, for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 10; FUZZ_SECONDS in the environment too)
#
# Configures build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined; libhostpass with
# fuzzer-no-link coverage, fuzz/CMakeLists.txt), builds only the fuzz targets and what they link,
# and runs each on a temporary copy of its checked-in corpus, two at a time (the machine's two
# cores), with -max_total_time, -rss_limit_mb and -timeout. The checked-in corpus is never
# written: new inputs go to the copy, which is thrown away. A crash, a leak, a sanitizer report,
# a property abort, a timeout or an out-of-memory fails the target and prints the reproducer's
# path (under build-fuzz/artifacts/<target>/) and the command that replays it.
# Prints "fuzz <target>: passed|failed" per target, then "fuzz summary: N passed, N failed".
# Exit status is non-zero when a target failed or the build did.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${FUZZ_SECONDS:-10}}
dir=build-fuzz
parallel=2

targets=$(cd fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
if [ ! -f "$dir/build.ninja" ] || ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$dir/CMakeCache.txt"; then
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only" -DHOSTPASS_WERROR=ON \
    -DHOSTPASS_SANITIZE=ON -DHOSTPASS_BENCH=OFF >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log"
    echo "fuzz summary: 0 passed, 1 failed"
    exit 1
  }
fi
# shellcheck disable=SC2086  # one word per target
if ! cmake --build "$dir" --target $targets -- -j"$parallel" >"$dir/build.log" 2>&1; then
  grep -E 'error|FAILED' -A5 "$dir/build.log" | head -80
  echo "fuzz summary: 0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d /tmp/hostpass-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir/artifacts"

run_one() {  # target: runs it, leaves $work/<target>.status holding 0 or 1
  local t=$1 parser=${1%_fuzz} art="$dir/artifacts/$1"
  rm -rf "$art"
  mkdir -p "$art" "$work/$t.corpus"
  cp -r "fuzz/corpus/$parser/." "$work/$t.corpus/"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$art/" "$work/$t.corpus" >"$work/$t.log" 2>&1
  echo $? >"$work/$t.status"
}

running=0
for t in $targets; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

passed=0
failed=0
for t in $targets; do
  status=$(cat "$work/$t.status" 2>/dev/null || echo 1)
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$t.log" | grep -oE '[0-9]+$')
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz $t: passed (${execs:-?} runs in ${seconds}s)"
  else
    failed=$((failed + 1))
    echo "fuzz $t: failed"
    grep -E 'ERROR: |SUMMARY: |runtime error|==[0-9]+==' "$work/$t.log" | head -20
    for f in "$dir/artifacts/$t"/*; do
      [ -e "$f" ] || continue
      echo "  reproducer: $f"
      echo "  replay:     $dir/fuzz/$t $f"
    done
  fi
done
echo "fuzz summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
