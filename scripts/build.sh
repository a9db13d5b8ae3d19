#!/usr/bin/env bash
# build.sh — installs what is missing and builds build/hostpass (incremental, quiet when done).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build build --target hostpass -- -j"$(nproc)" | grep -v '^\[' || true
test -x build/hostpass
