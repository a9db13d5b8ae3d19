// device_plugin_uevent.cc — see device_plugin_uevent.h for the kernel's uevent format.
#include "device_plugin_uevent.h"

#include "pci_address.h"

namespace hostpass {

std::string Uevent::get(const std::string& key) const {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

namespace {

// A devpath as the kernel writes it (kobject_get_path): absolute, under /devices, no empty or
// relative components.
bool plausible_devpath(std::string_view p) {
  if (p.rfind("/devices/", 0) != 0 || p.size() <= 9 || p.back() == '/') return false;
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return p.find('\0') == std::string_view::npos;
}

std::string last_component(const std::string& devpath) {
  return devpath.substr(devpath.rfind('/') + 1);
}

}  // namespace

std::optional<Uevent> parse_uevent(std::string_view d) {
  // Strings are NUL-terminated; the first is the header. libudev's messages start with
  // "libudev\0" and have no '@' in it.
  size_t end = d.find('\0');
  std::string_view header = d.substr(0, end);
  size_t at = header.find('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  Uevent ev;
  ev.action = std::string(header.substr(0, at));
  ev.devpath = std::string(header.substr(at + 1));
  if (!plausible_devpath(ev.devpath)) return std::nullopt;
  for (char c : ev.action)
    if (c < 'a' || c > 'z') return std::nullopt;
  size_t pos = end == std::string_view::npos ? d.size() : end + 1;
  while (pos < d.size()) {
    size_t next = d.find('\0', pos);
    if (next == std::string_view::npos) next = d.size();
    std::string_view kv = d.substr(pos, next - pos);
    pos = next + 1;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;  // not KEY=value: skipped
    ev.env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  // The kernel repeats the header as ACTION= and DEVPATH=; a message where they disagree was
  // not written by it.
  if (ev.env.contains("ACTION") && ev.env["ACTION"] != ev.action) return std::nullopt;
  if (ev.env.contains("DEVPATH") && ev.env["DEVPATH"] != ev.devpath) return std::nullopt;
  return ev;
}

std::optional<std::pair<std::string, std::string>> uevent_health_entry(const Uevent& ev) {
  static const char* const kActions[] = {"add", "remove", "bind", "unbind", "change", "move"};
  bool wanted = false;
  for (const char* a : kActions) wanted = wanted || ev.action == a;
  if (!wanted) return std::nullopt;
  std::string subsystem = ev.get("SUBSYSTEM");
  std::string name = last_component(ev.devpath);
  if (subsystem == "pci") {
    // The function's own name is its address (dev_set_name "%04x:%02x:%02x.%d").
    std::string slot = ev.get("PCI_SLOT_NAME");
    if (!slot.empty() && slot != name) return std::nullopt;
    if (!PciAddress::parse_full(name).ok()) return std::nullopt;
    return std::make_pair(std::string("/sys/bus/pci/devices"), name);
  }
  if (subsystem == "usb") {
    if (ev.get("DEVTYPE") != "usb_device") return std::nullopt;  // interfaces: "1-2:1.0"
    return std::make_pair(std::string("/sys/bus/usb/devices"), name);
  }
  if (subsystem == "mdev") return std::make_pair(std::string("/sys/bus/mdev/devices"), name);
  return std::nullopt;
}

}  // namespace hostpass
