# topologies/iommu.sh — sourced by boot.sh: own and shared IOMMU groups, USB, intel_iommu=on.
#   00:02.0 root port → 01:00.0 e1000e          (own IOMMU group)
#   00:03.0 root port → 02:00.0 e1000e          (own IOMMU group)
#   00:04.0 root port → 03:00.0 pcie-pci-bridge → 04:01.0, 04:02.0 e1000
#                                                (one group: conventional PCI)
#   00:05.0 root port → 05:00.0, 05:00.1 e1000e (one multifunction slot, one group)
#   00:06.0 root port → 06:00.0 qemu-xhci with usb-kbd and usb-storage
truncate -s 4M "$out/usb-stick.img"
topo_args=(-device intel-iommu,intremap=on
  -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2
  -device e1000e,bus=rp1,id=nic_own
  -device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3
  -device e1000e,bus=rp2,id=nic_host
  -device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x4
  -device pcie-pci-bridge,bus=rp3,id=br1
  -device e1000,bus=br1,addr=0x1,id=legacy_a
  -device e1000,bus=br1,addr=0x2,id=legacy_b
  -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,addr=0x5
  -device e1000e,bus=rp4,addr=0x0.0,multifunction=on,id=mf0
  -device e1000e,bus=rp4,addr=0x0.1,id=mf1
  -device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,addr=0x6
  -device qemu-xhci,bus=rp5,id=xhci
  -device usb-kbd,bus=xhci.0
  -drive if=none,id=stick,format=raw,file="$out/usb-stick.img"
  -device usb-storage,bus=xhci.0,drive=stick)
cmdline="$base_cmdline intel_iommu=on"
