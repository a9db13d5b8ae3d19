# topologies/mdev.sh — sourced by boot.sh: a mediated-device parent on the real kernel.
# QEMU emulates no mdev parent and Debian ships none, so the guest gets the kernel's own sample
# driver mtty (samples/vfio-mdev/mtty.c, built for exactly this kernel by build_mtty.sh): a
# virtual parent "mtty" (/sys/devices/virtual/mtty/mtty) with types mtty-1 ("Single port
# serial") and mtty-2 ("Dual port serial") sharing 24 ports. The scenario insmods it after the
# initramfs's own modules (vfio, vfio_iommu_type1, ..., mdev), on which it depends.
#   00:02.0 root port → 01:00.0 e1000e   (a PCI device beside the mdevs, own IOMMU group)
# intel_iommu=on as on a vGPU host; mdev instances get emulated IOMMU groups either way.
mtty_ko=$(HOSTPASS_KERNEL_DIR="$kdir" "$here/build_mtty.sh")
topo_args=(-device intel-iommu,intremap=on
  -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
  -device e1000e,bus=rp1,id=nic_own)
cmdline="$base_cmdline intel_iommu=on"
initramfs_extra=("$mtty_ko=/lib/modules/extra/mtty.ko")
