# scenario_reboot.sh — boot "reboot" (topologies/reboot.sh): the iommu machine after persist
# --write and kernel-args --apply, booted on the command line the edited /etc/default/grub gives.
# Brings the machine up the way a Debian boot does, with the real kmod, then captures.
# Assertions: ../kernel_mutate_test.cc (KernelReboot).
. /lib/hostpass-tier.sh
OWN=0000:01:00.0
LEGA=0000:04:01.0
LEGB=0000:04:02.0

capture cmdline cat /proc/cmdline
capture etc.files sh -c 'find /etc -type f | sort'
capture lsmod.initial lsmod
# What kmod will do when udev asks for e1000 (dry: --show-depends loads nothing).
capture show-depends.e1000 modprobe --show-depends e1000

# 1. Coldplug, as systemd-udevd does it: `udevadm trigger --action=add` enumerates the devices
#    sorted by syspath (parents before children), and 80-drivers.rules runs the kmod builtin,
#    `kmod load $MODALIAS` (libkmod: modprobe with the blacklist applied), for each. This runs
#    before systemd-modules-load (nothing orders the two; in the initramfs udev runs first), so
#    the modprobe.d softdep, not modules-load.d, is what has to put vfio-pci first.
coldplug() {
  for d in /sys/bus/pci/devices/*; do readlink -f "$d"; done | sort | while read -r dev; do
    alias=$(cat "$dev/modalias")
    modprobe -b -q "$alias"
    rc=$?
    echo "$(basename "$dev") $alias rc=$rc driver=$(pci_driver "$(basename "$dev")")"
  done
}
capture coldplug coldplug
capture state.coldplug pci_state
# 2. systemd-modules-load: every module named in /etc/modules-load.d/*.conf.
modules_load() {
  for f in /etc/modules-load.d/*.conf; do
    [ -f "$f" ] || continue
    grep -v '^[#;]' "$f" | while read -r m; do
      [ -n "$m" ] || continue
      modprobe "$m"
      echo "$f: $m rc=$?"
    done
  done
}
capture modules-load modules_load
capture lsmod.boot lsmod
capture state.boot pci_state
# 3. hostpass.service: its ExecStart, as systemd would run it (ConditionPathExists honoured).
run_unit() {
  unit=/etc/systemd/system/hostpass.service
  cond=$(sed -n 's/^ConditionPathExists=//p' "$unit")
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  [ -z "$cond" ] || [ -e "$cond" ] || { echo "condition $cond failed: not started"; return 0; }
  echo "ExecStart=$exec_start"
  sh -c "$exec_start"
}
capture unit run_unit
capture state.unit pci_state
capture devvfio ls /dev/vfio
capture groups iommu_groups
capture netdevs pci_netdevs
capture_stdout check.json hostpass --json check
capture verify hostpass verify $LEGA $LEGB $OWN
