// cmd_verify.cc — `hostpass verify ADDR|UUID... [--json]`: prove each device (a PCI function, or a
// mediated device by its UUID) is assignable the way QEMU will open it (vfio_verify.h):
// container, group, viability, attach, IOMMU, device fd, info.
//
// Text: per device a header line, one line per step ("ok" or "FAIL", the step, the detail), then
// a verdict line. JSON: an array, one object per device (schema in docs/verify.md).
// Exit codes: 0 every device verified, 1 a step failed for some device, 2 bad address or UUID
// (all arguments are validated, and addresses resolved against the host, pci_address_resolve.h,
// before anything is opened: an absent or ambiguous address is exit 2 too).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.h"
#include "device_json.h"
#include "mdev.h"
#include "pci_address_resolve.h"
#include "vfio_verify.h"

namespace hostpass {

namespace {

nlohmann::json report_to_json(const VerifyReport& r) {
  nlohmann::json j;
  j["address"] = r.device_name;
  j["kind"] = r.mdev ? "mdev" : "pci";
  if (r.mdev) {
    j["mdev_parent"] =
        r.mdev_parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.mdev_parent);
    j["mdev_type"] = r.mdev_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.mdev_type);
  }
  j["iommu_group"] = r.iommu_group ? nlohmann::json(*r.iommu_group) : nlohmann::json(nullptr);
  j["ok"] = r.ok();
  const VerifyStep* failed = r.failure();
  j["failed_step"] = failed ? nlohmann::json(failed->name) : nlohmann::json(nullptr);
  nlohmann::json steps = nlohmann::json::array();
  for (const VerifyStep& s : r.steps)
    steps.push_back({{"step", s.name}, {"ok", s.ok}, {"detail", s.detail}});
  j["steps"] = steps;
  j["iommu_type"] = r.iommu_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.iommu_type);
  if (r.device) {
    nlohmann::json regions = nlohmann::json::array();
    for (const VfioRegion& reg : r.device->regions)
      regions.push_back(
          {{"index", reg.index}, {"name", reg.name}, {"size", reg.size}, {"flags", reg.flags}});
    nlohmann::json irqs = nlohmann::json::array();
    for (const VfioIrq& irq : r.device->irqs)
      irqs.push_back({{"index", irq.index}, {"name", irq.name}, {"count", irq.count}});
    j["vfio_device"] = {{"flags", r.device->flags},
                        {"is_pci", r.device->pci},
                        {"reset", r.device->reset},
                        {"num_regions", r.device->num_regions},
                        {"num_irqs", r.device->num_irqs},
                        {"regions", regions},
                        {"irqs", irqs}};
  } else {
    j["vfio_device"] = nullptr;
  }
  return j;
}

void print_report(const VerifyReport& r) {
  std::string out = r.device_name;
  if (r.mdev && !r.mdev_type.empty())
    out += "  mdev " + r.mdev_type + " on " + (r.mdev_parent.empty() ? "?" : r.mdev_parent);
  out += r.iommu_group ? "  iommu group " + std::to_string(*r.iommu_group) + "\n" : "\n";
  for (const VerifyStep& s : r.steps) {
    char head[32];
    std::snprintf(head, sizeof head, "  %-4s %-9s ", s.ok ? "ok" : "FAIL", s.name.c_str());
    out += head + s.detail + "\n";
  }
  if (r.ok()) {
    out += "verified " + r.device_name + ": assignable with VFIO (" + r.iommu_type + ", group " +
           std::to_string(*r.iommu_group) + ")\n";
  } else {
    const VerifyStep* f = r.failure();
    out += "not assignable: " + r.device_name + " failed at step '" + f->name + "'\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

struct Target {
  std::optional<PciAddress> pci;
  std::string mdev_uuid;
};

int run_verify(Cli& cli, const std::vector<std::string>& texts) {
  std::vector<Target> targets;
  for (const std::string& t : texts) {
    // 36 characters with dashes where a UUID has them: an mdev; anything else a PCI address.
    if (t.size() == 36 && t[8] == '-' && t[13] == '-') {
      auto u = parse_mdev_uuid(t);
      if (!u.ok()) return report_error(u.error());
      targets.push_back(Target{std::nullopt, *u});
      continue;
    }
    auto a = resolve_pci_address(cli.host(), t);
    if (!a.ok()) {
      Error e = a.error();
      if (!PciAddress::parse(t).ok())  // malformed: it may have been meant as a UUID
        e.message += " (or give a mediated device's UUID, as `hostpass mdev list` shows it)";
      return report_error(e);
    }
    targets.push_back(Target{*a, ""});
  }
  Host& host = cli.host();
  int code = kExitOk;
  nlohmann::json array = nlohmann::json::array();
  for (size_t i = 0; i < targets.size(); ++i) {
    VerifyReport r = targets[i].pci ? verify_assignable(host, *targets[i].pci)
                                    : verify_mdev_assignable(host, targets[i].mdev_uuid);
    if (!r.ok()) {
      code = kExitFailed;
      const VerifyStep* f = r.failure();
      std::cerr << "hostpass: " << r.device_name << " is not assignable: step '" << f->name
                << "' failed: " << f->detail << "\n";
    }
    if (cli.json) {
      array.push_back(report_to_json(r));
    } else {
      if (i) std::fputc('\n', stdout);
      print_report(r);
    }
  }
  if (cli.json) std::cout << array.dump(2, ' ', false, kInvalidUtf8) << "\n";
  return code;
}

}  // namespace

void add_verify_commands(CLI::App& app, Cli& cli) {
  auto texts = std::make_shared<std::vector<std::string>>();
  CLI::App* verify = app.add_subcommand(
      "verify",
      "prove devices are assignable as QEMU will open them: VFIO container, group "
      "viability, IOMMU, device fd and its regions, irqs and reset");
  verify
      ->add_option("DEVICE", *texts,
                   "PCI address (0000:06:00.0 or 06:00.0) or mediated device UUID")
      ->required();
  verify->callback([&cli, texts] { cli.exit_code = run_verify(cli, *texts); });
}

}  // namespace hostpass
