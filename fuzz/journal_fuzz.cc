// journal_fuzz — the bind journal parser (vfio_bind.h parse_journal) never crashes, and whatever
// it accepts can only steer `recover` to writes under /sys/bus/pci: canonical addresses and
// driver names without '/' or "..".
#include <cstdint>
#include <cstdlib>
#include <string>

#include "vfio_bind.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto j = hostpass::parse_journal("/var/lib/hostpass/journal.json", s);
  if (!j.ok()) return 0;
  for (const hostpass::JournalEntry& e : j->devices) {
    std::string a = e.address.to_string();
    auto again = hostpass::PciAddress::parse_full(a);
    if (!again.ok() || !(*again == e.address) || a.find('/') != std::string::npos) std::abort();
    for (const auto& name : {e.driver, e.driver_override}) {
      if (!name) continue;
      if (!hostpass::validate_driver_name(*name).ok()) std::abort();
      if (name->find('/') != std::string::npos || *name == "..") std::abort();
    }
  }
  return 0;
}
