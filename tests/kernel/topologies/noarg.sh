# topologies/noarg.sh — sourced by boot.sh: VT-d in the firmware (QEMU's intel-iommu puts a DMAR
# table in ACPI), NO intel_iommu= argument, and QEMU's default TCG CPU, whose vendor string is
# AuthenticAMD. Debian's kernel is built with CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y, so VT-d
# comes up by its build default; `check` must judge it by the DMAR unit, not by the CPU vendor.
# The kernel's build config goes into the guest's /boot, as a distribution installs it.
#   00:02.0 root port → 01:00.0 e1000e
topo_args=(-device intel-iommu,intremap=on
  -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
  -device e1000e,bus=rp1,id=nic_own)
cmdline="$base_cmdline"
cpu=qemu64
initramfs_extra=("$kdir/tree/boot/config-$release=/boot/config-$release")
