// list_bench — `hostpass list` against `lspci -Dnnk` on the same 10,000-device tree.
//
//   ninja -C build list_bench && ./build/bench/list_bench [N=10000] [RUNS=5]
//
// Builds a kernel-shaped tree (build_large_host) in a scratch directory, then runs each command
// RUNS times, alternating, and prints the median wall time, the ratio to lspci -Dnnk (target:
// hostpass <= 0.33x; the issue measured the floor near 0.11x), peak RSS, and, when strace is
// installed, the syscalls per device of each tool. Both tools read the same tree: lspci through
// -A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci, hostpass through --root ROOT.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fixture_tree.h"
#include "run_program.h"

namespace {

struct Sample {
  double seconds;
  long max_rss_kib;
};

// Runs argv with stdout to /dev/null; returns wall time and the child's peak RSS.
Sample time_run(const std::vector<std::string>& argv) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "list_bench: %s failed\n", argv[0].c_str());
    std::exit(1);
  }
  return Sample{s, ru.ru_maxrss};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Total syscalls reported by `strace -c -f`, or -1 when strace is missing.
long syscalls(const std::vector<std::string>& argv) {
  if (system("command -v strace >/dev/null 2>&1") != 0) return -1;
  std::vector<std::string> s = {"strace", "-f", "-c", "-o", "/tmp/list_bench.strace"};
  s.insert(s.end(), argv.begin(), argv.end());
  hostpass::testing::run_program(s);
  FILE* f = std::fopen("/tmp/list_bench.strace", "r");
  if (!f) return -1;
  char line[512];
  long total = -1;
  while (std::fgets(line, sizeof line, f)) {
    long calls = 0;
    // "100.00    0.123456           1    123456      1234 total"
    if (std::strstr(line, "total") && std::sscanf(line, "%*f %*f %*d %ld", &calls) == 1)
      total = calls;
    if (std::strstr(line, "total") && total < 0 && std::sscanf(line, "%*f %*f %ld", &calls) == 1)
      total = calls;
  }
  std::fclose(f);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string root = "/tmp/hostpass-list-bench-" + std::to_string(n);
  if (!std::filesystem::exists(root + "/sys/bus/pci/devices")) {
    std::printf("building a %d-device tree in %s ...\n", n, root.c_str());
    hostpass::testing::FixtureTree tree(root);
    hostpass::testing::build_large_host(tree, n);
  }
  std::string sysfs = "sysfs.path=" + root + "/sys/bus/pci";
  std::vector<std::string> ours = {hostpass::testing::hostpass_bin(), "--root", root, "list"};
  std::vector<std::string> ours_json = {hostpass::testing::hostpass_bin(), "--root", root, "--json",
                                        "list"};
  std::vector<std::string> lspci_k = {"lspci", "-A", "linux-sysfs", "-O", sysfs, "-Dnnk"};
  std::vector<std::string> lspci_nn = {"lspci", "-A", "linux-sysfs", "-O", sysfs, "-Dnn"};

  struct Row {
    const char* name;
    std::vector<std::string>* argv;
    std::vector<double> times;
    long rss = 0;
  } rows[] = {{"hostpass list", &ours, {}},
              {"hostpass --json list", &ours_json, {}},
              {"lspci -Dnnk", &lspci_k, {}},
              {"lspci -Dnn", &lspci_nn, {}}};
  time_run(ours);  // warm the page cache for everyone
  time_run(lspci_k);
  for (int r = 0; r < runs; ++r) {
    for (Row& row : rows) {
      Sample s = time_run(*row.argv);
      row.times.push_back(s.seconds);
      row.rss = std::max(row.rss, s.max_rss_kib);
    }
  }
  double base = median(rows[2].times);
  std::printf("\n%d devices, median of %d runs\n", n, runs);
  std::printf("%-22s %10s %12s %12s %16s\n", "command", "wall (s)", "vs lspci -k", "peak RSS",
              "syscalls/device");
  for (Row& row : rows) {
    long sc = syscalls(*row.argv);
    char per[32] = "n/a";
    if (sc > 0) std::snprintf(per, sizeof per, "%.1f", static_cast<double>(sc) / n);
    std::printf("%-22s %10.3f %11.2fx %9ld KiB %16s\n", row.name, median(row.times),
                median(row.times) / base, row.rss, per);
  }
  std::printf(
      "\ntarget: hostpass list <= 0.33x lspci -Dnnk (floor measured in the issue: ~0.11x)\n");
  return 0;
}
