// cmd_opennebula.cc — `hostpass opennebula probe|filter|inventory` (seed 003, one-deploy).
//
// probe      OpenNebula's PCI monitoring probe output for this host (opennebula_probe.h).
// filter     full PCI addresses → the host template's PCI_FILTER="vendor:device,..." line.
// inventory  a one-deploy Ansible inventory, for one host: its PCI_FILTER and the bind plan for
//            its pci_devices (only with pci_passthrough_enabled: true). Plans only; binding is
//            `hostpass bind` (or `hostpass apply`).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "one_deploy.h"
#include "opennebula_probe.h"
#include "user_file.h"

namespace hostpass {

namespace {

struct ProbeFlags {
  std::string filter = "*:*";
  std::vector<std::string> short_addresses, device_names, nvidia_vendors;
};

int run_probe(Cli& cli, const ProbeFlags& f) {
  OneProbeOptions o;
  o.filter = f.filter;
  o.short_addresses = f.short_addresses;
  o.device_name_patterns = f.device_names;
  if (!f.nvidia_vendors.empty()) {
    o.nvidia_vendors.clear();
    for (const std::string& v : f.nvidia_vendors) {
      auto id = parse_lspci_filters(v + ":");
      if (!id.ok() || !(*id)[0].vendor)
        return report_error(invalid_input("invalid --nvidia-vendor '" + v +
                                          "': expected 4 hex digits, as in 10de"));
      o.nvidia_vendors.push_back(*(*id)[0].vendor);
    }
  }
  auto out = opennebula_probe(cli.host(), o);
  if (!out.ok()) return report_error(out.error());
  std::fwrite(out->data(), 1, out->size(), stdout);
  return kExitOk;
}

int run_filter(Cli& cli, const std::vector<std::string>& addresses) {
  auto entries = pci_filter_entries(cli.host(), addresses);
  if (!entries.ok()) return report_error(entries.error());
  std::string value = pci_filter_value(*entries);
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const PciFilterEntry& e : *entries)
      devices.push_back({{"address", e.address.to_string()}, {"vendor_device", e.vendor_device}});
    std::cout << nlohmann::json{{"pci_filter", value}, {"devices", devices}}.dump(2, ' ', false, kInvalidUtf8) << "\n";
  } else {
    std::cout << "PCI_FILTER=\"" << value << "\"\n";
  }
  return kExitOk;
}

int run_inventory(Cli& cli, const std::string& file, const std::string& host_name) {
  auto text = read_user_file(file);
  if (!text.ok()) return report_error(text.error());
  auto hosts = parse_one_deploy_inventory(*text, file);
  if (!hosts.ok()) return report_error(hosts.error());
  const OneDeployHost* h = nullptr;
  std::string known;
  for (const OneDeployHost& c : *hosts) {
    if (c.name == host_name) h = &c;
    known += (known.empty() ? "" : ", ") + c.name;
  }
  if (!h)
    return report_error(invalid_input("host '" + host_name + "' is not in " + file +
                                      " (hosts: " + known + ")"));
  auto plan = plan_one_deploy_host(cli.host(), *h);
  if (!plan.ok()) return report_error(plan.error());
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const OneDevicePlan& d : plan->devices) {
      devices.push_back({{"address", d.address.to_string()},
                         {"vendor_device", d.vendor_device},
                         {"driver", d.driver ? nlohmann::json(*d.driver) : nlohmann::json()},
                         {"target_driver", "vfio-pci"},
                         {"changes", d.changes},
                         {"writes", d.writes}});
    }
    nlohmann::json j = {{"host", h->name},
                        {"ansible_host", h->ansible_host},
                        {"pci_passthrough_enabled", h->pci_passthrough_enabled},
                        {"pci_filter", plan->pci_filter.empty() ? nlohmann::json()
                                                                : nlohmann::json(plan->pci_filter)},
                        {"devices", devices}};
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return kExitOk;
  }
  std::string head = "# " + h->name + (h->ansible_host.empty() ? "" : " (" + h->ansible_host + ")");
  if (!h->pci_passthrough_enabled) {
    std::cout << head << ": pci_passthrough_enabled is false: one-deploy configures no PCI device"
              << (h->pci_device_addresses.empty() ? "" : " (its pci_devices are ignored)") << "\n";
    return kExitOk;
  }
  std::cout << head << ": " << plan->devices.size()
            << (plan->devices.size() == 1 ? " device" : " devices") << " for PCI passthrough\n";
  if (plan->devices.empty()) return kExitOk;
  std::cout << "PCI_FILTER=\"" << plan->pci_filter << "\"\n";
  std::cout << "# bind plan (hostpass bind ADDR... applies it):\n";
  for (const OneDevicePlan& d : plan->devices) {
    std::cout << d.address.to_string() << " " << d.vendor_device << " "
              << d.driver.value_or("none") << " -> vfio-pci"
              << (d.changes ? "" : " (already bound: nothing to do)") << "\n";
    for (const std::string& w : d.writes) std::cout << "    " << w << "\n";
  }
  for (const std::string& n : plan->notes) std::cout << "# " << n << "\n";
  return kExitOk;
}

}  // namespace

void add_opennebula_commands(CLI::App& app, Cli& cli) {
  CLI::App* one = app.add_subcommand("opennebula", "OpenNebula host side: PCI probe, PCI_FILTER, "
                                                   "one-deploy inventories (seed 003)");
  one->require_subcommand(1);

  auto pf = std::make_shared<ProbeFlags>();
  CLI::App* probe = one->add_subcommand(
      "probe", "print this host's PCI devices as OpenNebula's PCI monitoring probe does");
  probe->add_option("--filter", pf->filter,
                    "lspci -d filters, comma separated: [vendor]:[device][:class], '*' or empty "
                    "is a wildcard (pci.conf :filter; default *:*)");
  probe->add_option("--short-address", pf->short_addresses,
                    "only these short addresses, e.g. 65:00.0 (pci.conf :short_address)");
  probe->add_option("--device-name", pf->device_names,
                    "only devices whose name matches this case-insensitive regular expression "
                    "(pci.conf :device_name)");
  probe->add_option("--nvidia-vendor", pf->nvidia_vendors,
                    "vendor ids treated as NVIDIA GPUs (pci.conf :nvidia_vendors; default 10de)");
  probe->callback([&cli, pf] { cli.exit_code = run_probe(cli, *pf); });

  auto addresses = std::make_shared<std::vector<std::string>>();
  CLI::App* filter = one->add_subcommand(
      "filter", "translate full PCI addresses to the host template's PCI_FILTER (vendor:device)");
  filter->add_option("address", *addresses, "full PCI addresses, 0000:09:00.0")->required();
  filter->callback([&cli, addresses] { cli.exit_code = run_filter(cli, *addresses); });

  auto file = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  CLI::App* inv = one->add_subcommand(
      "inventory", "for one host of a one-deploy inventory: its PCI_FILTER and bind plan");
  inv->add_option("-f,--file", *file, "the one-deploy Ansible inventory (YAML)")->required();
  inv->add_option("--host", *host, "the inventory host this machine is, e.g. n1")->required();
  inv->callback([&cli, file, host] { cli.exit_code = run_inventory(cli, *file, *host); });
}

}  // namespace hostpass
