# scenario_nodmar.sh — firmware without VT-d, booted with intel_iommu=on iommu=pt. Captures what
# the kernel shows (no units, no DMAR table, no groups) and what `check` says.
# Assertions: ../kernel_check_test.cc (KernelNoDmar).
. /lib/hostpass-tier.sh
capture units ls /sys/class/iommu
capture tables ls /sys/firmware/acpi/tables
capture groups iommu_groups
capture check hostpass check
capture_stdout check.json hostpass --json check
