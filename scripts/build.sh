#!/usr/bin/env bash
# build.sh — installs what is missing and builds build/hostpass (incremental, quiet when done).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
# Configured exactly as scripts/test.sh configures build/ (warnings as errors), so that the README's
# second command reuses this build instead of reconfiguring and rebuilding everything. A
# packager's build is plain cmake, without HOSTPASS_WERROR.
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTPASS_WERROR=ON >/dev/null
fi
cmake --build build --target hostpass -- -j"$(nproc)" | grep -v '^\[' || true
test -x build/hostpass
