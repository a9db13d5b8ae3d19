# scenario_mdev.sh — boot "mdev" of the kernel tier (topologies/mdev.sh): hostpass's mdev
# commands and `verify` on the kernel's sample mdev parent mtty. Acts and captures; the
# assertions are in ../kernel_mdev_test.cc, one test per scenario.
. /lib/hostpass-tier.sh
P=mtty                                      # the parent (mtty's device name)
U1=11111111-2222-4333-8444-555555555501     # mtty-1, created by type id
U2=11111111-2222-4333-8444-555555555502     # mtty-2, created by the type's name
U3=11111111-2222-4333-8444-555555555503     # mtty-2 beyond the available instances: refused
TD=/sys/class/mdev_bus/$P/mdev_supported_types

# The kernel's view, one line per type: PARENT|TYPE|NAME|DEVICE_API|AVAILABLE|DESCRIPTION
# (DESCRIPTION "-" when the attribute does not exist).
mdev_types_sysfs() {
  for p in /sys/class/mdev_bus/*; do
    for t in "$p"/mdev_supported_types/*; do
      d=-
      [ -e "$t/description" ] && d=$(cat "$t/description")
      echo "$(basename "$p")|$(basename "$t")|$(cat "$t/name")|$(cat "$t/device_api")|$(cat "$t/available_instances")|$d"
    done
  done
}
# One line per instance: UUID PARENT TYPE IOMMU_GROUP DEV_VFIO_NODE(yes|no)
mdev_instances_sysfs() {
  for m in /sys/bus/mdev/devices/*; do
    [ -e "$m" ] || continue
    u=$(basename "$m")
    g=none
    [ -e "$m/iommu_group" ] && g=$(basename "$(readlink "$m/iommu_group")")
    node=no
    [ -c "/dev/vfio/$g" ] && node=yes
    echo "$u $(basename "$(dirname "$(readlink -f "$m")")") $(basename "$(readlink "$m/mdev_type")") $g $node"
  done | sort
}
# Every mdevctl definition: "PATH" then its exact bytes, then "|EOF" (mdevctl writes no final
# newline, so a file without one ends in "}|EOF").
mdevctl_files() {
  for f in $(find /etc/mdevctl.d -type f 2>/dev/null | sort); do
    echo "$f"
    cat "$f"
    echo "|EOF"
  done
}
count_instances() { ls /sys/bus/mdev/devices 2>/dev/null | wc -l; }

# --- the sample parent: mtty.ko after the initramfs's modules (vfio ... mdev) ----------------
capture mtty.tainted.before cat /proc/sys/kernel/tainted
capture mtty.insmod insmod /lib/modules/extra/mtty.ko
capture mtty.tainted.after cat /proc/sys/kernel/tainted
capture mtty.lsmod lsmod
capture mtty.dmesg sh -c "dmesg | grep -E 'mtty|taint' | sed 's/^\[[ 0-9.]*\] //'"
capture mtty.parent readlink -f /sys/class/mdev_bus/$P

# --- types: hostpass mdev types vs mdev_supported_types -------------------------------------
capture types.sysfs.initial mdev_types_sysfs
capture types.text hostpass mdev types
capture_stdout types.json hostpass --json mdev types
capture types.parent.json hostpass --json mdev types --parent $P

# --- create: by type id, by name; beyond available_instances ---------------------------------
capture create.u1 hostpass mdev create --parent $P --type mtty-1 --uuid $U1
capture instances.after-u1 mdev_instances_sysfs
capture types.sysfs.after-u1 mdev_types_sysfs
capture type-devices.after-u1 ls $TD/mtty-1/devices
capture_stdout create.u2.json hostpass --json mdev create --parent $P --type "Dual port serial" --uuid $U2
capture instances.after-u2 mdev_instances_sysfs
capture types.sysfs.after-u2 mdev_types_sysfs
capture mdevctl.after-u2 mdevctl_files
capture list.text hostpass mdev list
capture_stdout list.json hostpass --json mdev list

# Fill the shared port pool with raw writes (as `echo UUID > create` would), until mtty-2 has
# no available instance, then ask hostpass for one more: refused, nothing changed.
n=0
while [ "$(cat $TD/mtty-2/available_instances)" -gt 0 ] && [ $n -lt 30 ]; do
  n=$((n + 1))
  echo "22222222-0000-4000-8000-0000000000$(printf %02d $n)" > $TD/mtty-2/create
done
capture full.filled echo $n
capture instances.full.before mdev_instances_sysfs
capture types.sysfs.full mdev_types_sysfs
capture mdevctl.full.before mdevctl_files
capture create.full hostpass mdev create --parent $P --type mtty-2 --uuid $U3
capture instances.full.after mdev_instances_sysfs
capture types.sysfs.full.after mdev_types_sysfs
capture mdevctl.full.after mdevctl_files
for m in /sys/bus/mdev/devices/22222222-*; do echo 1 > "$m/remove"; done
capture instances.unfilled mdev_instances_sysfs

# --- verify on a real mdev (the kernel's VFIO with an emulated IOMMU group) ------------------
capture verify.u1 hostpass verify $U1
capture_stdout verify.u2.json hostpass --json verify $U2
capture verify.unknown hostpass verify 11111111-2222-4333-8444-5555555555ff

# --- remove ------------------------------------------------------------------------------------
capture remove.u2 hostpass mdev remove $U2
capture instances.after-remove mdev_instances_sysfs
capture types.sysfs.after-remove mdev_types_sysfs
capture mdevctl.after-remove mdevctl_files
capture remove.u1 hostpass mdev remove $U1
capture instances.empty mdev_instances_sysfs
capture mdevctl.empty mdevctl_files

# --- apply: what KubeVirt's virt-handler would create, then a re-run -------------------------
cat > /tmp/kubevirt-mtty2.yaml <<'YAML'
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    developerConfiguration:
      featureGates:
      - GPU
      - HostDevices
    mediatedDevicesConfiguration:
      mediatedDeviceTypes:
      - mtty-2
    permittedHostDevices:
      mediatedDevices:
      - mdevNameSelector: Dual port serial
        resourceName: example.org/mtty-dual
      - mdevNameSelector: Single port serial
        resourceName: example.org/mtty-single
YAML
capture types.sysfs.before-apply mdev_types_sysfs
capture apply.first hostpass mdev apply -f /tmp/kubevirt-mtty2.yaml
capture instances.apply.first mdev_instances_sysfs
capture types.sysfs.apply.first mdev_types_sysfs
capture mdevctl.apply.first mdevctl_files
capture apply.second hostpass mdev apply -f /tmp/kubevirt-mtty2.yaml
capture_stdout apply.second.json hostpass --json mdev apply -f /tmp/kubevirt-mtty2.yaml --dry-run
capture instances.apply.second mdev_instances_sysfs

# --- inventory: the mediatedDevices resources count the real instances -----------------------
capture_stdout inventory.json hostpass --json inventory -f /tmp/kubevirt-mtty2.yaml
capture inventory.text hostpass inventory -f /tmp/kubevirt-mtty2.yaml

# --- apply with a type no longer configured: KubeVirt removes the undesired instances --------
sed 's/- mtty-2$/- mtty-1/' /tmp/kubevirt-mtty2.yaml > /tmp/kubevirt-mtty1.yaml
# One mtty-2 instance held open the way QEMU holds it (its VFIO group), so it is in use.
held=$(ls /sys/bus/mdev/devices | sort | head -1)
held_group=$(basename "$(readlink /sys/bus/mdev/devices/$held/iommu_group)")
sleep 600 7<>/dev/vfio/$held_group &
holder=$!
sleep 1
capture held.instance echo "$held $held_group $holder"
capture_stdout apply.switch.held.json hostpass --json mdev apply -f /tmp/kubevirt-mtty1.yaml
capture instances.switch.held mdev_instances_sysfs
capture mdevctl.switch.held mdevctl_files
kill $holder
wait $holder 2>/dev/null
capture apply.switch hostpass mdev apply -f /tmp/kubevirt-mtty1.yaml
capture instances.switch mdev_instances_sysfs
capture types.sysfs.switch mdev_types_sysfs
capture mdevctl.switch.count sh -c "find /etc/mdevctl.d -type f | wc -l"
capture mdevctl.switch.types sh -c "cat /etc/mdevctl.d/$P/* | grep mdev_type | sort | uniq -c"
capture apply.switch.again hostpass mdev apply -f /tmp/kubevirt-mtty1.yaml
capture instances.switch.again mdev_instances_sysfs
