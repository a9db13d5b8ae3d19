// spine_cli.cc — see spine_cli.h.
#include "spine_cli.h"

#include <cmath>
#include <iostream>

namespace hostpass {

void add_force_flag(CLI::App* command, std::vector<std::string>& values) {
  command->add_flag("--force{all}", values,
                    "override the guards: bare --force every overridable one, --force=NAME[,NAME] "
                    "only those (mounted, swap, network-up, default-route, boot-vga, sriov-vfs, "
                    "mdev-live, mdev-defined, assigned, unmatched-type); never the root filesystem "
                    "(docs/bind.md)");
}

Result<SpineOptions> spine_options(const std::string& state_dir, bool dry_run,
                                   const std::vector<std::string>& force, double lock_timeout,
                                   const std::string& command) {
  auto f = ForceSet::parse(force);
  if (!f.ok()) return f.error();
  SpineOptions o;
  o.state_dir = state_dir;
  o.dry_run = dry_run;
  o.force = *f;
  o.lock_timeout =
      std::chrono::milliseconds(static_cast<long long>(std::llround(lock_timeout * 1000)));
  o.command = command;
  o.on_wait = [](const std::string& message) { std::cerr << "hostpass: " << message << std::endl; };
  return o;
}

Result<std::unique_ptr<Spine>> open_session(Host& host, const std::string& state_dir,
                                            double lock_timeout, const std::string& command) {
  auto o = spine_options(state_dir, false, {}, lock_timeout, command);
  if (!o.ok()) return o.error();
  SpineOpening opening;
  auto spine = Spine::open(host, *o, opening);
  print_opening(opening);
  return spine;
}

void print_opening(const SpineOpening& opening) {
  if (opening.recovered) {
    std::cerr << "hostpass: recovered an interrupted " << opening.recovered->operation
              << " first:\n";
    for (const std::string& n : opening.recovered->notes) std::cerr << "hostpass:   " << n << "\n";
  }
  if (opening.repaired) {
    std::cerr << "hostpass: finished an interrupted " << opening.repaired->operation << " first:\n";
    for (const std::string& n : opening.repaired->notes) std::cerr << "hostpass:   " << n << "\n";
  }
}

}  // namespace hostpass
