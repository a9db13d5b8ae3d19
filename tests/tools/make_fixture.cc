// make_fixture — writes a kernel-shaped fixture tree for manual runs and benchmarks.
//
//   make_fixture standard DIR      the standard small host (tests/support/fixture_tree.h)
//   make_fixture tricky DIR        multi-function, SR-IOV, unknown ids, no-IOMMU domain, VMD domain
//   make_fixture large DIR N       N functions (benchmarks)
//
// Then: hostpass --root DIR list, or lspci -A linux-sysfs -O sysfs.path=DIR/sys/bus/pci -Dnn.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fixture_tree.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_fixture standard|tricky|large DIR [N]\n");
    return 2;
  }
  std::string kind = argv[1];
  hostpass::testing::FixtureTree tree(argv[2]);
  if (kind == "standard") {
    hostpass::testing::build_standard_host(tree);
  } else if (kind == "tricky") {
    hostpass::testing::build_tricky_host(tree);
  } else if (kind == "large" && argc == 4) {
    hostpass::testing::build_large_host(tree, std::atoi(argv[3]));
  } else {
    std::fprintf(stderr, "make_fixture: unknown kind '%s'\n", kind.c_str());
    return 2;
  }
  return 0;
}
