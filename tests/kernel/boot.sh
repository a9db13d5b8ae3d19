#!/usr/bin/env bash
# boot.sh TOPOLOGY OUTDIR HOSTPASS_BIN — boots Debian's kernel in QEMU on a named device topology,
# runs guest/scenario_<TOPOLOGY>.sh there, and leaves in OUTDIR:
#   console.log   the guest's serial console (kernel messages, init's own output)
#   results.log   the structured results channel (second serial port), \r stripped
#   timing.txt    wall seconds of the boot (QEMU start to exit)
# Exit 0 only when the guest reached the end of its scenario ("@@HP done"). On any failure it
# prints why, with the tail of the guest console, and exits non-zero.
#
# Everything that mutates (module loading, driver binding) happens inside the guest: this script
# only reads this machine's files (the kernel cache, the hostpass binary and its libraries).
#
# Topologies (q35, software emulation: no /dev/kvm is needed; the CPU says GenuineIntel to match
# the Intel IOMMU: TCG's default qemu64 model says AuthenticAMD):
#   iommu    intel-iommu,intremap=on + intel_iommu=on, and
#              00:02.0 root port → 01:00.0 e1000e          (own IOMMU group)
#              00:03.0 root port → 02:00.0 e1000e          (own IOMMU group)
#              00:04.0 root port → 03:00.0 pcie-pci-bridge → 04:01.0, 04:02.0 e1000
#                                                           (one group: conventional PCI)
#              00:05.0 root port → 05:00.0, 05:00.1 e1000e (one multifunction slot, one group)
#              00:06.0 root port → 06:00.0 qemu-xhci with usb-kbd and usb-storage
#   noiommu  the same machine and kernel booted with intel_iommu=off: VT-d present, not enabled
#              00:02.0 root port → 01:00.0 e1000e
set -euo pipefail

topology=$1
out=$2
hostpass_bin=$3
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${HOSTPASS_KERNEL_TIMEOUT:-540}

scenario="$here/guest/scenario_$topology.sh"
[ -f "$scenario" ] || { echo "boot.sh: unknown topology '$topology' (no $scenario)" >&2; exit 2; }
[ -x "$hostpass_bin" ] || { echo "boot.sh: no hostpass binary at $hostpass_bin (build it first)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
  { echo "boot.sh: qemu-system-x86_64 missing: bash scripts/deps.sh test" >&2; exit 2; }

mkdir -p "$out"
rm -f "$out"/console.log "$out"/results.raw "$out"/results.log "$out"/timing.txt

kdir=$("$here/fetch_kernel.sh")
vmlinuz=$(ls "$kdir"/tree/boot/vmlinuz-* | head -1)
release=${vmlinuz##*/vmlinuz-}
initrd="$out/initramfs.cpio.gz"
"$here/build_initramfs.sh" "$kdir/tree/lib/modules/$release" "$hostpass_bin" "$scenario" "$initrd"

common_args=(-machine q35 -cpu qemu64,vendor=GenuineIntel -m 512 -smp 1 -nodefaults -no-reboot -display none -monitor none
  -kernel "$vmlinuz" -initrd "$initrd"
  -serial "file:$out/console.log" -serial "file:$out/results.raw")
# no_timer_check: under software emulation on a loaded machine the kernel's "does the timer
# interrupt arrive through the interrupt-remapped IO-APIC" probe can time out and panic
# ("timer doesn't work through Interrupt-remapped IO-APIC"); KVM guests skip it the same way.
base_cmdline="console=ttyS0 panic=-1 no_timer_check quiet loglevel=4 rdinit=/init"
case "$topology" in
  iommu)
    truncate -s 4M "$out/usb-stick.img"
    topo_args=(-device intel-iommu,intremap=on
      -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
      -device e1000e,bus=rp1,id=nic_own
      -device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3
      -device e1000e,bus=rp2,id=nic_host
      -device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x4
      -device pcie-pci-bridge,bus=rp3,id=br1
      -device e1000,bus=br1,addr=0x1,id=legacy_a
      -device e1000,bus=br1,addr=0x2,id=legacy_b
      -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,addr=0x5
      -device e1000e,bus=rp4,addr=0x0.0,multifunction=on,id=mf0
      -device e1000e,bus=rp4,addr=0x0.1,id=mf1
      -device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,addr=0x6
      -device qemu-xhci,bus=rp5,id=xhci
      -device usb-kbd,bus=xhci.0
      -drive if=none,id=stick,format=raw,file="$out/usb-stick.img"
      -device usb-storage,bus=xhci.0,drive=stick)
    cmdline="$base_cmdline intel_iommu=on"
    ;;
  noiommu)
    topo_args=(-device intel-iommu,intremap=on
      -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
      -device e1000e,bus=rp1,id=nic_own)
    cmdline="$base_cmdline intel_iommu=off"
    ;;
esac

start=$(date +%s.%N)
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 "${common_args[@]}" "${topo_args[@]}" \
  -append "$cmdline" >"$out/qemu.log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$out/timing.txt"
tr -d '\r' <"$out/results.raw" >"$out/results.log" 2>/dev/null || true

fail() {
  echo "boot.sh: $topology: $*" >&2
  echo "---- qemu stderr ($out/qemu.log)" >&2
  tail -n 20 "$out/qemu.log" >&2
  echo "---- guest console, last 60 lines ($out/console.log)" >&2
  tr -d '\r' <"$out/console.log" 2>/dev/null | tail -n 60 >&2
  echo "---- results channel, last 40 lines ($out/results.log)" >&2
  tail -n 40 "$out/results.log" >&2
  exit 1
}
[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && fail "QEMU did not finish within ${timeout_s}s (killed)"
[ "$rc" -eq 0 ] || fail "QEMU exited with status $rc"
if ! grep -q '^@@HP done' "$out/results.log"; then
  panic=$(tr -d '\r' <"$out/console.log" | grep -m1 'Kernel panic' || true)
  fail "the guest never reached the end of its scenario${panic:+ ($panic)}"
fi
if grep -q '^@@HP insmod-failed' "$out/results.log"; then
  fail "a module did not load: $(grep '^@@HP insmod-failed' "$out/results.log" | head -3)"
fi
echo "boot.sh: $topology booted and ran its scenario in $(cat "$out/timing.txt") s"
