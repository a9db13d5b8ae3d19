// module_alias.cc — see module_alias.h.
#include "module_alias.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>

#include "pci_device.h"
#include "preflight.h"

namespace hostpass {

std::optional<std::string> pci_modalias(const PciDevice& d) {
  if (!d.vendor || !d.device || !d.class_code) return std::nullopt;
  char b[96];
  std::snprintf(b, sizeof b, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", *d.vendor, *d.device,
                d.subsystem_vendor.value_or(0), d.subsystem_device.value_or(0),
                (*d.class_code >> 16) & 0xff, (*d.class_code >> 8) & 0xff, *d.class_code & 0xff);
  return std::string(b);
}

PciModuleAliases PciModuleAliases::parse(std::string_view text) {
  PciModuleAliases t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // "alias <pattern> <module>"
    if (line.substr(0, 10) != "alias pci:") continue;
    size_t sp = line.find(' ', 6);
    if (sp == std::string_view::npos) continue;
    std::string pattern(line.substr(6, sp - 6));
    std::string module(trim(line.substr(sp + 1)));
    if (module.empty() || module.find_first_of(" \t") != std::string::npos) continue;
    size_t index = t.entries_.size();
    // "pci:v" then 8 hex digits of vendor, unless the vendor is (part of) a glob.
    std::string vendor = pattern.size() >= 13 ? pattern.substr(5, 8) : "";
    if (vendor.size() == 8 && vendor.find_first_of("*?[") == std::string::npos) {
      std::transform(vendor.begin(), vendor.end(), vendor.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      t.vendor_[vendor].push_back(index);
    } else {
      t.any_vendor_.push_back(index);
    }
    t.entries_.push_back({std::move(pattern), std::move(module)});
  }
  return t;
}

std::vector<std::string> PciModuleAliases::modules_for(std::string_view modalias) const {
  std::vector<size_t> candidates = any_vendor_;
  if (modalias.size() >= 13)
    if (auto it = vendor_.find(std::string(modalias.substr(5, 8))); it != vendor_.end())
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  std::sort(candidates.begin(), candidates.end());
  std::string alias(modalias);
  std::vector<std::string> out;
  for (size_t i : candidates) {
    const Entry& e = entries_[i];
    if (std::find(out.begin(), out.end(), e.module) != out.end()) continue;
    if (fnmatch(e.pattern.c_str(), alias.c_str(), 0) == 0) out.push_back(e.module);
  }
  return out;
}

Result<PciModuleAliases> read_pci_module_aliases(Host& host) {
  auto release = read_kernel_release(host);
  if (!release) return not_found("the kernel release is unknown (/proc/sys/kernel/osrelease)");
  auto text = host.read_file("/lib/modules/" + *release + "/modules.alias", 32 << 20);
  if (!text.ok()) return text.error();
  return PciModuleAliases::parse(*text);
}

}  // namespace hostpass
