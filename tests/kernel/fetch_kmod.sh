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

here=$(cd "$(dirname "$0")" && pwd)
. "$here/debcache.sh"

version=$(hp_candidate kmod)
if [ -z "$version" ]; then
  hp_newest_cached kmod_ fetch_kmod.sh
  exit
fi
hp_fetch_unpacked "$hp_cache/kmod_$version" bin/kmod "kmod=$version"
