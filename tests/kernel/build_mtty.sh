#!/usr/bin/env bash
# build_mtty.sh — prints the path of mtty.ko, the kernel's own sample mediated-device parent
# (samples/vfio-mdev/mtty.c: a virtual "mtty" parent with types mtty-1 and mtty-2, vfio-pci API),
# built once for exactly the kernel the real-kernel tier boots (fetch_kernel.sh).
#
# Debian ships the kernel's samples in no binary package, and QEMU emulates no mdev parent, so
# this is how the tier gets a real mdev parent. Everything comes from Debian packages at the
# kernel image's exact version, fetched with `apt-get download` (nothing is installed here):
#   linux-source-<series>            only samples/vfio-mdev/mtty.c is taken out of its tarball
#   linux-headers-<abi>-amd64        .config, Module.symvers, generated headers, its Makefile
#   linux-headers-<abi>-common       the common headers and the top Makefile
#   linux-kbuild-<series>            kbuild's scripts and host tools (modpost, objtool, ...)
# unpacked with `dpkg -x` into the cache. The -amd64 Makefile includes the -common one by its
# absolute /usr/src path; that one line is rewritten to the cache copy, lib/modules/<release>/build
# and source (absolute links to /usr/src) are dropped, the other links are relative, so nothing
# is created under /usr/src or /usr/lib on this machine. Then
#   make -C <headers> M=<dir> modules
# with gcc-12, the compiler Debian built the kernel with (.kernelvariables names it). The module
# is not signed (CONFIG_MODULE_SIG_FORCE is off in Debian's kernel: it loads and taints it, E).
#
# HOSTPASS_KERNEL_DIR: the unpacked kernel (fetch_kernel.sh's output) when the caller has it.
# Output (stdout, one line): <cache>/mtty_<release>_<version>/mtty.ko. A finished build has a
# `.complete` marker and is reused by every later run (no network, no compiler). Needs make and
# gcc-12 (scripts/deps.sh test).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/debcache.sh"
cache=$hp_cache

# boot.sh has already resolved the kernel (topologies/mdev.sh passes it on): asking apt again
# costs tens of seconds on a loaded machine.
kdir=${HOSTPASS_KERNEL_DIR:-}
[ -n "$kdir" ] || kdir=$("$here/fetch_kernel.sh")
base=$(basename "$kdir")          # linux-image-6.1.0-56-amd64_6.1.192-2
pkg=${base%%_*}                   # linux-image-6.1.0-56-amd64
version=${base#*_}                # 6.1.192-2
release=${pkg#linux-image-}       # 6.1.0-56-amd64
flavour=${release##*-}            # amd64
abi=${release%-"$flavour"}        # 6.1.0-56
series=$(echo "$abi" | cut -d. -f1,2)  # 6.1
[ -d "$kdir/tree/lib/modules/$release" ] ||
  { echo "build_mtty.sh: $kdir has no lib/modules/$release" >&2; exit 1; }

dir="$cache/mtty_${release}_${version}"
if [ -f "$dir/.complete" ]; then
  echo "$dir/mtty.ko"
  exit 0
fi

for tool in make gcc-12 dpkg-deb tar xz; do
  command -v "$tool" >/dev/null ||
    { echo "build_mtty.sh: $tool missing: bash scripts/deps.sh test" >&2; exit 1; }
done

echo "build_mtty.sh: building mtty.ko for $release ($version) into $dir (once)" >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/dl" "$dir.tmp/src"
packages=("linux-source-$series=$version" "linux-headers-$abi-$flavour=$version"
  "linux-headers-$abi-common=$version" "linux-kbuild-$series=$version")
hp_download "$dir.tmp/dl" "${packages[@]}"

# Only mtty.c out of the 139 MB source package: stream the tarball, never unpack it whole.
srcdeb=$(ls "$dir.tmp"/dl/linux-source-"$series"_*.deb)
dpkg-deb --fsys-tarfile "$srcdeb" | tar -xO "./usr/src/linux-source-$series.tar.xz" |
  tar -xJ -C "$dir.tmp/src" --strip-components=3 "linux-source-$series/samples/vfio-mdev/mtty.c"
rm -f "$srcdeb"
[ -s "$dir.tmp/src/mtty.c" ] || { echo "build_mtty.sh: no samples/vfio-mdev/mtty.c in $srcdeb" >&2; exit 1; }

for deb in "$dir.tmp"/dl/*.deb; do dpkg -x "$deb" "$dir.tmp/tree"; done
rm -rf "$dir.tmp/dl"
headers="$dir.tmp/tree/usr/src/linux-headers-$release"
# "include /usr/src/linux-headers-<abi>-common/Makefile" -> the cache copy. The final directory
# name is used: the tree is moved there before anything reads it again.
sed -i "s|^include /usr/src/|include $dir/tree/usr/src/|" "$headers/Makefile"
grep -q "^include $dir/tree/usr/src/linux-headers-$abi-common/Makefile\$" "$headers/Makefile" ||
  { echo "build_mtty.sh: unexpected $headers/Makefile: $(head -3 "$headers/Makefile")" >&2; exit 1; }
# lib/modules/<release>/{build,source} point at /usr/src/linux-headers-<release>: unused here
# (make -C names the headers directly), so they go rather than dangle.
rm -rf "$dir.tmp/tree/lib"
if find "$dir.tmp/tree" -type l -lname '/*' | grep -q .; then
  echo "build_mtty.sh: absolute links left in the headers:" \
    "$(find "$dir.tmp/tree" -type l -lname '/*' | head -3)" >&2
  exit 1
fi

rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo 'obj-m := mtty.o' >"$dir/src/Kbuild"
make -s -C "$dir/tree/usr/src/linux-headers-$release" M="$dir/src" modules >&2
cp "$dir/src/mtty.ko" "$dir/mtty.ko"
vermagic=$(strings "$dir/mtty.ko" | sed -n 's/^vermagic=//p')
case "$vermagic" in
  "$release "*) ;;
  *) echo "build_mtty.sh: mtty.ko has vermagic '$vermagic', not $release" >&2; exit 1 ;;
esac
touch "$dir/.complete"
echo "$dir/mtty.ko"
