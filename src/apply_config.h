// apply_config.h — `hostpass apply -f hostpass.yaml`: the desired driver of PCI devices, declared
// in a small YAML file, validated strictly, planned, then converged with the bind engine.
//
// The file (docs/apply.md):
//   version: 1
//   devices:
//     - address: "0000:65:00.0"      # a full address (short forms are refused: ambiguous)
//       driver: vfio-pci             # default vfio-pci; "host" returns it to its host driver
//     - selector: "10de:1eb8"        # vendor:device
//       count: 2                     # optional: exactly this many (fewer present: error)
//       numa_node: 0                 # optional: only devices on this NUMA node
// Unknown keys, wrong types, short addresses, malformed ids, address+selector in one entry, two
// rules wanting different drivers for one device: InvalidInput naming file:line, before any
// write. Addresses not present, selectors matching fewer than `count`: NotFound, before any write.
// Selectors skip devices the host uses (host_use.h) and vGPU parents with live or mdevctl-defined
// mdev instances (guard.h: the same blockers a bind would meet), saying so in the plan's notes,
// and prefer devices already on the wanted driver, so that re-running picks the same ones and
// changes nothing.
//
// Converging: apply_plan runs the plan it is given — the one `hostpass apply` printed — through
// bind_devices / unbind_devices (vfio_bind.h), one call per driver, each atomic with its own
// rollback. The lock, recover and the guards are the safety spine's (safety_spine.h), which
// calls it. A device already in the wanted state costs no write.
// What it deliberately does not do: release devices that a previous version of the file named
// (say `driver: host` for them), or bind whole IOMMU groups implicitly (list every endpoint).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"
#include "vfio_bind.h"

namespace hostpass {

inline constexpr const char* kHostDriver = "host";  // "driver: host": back to the host driver

struct ApplyRule {
  int line = 0;  // 1-based line of the entry in the file
  std::optional<PciAddress> address;
  std::optional<uint16_t> vendor, device;  // selector
  std::optional<int> count;
  std::optional<int> numa_node;
  std::string driver = "vfio-pci";
};

struct ApplyConfig {
  std::string source;  // file name, for messages
  std::vector<ApplyRule> rules;
};

// Parses and validates the text. `source` names the file in messages ("hostpass.yaml:4: ...").
Result<ApplyConfig> parse_apply_config(std::string_view text, const std::string& source);
// Reads `path` through Host (so --root applies) and parses it.
Result<ApplyConfig> load_apply_config(Host& host, const std::string& path);

struct ApplyItem {
  PciAddress address;
  std::string driver;                  // wanted: a driver name or "host"
  std::optional<std::string> current;  // driver now; none: unbound
  bool change = false;
  int rule_line = 0;
};

struct ApplyPlan {
  std::vector<ApplyItem> items;    // sorted by address
  std::vector<std::string> notes;  // skipped host-used devices, empty selectors
  bool changes() const;
};

// Resolves the rules against the devices present. Reads only. `guards` (optional) is the
// context selectors are judged by; null: read here (without the ledger).
Result<ApplyPlan> plan_apply(Host& host, const ApplyConfig& config,
                             const GuardContext* guards = nullptr);

struct ApplyOptions {
  bool dry_run = false;
  ForceSet force;
  std::string state_dir = kDefaultStateDir;
  const GuardContext* guards = nullptr;  // passed to the engine (BindOptions::guards)
};

struct ApplyReport {
  ApplyPlan plan;
  std::vector<BindReport> steps;  // one per bind_devices/unbind_devices call made (or planned)
};

// Converges exactly `plan` (or with dry_run, asks the engine for its planned writes): releases
// first, then one bind per driver. REQUIRES: the caller holds the state lock and has recovered
// (the spine does both). On a failure the engine has rolled that step back; earlier steps stay
// applied and the error says so.
Result<ApplyReport> apply_plan(Host& host, const ApplyPlan& plan, const ApplyOptions& options);

// The file `hostpass apply` would need to reproduce `addresses` on `driver` (for persist).
std::string render_apply_config(const std::vector<PciAddress>& addresses,
                                const std::string& driver);

}  // namespace hostpass
