#!/usr/bin/env bash
# build_initramfs.sh MODULES_DIR HOSTPASS_BIN SCENARIO OUT — writes the guest's initramfs (gzip'd
# newc cpio) to OUT:
#   /bin/busybox            busybox-static; /init installs its applets as links
#   /usr/bin/hostpass       the binary under test (debug info stripped), plus every shared
#                           library `ldd` lists and the dynamic loader, at the same paths
#   /usr/bin/lspci          pciutils' lspci, its libraries, and pci.ids (hwdata / pci.ids)
#   /lib/modules/<release>/ the modules below at their paths in Debian's unpacked tree, with the
#                           tree's modules.order/modules.builtin* and the modules.dep, .alias,
#                           .softdep... that kmod's depmod (-b on the staging directory) writes
#   /bin/kmod               Debian's kmod (fetch_kmod.sh) and its links modprobe, depmod, rmmod,
#                           lsmod, insmod, modinfo in /sbin (/init links them in /bin over
#                           busybox's applets of the same names)
#   /modules.order          the modules /init loads with `modprobe` (dependencies resolved by kmod)
#   /init, /lib/hostpass-tier.sh, /scenario.sh
#   and every "SRC=DEST" line of $HOSTPASS_INITRAMFS_EXTRA (a topology's own files)
# Reads only; the staging directory is a temporary directory removed on exit.
set -euo pipefail

moddir=$1
hostpass_bin=$2
scenario=$3
out=$4
here=$(cd "$(dirname "$0")" && pwd)

# Dependency order, from the modules' own `depends=` (modinfo) as shipped by Debian 6.1.
modules=(
  virt/lib/irqbypass
  drivers/vfio/vfio drivers/vfio/vfio_iommu_type1 drivers/vfio/vfio_virqfd
  drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci drivers/vfio/mdev/mdev
  drivers/net/ethernet/intel/e1000/e1000 drivers/net/ethernet/intel/e1000e/e1000e
  drivers/usb/common/usb-common drivers/usb/core/usbcore
  drivers/usb/host/xhci-hcd drivers/usb/host/xhci-pci
  drivers/hid/hid drivers/hid/usbhid/usbhid drivers/hid/hid-generic
  drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/usb/storage/usb-storage
)

stage=$(mktemp -d "${TMPDIR:-/tmp}/hostpass-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,tmp,run,etc,var/lib}
release=$(basename "$moddir")
kmod_tree=$("$here/fetch_kmod.sh")/tree

cp /bin/busybox "$stage/bin/busybox"
file_type=$(od -An -c -N4 "$stage/bin/busybox" | tr -d ' ')
[ "$file_type" = "177ELF" ] || { echo "build_initramfs.sh: /bin/busybox is not an ELF binary" >&2; exit 1; }
if ldd /bin/busybox >/dev/null 2>&1; then
  echo "build_initramfs.sh: /bin/busybox is dynamic; install busybox-static" >&2
  exit 1
fi

# Copies an ELF executable and the shared libraries it needs (ldd), keeping their paths.
copy_elf() {  # SRC DEST_IN_STAGE
  local src=$1 dest=$2 lib
  mkdir -p "$stage/$(dirname "$dest")"
  strip --strip-debug -o "$stage/$dest" "$src" 2>/dev/null || cp "$src" "$stage/$dest"
  for lib in $(ldd "$src" | sed -nE 's/.*=> (\/[^ ]+) .*/\1/p; s/^[[:space:]]*(\/[^ ]+) \(.*/\1/p'); do
    [ -e "$stage/$lib" ] && continue
    mkdir -p "$stage/$(dirname "$lib")"
    cp -L "$lib" "$stage/$lib"
  done
}
copy_elf "$hostpass_bin" usr/bin/hostpass
copy_elf "$(command -v lspci)" usr/bin/lspci
for ids in /usr/share/misc/pci.ids /usr/share/hwdata/pci.ids /usr/share/misc/usb.ids \
  /usr/share/hwdata/usb.ids; do
  if [ -e "$ids" ]; then
    mkdir -p "$stage/$(dirname "$ids")"
    cp -L "$ids" "$stage/$ids"
  fi
done

: >"$stage/modules.order"
for m in "${modules[@]}"; do
  src="$moddir/kernel/$m.ko"
  [ -f "$src" ] || { echo "build_initramfs.sh: missing module $src" >&2; exit 1; }
  mkdir -p "$stage/lib/modules/$release/kernel/$(dirname "$m")"
  cp "$src" "$stage/lib/modules/$release/kernel/$m.ko"
  basename "$m" >>"$stage/modules.order"
done

# kmod: the guest's modprobe/depmod/rmmod/lsmod, and a real module directory. depmod runs here
# (Debian's binary, from the kernel cache) with -b on the staging directory: it reads and writes
# only there, and the guest does not spend emulated seconds on it.
copy_elf "$kmod_tree/bin/kmod" bin/kmod
for tool in modprobe depmod rmmod lsmod insmod modinfo; do
  ln -s /bin/kmod "$stage/sbin/$tool"  # /init links them in /bin too, over busybox's applets
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$moddir/$f" ] && cp "$moddir/$f" "$stage/lib/modules/$release/"
done
mkdir "$stage.tools"  # kmod picks its tool from argv[0]'s name
trap 'rm -rf "$stage" "$stage.tools"' EXIT
ln -s "$kmod_tree/bin/kmod" "$stage.tools/depmod"
"$stage.tools/depmod" -b "$stage" "$release"
[ -s "$stage/lib/modules/$release/modules.dep" ] ||
  { echo "build_initramfs.sh: depmod wrote no modules.dep" >&2; exit 1; }

install -m 0755 "$here/guest/init" "$stage/init"
install -m 0644 "$here/guest/hostpass-tier.sh" "$stage/lib/hostpass-tier.sh"
install -m 0755 "$scenario" "$stage/scenario.sh"
while IFS= read -r extra; do
  [ -n "$extra" ] || continue
  src=${extra%%=*}
  dest=${extra#*=}
  [ -e "$src" ] || { echo "build_initramfs.sh: extra file $src does not exist" >&2; exit 1; }
  mkdir -p "$stage/$(dirname "$dest")"
  cp -L "$src" "$stage/$dest"
done <<<"${HOSTPASS_INITRAMFS_EXTRA:-}"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner 0:0) |
  gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
