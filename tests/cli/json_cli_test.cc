// End-to-end: the one JSON convention (docs/json.md) holds for every command. The commands are
// read from `hostpass --help` and each group's --help, so a command added without a case here
// fails the test. Each runs with --json on the inventory node (inventory_fixture.h), once where
// it succeeds and once where it fails: stdout must be one JSON document; a failure must be
// {"error": {"kind", "message"}} with the exit code its kind implies (2 for invalid-input and
// refused, 1 otherwise); every key anywhere in any output must have the type kTypes gives it;
// and every key of kTypes must be documented in docs/json.md, so neither can drift.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "run_cli_captured.h"
#include "run_program.h"
#include "sim_mdev.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

using nlohmann::json;

// Every key hostpass prints under --json, and its type: "string", "integer", "boolean",
// "object", "array<T>", "|null" where null is allowed. One type a key, everywhere.
const std::map<std::string, std::string> kTypes = {
    {"acs_override", "string"},
    {"active", "boolean"},
    {"address", "string"},
    {"advice", "string"},
    {"affected", "array<string>"},
    {"alias", "string|null"},
    {"after_removal", "boolean"},
    {"allocatable", "integer"},
    {"already", "boolean"},
    {"ansible_host", "string|null"},
    {"arguments", "array<string>"},
    {"arguments_added", "array<string>"},
    {"arguments_removed", "array<string>"},
    {"assigned_at", "string"},
    {"available_instances", "integer"},
    {"backup", "string|null"},
    {"bcd_device", "string"},
    {"blocked", "boolean"},
    {"blockers", "array<string>"},
    {"boot_vga", "boolean"},
    {"bridge", "boolean"},
    {"busnum", "integer"},
    {"capacity", "integer"},
    {"changed", "boolean"},
    {"changes", "boolean"},
    {"checks", "array<object>"},
    {"children", "array<object>"},
    {"class", "string|null"},
    {"class_code", "string|null"},
    {"class_name", "string|null"},
    {"command", "string|null"},
    {"complete", "boolean"},
    {"concerns", "array<string>"},
    {"configured_parents", "array<string>"},
    {"count", "integer"},
    {"counts", "object"},
    {"cpu_vendor", "string"},
    {"created", "array<object>"},
    {"creates", "array<object>"},
    {"data", "string"},
    {"definition", "object|null"},
    {"definition_removed", "boolean"},
    {"description", "string|null"},
    {"desired", "array<string>"},
    {"detail", "string"},
    {"dev_node", "string"},
    {"device", "string|null"},
    {"device_api", "string|null"},
    {"device_class", "string"},
    {"device_name", "string|null"},
    {"devices", "array<object>"},
    {"devnum", "integer"},
    {"disabled", "array<object>"},
    {"driver", "string|null"},
    {"driver_after", "string|null"},
    {"driver_before", "string|null"},
    {"driver_override", "string|null"},
    {"driver_override_after", "string|null"},
    {"driver_override_before", "string|null"},
    {"driver_requested", "string"},
    {"dry_run", "boolean"},
    {"edit", "object|null"},
    {"edits", "array<object>"},
    {"error", "object"},
    {"errors", "array<string>"},
    {"external", "boolean"},
    {"fail", "integer"},
    {"failed_step", "string|null"},
    {"file", "string"},
    {"fix", "object|null"},
    {"flags", "integer"},
    {"forbidden", "array<string>"},
    {"format", "string"},
    {"group_explanation", "object|null"},
    {"health_reason", "string|null"},
    {"healthy", "boolean"},
    {"host", "string"},
    {"id", "string"},
    {"in_use", "array<string>|null"},
    {"index", "integer"},
    {"iommu_group", "integer|null"},
    {"iommu_group_members", "array<object>"},
    {"iommu_type", "string|null"},
    {"iommu_vendor", "string"},
    {"irqs", "array<object>"},
    {"is_pci", "boolean"},
    {"journal_found", "boolean"},
    {"kept", "array<object>"},
    {"kernel_modules", "array<string>|null"},
    {"kind", "string"},
    {"line", "integer"},
    {"manufacturer", "string|null"},
    {"mdev_parent", "string|null"},
    {"mdev_supported_types", "boolean"},
    {"mdev_type", "string|null"},
    {"mdev_uuids", "array<string>"},
    {"message", "string"},
    {"module", "string"},
    {"name", "string|null"},
    {"notes", "array<string>"},
    {"num_irqs", "integer"},
    {"num_regions", "integer"},
    {"numa_node", "integer|null"},
    {"observed", "string|null"},
    {"ok", "boolean"},
    {"op", "string"},
    {"operation", "string|null"},
    {"original_driver", "string|null"},
    {"original_override", "string|null"},
    {"parent", "string"},
    {"pass", "integer"},
    {"passthrough", "object"},
    {"path", "string"},
    {"pci", "array<string>"},
    {"pci_filter", "string|null"},
    {"pci_passthrough_enabled", "boolean"},
    {"pci_short_address", "string|null"},
    {"persistent", "boolean"},
    {"physfn", "string|null"},
    {"policy", "object"},
    {"port_path", "string"},
    {"predicted_members", "array<string>|null"},
    {"product_name", "string|null"},
    {"product_string", "string|null"},
    {"quirk", "string|null"},
    {"rank", "integer"},
    {"ready", "boolean"},
    {"reason", "string"},
    {"reasons", "array<object>"},
    {"recovered", "object|null"},
    {"regenerate", "string|null"},
    {"regions", "array<object>"},
    {"released", "array<object>"},
    {"remedy", "string|null"},
    {"removed", "array<object>"},
    {"removes", "array<object>"},
    {"requires", "array<string>"},
    {"reset", "boolean"},
    {"reset_methods", "array<string>|null"},
    {"resource", "string|null"},
    {"resources", "array<object>"},
    {"responsible", "string"},
    {"revision", "string|null"},
    {"root_bus", "string"},
    {"root_hub", "boolean"},
    {"selectors", "array<string>"},
    {"serial", "string|null"},
    {"size", "integer"},
    {"skip", "integer"},
    {"speed", "string|null"},
    {"sriov_numvfs", "integer|null"},
    {"sriov_totalvfs", "integer|null"},
    {"start", "string"},
    {"status", "string"},
    {"step", "string"},
    {"steps", "array<object>"},
    {"subsystem_device", "string|null"},
    {"subsystem_vendor", "string|null"},
    {"summary", "string"},
    {"sysfs_path", "string"},
    {"target_driver", "string"},
    {"template", "string"},
    {"text", "string|null"},
    {"type", "string"},
    {"type_name", "string|null"},
    {"unit", "string|null"},
    {"units", "array<object>"},
    {"unmatched", "array<string>"},
    {"unreadable", "array<string>"},
    {"unusable", "array<object>"},
    {"usb", "array<object>"},
    {"uuid", "string"},
    {"vendor", "string|null"},
    {"vendor_device", "string"},
    {"vendor_name", "string|null"},
    {"vfio_device", "object|null"},
    {"vfio_driver", "object|null"},
    {"vm", "string"},
    {"warn", "integer"},
    {"warnings", "array<string>"},
    {"was_active", "boolean"},
    {"what", "string"},
    {"writes", "array<object>"},
    {"written", "boolean"},
};

