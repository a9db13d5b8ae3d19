// cmd_check.cc — `hostpass check [ADDR...] [--json]`: is this host (and are these devices) ready
// for passthrough? Prints preflight.h's checks as a short table (✓ pass, ! warn, ✗ fail, - skip)
// with the remedy under each failure and warning. Read-only.
//
// Exit codes: 0 nothing fails, 1 a check fails, 2 bad input (addresses are resolved,
// pci_address_resolve.h, before any check runs: malformed, absent or ambiguous is exit 2).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "json_output.h"
#include "pci_address_resolve.h"
#include "preflight.h"

namespace hostpass {

namespace {

const char* mark(CheckStatus s) {
  switch (s) {
    case CheckStatus::Pass:
      return "\u2713";  // ✓
    case CheckStatus::Warn:
      return "!";
    case CheckStatus::Fail:
      return "\u2717";  // ✗
    case CheckStatus::Skip:
      return "-";
  }
  return "?";
}

nlohmann::json check_to_json(const Check& c) {
  nlohmann::json j = {{"id", c.id},
                      {"status", check_status_name(c.status)},
                      {"summary", c.summary},
                      {"observed", string_or_null(c.observed)},
                      {"remedy", string_or_null(c.remedy)}};
  j["device"] = c.device ? nlohmann::json(c.device->to_string()) : nlohmann::json(nullptr);
  return j;
}

int run_check(Cli& cli, const std::vector<std::string>& address_texts) {
  PreflightOptions options;
  for (const std::string& t : address_texts) {
    auto a = resolve_pci_address(cli.host(), t);
    if (!a.ok()) return report_error(a.error());
    options.devices.push_back(*a);
  }
  PreflightReport report = run_preflight(cli.host(), options);
  int counts[4] = {0, 0, 0, 0};
  for (const Check& c : report.checks) ++counts[static_cast<int>(c.status)];
  int code = report.any_failed() ? kExitFailed : kExitOk;

  if (cli.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const Check& c : report.checks) checks.push_back(check_to_json(c));
    nlohmann::json j = {
        {"ready", code == kExitOk},
        {"cpu_vendor", cpu_vendor_name(report.cpu_vendor)},
        {"iommu_vendor", cpu_vendor_name(report.iommu_vendor)},
        {"counts",
         {{"pass", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}, {"skip", counts[3]}}},
        {"checks", checks}};
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return code;
  }

  std::string out;
  std::optional<PciAddress> section;
  bool first = true;
  for (const Check& c : report.checks) {
    if (first || c.device != section) {
      out += c.device ? "device " + c.device->to_string() + "\n" : std::string("host\n");
      section = c.device;
      first = false;
    }
    char line[512];
    std::snprintf(line, sizeof line, "  %s %-26s %s\n", mark(c.status), c.id.c_str(),
                  c.summary.c_str());
    out += line;
    if (c.status == CheckStatus::Fail) out += "      observed: " + c.observed + "\n";
    if ((c.status == CheckStatus::Fail || c.status == CheckStatus::Warn) && !c.remedy.empty())
      out += "      fix: " + c.remedy + "\n";
  }
  out += std::to_string(counts[0]) + " passed, " +
         plural(static_cast<size_t>(counts[1]), "warning", "warnings") + ", " +
         std::to_string(counts[2]) + " failed, " + std::to_string(counts[3]) + " skipped: " +
         (code == kExitOk ? "ready for passthrough\n" : "not ready (fix the \u2717 lines above)\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
  return code;
}

}  // namespace

void add_kernel_args_command(CLI::App& app, Cli& cli);  // cmd_kernel_args.cc

void add_check_commands(CLI::App& app, Cli& cli) {
  add_kernel_args_command(app, cli);
  auto addresses = std::make_shared<std::vector<std::string>>();
  CLI::App* check = app.add_subcommand(
      "check",
      "is this host ready for passthrough (IOMMU, VFIO, kernel arguments), and these "
      "devices? Exit 0 ready, 1 a check fails, 2 bad input");
  check->add_option("address", *addresses, "PCI addresses to check, 0000:06:00.0 or 06:00.0");
  check->callback([&cli, addresses] { cli.exit_code = run_check(cli, *addresses); });
}

}  // namespace hostpass
