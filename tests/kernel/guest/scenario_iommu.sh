# scenario_iommu.sh — boot "iommu" of the kernel tier (topology in ../boot.sh). Acts and
# captures; the assertions are in ../kernel_tier_test.cc, one test per scenario.
. /lib/hostpass-tier.sh
OWN=0000:01:00.0       # e1000e, own group
HOSTNIC=0000:02:00.0   # e1000e, own group, stays on its host driver
LEGA=0000:04:01.0      # e1000 behind the pcie-pci-bridge (shared group with LEGB and 03:00.0)
LEGB=0000:04:02.0

# --- list agreement: hostpass list --json vs lspci -Dnn vs /sys/kernel/iommu_groups ---------
capture lspci lspci -Dnn
capture_stdout list.json hostpass --json list
capture list hostpass list
capture groups iommu_groups
capture state.initial pci_state
capture netdevs.initial pci_netdevs

# --- check: the IOMMU host checks on a kernel booted with intel_iommu=on ----------------------
capture check hostpass check
capture_stdout check.json hostpass --json check

# --- verify ----------------------------------------------------------------------------------
# A device still on its host driver: no /dev/vfio/<group> to open.
capture verify.host-driver hostpass verify $HOSTNIC
# A device alone in its group, bound to vfio-pci with the raw sysfs sequence.
raw_bind $OWN vfio-pci
capture state.own-raw-bound pci_state
capture devvfio.own-raw-bound ls /dev/vfio
capture verify.viable hostpass verify $OWN
capture sysfs.own.resource cat /sys/bus/pci/devices/$OWN/resource
capture sysfs.own.reset_method cat /sys/bus/pci/devices/$OWN/reset_method
capture_stdout verify.viable.json hostpass --json verify $OWN
# One function of the shared group on vfio-pci, its sibling still on e1000: not viable.
raw_bind $LEGA vfio-pci
capture state.lega-bound pci_state
capture verify.nonviable hostpass verify $LEGA
capture_stdout verify.nonviable.json hostpass --json verify $LEGA
# The sibling too: the group becomes viable; both verify in one run.
raw_bind $LEGB vfio-pci
capture state.leg-both-bound pci_state
capture verify.group-viable hostpass verify $LEGA $LEGB
# Put everything back on its host driver.
raw_unbind $OWN
raw_unbind $LEGA
raw_unbind $LEGB
capture state.restored pci_state
capture netdevs.restored pci_netdevs

# --- USB: hostpass list --usb vs the kernel's /sys/bus/usb/devices ---------------------------
usb_sysfs() {  # NAME BUSNUM DEVNUM IDVENDOR IDPRODUCT BCDDEVICE CLASS SPEED, devices only
  for d in /sys/bus/usb/devices/*; do
    n=$(basename "$d")
    case "$n" in *:*) continue ;; esac
    echo "$n $(cat "$d/busnum") $(cat "$d/devnum") $(cat "$d/idVendor") $(cat "$d/idProduct")" \
      "$(cat "$d/bcdDevice") $(cat "$d/bDeviceClass") $(cat "$d/speed")"
  done
}
capture usb.sysfs usb_sysfs
capture_stdout usb.json hostpass --json list --usb
capture usb.list hostpass list --usb

# --- the bind engine (hostpass bind/unbind/recover), when this hostpass has it --------------
if hostpass --help 2>&1 | grep -q '^ *bind '; then
  hp_emit "have bind"
  MF0=0000:05:00.0
  MF1=0000:05:00.1
  # A NIC alone in its group → vfio-pci, /dev/vfio/N; verify agrees; unbind → e1000e, eth back.
  capture bind.own hostpass bind $OWN
  capture state.bind.own pci_state
  capture devvfio.bind.own ls /dev/vfio
  capture verify.bind.own hostpass verify $OWN
  capture unbind.own hostpass unbind $OWN
  capture state.unbind.own pci_state
  capture netdevs.unbind.own pci_netdevs
  capture override.unbind.own cat /sys/bus/pci/devices/$OWN/driver_override

  # One function of a shared group without --group: refused, nothing changed.
  capture state.before.shared pci_state
  capture bind.shared.nogroup hostpass bind $MF0
  capture state.shared.nogroup pci_state
  # With --group: every member on vfio-pci and the group viable; then back.
  capture bind.shared.group hostpass bind --group $MF0
  capture state.shared.group pci_state
  capture verify.shared.group hostpass verify $MF0 $MF1
  capture unbind.shared.group hostpass unbind $MF0 $MF1
  capture state.shared.unbound pci_state

  # Rollback for real: a driver that cannot drive the device (e1000 has no 82574L support: its
  # probe fails), so the verification after drivers_probe fails and every write is undone.
  capture bind.rollback hostpass bind --driver e1000 $HOSTNIC
  capture state.rollback pci_state
  capture override.rollback cat /sys/bus/pci/devices/$HOSTNIC/driver_override
  capture netdevs.rollback pci_netdevs

  # vfio-pci absent and not loadable (no modules.dep in this initramfs): fails, nothing changed.
  rmmod vfio-pci 2>/dev/null
  capture bind.nomodule hostpass bind $OWN
  capture state.nomodule pci_state
  insmod /lib/modules/vfio-pci.ko

  # Crash recovery: SIGKILL `hostpass bind` at a point between its writes, then `recover`.
  # "journal": as soon as the journal exists (written before the first sysfs write);
  # "override": as soon as driver_override reads vfio-pci (after the first sysfs write).
  # Wherever the kill lands, afterwards the device is on e1000e or (bind finished) vfio-pci,
  # never driverless, and no journal is left.
  for point in journal override; do
    hostpass bind $OWN >/dev/null 2>&1 &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
      if [ $point = journal ] && [ -e /var/lib/hostpass/journal.json ]; then break; fi
      if [ $point = override ] &&
        [ "$(cat /sys/bus/pci/devices/$OWN/driver_override)" = vfio-pci ]; then break; fi
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    capture crash.$point.killed pci_state
    capture crash.$point.journal ls /var/lib/hostpass
    capture crash.$point.recover hostpass recover
    capture crash.$point.recovered pci_state
    capture crash.$point.override cat /sys/bus/pci/devices/$OWN/driver_override
    capture crash.$point.journal-after ls /var/lib/hostpass
    hostpass unbind $OWN >/dev/null 2>&1
  done
  capture state.crash.end pci_state
fi
