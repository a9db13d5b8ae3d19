#!/usr/bin/env bash
# fetch_kernel.sh — prints the directory of an unpacked Debian kernel, fetching it once.
#
# The kernel is Debian's own package (linux-image-<abi>-amd64, the one the linux-image-amd64
# metapackage depends on), fetched with `apt-get download` from the configured Debian mirrors and
# unpacked with `dpkg -x`: nothing is installed on this machine. The unpacked tree is cached under
# $HOSTPASS_KERNEL_CACHE (default $HOME/.cache/hostpass-kernel), keyed by package name and
# version, and reused by every later run; a finished tree has a `.complete` marker.
#
# Output (stdout, one line): <cache>/<package>_<version>, containing tree/boot/vmlinuz-* and
# tree/lib/modules/<release>/kernel/**.ko. Set HOSTPASS_KERNEL_PACKAGE to pin another package.
# Offline: when apt knows no candidate, the newest complete cached tree is used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/debcache.sh"

pkg=${HOSTPASS_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -nE 's/^ *Depends: (linux-image-[0-9][^ ]*-amd64)$/\1/p' | head -1 || true)
fi
version=""
[ -z "$pkg" ] || version=$(hp_candidate "$pkg")
if [ -z "$pkg" ] || [ -z "$version" ]; then
  # Offline or no apt metadata: the newest complete cached tree.
  hp_newest_cached linux-image- fetch_kernel.sh
  exit
fi
hp_fetch_unpacked "$hp_cache/${pkg}_${version}" 'boot/vmlinuz-*' "$pkg=$version"
