# topologies/nodmar.sh — sourced by boot.sh: firmware without VT-d (no intel-iommu device, so no
# ACPI DMAR table), booted WITH intel_iommu=on iommu=pt: the argument has nothing to enable, and
# `check` must send the user to the firmware setup instead.
#   00:02.0 root port → 01:00.0 e1000e
topo_args=(-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
  -device e1000e,bus=rp1,id=nic_own)
cmdline="$base_cmdline intel_iommu=on iommu=pt"
