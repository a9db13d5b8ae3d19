// spine_cli.cc — see spine_cli.h.
#include "spine_cli.h"

#include <cmath>
#include <cstdio>
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

std::string shown_data(std::string_view data) {
  std::string out;
  for (char c : data) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default: {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

std::string planned_writes_text(const std::vector<PlannedWrite>& writes) {
  if (writes.empty()) return "dry run: nothing to write\n";
  std::string out = "dry run: these writes would be made, in order (nothing was changed):\n";
  int n = 0;
  for (const PlannedWrite& w : writes) {
    char number[16];
    std::snprintf(number, sizeof number, "  %2d. ", ++n);
    out += number;
    if (w.op == "write") {
      out += "write   " + w.path + "  \"" + shown_data(w.data) + "\"";
    } else if (w.op == "run") {
      out += "run     " + w.path;
    } else if (w.op == "replace") {
      out += "journal " + w.path + "  (each device's entry driver and driver_override)";
    } else {
      std::string op = w.op;
      if (op.size() < 7) op.resize(7, ' ');
      out += op + " " + w.path;
    }
    out += "\n";
  }
  return out;
}

}  // namespace hostpass
