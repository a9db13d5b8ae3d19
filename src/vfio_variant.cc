// vfio_variant.cc — see vfio_variant.h.
#include "vfio_variant.h"

#include <fnmatch.h>

#include <algorithm>

#include "module_alias.h"
#include "pci_device.h"
#include "preflight.h"
#include "vfio_rules.h"

namespace hostpass {

namespace {

constexpr std::string_view kPrefix = "vfio_pci:";

// Fields of "v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" given exactly: file2alias.c's ADD()
// writes a field's value, or "*" when the id_table entry leaves it open (PCI_ANY_ID, or a class
// mask that does not cover it).
int count_exact_fields(std::string_view pattern) {
  static constexpr std::string_view kFields[] = {"v", "d", "sv", "sd", "bc", "sc", "i"};
  int n = 0;
  size_t pos = kPrefix.size();
  for (size_t f = 0; f < std::size(kFields); ++f) {
    if (pattern.substr(pos, kFields[f].size()) != kFields[f]) return n;
    pos += kFields[f].size();
    // The value runs to the next field's name (or the end); "*" alone means open.
    size_t end = f + 1 < std::size(kFields) ? pattern.find(kFields[f + 1], pos) : pattern.size();
    if (end == std::string_view::npos) end = pattern.size();
    std::string_view value = pattern.substr(pos, end - pos);
    if (!value.empty() && value.find_first_of("*?[") == std::string_view::npos) ++n;
    pos = end;
  }
  return n;
}

bool module_holds_vfio_pci_core(Host& host, std::string_view module) {
  return host.exists("/sys/module/vfio_pci_core/holders/" + std::string(module));
}

// The module of a bound driver, from /sys/bus/pci/drivers/<driver>/module; none for a built-in
// driver without one.
std::optional<std::string> driver_module(Host& host, std::string_view driver) {
  auto target = host.read_link("/sys/bus/pci/drivers/" + std::string(driver) + "/module");
  if (!target.ok()) return std::nullopt;
  return base_name(*target);
}

// Module names compare with '-' and '_' alike (kmod's modname normalization).
std::string normalize_module(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

std::vector<VfioAlias> parse_vfio_aliases(std::string_view text) {
  std::vector<VfioAlias> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // "alias vfio_pci:<pattern> <module>", exactly three fields.
    if (!line.starts_with("alias vfio_pci:")) continue;
    size_t sp = line.find(' ', 6);
    if (sp == std::string_view::npos) continue;
    std::string_view module = trim(line.substr(sp + 1));
    if (module.empty() || module.find_first_of(" \t") != std::string_view::npos) continue;
    VfioAlias a;
    a.pattern = std::string(line.substr(6, sp - 6));
    a.module = std::string(module);
    a.exact_fields = count_exact_fields(a.pattern);
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<VfioAlias>> read_vfio_aliases(Host& host) {
  auto release = read_kernel_release(host);
  if (!release) return not_found("the kernel release is unknown (/proc/sys/kernel/osrelease)");
  auto text = host.read_file("/lib/modules/" + *release + "/modules.alias", 32 << 20);
  if (!text.ok()) return text.error();
  return parse_vfio_aliases(*text);
}

std::string vfio_driver_for_module(std::string_view module) {
  std::string m = normalize_module(module);
  return m == "vfio_pci" ? "vfio-pci" : m;
}

std::string VfioDriverChoice::reason() const {
  if (!alias) return "no variant driver: vfio-pci";
  return alias->line() + " (" + std::to_string(alias->exact_fields) + " of 7 fields exact)";
}

VfioDriverChoice choose_vfio_driver(const std::vector<VfioAlias>& aliases,
                                    const PciDevice& device) {
  VfioDriverChoice choice;
  auto modalias = pci_modalias(device);
  if (!modalias) return choice;
  // The aliases' form of the modalias: "vfio_pci:v..." for "pci:v...".
  std::string target = std::string(kPrefix) + modalias->substr(4);
  const VfioAlias* best = nullptr;
  for (const VfioAlias& a : aliases) {
    if (fnmatch(a.pattern.c_str(), target.c_str(), 0) != 0) continue;
    if (!best || a.exact_fields > best->exact_fields) best = &a;  // a tie keeps the first
  }
  // vfio_pci's own catch-all entry matching is the same answer as no match: vfio-pci.
  if (!best || normalize_module(best->module) == "vfio_pci") return choice;
  choice.alias = *best;
  choice.module = best->module;
  choice.driver = vfio_driver_for_module(best->module);
  return choice;
}

Result<VfioDriverChoice> choose_vfio_driver(Host& host, const PciAddress& address) {
  auto device = read_pci_device(host, address, Detail::Basic);
  if (!device.ok()) return device.error();
  auto aliases = read_vfio_aliases(host);
  if (!aliases.ok()) return VfioDriverChoice{};
  return choose_vfio_driver(*aliases, *device);
}

Result<std::string> resolve_bind_driver(Host& host, const std::vector<PciAddress>& addresses,
                                        const std::string& requested) {
  if (requested != kAutoDriver) return requested;
  std::optional<std::string> driver;
  std::string first;
  for (const PciAddress& a : addresses) {
    auto c = choose_vfio_driver(host, a);
    if (!c.ok()) return c.error();
    if (driver && *driver != c->driver)
      return refused("--driver auto picks " + *driver + " for " + first + " but " + c->driver +
                     " for " + a.to_string() + " (" + c->reason() +
                     "): one bind has one driver; bind them separately");
    if (!driver) {
      driver = c->driver;
      first = a.to_string();
    }
  }
  return driver.value_or("vfio-pci");
}

bool is_vfio_driver(Host& host, std::string_view driver) {
  VfioDriverKnowledge k(host);
  return k.is_vfio(driver);
}

bool VfioDriverKnowledge::is_vfio(std::string_view driver) {
  if (driver == "vfio-pci") return true;
  for (const auto& [name, answer] : known_)
    if (name == driver) return answer;
  std::string module = normalize_module(driver_module(host_, driver).value_or(std::string(driver)));
  bool answer = module == "vfio_pci" || module_holds_vfio_pci_core(host_, module);
  if (!answer) {
    if (!alias_modules_) {
      alias_modules_.emplace();
      if (auto aliases = read_vfio_aliases(host_); aliases.ok())
        for (const VfioAlias& a : *aliases) alias_modules_->push_back(normalize_module(a.module));
    }
    answer =
        std::find(alias_modules_->begin(), alias_modules_->end(), module) != alias_modules_->end();
  }
  known_.emplace_back(std::string(driver), answer);
  return answer;
}

}  // namespace hostpass
