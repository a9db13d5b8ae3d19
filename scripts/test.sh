#!/usr/bin/env bash
# test.sh — builds and runs every test tier:
#   1. unit, CLI end-to-end, device-plugin and fuzz-smoke tests (ctest labels unit, cli, plugin,
#      fuzz) in build/
#   then the source checks (scripts/lint.sh): clang-format over every tracked .cc/.h, clang-tidy
#      over src/, cli/ and plugin/ with build/'s compile commands; each counts as one test
#   2. the unit, device-plugin and fuzz-smoke tests again under ASan + UBSan in build-asan/
#   2b. every fuzz target under libFuzzer (clang, ASan + UBSan) in build-fuzz/, a bounded time
#      each on a temporary copy of its corpus (scripts/fuzz.sh); one count per target
#   3. the real-kernel tier (ctest label kernel): hostpass inside QEMU, when present
# Ends with one line "N passed, N failed". Exit status is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test || exit 1
jobs=$(nproc)
status=0
passed=0
failed=0

count() {  # reads a ctest log, adds its totals
  local log=$1 line total fails
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then return; fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  fails=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - fails))
  failed=$((failed + fails))
}

configure() {  # dir, extra cmake args... (always with warnings as errors)
  local dir=$1
  shift
  # Re-run when the tree was configured without -Werror (by scripts/build.sh, say): a cached
  # build must not hide a warning.
  if [ ! -f "$dir/build.ninja" ] || ! grep -q '^HOSTPASS_WERROR:BOOL=ON' "$dir/CMakeCache.txt"; then
    cmake -S . -B "$dir" -G Ninja -DHOSTPASS_WERROR=ON "$@" >/dev/null || return 1
  fi
}

echo "== build (RelWithDebInfo)"
configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo || exit 1
if ! cmake --build build -- -j"$jobs" >build/build.log 2>&1; then
  grep -E 'error|FAILED' -A5 build/build.log | head -80
  exit 1
fi
echo "== unit, cli, device-plugin and fuzz tests"
(cd build && ctest -L 'unit|cli|plugin|fuzz' -j"$jobs" --output-on-failure) 2>&1 | tee build/ctest.log | tail -n 15
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
count build/ctest.log

echo "== format and tidy"
bash scripts/lint.sh 2>&1 | tee build/lint.log | tail -n 60
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# lint.sh ends with "lint: format ok|FAILED" and "lint: tidy ok|FAILED"; a line it never printed
# (it stopped early) is a failure too.
for part in format tidy; do
  if grep -qx "lint: $part ok" build/lint.log; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

echo "== unit tests under ASan + UBSan"
configure build-asan -DCMAKE_BUILD_TYPE=Debug -DHOSTPASS_SANITIZE=ON -DHOSTPASS_BENCH=OFF || exit 1
fuzzers=$(cd build-asan && ninja -t targets all 2>/dev/null | grep -oE '^[a-z_]+_fuzz:' | grep -v '^cmake_' | tr -d : | sort -u)
if ! cmake --build build-asan --target unit_tests plugin_tests $fuzzers -- -j"$jobs" >build-asan/build.log 2>&1; then
  grep -E 'error|FAILED' -A5 build-asan/build.log | head -80
  exit 1
fi
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions="$PWD/../tests/lsan.supp" \
  ctest -L 'unit|plugin|fuzz' -j"$jobs" --output-on-failure) 2>&1 | tee build-asan/ctest.log | tail -n 5
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
count build-asan/ctest.log

echo "== fuzz targets under libFuzzer (clang, ASan + UBSan)"
bash scripts/fuzz.sh 2>&1 | tee build/fuzz.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
if line=$(grep -E '^fuzz summary: [0-9]+ passed, [0-9]+ failed' build/fuzz.log); then
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed.*/\1/' <<<"$line")))
fi

if (cd build && ctest -N -L kernel | grep -q 'Total Tests: [1-9]'); then
  echo "== real-kernel tier (QEMU)"
  (cd build && ctest -L kernel --output-on-failure) 2>&1 | tee build/ctest-kernel.log | tail -n 30
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  count build/ctest-kernel.log
fi

echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
