// bind_bench — time to bind and unbind N devices with every hostpass guard (IOMMU group reads,
// host-use scan, journal, verification) against the raw three-echo sequence users type
// (driver_override, unbind, drivers_probe), on the same simulated kernel tree, in the same run.
//
//   bind_bench [N=32] [runs=5]
//
// Prints the median of `runs` for each, and their ratio (target: hostpass <= 1.2x raw). Both go
// through the same SimKernelHost, so the fixed cost of the simulated kernel's writes is in both;
// on a real kernel each write also pays the driver's probe/remove, which only makes the guards'
// share smaller.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "fixture_tree.h"
#include "pci_device.h"
#include "sim_kernel.h"
#include "vfio_bind.h"

using namespace hostpass;
using hostpass::testing::FixtureTree;
using hostpass::testing::PciSpec;
using hostpass::testing::SimKernelHost;
using Clock = std::chrono::steady_clock;

#include <time.h>

namespace {

std::vector<PciAddress> build(FixtureTree& t, int n) {
  hostpass::testing::build_standard_host(t);
  std::vector<PciAddress> out;
  for (int i = 0; i < n; ++i) {
    char a[16];
    std::snprintf(a, sizeof a, "0000:%02x:00.0", 0x10 + i);
    PciSpec s;
    s.address = a;
    s.vendor = 0x8086;
    s.device = 0x10fb;
    s.driver = "ixgbe";
    s.iommu_group = 100 + i;
    t.add_pci(s);
    out.push_back(*PciAddress::parse(a));
  }
  return out;
}

void die(const std::string& m) {
  std::fprintf(stderr, "bind_bench: %s\n", m.c_str());
  std::exit(1);
}

double raw_cycle(Host& h, const std::vector<PciAddress>& devs) {
  auto t0 = Clock::now();
  for (const PciAddress& a : devs) {
    std::string addr = a.to_string();
    if (!h.write_attribute(pci_device_dir(a) + "/driver_override", "vfio-pci").ok() ||
        !h.write_attribute("/sys/bus/pci/drivers/ixgbe/unbind", addr).ok() ||
        !h.write_attribute("/sys/bus/pci/drivers_probe", addr).ok())
      die("raw bind failed for " + addr);
  }
  for (const PciAddress& a : devs) {
    std::string addr = a.to_string();
    if (!h.write_attribute(pci_device_dir(a) + "/driver_override", "\n").ok() ||
        !h.write_attribute("/sys/bus/pci/drivers/vfio-pci/unbind", addr).ok() ||
        !h.write_attribute("/sys/bus/pci/drivers_probe", addr).ok())
      die("raw unbind failed for " + addr);
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double hostpass_cycle(Host& h, const std::vector<PciAddress>& devs, bool one_call) {
  auto t0 = Clock::now();
  BindOptions o;
  if (one_call) {
    auto b = bind_devices(h, devs, o);
    if (!b.ok()) die(b.error().message);
    auto u = unbind_devices(h, devs, o);
    if (!u.ok()) die(u.error().message);
  } else {
    for (const PciAddress& a : devs) {
      auto b = bind_devices(h, {a}, o);
      if (!b.ok()) die(b.error().message);
    }
    for (const PciAddress& a : devs) {
      auto u = unbind_devices(h, {a}, o);
      if (!u.ok()) die(u.error().message);
    }
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this process (user + system), less disturbed than wall time on a shared machine.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 32;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n < 1 || n > 200 || runs < 1) die("usage: bind_bench [N 1..200] [runs]");
  std::string root = (std::filesystem::temp_directory_path() /
                      ("hostpass-bind-bench-" + std::to_string(::getpid())))
                         .string();
  FixtureTree tree(root);
  std::vector<PciAddress> devs = build(tree, n);
  RealHost real(root);
  SimKernelHost sim(real);

  // An optional third argument runs one mode only (for strace -c / perf): raw, one, each.
  std::string only = argc > 3 ? argv[3] : "";
  if (!only.empty()) {
    double t = only == "raw" ? raw_cycle(sim, devs) : hostpass_cycle(sim, devs, only == "one");
    std::printf("%s: %.1f ms\n", only.c_str(), t * 1e3);
    std::filesystem::remove_all(root);
    return 0;
  }
  std::vector<double> raw, one, each, raw_cpu, one_cpu, each_cpu;
  for (int r = 0; r < runs; ++r) {
    double c0 = cpu_seconds();
    raw.push_back(raw_cycle(sim, devs));
    double c1 = cpu_seconds();
    one.push_back(hostpass_cycle(sim, devs, true));
    double c2 = cpu_seconds();
    each.push_back(hostpass_cycle(sim, devs, false));
    double c3 = cpu_seconds();
    raw_cpu.push_back(c1 - c0);
    one_cpu.push_back(c2 - c1);
    each_cpu.push_back(c3 - c2);
  }
  double mr = median(raw), mo = median(one), me = median(each);
  double cr = median(raw_cpu), co = median(one_cpu), ce = median(each_cpu);
  std::printf("bind+unbind of %d devices, median of %d runs, simulated kernel (wall | cpu):\n", n,
              runs);
  std::printf("  raw three-echo sequence:             %8.1f ms            | %8.1f ms\n", mr * 1e3,
              cr * 1e3);
  std::printf(
      "  hostpass, one call for all devices:  %8.1f ms (%.2fx raw) | %8.1f ms (%.2fx raw)\n",
      mo * 1e3, mo / mr, co * 1e3, co / cr);
  std::printf(
      "  hostpass, one call per device:       %8.1f ms (%.2fx raw) | %8.1f ms (%.2fx raw)\n",
      me * 1e3, me / mr, ce * 1e3, ce / cr);
  std::filesystem::remove_all(root);
  return 0;
}
