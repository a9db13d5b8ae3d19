// hostpass_sim.cc — the hostpass CLI over the simulated kernel (sim_kernel.h): `hostpass_sim
// --root DIR bind ...` behaves as `hostpass bind` would on a machine whose sysfs is DIR/sys, with
// writes moving driver links the way the kernel does. For end-to-end tests of mutating commands
// and for bench/. It refuses to run without a fixture root: the simulated kernel writes the tree
// directly and must never be pointed at the real /sys.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli.h"
#include "sim_kernel.h"

namespace {

// Owns the RealHost the simulated kernel wraps (base-from-member: the holder is built first).
struct RealHolder {
  explicit RealHolder(const std::string& root) : real(std::make_unique<hostpass::RealHost>(root)) {}
  std::unique_ptr<hostpass::RealHost> real;
};

class OwnedSimHost : private RealHolder, public hostpass::testing::SimKernelHost {
 public:
  explicit OwnedSimHost(const std::string& root) : RealHolder(root), SimKernelHost(*real) {}
};

}  // namespace

int main(int argc, char** argv) {
  return hostpass::run_cli(
      argc, argv, [](const std::string& root) -> std::unique_ptr<hostpass::Host> {
        if (hostpass::normalize_path(root.empty() ? "/" : root) == "/") {
          std::fprintf(stderr,
                       "hostpass_sim: refusing to simulate a kernel over the real / "
                       "(give --root DIR or HOSTPASS_ROOT)\n");
          std::exit(hostpass::kExitBadInput);
        }
        return std::make_unique<OwnedSimHost>(root);
      });
}
