// twin_devices_host.cc — see twin_devices_host.h.
#include "twin_devices_host.h"

namespace hostpass::testing {

void build_twin_devices_host(FixtureTree& t) {
  PciSpec s;
  s.address = "0000:00:00.0";
  s.vendor = 0x8086;
  s.device = 0x29c0;
  s.class_code = 0x060000;
  s.iommu_group = 0;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  for (int i = 0; i < 2; ++i) {
    s = {};
    s.address = i == 0 ? "0000:01:00.0" : "0000:02:00.0";
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = 0x030200;
    s.driver = "nvidia";
    s.iommu_group = 1 + i;
    t.add_pci(s);
  }
  const char* nvme[] = {"0000:04:00.0", "0000:05:00.0", "0000:06:00.0"};
  for (int i = 0; i < 3; ++i) {
    s = {};
    s.address = nvme[i];
    s.vendor = 0x8086;
    s.device = 0x5845;
    s.class_code = 0x010802;
    s.driver = "nvme";
    s.iommu_group = 4 + i;
    t.add_pci(s);
    std::string n = std::to_string(i);
    t.add_disk(nvme[i], "nvme/nvme" + n, "nvme" + n + "n1", 259, 10 * i,
               {"nvme" + n + "n1p1", "nvme" + n + "n1p2"});
  }
  t.add_mount("/dev/nvme0n1p2", "259:2", "/");
  const char* nic[] = {"0000:00:19.0", "0000:00:1a.0"};
  for (int i = 0; i < 2; ++i) {
    s = {};
    s.address = nic[i];
    s.vendor = 0x8086;
    s.device = 0x10d3;
    s.class_code = 0x020000;
    s.driver = "e1000e";
    s.iommu_group = 7 + i;
    t.add_pci(s);
    t.add_net(nic[i], "", i == 0 ? "eth0" : "eth1", i == 0);
  }
  t.set_default_route("eth0");
  t.add_driver("vfio-pci");
  t.add_iommu("dmar0");
  t.add_acpi_table("DMAR");
  t.mkdir("/var/lib/hostpass");
  t.write("/dev/vfio/vfio", "");
  t.set_kernel_release("6.1.0-13-amd64");
  t.write("/lib/modules/6.1.0-13-amd64/modules.alias",
          "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
          "alias pci:v000010DEd00001EB8sv*sd*bc03sc02i00* nvidia\n"
          "alias pci:v*d*sv*sd*bc01sc08i02* nvme\n"
          "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
  t.set_cmdline("BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro intel_iommu=on");
  t.set_cpuinfo("GenuineIntel", "fpu vme de pse tsc msr pae vmx ept");
  t.set_modules(
      {"vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio", "nvidia", "nvme", "e1000e"});
}

}  // namespace hostpass::testing
