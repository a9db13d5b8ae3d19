// plugin_bench — `hostpass plugin` at node scale, through the fake kubelet. Not a test.
//
// Builds a kernel-shaped fixture with 10,000 PCI functions on vfio-pci (each its own IOMMU group
// with its /dev/vfio/<n> node, NUMA nodes 0/1 alternating), a KubeVirt CR with four external
// resources of 2,500 devices each (by vendor:device), starts the built `hostpass plugin` as a
// separate process against the fake kubelet, and prints:
//   - start-up: process start to the fourth registration
//   - Allocate latency through the kubelet's client (one kept connection), p50/p99 of 2,000
//   - health change → ListAndWatch update at the kubelet: /dev/vfio/<n> removed (→ Unhealthy)
//     and restored (→ Healthy), p50/p99 of 200 changes
//   - a sibling leaving vfio-pci → Unhealthy at the kubelet: the first 100 GPUs share their
//     IOMMU group with an audio function no resource selects; it moves to snd_hda_intel (the
//     group's /dev/vfio node stays) and back, p50/p99 of 200 changes (a daemon that does not
//     check the group's other functions shows "not detected")
//   - the daemon's RSS (VmRSS and peak VmHWM from /proc/<pid>/status) with its ratio to the
//     target, and where it is: /proc/<pid>/smaps summed by mapping (heap, anonymous mappings
//     such as thread stacks and malloc arenas, each shared library), and the thread count
// Targets (docs/plugin.md): Allocate p99 < 1 ms, health p99 < 100 ms, RSS <= 20 MiB.
// Usage: build/bench/plugin_bench [devices] [--hostpass BIN] [--hold SECONDS] [--wrap "CMD ARGS"]
//   devices     default 10000
//   --hostpass  the binary to measure (default: the built one), e.g. a copy of an older build,
//               to compare before/after in back-to-back runs on the same machine state
//   --hold      keep the daemon up that long after the figures (attach gdb, heaptrack -p)
//   --wrap      run the daemon under a tool, e.g. --wrap "heaptrack -o /tmp/hp"
//               (the RSS figures are then the tool's process's, not the daemon's)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "device_plugin.h"
#include "fake_kubelet.h"
#include "fixture_tree.h"
#include "run_program.h"

using namespace hostpass;
using namespace hostpass::testing;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[i];
}

std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return "?";
}

// /proc/<pid>/smaps summed by what each mapping is: "[heap]", "anonymous" (thread stacks,
// malloc arenas, gRPC's mmap'd buffers), or the file's base name (shared libraries, mapped
// data files). Values in KiB of Rss.
std::map<std::string, long> rss_by_mapping(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps");
  std::map<std::string, long> out;
  std::string line, current;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17) {
      // "start-end perms offset dev inode [path]"
      std::istringstream in(line);
      std::string range, perms, offset, dev, inode, path;
      in >> range >> perms >> offset >> dev >> inode;
      std::getline(in >> std::ws, path);
      if (path.empty())
        current = "anonymous";
      else if (path[0] == '/')
        current = path.substr(path.rfind('/') + 1);
      else
        current = path;  // [heap], [stack], [vdso], ...
      continue;
    }
    if (line.rfind("Rss:", 0) == 0) out[current] += std::atol(line.c_str() + 4);
  }
  return out;
}

std::string address(int i, int function = 0) {
  char b[32];
  std::snprintf(b, sizeof b, "%04x:%02x:%02x.%d", 0x10 + i / 8192, (i / 32) % 256, i % 32,
                function);
  return b;
}