std::string kind_of(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_object()) return "object";
  return "array";
}

// Whether `v` is one of the types `spec` allows ("string|null", "array<object>", ...).
bool has_type(const json& v, const std::string& spec) {
  std::stringstream alternatives(spec);
  std::string t;
  while (std::getline(alternatives, t, '|')) {
    if (t.rfind("array<", 0) == 0 && v.is_array()) {
      std::string element = t.substr(6, t.size() - 7);
      bool all = true;
      for (const json& e : v) all = all && kind_of(e) == element;
      if (all) return true;
    } else if (kind_of(v) == t) {
      return true;
    }
  }
  return false;
}

// Every key of every object in `v`, checked against kTypes; problems appended to `problems`.
void check_keys(const json& v, const std::string& where, std::vector<std::string>& problems) {
  if (v.is_array()) {
    for (const json& e : v) check_keys(e, where, problems);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, value] : v.items()) {
    auto it = kTypes.find(key);
    if (it == kTypes.end())
      problems.push_back(where + ": key '" + key + "' is not in kTypes (nor docs/json.md?)");
    else if (!has_type(value, it->second))
      problems.push_back(where + ": '" + key + "' is " + value.dump() + ", not " + it->second);
    check_keys(value, where, problems);
  }
}

// The subcommands a --help text lists ("Subcommands:" then "  name  description" lines).
std::vector<std::string> subcommands(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream lines(help);
  std::string line;
  bool in = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in = true;
      continue;
    }
    if (!in) continue;
    if (line.empty() || line[0] != ' ') break;
    if (line.size() > 2 && line[2] != ' ') names.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return names;
}

enum class Expect { Result, Error };
enum class Runner { Binary, InProcessMdev };

struct Case {
  std::string command;  // "mdev create", as --help lists it
  Expect expect;
  std::vector<std::string> args;
  Runner runner = Runner::Binary;
};

constexpr const char* kNewUuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

