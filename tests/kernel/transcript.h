// transcript.h — what every real-kernel test file shares: reading a boot's results channel.
//
// boot.sh runs a topology's guest scenario once (guest/scenario_<topology>.sh) and leaves its
// results channel in $HOSTPASS_KERNEL_OUT/<topology>/results.log (CMake passes the directory;
// the boot is a CTest fixture the tests require). Format (guest/hostpass-tier.sh):
// "@@HP out NAME", the lines "@@| ...", "@@HP rc NAME N"; other "@@HP " lines are progress notes.
// A test file derives a fixture from KernelTier and calls use("<topology>") in SetUp; cap(NAME)
// then gives a capture, failing the test when the guest did not capture it.
#ifndef HOSTPASS_TESTS_KERNEL_TRANSCRIPT_H_
#define HOSTPASS_TESTS_KERNEL_TRANSCRIPT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace hostpass::kernel_tier {

struct Capture {
  std::vector<std::string> lines;
  int rc = -1;
  std::string text() const {
    std::string s;
    for (const std::string& l : lines) s += l + "\n";
    return s;
  }
};

struct Transcript {
  std::string dir;
  bool loaded = false;
  std::string load_error;
  std::map<std::string, Capture> captures;
  std::vector<std::string> notes;  // "@@HP" lines that are not out/rc

  // Where to look when a test fails.
  std::string where() const {
    return "\n(guest console: " + dir + "/console.log, results: " + dir + "/results.log)";
  }
};

inline Transcript load(const std::string& topology) {
  Transcript t;
  t.dir = std::string(HOSTPASS_KERNEL_OUT) + "/" + topology;
  std::ifstream in(t.dir + "/results.log");
  if (!in) {
    t.load_error = "no " + t.dir + "/results.log: the boot fixture (kernel_boot_" + topology +
                   ") did not run or failed";
    return t;
  }
  std::string line, current;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the serial port's \r\n
    if (line.rfind("@@| ", 0) == 0) {
      if (!current.empty()) t.captures[current].lines.push_back(line.substr(4));
    } else if (line == "@@|") {
      if (!current.empty()) t.captures[current].lines.push_back("");
    } else if (line.rfind("@@HP out ", 0) == 0) {
      current = line.substr(9);
      t.captures[current] = Capture{};
    } else if (line.rfind("@@HP rc ", 0) == 0) {
      std::istringstream f(line.substr(8));
      std::string name;
      int rc = -1;
      f >> name >> rc;
      t.captures[name].rc = rc;
      current.clear();
    } else if (line.rfind("@@HP ", 0) == 0) {
      t.notes.push_back(line.substr(5));
    }
  }
  t.loaded = std::find_if(t.notes.begin(), t.notes.end(), [](const std::string& n) {
               return n.rfind("done", 0) == 0;
             }) != t.notes.end();
  if (!t.loaded) t.load_error = t.dir + "/results.log has no '@@HP done': the guest died mid-way";
  return t;
}

// "ADDR A B" lines → ADDR → {A, B}.
inline std::map<std::string, std::vector<std::string>> table(const Capture& c) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& l : c.lines) {
    std::istringstream f(l);
    std::string key, v;
    f >> key;
    if (key.empty()) continue;
    while (f >> v) out[key].push_back(v);
  }
  return out;
}

// /sys/kernel/iommu_groups as "GROUP ADDR" lines → ADDR → group.
inline std::map<std::string, int> groups_by_address(const Capture& c) {
  std::map<std::string, int> out;
  for (const std::string& l : c.lines) {
    std::istringstream f(l);
    int g;
    std::string a;
    if (f >> g >> a) out[a] = g;
  }
  return out;
}

inline nlohmann::json parse_json(const Capture& c) {
  return nlohmann::json::parse(c.text(), nullptr, /*allow_exceptions=*/false);
}

class KernelTier : public ::testing::Test {
 protected:
  static const Transcript& transcript(const std::string& topology) {
    static std::map<std::string, Transcript> cache;
    auto it = cache.find(topology);
    if (it == cache.end()) it = cache.emplace(topology, load(topology)).first;
    return it->second;
  }
  // The capture NAME of this boot; fails the test (not just the assertion) when absent.
  const Capture& cap(const std::string& name) {
    static const Capture empty;
    auto it = t_->captures.find(name);
    if (it == t_->captures.end()) {
      ADD_FAILURE() << "the guest captured no '" << name << "'" << t_->where();
      return empty;
    }
    return it->second;
  }
  void use(const std::string& topology) {
    t_ = &transcript(topology);
    ASSERT_TRUE(t_->loaded) << t_->load_error << t_->where();
  }
  const Transcript* t_ = nullptr;
};

// The addresses of the "iommu" topology (boot.sh; docs/kernel-tier.md), shared by the test files
// that read that boot.
inline constexpr const char* kOwn = "0000:01:00.0";      // e1000e, own group
inline constexpr const char* kHostNic = "0000:02:00.0";  // e1000e, own group, stays on e1000e
inline constexpr const char* kBridge = "0000:03:00.0";   // pcie-pci-bridge
inline constexpr const char* kLegA = "0000:04:01.0";     // e1000 behind the bridge
inline constexpr const char* kLegB = "0000:04:02.0";     // e1000 behind the bridge
inline constexpr const char* kMf0 = "0000:05:00.0";      // e1000e multifunction slot, function 0
inline constexpr const char* kMf1 = "0000:05:00.1";

}  // namespace hostpass::kernel_tier

#endif  // HOSTPASS_TESTS_KERNEL_TRANSCRIPT_H_