const uint16_t kDeviceIds[4] = {0x1eb8, 0x1db6, 0x20b0, 0x2236};
const char* kNames[4] = {"nvidia.com/TU104GL_Tesla_T4", "nvidia.com/GV100GL_Tesla_V100",
                         "nvidia.com/GA100_A100", "nvidia.com/GA102GL_A10"};

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int devices = 10000;
  std::string bin = hostpass_bin();
  int hold_s = 0;
  std::vector<std::string> wrap;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--hostpass" && i + 1 < argc) {
      bin = argv[++i];
    } else if (a == "--hold" && i + 1 < argc) {
      hold_s = std::atoi(argv[++i]);
    } else if (a == "--wrap" && i + 1 < argc) {
      std::istringstream in(argv[++i]);
      for (std::string w; in >> w;) wrap.push_back(w);
    } else if (!a.empty() && std::isdigit(static_cast<unsigned char>(a[0]))) {
      devices = std::atoi(a.c_str());
    } else {
      std::fprintf(stderr,
                   "usage: plugin_bench [devices] [--hostpass BIN] [--hold S] [--wrap CMD]\n");
      return 2;
    }
  }
  const int siblings = std::min(devices, 100);
  std::string base = "/tmp/hostpass-plugin-bench-" + std::to_string(::getpid());
  FixtureTree tree(base + "/root");
  auto t0 = Clock::now();
  for (int i = 0; i < devices; ++i) {
    PciSpec s;
    s.address = address(i);
    s.vendor = 0x10de;
    s.device = kDeviceIds[i % 4];
    s.class_code = 0x030200;
    s.driver = "vfio-pci";
    s.iommu_group = 100 + i;
    s.numa_node = i % 2;
    s.multifunction = i < siblings;
    tree.add_pci(s);
    tree.write("/dev/vfio/" + std::to_string(100 + i), "");
    if (i < siblings) {
      PciSpec audio = s;
      audio.address = address(i, 1);
      audio.device = 0x10f8;
      audio.class_code = 0x040300;
      audio.multifunction = false;
      tree.add_pci(audio);
    }
  }
  tree.add_driver("snd_hda_intel");
  tree.write("/dev/vfio/vfio", "");
  std::printf("fixture: %d PCI functions on vfio-pci built in %.0f ms\n", devices,
              ms(Clock::now() - t0));

  std::string sockets = base + "/s";
  fs::create_directories(sockets);
  tree.mkdir("/var/lib/kubelet");
  fs::create_directory_symlink(sockets, tree.path(kDevicePluginDir));
  std::string cr = base + "/cr.yaml";
  {
    std::ofstream f(cr);
    f << "permittedHostDevices:\n  pciHostDevices:\n";
    for (int k = 0; k < 4; ++k) {
      char sel[16];
      std::snprintf(sel, sizeof sel, "10DE:%04X", kDeviceIds[k]);
      f << "  - pciVendorSelector: \"" << sel << "\"\n    resourceName: \"" << kNames[k]
        << "\"\n    externalResourceProvider: true\n";
    }
  }

  FakeKubelet kubelet(sockets);
  if (!kubelet.start().ok()) {
    std::fprintf(stderr, "fake kubelet did not start\n");
    return 1;
  }
  std::string log = base + "/plugin.log";
  std::vector<std::string> args = wrap;
  for (const std::string& a :
       {bin, std::string("--root"), tree.root(), std::string("plugin"), std::string("-f"), cr})
    args.push_back(a);
  std::printf("daemon: %s\n", bin.c_str());
  std::vector<char*> av;
  av.reserve(args.size() + 1);
  for (auto& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  auto start = Clock::now();
  if (posix_spawn(&pid, av[0], &fa, nullptr, av.data(), environ) != 0) return 1;
  bool up = kubelet.wait_for(
      [&] {
        for (const char* n : kNames) {
          auto d = kubelet.devices(n);
          if (!d || d->empty()) return false;
        }
        return true;
      },
      std::chrono::seconds(120));
  if (!up) {
    std::fprintf(stderr, "the plugin did not come up; log in %s\n", log.c_str());
    ::kill(pid, SIGKILL);
    return 1;
  }
  size_t total = 0;
  for (const char* n : kNames) total += kubelet.devices(n)->size();
  std::printf("start-up: 4 resources, %zu devices listed at the kubelet %.0f ms after exec\n",
              total, ms(Clock::now() - start));

  // Allocate, one device at a time, as the kubelet does per container.
  std::vector<double> alloc;
  const auto list = *kubelet.devices(kNames[0]);
  for (int i = 0; i < 2000; ++i) {
    const std::string& id = list[static_cast<size_t>(i) % list.size()].id;
    auto t = Clock::now();
    auto a = kubelet.allocate(kNames[0], {id});
    alloc.push_back(ms(Clock::now() - t));
    if (!a.ok()) {
      std::fprintf(stderr, "allocate failed: %s\n", a.error().message.c_str());
      return 1;
    }
  }
  std::printf("Allocate through the kubelet client: p50 %.3f ms, p99 %.3f ms (target p99 < 1 ms)\n",
              pct(alloc, 0.5), pct(alloc, 0.99));

  // Health: remove /dev/vfio/<group>, wait for Unhealthy at the kubelet; restore, wait Healthy.
  auto health_of = [&](const std::string& res, const std::string& id) {
    auto d = kubelet.devices(res);
    if (!d) return std::string();
    for (const KubeletDevice& x : *d)
      if (x.id == id) return x.health;
    return std::string();
  };
  std::vector<double> health;
  for (int i = 0; i < 100; ++i) {
    int dev = (i * 97) % devices;
    std::string res = kNames[dev % 4];
    std::string id = "pci-" + address(dev);
    std::string node = tree.path("/dev/vfio/" + std::to_string(100 + dev));
    auto t = Clock::now();
    fs::remove(node);
    if (!kubelet.wait_for([&] { return health_of(res, id) == "Unhealthy"; })) {
      std::fprintf(stderr, "no Unhealthy update for %s\n", id.c_str());
      return 1;
    }
    health.push_back(ms(Clock::now() - t));
    t = Clock::now();
    std::ofstream(node).put('\0');
    if (!kubelet.wait_for([&] { return health_of(res, id) == "Healthy"; })) {
      std::fprintf(stderr, "no Healthy update for %s\n", id.c_str());
      return 1;
    }
    health.push_back(ms(Clock::now() - t));
  }
  std::printf(
      "health change -> ListAndWatch update at the kubelet (%zu changes, lists of %zu): "
      "p50 %.2f ms, p99 %.2f ms (target p99 < 100 ms)\n",
      health.size(), list.size(), pct(health, 0.5), pct(health, 0.99));
  // A sibling leaves vfio-pci as the kernel's files show it: the device's driver link and the
  // entries in the old and new driver's directories.
  auto rebind = [&](const std::string& a, const std::string& from, const std::string& to) {
    std::string dev = tree.device_path(a);
    fs::remove(tree.path(dev + "/driver"));
    tree.symlink(FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/" + to),
                 dev + "/driver");
    fs::remove(tree.path("/sys/bus/pci/drivers/" + from + "/" + a));
    tree.symlink(FixtureTree::relative("/sys/bus/pci/drivers/" + to + "/" + a, dev),
                 "/sys/bus/pci/drivers/" + to + "/" + a);
  };
  std::vector<double> sibling;
  bool detected = true;
  for (int i = 0; i < siblings && detected; ++i) {
    std::string res = kNames[i % 4];
    std::string id = "pci-" + address(i);
    auto t = Clock::now();
    rebind(address(i, 1), "vfio-pci", "snd_hda_intel");
    detected = kubelet.wait_for([&] { return health_of(res, id) == "Unhealthy"; },
                                std::chrono::seconds(5));
    if (detected) sibling.push_back(ms(Clock::now() - t));
    t = Clock::now();
    rebind(address(i, 1), "snd_hda_intel", "vfio-pci");
    if (!kubelet.wait_for([&] { return health_of(res, id) == "Healthy"; })) {
      std::fprintf(stderr, "no Healthy update for %s\n", id.c_str());
      return 1;
    }
    if (detected) sibling.push_back(ms(Clock::now() - t));
  }
  if (detected && !sibling.empty())
    std::printf(
        "sibling leaves vfio-pci -> update at the kubelet (%zu changes): p50 %.2f ms, "
        "p99 %.2f ms (target p99 < 100 ms)\n",
        sibling.size(), pct(sibling, 0.5), pct(sibling, 0.99));
  else
    std::printf(
        "sibling leaves vfio-pci: not detected within 5 s (the group's other functions "
        "are not checked)\n");

  long rss_kib = std::atol(status_field(pid, "VmRSS").c_str());
  std::printf("daemon RSS: %.1f MiB = %.2f x the 20 MiB target (%s); peak VmHWM%s\n",
              static_cast<double>(rss_kib) / 1024.0, static_cast<double>(rss_kib) / (20.0 * 1024),
              rss_kib <= 20L * 1024 ? "met" : "NOT met", status_field(pid, "VmHWM").c_str());
  std::printf("  RssAnon%s, RssFile%s, threads%s\n", status_field(pid, "RssAnon").c_str(),
              status_field(pid, "RssFile").c_str(), status_field(pid, "Threads").c_str());
  {
    auto parts = rss_by_mapping(pid);
    std::vector<std::pair<long, std::string>> sorted;
    sorted.reserve(parts.size());
    for (const auto& [name, kib] : parts) sorted.push_back({kib, name});
    std::sort(sorted.rbegin(), sorted.rend());
    std::string line = "  by mapping (KiB):";
    for (size_t i = 0; i < sorted.size() && i < 12; ++i)
      line += " " + sorted[i].second + " " + std::to_string(sorted[i].first) + ",";
    line.pop_back();
    std::printf("%s\n", line.c_str());
  }
  if (hold_s > 0) {
    std::printf("holding the daemon (pid %d) for %d s\n", static_cast<int>(pid), hold_s);
    std::this_thread::sleep_for(std::chrono::seconds(hold_s));
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  kubelet.stop();
  fs::remove_all(base);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
