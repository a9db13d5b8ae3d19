// apply_config_fuzz — parse_apply_config (apply_config.h) never crashes, and what it accepts is
// what the file format allows: each rule names a full address or a vendor:device selector (never
// both, never neither), count and numa_node only on selectors, count positive. The addresses it
// read survive the round trip through render_apply_config, the file `persist` writes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "apply_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = hostpass::parse_apply_config(text, "fuzz.yaml");
  if (!c.ok()) {
    if (c.error().kind != hostpass::ErrorKind::InvalidInput) std::abort();
    return 0;
  }
  std::vector<hostpass::PciAddress> addresses;
  for (const hostpass::ApplyRule& r : c->rules) {
    bool selector = r.vendor.has_value() && r.device.has_value();
    if (r.vendor.has_value() != r.device.has_value()) std::abort();
    if (r.address.has_value() == selector || r.line < 1 || r.driver.empty()) std::abort();
    if (r.address && (r.count || r.numa_node)) std::abort();
    if ((r.count && *r.count < 1) || (r.numa_node && *r.numa_node < 0)) std::abort();
    if (r.address) addresses.push_back(*r.address);
  }
  auto again = hostpass::parse_apply_config(hostpass::render_apply_config(addresses, "vfio-pci"),
                                            "rendered.yaml");
  if (!again.ok() || again->rules.size() != addresses.size()) std::abort();
  for (size_t i = 0; i < addresses.size(); ++i)
    if (!again->rules[i].address || !(*again->rules[i].address == addresses[i]) ||
        again->rules[i].driver != "vfio-pci")
      std::abort();
  return 0;
}
