# topologies/noiommu.sh — sourced by boot.sh: the same kernel and virtual IOMMU booted with
# intel_iommu=off (VT-d present, not enabled).
#   00:02.0 root port → 01:00.0 e1000e
topo_args=(-device intel-iommu,intremap=on
  -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
  -device e1000e,bus=rp1,id=nic_own)
cmdline="$base_cmdline intel_iommu=off"
