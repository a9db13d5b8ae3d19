// pci_address_resolve.cc — see pci_address_resolve.h.
#include "pci_address_resolve.h"

#include <algorithm>
#include <string>

#include "mdev.h"

namespace hostpass {

namespace {

// True when `text` has the short form's one ':' (PciAddress::parse told the forms apart).
bool is_short_form(std::string_view text) {
  return std::count(text.begin(), text.end(), ':') == 1;
}

Result<PciAddress> pick(std::string_view text, const PciAddress& wanted,
                        const std::vector<PciAddress>& known, std::string_view where) {
  if (!is_short_form(text)) {
    if (std::find(known.begin(), known.end(), wanted) != known.end()) return wanted;
    return invalid_input("no PCI device " + wanted.to_string() + " " + std::string(where));
  }
  std::vector<PciAddress> matches;
  for (const PciAddress& a : known)
    if (a.bus == wanted.bus && a.device == wanted.device && a.function == wanted.function)
      matches.push_back(a);
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  if (matches.size() == 1) return matches.front();
  if (matches.empty())
    return invalid_input("no PCI device " + wanted.to_short_string() + " " + std::string(where) +
                         " (in any PCI domain)");
  std::vector<std::string> names;
  names.reserve(matches.size());
  for (const PciAddress& a : matches) names.push_back(a.to_string());
  return invalid_input(wanted.to_short_string() + " is ambiguous: " + join(names, ", ") +
                       " (give the domain)");
}

}  // namespace

Result<PciAddress> resolve_pci_address_among(std::string_view text,
                                             const std::vector<PciAddress>& known,
                                             std::string_view where) {
  auto wanted = PciAddress::parse(text);
  if (!wanted.ok()) return wanted.error();
  return pick(text, *wanted, known, where);
}

Result<std::vector<PciAddress>> host_pci_addresses(Host& host) {
  std::vector<PciAddress> known;
  if (auto names = host.list_dir(kPciDevicesDir); names.ok()) {
    for (const std::string& n : *names)
      if (auto a = PciAddress::parse_full(n); a.ok()) known.push_back(*a);
  } else if (names.error().kind != ErrorKind::NotFound) {
    return names.error();  // a host that cannot be read is a failure, not bad input
  }
  return known;
}

Result<PciAddress> resolve_pci_address(Host& host, std::string_view text) {
  auto wanted = PciAddress::parse(text);
  if (!wanted.ok()) return wanted.error();
  auto known = host_pci_addresses(host);
  if (!known.ok()) return known.error();
  return pick(text, *wanted, *known, "on this host");
}

Result<std::string> resolve_mdev_parent(Host& host, std::string_view text) {
  if (PciAddress::parse(text).ok()) {
    auto a = resolve_pci_address(host, text);
    if (!a.ok()) return a.error();
    std::string name = a->to_string();
    if (host.is_dir(join_path(join_path(kPciDevicesDir, name), "mdev_supported_types")) ||
        host.exists(join_path(kMdevBusClassDir, name)))
      return name;
    return invalid_input(name + " is not a mediated device parent (no mdev_supported_types)");
  }
  // Not a PCI address: another bus's parent, known only by its mdev_bus entry.
  if (Status s = validate_mdev_parent_name(text); !s.ok()) return s.error();
  std::string name(text);
  if (host.exists(join_path(kMdevBusClassDir, name))) return name;
  return invalid_input("no mediated device parent '" + name + "' on this host (not in " +
                       kMdevBusClassDir + ", and not a PCI address such as 0000:01:00.0)");
}

}  // namespace hostpass
