// kernel_modules_fuzz — the readers of the kernel's module tables never crash, and one bad line
// hides no module. The fuzzed text is, at once, /proc/modules, modules.builtin, modules.dep and
// modules.alias of /lib/modules/<release> on a memory host holding one NVIDIA GPU 0000:01:00.0:
//   - modules.alias (persist.h host_module_for): the module it names is a real name (no space,
//     never vfio-pci or pci-stub); with the GPU's alias line appended, the answer is the text's
//     own first match if it had one, else the appended module;
//   - /proc/modules, modules.builtin, modules.dep (preflight.h, check modules.vfio): with vfio,
//     vfio_iommu_type1 and vfio_pci appended to any one of them, the check passes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "memory_host.h"
#include "persist.h"
#include "preflight.h"

namespace {

struct Tables {
  std::string modules, builtin, dep, alias;
};

void add_gpu(hostpass::MemoryHost& host) {
  const std::string dir = "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
  host.add_link("/sys/bus/pci/devices/0000:01:00.0",
                "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
  host.add_file(dir + "/vendor", "0x10de\n");
  host.add_file(dir + "/device", "0x1eb8\n");
  host.add_file(dir + "/subsystem_vendor", "0x10de\n");
  host.add_file(dir + "/subsystem_device", "0x12a2\n");
  host.add_file(dir + "/class", "0x030200\n");
}

hostpass::MemoryHost host_with(const Tables& t) {
  hostpass::MemoryHost host;
  const std::string lib = "/lib/modules/6.1.0-13-amd64";
  host.add_file("/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
  host.add_file("/proc/modules", t.modules);
  host.add_file(lib + "/modules.builtin", t.builtin);
  host.add_file(lib + "/modules.dep", t.dep);
  host.add_file(lib + "/modules.alias", t.alias);
  add_gpu(host);
  return host;
}

std::optional<std::string> module_for_gpu(const Tables& t) {
  hostpass::MemoryHost host = host_with(t);
  auto m = hostpass::host_module_for(host, *hostpass::PciAddress::parse_full("0000:01:00.0"));
  if (m && (m->empty() || m->find_first_of(" \t\n") != std::string::npos || *m == "vfio_pci" ||
            *m == "vfio-pci" || *m == "pci_stub"))
    std::abort();
  return m;
}

hostpass::CheckStatus vfio_modules(const Tables& t) {
  hostpass::MemoryHost host = host_with(t);
  for (const hostpass::Check& c : hostpass::host_checks(host))
    if (c.id == "modules.vfio") return c.status;
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const Tables plain{text, text, text, text};

  auto before = module_for_gpu(plain);
  Tables alias = plain;
  alias.alias += "\nalias pci:v000010DEd00001EB8sv*sd*bc03sc*i* nvidia\n";
  if (module_for_gpu(alias) != (before ? *before : std::string("nvidia"))) std::abort();

  (void)vfio_modules(plain);
  Tables loaded = plain;
  loaded.modules +=
      "\nvfio_pci 16384 0 - Live 0x0\nvfio_iommu_type1 45056 0 - Live 0x0\n"
      "vfio 45056 2 vfio_pci,vfio_iommu_type1, Live 0x0\n";
  Tables builtin = plain;
  builtin.builtin +=
      "\nkernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/vfio_iommu_type1.ko\n"
      "kernel/drivers/vfio/pci/vfio-pci.ko\n";
  Tables dep = plain;
  dep.dep +=
      "\nkernel/drivers/vfio/vfio.ko.xz:\n"
      "kernel/drivers/vfio/vfio_iommu_type1.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n"
      "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n";
  for (const Tables& t : {loaded, builtin, dep})
    if (vfio_modules(t) != hostpass::CheckStatus::Pass) std::abort();
  return 0;
}
