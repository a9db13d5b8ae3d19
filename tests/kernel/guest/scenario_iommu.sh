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

  # vfio-pci absent and not loadable: unloaded, its object moved out of /lib/modules and
  # depmod re-run, so kmod's modprobe finds no such module. bind fails, nothing changed.
  VFIO_KO=/lib/modules/$(uname -r)/kernel/drivers/vfio/pci/vfio-pci.ko
  rmmod vfio-pci 2>/dev/null
  mv $VFIO_KO /tmp/vfio-pci.ko && depmod
  capture modprobe.nomodule modprobe -n vfio-pci
  capture bind.nomodule hostpass bind $OWN
  capture state.nomodule pci_state
  mv /tmp/vfio-pci.ko $VFIO_KO && depmod
  # vfio-pci not loaded but loadable: `hostpass bind` loads it (kmod's modprobe) and binds.
  capture lsmod.loadable.before lsmod
  capture bind.loadable hostpass bind $OWN
  capture state.loadable pci_state
  capture lsmod.loadable.after lsmod
  hostpass unbind $OWN >/dev/null 2>&1
  # A driver whose module kmod cannot find (DPDK's igb_uio is not in Debian's kernel): the bind
  # engine's own modprobe fails, with kmod's reason, before any write.
  capture bind.nodriver hostpass bind --driver igb_uio $OWN
  capture state.nodriver pci_state

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

# --- apply, the ledger, persist --write (assertions: ../kernel_mutate_test.cc) --------------
mkdir -p /etc/hostpass-tier
MF0=0000:05:00.0
yaml() {  # FILE ADDR [DRIVER]: a one-device hostpass.yaml (docs/apply.md)
  { echo "version: 1"; echo "devices:"; echo "  - address: \"$2\""
    [ -n "$3" ] && echo "    driver: $3"; } >"$1"
}

# apply: converge, converge again (nothing to do), a changed file returns the device.
yaml /etc/hostpass-tier/own.yaml $OWN
yaml /etc/hostpass-tier/own-host.yaml $OWN host
yaml /etc/hostpass-tier/mf0.yaml $MF0
capture state.apply.before pci_state
capture apply.own hostpass apply -f /etc/hostpass-tier/own.yaml
capture state.apply.own pci_state
capture devvfio.apply.own ls /dev/vfio
capture apply.own.again hostpass apply -f /etc/hostpass-tier/own.yaml
capture state.apply.own.again pci_state
capture override.apply.own.again cat /sys/bus/pci/devices/$OWN/driver_override
capture apply.own.host hostpass apply -f /etc/hostpass-tier/own-host.yaml
capture state.apply.own.host pci_state
capture override.apply.own.host cat /sys/bus/pci/devices/$OWN/driver_override
capture netdevs.apply.own.host pci_netdevs
# One function of a shared group, without its sibling: refused, nothing changed.
capture state.apply.mf0.before pci_state
capture apply.mf0 hostpass apply -f /etc/hostpass-tier/mf0.yaml
capture state.apply.mf0.after pci_state
capture statedir.apply.mf0 ls -A /var/lib/hostpass

# The ledger: assign, a second owner refused, release; then a KubeVirt resource's unit.
capture assign.own hostpass assign $OWN --vm vm1
capture state.assign.own pci_state
capture_stdout assignments.own.json hostpass --json assignments
capture assign.own.vm2 hostpass assign $OWN --vm vm2
capture state.assign.own.vm2 pci_state
capture_stdout assignments.own.vm2.json hostpass --json assignments
capture release.own hostpass release $OWN
capture state.release.own pci_state
capture netdevs.release.own pci_netdevs
capture_stdout assignments.released.json hostpass --json assignments
cat >/etc/hostpass-tier/kubevirt-cr.yaml <<'EOF'
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: "8086:100E"
        resourceName: "intel.com/82540EM"
EOF
# A resource's units are the healthy ones, as KubeVirt's device plugin counts them: devices on
# vfio-pci. On e1000 there is none; bound (the whole group), the group is one unit.
capture assign.resource.unbound hostpass assign intel.com/82540EM --vm vm3 -f /etc/hostpass-tier/kubevirt-cr.yaml
capture state.assign.resource.unbound pci_state
capture bind.resource hostpass bind --group $LEGA
capture assign.resource hostpass assign intel.com/82540EM --vm vm3 -f /etc/hostpass-tier/kubevirt-cr.yaml
capture state.assign.resource pci_state
capture_stdout assignments.resource.json hostpass --json assignments --vm vm3
capture assign.resource.vm4 hostpass assign intel.com/82540EM --vm vm4 -f /etc/hostpass-tier/kubevirt-cr.yaml
capture verify.assign.resource hostpass verify $LEGA $LEGB
# Released, a device that was on vfio-pci before its assignment stays there (docs/ledger.md).
capture release.resource hostpass release --vm vm3
capture state.release.resource pci_state
capture_stdout assignments.resource.released.json hostpass --json assignments
hostpass unbind $LEGA $LEGB >/dev/null 2>&1

# persist: ids= catches every device with the id (printed only: the warning names them all).
hostpass bind $OWN >/dev/null 2>&1
capture_stdout persist.own.modprobe hostpass persist --format modprobe
# The next-boot guard (src/next_boot_guard.h) on two identical e1000e NICs, one of them up:
# HOSTNIC is set IFF_UP through its sysfs flags (dev_change_flags), so ids=8086:10d3 would take
# the host's up NIC at boot: refused naming it; by address (driverctl) is accepted.
hostnic_flags=/sys/bus/pci/devices/$HOSTNIC/net/$(ls /sys/bus/pci/devices/$HOSTNIC/net)/flags
hostnic_down=$(cat "$hostnic_flags")
printf '0x%x\n' $((hostnic_down | 1)) >"$hostnic_flags"
capture netflags.hostnic.up cat "$hostnic_flags"
capture persist.twin.modprobe hostpass persist --format modprobe
capture persist.twin.driverctl hostpass persist --format driverctl
echo "$hostnic_down" >"$hostnic_flags"
hostpass unbind $OWN >/dev/null 2>&1
# persist --write with the e1000 group on vfio-pci (8086:100e: no other device has that id),
# and a systemd unit applying own.yaml at boot. The files travel to the "reboot" boot through
# the "persisted:PATH" captures (topologies/reboot.sh extracts them into its initramfs).
capture bind.persist hostpass bind --group $LEGA
capture state.persist pci_state
capture persist.modprobe hostpass persist --format modprobe --write
capture persist.driverctl hostpass persist --format driverctl --write
capture persist.udev hostpass persist --format udev --write
capture persist.systemd hostpass persist --format systemd -f /etc/hostpass-tier/own.yaml \
  --hostpass-bin /usr/bin/hostpass --write
for f in /etc/modprobe.d/vfio.conf /etc/modules-load.d/vfio-pci.conf \
  /etc/driverctl.d/pci-$LEGA /etc/driverctl.d/pci-$LEGB /etc/udev/rules.d/70-hostpass-vfio.rules \
  /etc/systemd/system/hostpass.service /etc/hostpass/hostpass.yaml; do
  capture "persisted:$f" cat "$f"
done
capture persist.files sh -c 'find /etc/modprobe.d /etc/modules-load.d /etc/driverctl.d /etc/udev /etc/systemd /etc/hostpass -type f | sort'
hostpass unbind $LEGA $LEGB >/dev/null 2>&1
capture state.mutate.end pci_state