class JsonCli : public ::testing::Test {
 protected:
  JsonCli() : tree_(dir_.path() + "/root") {
    build_inventory_node(tree_);
    tree_.write("/etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
    // The apply file at the same path under --root and outside it, so the test holds whichever
    // way apply and persist read -f (cli/user_file.h).
    apply_file_ = dir_.path() + "/hostpass.yaml";
    std::string apply = "version: 1\ndevices:\n  - address: \"0000:03:00.0\"\n";
    std::ofstream(apply_file_) << apply;
    tree_.write(apply_file_, apply);
  }

  static std::string source(const std::string& path) {
    return std::string(HOSTPASS_SOURCE_DIR) + "/" + path;
  }

  ProgramRun run(const Case& c) {
    std::vector<std::string> args{"--root", tree_.root(), "--json"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    if (c.runner == Runner::InProcessMdev)
      return run_cli_captured(args, [](const std::string& root) {
        return std::make_unique<SimMdevHost>(std::make_unique<RealHost>(root));
      });
    args.insert(args.begin(), hostpass_sim_bin());
    return run_program(args);
  }

  std::vector<Case> cases() const {
    std::string cr = source("tests/fixtures/policy/node_kubevirt_cr.yaml");
    std::string hco = source("tests/fixtures/policy/hco_seed000.yaml");
    std::string capk = source("tests/fixtures/capk/clusterctl-kubevirt-cl.yaml");
    std::string one = source("tests/fixtures/opennebula/pci_passthrough.yml");
    const Expect R = Expect::Result, E = Expect::Error;
    return {
        {"list", R, {"list"}},
        {"list", R, {"list", "--usb"}},
        {"list", R, {"list", "--tree"}},
        {"list", E, {"list", "--vendor", "zz"}},
        {"show", R, {"show", "01:00.0"}},
        {"show", E, {"show", "06:00"}},
        {"verify", R, {"verify", "0000:65:00.0"}},
        {"verify", E, {"verify", "garbage"}},
        {"check", R, {"check", "0000:65:00.0"}},
        {"check", E, {"check", "0000:06:00.8"}},
        {"kernel-args", R, {"kernel-args"}},
        {"kernel-args", R, {"kernel-args", "--format", "grub"}},
        {"kernel-args", R, {"kernel-args", "--format", "machineconfig"}},
        {"kernel-args", E, {"kernel-args", "--format", "nope"}},
        {"apply", R, {"apply", "-f", apply_file_, "--dry-run"}},
        {"apply", E, {"apply", "-f", dir_.path() + "/missing.yaml"}},
        {"persist", R, {"persist", "--format", "modprobe"}},
        {"persist", R, {"persist", "--format", "cmdline"}},
        {"persist", E, {"persist", "--format", "nope"}},
        {"opennebula probe", R, {"opennebula", "probe"}},
        {"opennebula probe", E, {"opennebula", "probe", "--nvidia-vendor", "zz"}},
        {"opennebula filter", R, {"opennebula", "filter", "0000:65:00.0"}},
        {"opennebula filter", E, {"opennebula", "filter", "garbage"}},
        {"opennebula inventory", R, {"opennebula", "inventory", "-f", one, "--host", "n3"}},
        {"opennebula inventory", E, {"opennebula", "inventory", "-f", one, "--host", "nosuch"}},
        {"bind", R, {"bind", "--dry-run", "0000:03:00.0"}},
        {"bind", E, {"bind", "0000:00:02.0"}},  // the root disk: refused, with blockers
        {"unbind", R, {"unbind", "--dry-run", "0000:04:00.0"}},
        {"unbind", E, {"unbind", "garbage"}},
        {"recover", R, {"recover"}},
        {"recover", E, {"recover", "--lock-timeout", "soon"}},  // CLI11's own parse error
        {"mdev types", R, {"mdev", "types"}},
        {"mdev types", E, {"mdev", "types", "--parent", "../x"}},
        {"mdev list", R, {"mdev", "list"}},
        {"mdev list", E, {"mdev", "list", "--bogus"}},
        {"mdev create",
         R,
         {"mdev", "create", "--parent", "0000:01:00.0", "--type", "nvidia-230", "--uuid", kNewUuid},
         Runner::InProcessMdev},
        {"mdev create", E, {"mdev", "create", "--parent", "../..", "--type", "nvidia-230"}},
        {"mdev remove", R, {"mdev", "remove", kNewUuid}, Runner::InProcessMdev},
        {"mdev remove", E, {"mdev", "remove", "not-a-uuid"}},
        {"mdev apply", R, {"mdev", "apply", "-f", hco, "--dry-run"}},
        {"mdev apply", E, {"mdev", "apply", "-f", dir_.path() + "/missing.yaml"}},
        {"inventory", R, {"inventory", "-f", cr}},
        {"inventory", E, {"inventory", "-f", dir_.path() + "/missing.yaml"}},
        {"plugin", E, {"plugin", "-f", cr}},  // refuses --json: a daemon has no result
        {"assign", R, {"assign", "0000:03:00.0", "--vm", "vm1"}},
        {"assign", E, {"assign", "garbage", "--vm", "vm1"}},
        {"assignments", R, {"assignments"}},
        {"assignments", E, {"assignments", "--bogus"}},
        {"release", R, {"release", "0000:03:00.0"}},
        {"release", E, {"release"}},
        {"render", R, {"render", "--format", "libvirt", "0000:65:00.0"}},
        {"render",
         R,
         {"render", "--format", "capk", "-f", capk, "--stdout", "--resource",
          "nvidia.com/TU104GL_Tesla_T4", "--gpu", "0000:65:00.0"}},
        {"render", E, {"render", "--format", "nope", "0000:65:00.0"}},
        {"(none)", E, {"frobnicate"}},
        {"(none)", E, {"mdev", "frobnicate"}},
    };
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::string apply_file_;
};

// The commands of `hostpass --help` and of each group's --help: "mdev create", "list".
std::vector<std::string> every_command() {
  std::vector<std::string> out;
  ProgramRun top = run_program({hostpass_bin(), "--help"});
  for (const std::string& name : subcommands(top.out)) {
    ProgramRun group = run_program({hostpass_bin(), name, "--help"});
    std::vector<std::string> sub = subcommands(group.out);
    if (sub.empty()) out.push_back(name);
    for (const std::string& s : sub) out.push_back(name + " " + s);
  }
  return out;
}

TEST_F(JsonCli, EveryCommandHasASuccessAndAnErrorCase) {
  std::vector<std::string> commands = every_command();
  ASSERT_GE(commands.size(), 20u) << "the --help parser found too few commands";
  std::set<std::pair<std::string, Expect>> covered;
  for (const Case& c : cases()) covered.insert({c.command, c.expect});
  for (const std::string& command : commands) {
    EXPECT_TRUE(covered.contains({command, Expect::Error})) << command << ": add an error case";
    // plugin has no result to print: its one case is the refusal of --json.
    if (command != "plugin") {
      EXPECT_TRUE(covered.contains({command, Expect::Result})) << command << ": add a case";
    }
  }
}

TEST_F(JsonCli, EveryOutputParsesAndEveryKeyHasItsType) {
  std::vector<std::string> problems;
  for (const Case& c : cases()) {
    std::string where = "hostpass --json";
    for (const std::string& a : c.args) where += " " + a;
    ProgramRun r = run(c);
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) {
      ADD_FAILURE() << where << ": stdout is not one JSON document:\n" << r.out << r.err;
      continue;
    }
    check_keys(j, where, problems);
    bool is_error = j.is_object() && j.contains("error");
    if (c.expect == Expect::Result) {
      EXPECT_FALSE(is_error) << where << ": " << r.out << r.err;
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << where << ": exit " << r.exit_code;
      continue;
    }
    ASSERT_TRUE(is_error) << where << ": exit " << r.exit_code << "\n" << r.out << r.err;
    std::string kind = j["error"].value("kind", "");
    bool bad_input = kind == "invalid-input" || kind == "refused";
    EXPECT_TRUE(bad_input || kind == "not-found" || kind == "io" || kind == "unsupported")
        << where << ": kind '" << kind << "'";
    EXPECT_EQ(r.exit_code, bad_input ? 2 : 1) << where << ": " << r.out;
    EXPECT_FALSE(j["error"].value("message", "").empty()) << where;
    EXPECT_EQ(j["error"].contains("blockers"), kind == "refused") << where << ": " << r.out;
  }
  for (const std::string& p : problems) ADD_FAILURE() << p;
}

TEST_F(JsonCli, ARefusalListsItsBlockers) {
  ProgramRun r = run({"bind", Expect::Error, {"bind", "0000:00:02.0"}});
  json j = json::parse(r.out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(j["error"]["kind"], "refused");
  ASSERT_FALSE(j["error"]["blockers"].empty()) << r.out;
  EXPECT_NE(j["error"]["blockers"][0].get<std::string>().find("0000:00:02.0"), std::string::npos)
      << r.out;
}

TEST(JsonDoc, EveryKeyIsDocumented) {
  std::ifstream in(std::string(HOSTPASS_SOURCE_DIR) + "/docs/json.md");
  std::stringstream doc;
  doc << in.rdbuf();
  ASSERT_FALSE(doc.str().empty());
  for (const auto& [key, type] : kTypes)
    EXPECT_NE(doc.str().find("`" + key + "`"), std::string::npos)
        << "docs/json.md does not document `" << key << "` (" << type << ")";
}

}  // namespace
}  // namespace hostpass::testing
