#!/usr/bin/env bash
# fetch_kmod.sh — prints the directory of an unpacked Debian `kmod` package (modprobe, depmod,
# rmmod, lsmod, modinfo: all links to /bin/kmod), fetching it once.
#
# The guest needs the real kmod, not busybox's applets: hostpass's bind engine runs `modprobe
# vfio-pci`, and `persist --format modprobe` writes modprobe.d options and softdeps that only
# kmod's modprobe honours the way a distribution boots. Like fetch_kernel.sh this uses
# `apt-get download` + `dpkg -x` into $HOSTPASS_KERNEL_CACHE (default
# $HOME/.cache/hostpass-kernel), keyed by version, with a `.complete` marker: nothing is
# installed on this machine (which must never run modprobe itself), and the guest gets Debian's
# own binary (libkmod is linked in; its libraries — libzstd, liblzma, libcrypto, libc — are
# taken from this machine by build_initramfs.sh's ldd copy, as for hostpass).
#
# Output (stdout, one line): <cache>/kmod_<version>, containing tree/bin/kmod.
# Offline: when apt knows no candidate, the newest complete cached tree is used.
set -euo pipefail

cache=${HOSTPASS_KERNEL_CACHE:-${HOME:-/root}/.cache/hostpass-kernel}
mkdir -p "$cache"

version=$(apt-cache policy kmod 2>/dev/null | sed -nE 's/^ *Candidate: (.*)$/\1/p' | head -1)
[ "$version" = "(none)" ] && version=""
if [ -z "$version" ]; then
  newest=$(ls -1d "$cache"/kmod_*/.complete 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$newest" ]; then
    echo "fetch_kmod.sh: apt knows no kmod candidate and $cache holds none;" \
      "run 'apt-get update' (Debian mirrors) and retry" >&2
    exit 1
  fi
  dirname "$newest"
  exit 0
fi

dir="$cache/kmod_$version"
if [ -f "$dir/.complete" ]; then
  echo "$dir"
  exit 0
fi

echo "fetch_kmod.sh: fetching kmod $version into $dir (once)" >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/dl"
(cd "$dir.tmp/dl" && apt-get download -q "kmod=$version" >&2 2>/dev/null) ||
  (cd "$dir.tmp/dl" && apt-get download -q "kmod=$version" >&2)
dpkg -x "$dir.tmp"/dl/*.deb "$dir.tmp/tree"
rm -rf "$dir.tmp/dl"
[ -x "$dir.tmp/tree/bin/kmod" ]
touch "$dir.tmp/.complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
