// mountinfo_fuzz — the mount table parser of host_use.h, reached as the guards reach it
// (detect_host_use on a host whose /proc/self/mountinfo is the fuzzed text, beside a virtio disk
// 0000:00:04.0 holding vda and vda1), never crashes, and:
//   - every reason, warning and "unseen" message is one printable line (the header's promise:
//     control bytes of a kernel-supplied name are shown as \ooo);
//   - one bad line hides no mount: with "/" on vda1 appended after any text, the disk is the
//     root filesystem's and the host is seen (the last "/" entry is the one that counts).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "host_use.h"
#include "memory_host.h"

namespace {

void printable_line(const std::string& s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) std::abort();
  }
}

hostpass::HostUseMap scan(const std::string& mountinfo) {
  const std::string disk = "/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda";
  hostpass::MemoryHost host;
  host.add_file("/proc/self/mountinfo", mountinfo);
  host.add_file("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
  host.add_file("/proc/net/route", "Iface\tDestination\tGateway\n");
  host.add_file("/proc/net/dev", "Inter-|   Receive\n face |bytes\n");
  host.add_dir("/sys/class/net");
  host.add_file(disk + "/dev", "254:0\n");
  host.add_file(disk + "/vda1/dev", "254:1\n");
  host.add_link("/sys/dev/block/254:0", "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda");
  host.add_link("/sys/dev/block/254:1",
                "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
  host.add_link("/sys/class/block/vda", "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda");
  host.add_link("/sys/class/block/vda1",
                "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
  return hostpass::detect_host_use(host);
}

void check_lines(const hostpass::HostUseMap& m) {
  for (const auto& [address, uses] : m.by_device)
    for (const hostpass::HostUse& u : uses) printable_line(u.detail);
  for (const std::string& w : m.warnings) printable_line(w);
  if (m.unseen) printable_line(*m.unseen);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  check_lines(scan(text));
  hostpass::HostUseMap with_root =
      scan(text + "\n26 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n");
  check_lines(with_root);
  if (with_root.unseen) std::abort();
  auto disk = hostpass::PciAddress::parse_full("0000:00:04.0");
  auto it = with_root.by_device.find(*disk);
  if (it == with_root.by_device.end()) std::abort();
  bool root = false;
  for (const hostpass::HostUse& u : it->second)
    root = root || u.kind == hostpass::HostUse::Kind::RootFilesystem;
  if (!root) std::abort();
  return 0;
}
