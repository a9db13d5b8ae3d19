# scenario_noiommu.sh — the same kernel booted with intel_iommu=off (VT-d present, not enabled).
# Captures what `check` and `verify` say where no IOMMU groups exist.
. /lib/hostpass-tier.sh
NIC=0000:01:00.0
capture groups iommu_groups
capture state pci_state
capture check hostpass check
capture_stdout check.json hostpass --json check
capture verify hostpass verify $NIC
