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
# Topologies: tests/kernel/topologies/<TOPOLOGY>.sh, sourced here (bash) with $out, $here,
# $kdir (the unpacked kernel package), $release and $base_cmdline set. It must set
#   topo_args         array: QEMU's device arguments (q35 is the machine; no -device by default)
#   cmdline           the kernel command line (start from "$base_cmdline")
# and may set
#   cpu               QEMU's -cpu (default qemu64,vendor=GenuineIntel: TCG's qemu64 model says
#                     AuthenticAMD, which next to an Intel IOMMU is a machine nobody owns)
#   initramfs_extra   array of "SRC=DEST" files added to the initramfs (DEST absolute in the guest)
# guest/scenario_<TOPOLOGY>.sh is the script the guest runs.
set -euo pipefail

topology=$1
out=$2
hostpass_bin=$3
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${HOSTPASS_KERNEL_TIMEOUT:-540}

scenario="$here/guest/scenario_$topology.sh"
topology_file="$here/topologies/$topology.sh"
[ -f "$scenario" ] && [ -f "$topology_file" ] ||
  { echo "boot.sh: unknown topology '$topology' (no $scenario or $topology_file)" >&2; exit 2; }
[ -x "$hostpass_bin" ] || { echo "boot.sh: no hostpass binary at $hostpass_bin (build it first)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
  { echo "boot.sh: qemu-system-x86_64 missing: bash scripts/deps.sh test" >&2; exit 2; }

mkdir -p "$out"
rm -f "$out"/console.log "$out"/results.raw "$out"/results.log "$out"/timing.txt

kdir=$("$here/fetch_kernel.sh")
vmlinuz=$(ls "$kdir"/tree/boot/vmlinuz-* | head -1)
release=${vmlinuz##*/vmlinuz-}

# no_timer_check: under software emulation on a loaded machine the kernel's "does the timer
# interrupt arrive through the interrupt-remapped IO-APIC" probe can time out and panic
# ("timer doesn't work through Interrupt-remapped IO-APIC"); KVM guests skip it the same way.
base_cmdline="console=ttyS0 panic=-1 no_timer_check quiet loglevel=4 rdinit=/init"
cpu=qemu64,vendor=GenuineIntel
topo_args=()
cmdline=$base_cmdline
initramfs_extra=()
# shellcheck source=/dev/null
. "$topology_file"

initrd="$out/initramfs.cpio.gz"
HOSTPASS_INITRAMFS_EXTRA=$(printf '%s\n' "${initramfs_extra[@]+"${initramfs_extra[@]}"}") \
  "$here/build_initramfs.sh" "$kdir/tree/lib/modules/$release" "$hostpass_bin" "$scenario" "$initrd"

common_args=(-machine q35 -cpu "$cpu" -m 512 -smp 1 -nodefaults -no-reboot -display none -monitor none
  -kernel "$vmlinuz" -initrd "$initrd"
  -serial "file:$out/console.log" -serial "file:$out/results.raw")

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
