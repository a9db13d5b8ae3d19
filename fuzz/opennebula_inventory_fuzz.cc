// opennebula_inventory_fuzz — parse_one_deploy_inventory (opennebula_deploy.h), the Ansible YAML
// inventory one-deploy reads, never crashes or lets a yaml-cpp exception out, and each host it
// returns is named, once, with its groups named: what plan_one_deploy_host and the CLI rely on.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "opennebula_deploy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto hosts = hostpass::parse_one_deploy_inventory(text, "inventory.yml");
  if (!hosts.ok()) {
    if (hosts.error().kind != hostpass::ErrorKind::InvalidInput) std::abort();
    return 0;
  }
  std::set<std::string> names;
  for (const hostpass::OneDeployHost& h : *hosts) {
    if (h.name.empty() || !names.insert(h.name).second) std::abort();
    for (const std::string& g : h.groups)
      if (g.empty()) std::abort();
  }
  return 0;
}
