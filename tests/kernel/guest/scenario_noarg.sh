# scenario_noarg.sh — VT-d by the kernel's build default, no intel_iommu=, an AuthenticAMD CPU.
# Captures what the kernel shows (units, their sysfs shape, firmware tables, groups) and what
# `check` and `kernel-args` say. Assertions: ../kernel_check_test.cc (KernelNoArg).
. /lib/hostpass-tier.sh
capture vendor grep -m1 vendor_id /proc/cpuinfo
capture units ls /sys/class/iommu
capture unit.link readlink /sys/class/iommu/dmar0
capture unit.attrs ls /sys/devices/virtual/iommu/dmar0/intel-iommu
capture unit.subsystem readlink /sys/devices/virtual/iommu/dmar0/subsystem
capture tables ls /sys/firmware/acpi/tables
capture groups iommu_groups
capture check hostpass check
capture_stdout check.json hostpass --json check
capture kernel-args hostpass kernel-args
