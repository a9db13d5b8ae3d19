// user_ids_fuzz — the small parsers of ids users type and kernel attributes hold, each a round
// trip: what a parser accepts, printed in its canonical form, parses back to the same value.
//   parse_vfio_ids (kernel_args.h)      --vfio-ids: lowercase VVVV:DDDD, deduplicated
//   parse_lspci_filters (opennebula_probe.h)  pci.conf :filter / lspci -d lists
//   parse_usb_unit_id (vm_unit.h)       usb-<port>[+<port>...]
//   parse_guard_name (guard.h)          --force names
//   parse_driver_override (vfio_rules.h) <dev>/driver_override's text
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "guard.h"
#include "kernel_args.h"
#include "opennebula_probe.h"
#include "vfio_rules.h"
#include "vm_unit.h"

namespace {

std::string hex(const std::optional<uint16_t>& v) {
  if (!v) return "";
  char b[8];
  std::snprintf(b, sizeof b, "%x", *v);
  return b;
}

std::string filter_text(const hostpass::LspciFilter& f) {
  std::string out = hex(f.vendor) + ":" + hex(f.device) + ":" + hex(f.class_code);
  if (f.prog_if) out += ":" + hex(*f.prog_if);
  return out;
}

bool same(const hostpass::LspciFilter& a, const hostpass::LspciFilter& b) {
  return a.vendor == b.vendor && a.device == b.device && a.class_code == b.class_code &&
         a.prog_if == b.prog_if;
}

void vfio_ids(std::string_view text) {
  auto ids = hostpass::parse_vfio_ids(text);
  if (!ids.ok()) return;
  for (const std::string& id : *ids) {
    if (id.size() != 9 || id[4] != ':') std::abort();
    for (char c : id)
      if (c != ':' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) std::abort();
  }
  auto again = hostpass::parse_vfio_ids(hostpass::join(*ids, ","));
  if (!again.ok() || *again != *ids) std::abort();
}

void lspci_filters(std::string_view text) {
  auto filters = hostpass::parse_lspci_filters(text);
  if (!filters.ok()) return;
  std::vector<std::string> printed;
  for (const hostpass::LspciFilter& f : *filters) printed.push_back(filter_text(f));
  auto again = hostpass::parse_lspci_filters(hostpass::join(printed, ","));
  if (!again.ok() || again->size() != filters->size()) std::abort();
  for (size_t i = 0; i < filters->size(); ++i)
    if (!same((*filters)[i], (*again)[i])) std::abort();
}

void usb_unit(std::string_view text) {
  auto ports = hostpass::parse_usb_unit_id(text);
  if (!ports.ok()) return;
  if (ports->empty()) std::abort();
  auto again = hostpass::parse_usb_unit_id("usb-" + hostpass::join(*ports, "+"));
  if (!again.ok() || *again != *ports) std::abort();
}

void guard_name(std::string_view text) {
  auto g = hostpass::parse_guard_name(text);
  if (!g.ok()) return;
  auto again = hostpass::parse_guard_name(hostpass::guard_name(*g));
  if (!again.ok() || *again != *g) std::abort();
}

void driver_override(std::string_view text) {
  auto d = hostpass::parse_driver_override(text);
  if (!d) return;
  if (d->empty() || *d == "(null)" || hostpass::trim(*d) != *d) std::abort();
  if (hostpass::parse_driver_override(*d + "\n") != d) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vfio_ids(text);
  lspci_filters(text);
  usb_unit(text);
  guard_name(text);
  driver_override(text);
  return 0;
}
