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

cache=${HOSTPASS_KERNEL_CACHE:-${HOME:-/root}/.cache/hostpass-kernel}
mkdir -p "$cache"

pkg=${HOSTPASS_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -nE 's/^ *Depends: (linux-image-[0-9][^ ]*-amd64)$/\1/p' | head -1 || true)
fi
version=""
if [ -n "$pkg" ]; then
  version=$(apt-cache policy "$pkg" 2>/dev/null | sed -nE 's/^ *Candidate: (.*)$/\1/p' | head -1)
  [ "$version" = "(none)" ] && version=""
fi

if [ -z "$pkg" ] || [ -z "$version" ]; then
  # Offline or no apt metadata: fall back to the newest complete cached tree.
  newest=$(ls -1d "$cache"/linux-image-*/.complete 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$newest" ]; then
    echo "fetch_kernel.sh: apt knows no linux-image-*-amd64 candidate and $cache holds no kernel;" \
      "run 'apt-get update' (Debian mirrors) and retry" >&2
    exit 1
  fi
  dirname "$newest"
  exit 0
fi

dir="$cache/${pkg}_${version}"
if [ -f "$dir/.complete" ]; then
  echo "$dir"
  exit 0
fi

echo "fetch_kernel.sh: fetching $pkg $version into $dir (once)" >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/dl"
# apt-get download writes into the current directory; as root it warns that _apt cannot write
# there (harmless: the download is then done unsandboxed).
(cd "$dir.tmp/dl" && apt-get download -q "$pkg=$version" >&2 2>/dev/null) ||
  (cd "$dir.tmp/dl" && apt-get download -q "$pkg=$version" >&2)
dpkg -x "$dir.tmp"/dl/*.deb "$dir.tmp/tree"
rm -rf "$dir.tmp/dl"
ls "$dir.tmp"/tree/boot/vmlinuz-* >/dev/null
touch "$dir.tmp/.complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
