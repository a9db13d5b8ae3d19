// cmd_opennebula.cc — `hostpass opennebula probe|filter|inventory` (OpenNebula one-deploy's
// pci_passthrough roles).
//
// probe      OpenNebula's PCI monitoring probe output for this host (opennebula_probe.h); with
//            --json the same text as {"format", "text"}.
// filter     PCI addresses → the host template's PCI_FILTER="vendor:device,..." line; on the
//            command line a short address is resolved on the host (pci_address_resolve.h), while
//            the inventory's pci_devices must be full addresses, as one-deploy requires.
// inventory  a one-deploy Ansible inventory, for one host: its PCI_FILTER and the bind plan for
//            its pci_devices (only with pci_passthrough_enabled: true). Plans only; binding is
//            `hostpass bind` (or `hostpass apply`).
// Both pass PCI_FILTER through the id-wide guard (opennebula_deploy.h: guard_pci_filter; exit 2
// naming each host-used device the ids also match); --short-address adds PCI_SHORT_ADDRESS, which
// narrows the filter to the named devices; --force[=NAME,...] is guard.h's ForceSet.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "json_output.h"
#include "opennebula_deploy.h"
#include "opennebula_probe.h"
#include "pci_address_resolve.h"
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
  if (cli.json) {
    print_json({{"format", "opennebula-probe"}, {"text", *out}});
    return kExitOk;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return kExitOk;
}

struct FilterFlags {
  std::vector<std::string> addresses;
  std::vector<std::string> force;  // --force[=NAME,...] (guard.h: ForceSet)
  bool short_address = false;
};

Result<PciFilterOptions> filter_options(const FilterFlags& f) {
  auto force = ForceSet::parse(f.force);
  if (!force.ok()) return force.error();
  return PciFilterOptions{*force, f.short_address};
}

void print_guard_output(const std::vector<std::string>& warnings,
                        const std::vector<std::string>& notes) {
  for (const std::string& w : warnings) std::cerr << "hostpass: warning: " << w << "\n";
  for (const std::string& n : notes) std::cerr << "hostpass: note: " << n << "\n";
}

int run_filter(Cli& cli, const FilterFlags& f) {
  auto options = filter_options(f);
  if (!options.ok()) return report_error(options.error());
  std::vector<std::string> addresses;  // short forms resolved to the one domain that has them
  for (const std::string& text : f.addresses) {
    auto a = resolve_pci_address(cli.host(), text);
    if (!a.ok()) return report_error(a.error());
    addresses.push_back(a->to_string());
  }
  auto entries = pci_filter_entries(cli.host(), addresses);
  if (!entries.ok()) return report_error(entries.error());
  auto guarded = guard_pci_filter(cli.host(), *entries, *options);
  if (!guarded.ok()) return report_error(guarded.error());
  print_guard_output(guarded->warnings, guarded->notes);
  std::string value = pci_filter_value(*entries);
  std::string short_value = f.short_address ? pci_short_address_value(*entries) : "";
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const PciFilterEntry& e : *entries)
      devices.push_back({{"address", e.address.to_string()}, {"vendor_device", e.vendor_device}});
    nlohmann::json j{{"pci_filter", value}, {"devices", devices}};
    if (f.short_address) j["pci_short_address"] = short_value;
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
  } else {
    std::cout << "PCI_FILTER=\"" << value << "\"\n";
    if (f.short_address) std::cout << "PCI_SHORT_ADDRESS=\"" << short_value << "\"\n";
  }
  return kExitOk;
}

int run_inventory(Cli& cli, const std::string& file, const std::string& host_name,
                  const FilterFlags& f) {
  auto options = filter_options(f);
  if (!options.ok()) return report_error(options.error());
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
    return report_error(
        invalid_input("host '" + host_name + "' is not in " + file + " (hosts: " + known + ")"));
  auto plan = plan_one_deploy_host(cli.host(), *h, *options);
  if (!plan.ok()) return report_error(plan.error());
  print_guard_output(plan->warnings, {});
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const OneDevicePlan& d : plan->devices) {
      devices.push_back({{"address", d.address.to_string()},
                         {"vendor_device", d.vendor_device},
                         {"driver", d.driver ? nlohmann::json(*d.driver) : nlohmann::json()},
                         {"target_driver", "vfio-pci"},
                         {"changes", d.changes},
                         {"writes", writes_json(d.writes)}});
    }
    nlohmann::json j = {{"host", h->name},
                        {"ansible_host", string_or_null(h->ansible_host)},
                        {"pci_passthrough_enabled", h->pci_passthrough_enabled},
                        {"pci_filter", plan->pci_filter.empty() ? nlohmann::json()
                                                                : nlohmann::json(plan->pci_filter)},
                        {"devices", devices}};
    if (f.short_address)
      j["pci_short_address"] = plan->pci_short_address.empty()
                                   ? nlohmann::json()
                                   : nlohmann::json(plan->pci_short_address);
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
  if (f.short_address)
    std::cout << "PCI_SHORT_ADDRESS=\"" << plan->pci_short_address
              << "\"  # add to the host template: one-deploy writes PCI_FILTER only\n";
  std::cout << "# bind plan (hostpass bind ADDR... applies it):\n";
  for (const OneDevicePlan& d : plan->devices) {
    std::cout << d.address.to_string() << " " << d.vendor_device << " " << d.driver.value_or("none")
              << " -> vfio-pci" << (d.changes ? "" : " (already bound: nothing to do)") << "\n";
    for (const PlannedWrite& w : d.writes) {
      std::string data(trim(w.data));
      std::cout << "    write " << w.path << " \"" << (data.empty() ? "\\n" : data) << "\"\n";
    }
  }
  for (const std::string& n : plan->notes) std::cout << "# " << n << "\n";
  return kExitOk;
}

}  // namespace

void add_opennebula_commands(CLI::App& app, Cli& cli) {
  CLI::App* one = app.add_subcommand("opennebula",
                                     "OpenNebula host side: PCI probe, PCI_FILTER, "
                                     "one-deploy inventories (its pci_passthrough roles)");
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

  auto add_guard_flags = [](CLI::App* c, FilterFlags& f) {
    c->add_flag("--short-address", f.short_address,
                "also print the host template's PCI_SHORT_ADDRESS, which narrows PCI_FILTER to "
                "the named devices");
    c->add_flag("--force{all}", f.force,
                "offer devices PCI_FILTER also matches although the host uses them (never the "
                "root filesystem), or --force=NAME,... for those guards only");
  };
  auto ff = std::make_shared<FilterFlags>();
  CLI::App* filter = one->add_subcommand(
      "filter", "translate full PCI addresses to the host template's PCI_FILTER (vendor:device)");
  filter->add_option("address", ff->addresses, "PCI addresses, 0000:09:00.0 or 09:00.0")
      ->required();
  add_guard_flags(filter, *ff);
  filter->callback([&cli, ff] { cli.exit_code = run_filter(cli, *ff); });

  auto file = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  CLI::App* inv = one->add_subcommand(
      "inventory", "for one host of a one-deploy inventory: its PCI_FILTER and bind plan");
  inv->add_option("-f,--file", *file, "the one-deploy Ansible inventory (YAML)")->required();
  inv->add_option("--host", *host, "the inventory host this machine is, e.g. n1")->required();
  auto inf = std::make_shared<FilterFlags>();
  add_guard_flags(inv, *inf);
  inv->callback(
      [&cli, file, host, inf] { cli.exit_code = run_inventory(cli, *file, *host, *inf); });
}

}  // namespace hostpass
