// End-to-end: `hostpass check` on fixture roots and, read-only, on the machine running the tests.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

class CheckCli : public ::testing::Test {
 protected:
  CheckCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

std::string status_of(const nlohmann::json& j, const std::string& id,
                      const std::string& device = "") {
  for (const auto& c : j["checks"])
    if (c["id"] == id && (device.empty() ? c["device"].is_null() : c["device"] == device))
      return c["status"];
  return "absent";
}

TEST_F(CheckCli, PreparedHostPassesWithExitZero) {
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\u2713 iommu.active"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ready for passthrough"), std::string::npos) << r.out;
}

TEST_F(CheckCli, HostWithoutIommuFailsWithTheRemedyUnderIt) {
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/class/iommu"))) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/kernel/iommu_groups")))
    fs::remove_all(e.path());
  tree_.set_cmdline("root=/dev/vda1 ro quiet");
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  size_t fail = r.out.find("\u2717 iommu.active");
  ASSERT_NE(fail, std::string::npos) << r.out;
  size_t fix = r.out.find("fix: enable VT-d in the firmware setup, add intel_iommu=on", fail);
  EXPECT_NE(fix, std::string::npos) << r.out;
  EXPECT_LT(fix, r.out.find("cmdline.iommu ", fail)) << "the remedy sits under its failure";
}

TEST_F(CheckCli, DevicesGetTheirOwnSection) {
  ProgramRun r = hostpass({"check", "02:00.0", "0000:04:00.0"});
  EXPECT_EQ(r.exit_code, 1) << r.out;  // the QAT's group sibling is on a host driver
  EXPECT_NE(r.out.find("device 0000:02:00.0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\u2717 device.group-viable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: bind the whole group on purpose (hostpass bind --group 0000:02:00.0)"),
            std::string::npos)
      << r.out;
  ProgramRun ok = hostpass({"check", "0000:04:00.0"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

TEST_F(CheckCli, JsonListsEveryCheckWithItsDevice) {
  ProgramRun r = hostpass({"check", "--json", "0000:01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["cpu_vendor"], "intel");
  EXPECT_EQ(status_of(j, "iommu.active"), "pass");
  EXPECT_EQ(status_of(j, "device.driver", "0000:01:00.0"), "warn");
  EXPECT_EQ(status_of(j, "device.gpu-operator", "0000:01:00.0"), "warn");
  EXPECT_EQ(j["counts"]["fail"], 0);
  for (const auto& c : j["checks"])
    for (const char* key : {"id", "status", "summary", "observed", "remedy", "device"})
      EXPECT_TRUE(c.contains(key)) << key;
}

TEST_F(CheckCli, BadAddressesExitTwo) {
  for (const char* bad : {"06:00", "0000:06:00.8", "../x", ""}) {
    ProgramRun r = hostpass({"check", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(CheckCli, MissingDeviceFailsWithExitOne) {
  ProgramRun r = hostpass({"check", "0000:99:00.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\u2717 device.exists"), std::string::npos) << r.out;
}

// The machine running the tests is a VM without an IOMMU: `check` must say so, read-only.
TEST(CheckCliRealMachine, ReportsTheMissingIommuReadOnly) {
  std::error_code ec;
  bool has_iommu = fs::exists("/sys/class/iommu", ec) && !fs::is_empty("/sys/class/iommu", ec) &&
                   !fs::is_empty("/sys/kernel/iommu_groups", ec);
  if (has_iommu) GTEST_SKIP() << "this machine has an active IOMMU";
  ProgramRun r = run_program({hostpass_bin(), "--root", "/", "check", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(status_of(j, "iommu.active"), "fail");
  EXPECT_EQ(j["ready"], false);
  ProgramRun human = run_program({hostpass_bin(), "--root", "/", "check"});
  EXPECT_EQ(human.exit_code, 1);
  EXPECT_NE(human.out.find("\u2717 iommu.active"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("fix: enable"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace hostpass::testing
