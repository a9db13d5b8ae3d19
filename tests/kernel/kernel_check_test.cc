// kernel_check_test.cc — `hostpass check` against what Debian's kernel really shows about the
// IOMMU, in two boots beside `iommu` (intel_iommu=on) and `noiommu` (intel_iommu=off):
//
//   noarg   QEMU intel-iommu (an ACPI DMAR table), NO intel_iommu= argument, QEMU's default
//           TCG CPU (vendor AuthenticAMD). Debian's CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y
//           brings VT-d up for every device but an Intel integrated GPU: the discrete e1000e gets
//           a group. check must believe the DMAR unit (Intel rules), pass the IOMMU, only warn on
//           the missing argument.
//   nodmar  no intel-iommu at all (firmware without VT-d), booted WITH intel_iommu=on: nothing
//           to enable. check must name the firmware setup, not the kernel argument.
//
// The guest only captures (guest/scenario_noarg.sh, scenario_nodmar.sh); every assertion is here.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "transcript.h"

namespace {

using namespace hostpass::kernel_tier;

constexpr const char* kNic = "0000:01:00.0";

class KernelNoArg : public KernelTier {
 protected:
  void SetUp() override { use("noarg"); }
};

class KernelNoDmar : public KernelTier {
 protected:
  void SetUp() override { use("nodmar"); }
};

// The host checks of a `check --json` capture, by id.
std::map<std::string, nlohmann::json> host_checks_of(const Capture& c) {
  std::map<std::string, nlohmann::json> out;
  nlohmann::json j = parse_json(c);
  if (!j.is_object() || !j.contains("checks")) return out;
  for (const auto& check : j["checks"])
    if (check["device"].is_null()) out[check["id"]] = check;
  return out;
}

std::string boot_cmdline(const Transcript& t) {
  for (const std::string& n : t.notes)
    if (n.rfind("boot ", 0) == 0) {
      size_t at = n.find("cmdline=");
      return at == std::string::npos ? "" : n.substr(at + 8);
    }
  return "";
}

bool has_line(const Capture& c, const std::string& line) {
  for (const std::string& l : c.lines)
    if (l == line) return true;
  return false;
}

// ---- noarg: VT-d by the build default, an AuthenticAMD CPU ---------------------------------

TEST_F(KernelNoArg, KernelBringsUpVtdWithoutTheArgumentNextToAnAmdVendorCpu) {
  std::string cmdline = boot_cmdline(*t_);
  EXPECT_EQ(cmdline.find("intel_iommu"), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find("iommu="), std::string::npos) << cmdline;
  ASSERT_EQ(cap("vendor").lines.size(), 1u) << cap("vendor").text();
  EXPECT_NE(cap("vendor").lines[0].find("AuthenticAMD"), std::string::npos) << cap("vendor").text();
  EXPECT_EQ(cap("units").lines, std::vector<std::string>{"dmar0"}) << cap("units").text();
  EXPECT_TRUE(has_line(cap("tables"), "DMAR")) << cap("tables").text();
  EXPECT_FALSE(has_line(cap("tables"), "IVRS")) << cap("tables").text();
  auto groups = groups_by_address(cap("groups"));
  EXPECT_EQ(groups.count(kNic), 1u) << cap("groups").text();
}

// The shape tests/support/fixture_tree.cc's add_iommu() copies.
TEST_F(KernelNoArg, DmarUnitHasTheSysfsShapeOfTheFixtures) {
  EXPECT_EQ(cap("unit.link").lines, std::vector<std::string>{"../../devices/virtual/iommu/dmar0"});
  EXPECT_EQ(cap("unit.subsystem").lines, std::vector<std::string>{"../../../../class/iommu"});
  for (const char* a : {"address", "cap", "domains_supported", "domains_used", "ecap", "version"})
    EXPECT_TRUE(has_line(cap("unit.attrs"), a)) << a << "\n" << cap("unit.attrs").text();
}

TEST_F(KernelNoArg, CheckBelievesTheDmarUnitPassesTheIommuAndWarnsOnTheBuildDefault) {
  const Capture& c = cap("check.json");
  auto checks = host_checks_of(c);
  ASSERT_FALSE(checks.empty()) << c.text();
  nlohmann::json j = parse_json(c);
  EXPECT_EQ(j["cpu_vendor"], "amd") << c.text();
  EXPECT_EQ(j["iommu_vendor"], "intel") << c.text();
  EXPECT_EQ(checks["cpu.vendor"]["status"], "pass") << checks["cpu.vendor"].dump(2);
  EXPECT_EQ(checks["cpu.vendor"]["summary"],
            "AMD CPU with an Intel VT-d IOMMU (dmar0): its kernel arguments apply");
  EXPECT_EQ(checks["iommu.active"]["status"], "pass") << checks["iommu.active"].dump(2);
  EXPECT_EQ(checks["iommu.active"]["summary"], "Intel VT-d active");
  EXPECT_EQ(checks["cmdline.iommu"]["status"], "warn") << checks["cmdline.iommu"].dump(2);
  EXPECT_EQ(checks["cmdline.iommu"]["summary"],
            "VT-d is active by the kernel's build default, without intel_iommu=on");
  // The guest has Debian's own build config in /boot: check names the option it read.
  std::string release;
  for (const std::string& n : t_->notes)
    if (n.rfind("boot ", 0) == 0) {
      size_t at = n.find("kernel=");
      if (at != std::string::npos) release = n.substr(at + 7, n.find(' ', at) - at - 7);
    }
  EXPECT_EQ(checks["cmdline.iommu"]["observed"],
            "/proc/cmdline: no intel_iommu=; /boot/config-" + release +
                ": CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y (on, except integrated GPUs)");
  EXPECT_EQ(checks["iommu.interrupt-remapping"]["status"], "pass")
      << checks["iommu.interrupt-remapping"].dump(2);
  for (const auto& [id, check] : checks)
    EXPECT_NE(check["status"], "fail") << id << ": " << check.dump(2);
  EXPECT_EQ(cap("check").rc, 0) << cap("check").text();
  EXPECT_NE(cap("check").text().find("ready for passthrough"), std::string::npos)
      << cap("check").text();
}

TEST_F(KernelNoArg, KernelArgsGivesTheIntelArgumentsDespiteTheAmdVendor) {
  const Capture& c = cap("kernel-args");
  EXPECT_EQ(c.rc, 0) << c.text();
  ASSERT_FALSE(c.lines.empty()) << c.text();
  EXPECT_EQ(c.lines[0], "intel_iommu=on iommu=pt") << c.text();
}

// ---- nodmar: firmware without VT-d, intel_iommu=on on the command line ---------------------

TEST_F(KernelNoDmar, KernelShowsNoUnitNoTableAndNoGroupDespiteIntelIommuOn) {
  std::string cmdline = boot_cmdline(*t_);
  EXPECT_NE(cmdline.find(" intel_iommu=on"), std::string::npos) << cmdline;
  EXPECT_TRUE(cap("units").lines.empty()) << cap("units").text();
  EXPECT_FALSE(cap("tables").lines.empty()) << "the firmware has ACPI tables, just no DMAR";
  EXPECT_FALSE(has_line(cap("tables"), "DMAR")) << cap("tables").text();
  EXPECT_FALSE(has_line(cap("tables"), "IVRS")) << cap("tables").text();
  EXPECT_TRUE(cap("groups").lines.empty()) << cap("groups").text();
}

TEST_F(KernelNoDmar, CheckSendsTheUserToTheFirmwareSetup) {
  const Capture& c = cap("check.json");
  auto checks = host_checks_of(c);
  ASSERT_FALSE(checks.empty()) << c.text();
  EXPECT_EQ(parse_json(c)["iommu_vendor"], "intel") << c.text();  // from the CPU: no table
  const nlohmann::json& active = checks["iommu.active"];
  EXPECT_EQ(active["status"], "fail") << active.dump(2);
  EXPECT_EQ(active["summary"], "no IOMMU in the firmware (no ACPI DMAR or IVRS table)");
  EXPECT_EQ(active["observed"],
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: no DMAR, no IVRS");
  std::string remedy = active["remedy"];
  EXPECT_EQ(remedy.rfind("enable VT-d (Intel Virtualization Technology for Directed I/O) in the "
                         "firmware (BIOS/UEFI) setup and reboot",
                         0),
            0u)
      << remedy;
  EXPECT_EQ(remedy.find("add intel_iommu"), std::string::npos) << remedy;
  // The argument is there and right; it is not what is missing.
  EXPECT_EQ(checks["cmdline.iommu"]["status"], "pass") << checks["cmdline.iommu"].dump(2);
  EXPECT_EQ(checks["iommu.interrupt-remapping"]["status"], "skip");
  EXPECT_EQ(cap("check").rc, 1) << cap("check").text();
  EXPECT_NE(cap("check").text().find("fix: enable VT-d (Intel Virtualization Technology"),
            std::string::npos)
      << cap("check").text();
}

}  // namespace
