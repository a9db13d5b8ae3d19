# hostpass-tier.sh — helpers for the guest scenario scripts (busybox sh), sourced by /init and
# by /scenario.sh.
#
# Every line on the results channel (fd 3, the second serial port) starts with "@@HP ", so that
# the host-side checker (kernel_tier_test.cc) can ignore anything else:
#   @@HP out NAME           the output (stdout and stderr) of a captured command follows,
#   <output lines>          one per line, each prefixed by "@@| "
#   @@HP rc NAME N          its exit status
#   @@HP <anything else>    progress notes (boot, modules-loaded, done)
# Scenario scripts only act and capture; all assertions live on the host side, where they get
# exact-value messages and the whole transcript on failure.

hp_emit() { echo "@@HP $*" >&3; }

# kmod's tools, not busybox's applets of the same names: Debian's busybox-static shell runs its
# own applets before searching PATH (FEATURE_SH_STANDALONE), so /init and the scenarios reach
# kmod (/sbin/*, build_initramfs.sh) through these functions. Programs (hostpass) find kmod's
# modprobe through PATH: /init links it in /bin.
if [ -x /sbin/modprobe ]; then
  for t in modprobe depmod rmmod lsmod insmod modinfo; do eval "$t() { /sbin/$t \"\$@\"; }"; done
fi

# capture NAME CMD...: runs CMD, records its output and exit status under NAME.
capture() {
  name=$1
  shift
  "$@" >/tmp/hp.out 2>&1
  rc=$?
  echo "@@HP out $name" >&3
  sed 's/^/@@| /' /tmp/hp.out >&3
  echo "@@HP rc $name $rc" >&3
  return 0
}

# capture_stdout NAME CMD...: like capture, but only stdout goes under NAME (for JSON); stderr
# is captured as NAME.stderr.
capture_stdout() {
  name=$1
  shift
  "$@" >/tmp/hp.out 2>/tmp/hp.err
  rc=$?
  echo "@@HP out $name" >&3
  sed 's/^/@@| /' /tmp/hp.out >&3
  echo "@@HP rc $name $rc" >&3
  echo "@@HP out $name.stderr" >&3
  sed 's/^/@@| /' /tmp/hp.err >&3
  echo "@@HP rc $name.stderr $rc" >&3
  return 0
}

# sysfs views, captured as plain text ---------------------------------------------------------

# The driver a PCI function is bound to ("none" when unbound).
pci_driver() {
  if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
    basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
  else
    echo none
  fi
}

# The IOMMU group number of a PCI function ("none" without one).
pci_group() {
  if [ -e "/sys/bus/pci/devices/$1/iommu_group" ]; then
    basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
  else
    echo none
  fi
}

# "GROUP ADDR" for every member of every IOMMU group, as the kernel lists them.
iommu_groups() {
  for g in /sys/kernel/iommu_groups/*; do
    [ -d "$g/devices" ] || continue
    for d in "$g"/devices/*; do echo "$(basename "$g") $(basename "$d")"; done
  done | sort
}

# "ADDR DRIVER GROUP" for every PCI function.
pci_state() {
  for d in /sys/bus/pci/devices/*; do
    a=$(basename "$d")
    echo "$a $(pci_driver "$a") $(pci_group "$a")"
  done
}

# Network interfaces that sit on a PCI function: "ADDR IFNAME".
pci_netdevs() {
  for n in /sys/class/net/*; do
    [ -e "$n/device" ] || continue
    echo "$(basename "$(readlink "$n/device")") $(basename "$n")"
  done | sort
}

# Raw sysfs binding, exactly as the seeds tell operators to do it (driver_override, unbind,
# drivers_probe). Used to prepare states for `verify` while the bind engine is not in use.
raw_bind() {  # ADDR DRIVER
  echo "$2" > "/sys/bus/pci/devices/$1/driver_override"
  if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
    echo "$1" > "/sys/bus/pci/devices/$1/driver/unbind"
  fi
  echo "$1" > /sys/bus/pci/drivers_probe
}
raw_unbind() {  # ADDR: back to the host driver
  echo > "/sys/bus/pci/devices/$1/driver_override"
  if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
    echo "$1" > "/sys/bus/pci/devices/$1/driver/unbind"
  fi
  echo "$1" > /sys/bus/pci/drivers_probe
}
