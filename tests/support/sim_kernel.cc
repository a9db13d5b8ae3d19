// sim_kernel.cc — see sim_kernel.h. Test support: it changes the tree with std::filesystem
// directly (symlinks are not part of Host), exactly as the kernel changes sysfs under a process.
#include "sim_kernel.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture_tree.h"
#include "pci_address.h"

namespace fs = std::filesystem;

namespace hostpass::testing {

namespace {

constexpr const char* kState = "/.simkernel";
constexpr const char* kDevices = "/sys/bus/pci/devices/";
constexpr const char* kDrivers = "/sys/bus/pci/drivers/";

// The messages RealHost gives for a failed write(2), with the kernel's errno.
Error write_errno(std::string_view path, std::string_view data, const char* strerr) {
  return io_error("write of '" + std::string(trim(data)) + "' failed on " + std::string(path) +
                  ": " + strerr);
}
constexpr const char* kENODEV = "No such device";
constexpr const char* kEBUSY = "Device or resource busy";
constexpr const char* kEINVAL = "Invalid argument";
constexpr const char* kEEXIST = "File exists";

// vfio-pci and the variant drivers, which the kernel registers under their module names
// (mlx5_vfio_pci, ...: .name = KBUILD_MODNAME).
bool is_vfio(const std::string& driver) {
  return driver.rfind("vfio", 0) == 0 || driver.ends_with("_vfio_pci");
}

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Canonical form of a written address, or "" when the kernel would not find such a device
// (bus_find_device_by_name compares the whole name, after sysfs strips nothing: "A\n" is
// accepted because the attribute code of bind/unbind/drivers_probe uses sysfs_streq).
std::string written_address(std::string_view data) {
  std::string_view t = data;
  if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  auto a = PciAddress::parse_full(t);
  return a.ok() ? a->to_string() : "";
}

}  // namespace

SimKernelHost::SimKernelHost(Host& inner) : ForwardingHost(inner) {
  record_native_table_once();
}

// ---- persisted state ----

std::vector<SimKernelHost::Line> SimKernelHost::load(const std::string& name) {
  std::vector<Line> lines;
  std::ifstream f(inner_.resolve(std::string(kState) + "/" + name));
  std::string l;
  while (std::getline(f, l)) {
    auto fields = split_ws(l);
    if (!fields.empty()) lines.push_back(Line{fields});
  }
  return lines;
}

void SimKernelHost::save(const std::string& name, const std::vector<Line>& lines) {
  fs::create_directories(inner_.resolve(kState));
  std::ofstream f(inner_.resolve(std::string(kState) + "/" + name), std::ios::trunc);
  for (const Line& l : lines) {
    for (size_t i = 0; i < l.fields.size(); ++i) f << (i ? " " : "") << l.fields[i];
    f << "\n";
  }
}

void SimKernelHost::record_native_table_once() {
  if (fs::exists(inner_.resolve(std::string(kState) + "/native"))) return;
  std::vector<Line> lines;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(inner_.resolve(kDevices), ec)) {
    std::string a = e.path().filename().string();
    auto d = driver_of(a);
    if (d && !is_vfio(*d) && *d != "pci-stub") lines.push_back(Line{{a, *d}});
  }
  save("native", lines);
}

void SimKernelHost::set_native_driver(const std::string& address,
                                      const std::optional<std::string>& driver) {
  auto lines = load("native");
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [&](const Line& l) { return l.fields[0] == address; }),
              lines.end());
  if (driver) lines.push_back(Line{{address, *driver}});
  save("native", lines);
}

std::optional<std::string> SimKernelHost::native_driver(const std::string& address) {
  for (const Line& l : load("native"))
    if (l.fields.size() == 2 && l.fields[0] == address) return l.fields[1];
  return std::nullopt;
}

void SimKernelHost::refuse_probe(const std::string& driver, const std::string& address) {
  auto lines = load("refuse");
  lines.push_back(Line{{driver, address}});
  save("refuse", lines);
}

void SimKernelHost::set_modprobe_fails(bool fails) {
  fs::create_directories(inner_.resolve(kState));
  std::string p = inner_.resolve(std::string(kState) + "/modprobe_fails");
  if (fails) {
    std::ofstream(p) << "1\n";
  } else {
    fs::remove(p);
  }
}

void SimKernelHost::remove_driver(const std::string& driver) {
  fs::remove_all(inner_.resolve(kDrivers + driver));
}

// ---- the device model ----

bool SimKernelHost::device_exists(const std::string& address) {
  return !address.empty() && inner_.exists(kDevices + address);
}

std::optional<std::string> SimKernelHost::driver_of(const std::string& address) {
  auto t = inner_.read_link(kDevices + address + "/driver");
  if (!t.ok()) return std::nullopt;
  return base_name(*t);
}

std::string SimKernelHost::override_of(const std::string& address) {
  auto v = inner_.read_file(kDevices + address + "/driver_override");
  if (!v.ok()) return "";
  std::string s(trim(*v));
  return s == "(null)" ? "" : s;
}

bool SimKernelHost::driver_exists(const std::string& driver) {
  return inner_.is_dir(kDrivers + driver);
}

// pci_bus_match → pci_match_device: with driver_override set, only that driver matches (and any
// device id is accepted); otherwise the dynamic ids, then the static id table.
bool SimKernelHost::matches(const std::string& driver, const std::string& address) {
  std::string ov = override_of(address);
  if (!ov.empty()) return ov == driver;
  if (native_driver(address) == driver) return true;
  auto vendor = inner_.read_file(kDevices + address + "/vendor");
  auto device = inner_.read_file(kDevices + address + "/device");
  if (!vendor.ok() || !device.ok()) return false;
  std::string v(trim(*vendor)), d(trim(*device));
  if (v.size() == 6) v = v.substr(2);
  if (d.size() == 6) d = d.substr(2);
  for (const Line& l : load("dynids"))
    if (l.fields.size() >= 3 && l.fields[0] == driver && l.fields[1] == v && l.fields[2] == d)
      return true;
  return false;
}

Status SimKernelHost::probe(const std::string& driver, const std::string& address) {
  for (const Line& l : load("refuse"))
    if (l.fields.size() == 2 && l.fields[0] == driver && l.fields[1] == address)
      return io_error(driver + ": probe of " + address + " failed with error -19");
  if (is_vfio(driver)) {
    // vfio_pci_probe: "if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) return -EINVAL;" and
    // vfio_iommu_group_get() fails without an IOMMU group (no noiommu mode here).
    auto cfg = inner_.read_file(kDevices + address + "/config", 64);
    if (cfg.ok() && cfg->size() > 0x0e && (static_cast<unsigned char>((*cfg)[0x0e]) & 0x7f) != 0)
      return io_error(driver + ": probe of " + address + " failed with error -22");
    if (!inner_.exists(kDevices + address + "/iommu_group"))
      return io_error(driver + ": probe of " + address + " failed with error -22");
  }
  return ok_status();
}

Status SimKernelHost::attach(const std::string& driver, const std::string& address) {
  if (Status s = probe(driver, address); !s.ok()) return s;
  auto target = inner_.read_link(kDevices + address);
  std::string dev = resolve_link(kDevices + address, target.ok() ? *target : "");
  std::string drvdir = kDrivers + driver;
  fs::create_symlink(FixtureTree::relative(dev + "/driver", drvdir),
                     inner_.resolve(dev + "/driver"));
  fs::create_symlink(FixtureTree::relative(drvdir + "/" + address, dev),
                     inner_.resolve(drvdir + "/" + address));
  if (is_vfio(driver)) {
    auto g = inner_.read_link(kDevices + address + "/iommu_group");
    if (g.ok()) {
      fs::create_directories(inner_.resolve("/dev/vfio"));
      std::ofstream(inner_.resolve("/dev/vfio/" + base_name(*g)));
    }
  }
  return ok_status();
}

void SimKernelHost::detach(const std::string& address) {
  auto driver = driver_of(address);
  if (!driver) return;
  fs::remove(inner_.resolve(kDevices + address + "/driver"));
  fs::remove(inner_.resolve(kDrivers + *driver + "/" + address));
  if (!is_vfio(*driver)) return;
  // vfio_group_put of the last device: the group's character device goes away.
  auto g = inner_.read_link(kDevices + address + "/iommu_group");
  if (!g.ok()) return;
  std::string group = base_name(*g);
  auto members = inner_.list_dir("/sys/kernel/iommu_groups/" + group + "/devices");
  if (members.ok()) {
    for (const std::string& m : *members) {
      auto d = driver_of(m);
      if (m != address && d && is_vfio(*d)) return;
    }
  }
  fs::remove(inner_.resolve("/dev/vfio/" + group));
}

void SimKernelHost::attach_all_unbound(const std::string& driver) {
  auto names = inner_.list_dir(kDevices);
  if (!names.ok()) return;
  std::sort(names->begin(), names->end());
  for (const std::string& a : *names)
    if (!driver_of(a) && matches(driver, a)) (void)attach(driver, a);
}

void SimKernelHost::create_driver(const std::string& driver, const std::string& module) {
  std::string dir = kDrivers + driver;
  fs::create_directories(inner_.resolve(dir));
  for (const char* f : {"bind", "unbind", "new_id", "remove_id", "uevent"})
    std::ofstream(inner_.resolve(dir + "/" + f));
  fs::create_directories(inner_.resolve("/sys/module/" + module));
  std::ofstream(inner_.resolve("/sys/module/" + module + "/initstate")) << "live\n";
  std::error_code ec;
  fs::create_symlink(FixtureTree::relative(dir + "/module", "/sys/module/" + module),
                     inner_.resolve(dir + "/module"), ec);
  std::ofstream(inner_.resolve("/proc/modules"), std::ios::app)
      << module << " 16384 0 - Live 0x0000000000000000\n";
  // Every VFIO PCI driver links against vfio_pci_core, which lists it among its holders.
  if (is_vfio(driver))
    fs::create_directories(inner_.resolve("/sys/module/vfio_pci_core/holders/" + module));
}

// ---- writes ----

Status SimKernelHost::write_override(const std::string& address, std::string_view data) {
  // driver_set_override(): the value ends at the first newline; an empty value clears it.
  std::string_view v = data;
  if (size_t nl = v.find('\n'); nl != std::string_view::npos) v = v.substr(0, nl);
  if (data.size() >= 4096)
    return write_errno(kDevices + address + "/driver_override", data, kEINVAL);
  // An in-memory store in the kernel: no fsync, no rename, just the new value.
  std::ofstream f(inner_.resolve(kDevices + address + "/driver_override"), std::ios::trunc);
  f << (v.empty() ? std::string("(null)") : std::string(v)) << "\n";
  if (!f) return io_error("simulated kernel: cannot store driver_override of " + address);
  return ok_status();
}

Status SimKernelHost::write_unbind(const std::string& path, const std::string& driver,
                                   std::string_view data) {
  std::string a = written_address(data);
  if (!device_exists(a) || driver_of(a) != driver) return write_errno(path, data, kENODEV);
  detach(a);
  return ok_status();
}

Status SimKernelHost::write_bind(const std::string& path, const std::string& driver,
                                 std::string_view data) {
  std::string a = written_address(data);
  if (!device_exists(a) || !matches(driver, a)) return write_errno(path, data, kENODEV);
  if (driver_of(a)) return write_errno(path, data, kEBUSY);
  if (Status s = attach(driver, a); !s.ok()) return write_errno(path, data, kENODEV);
  return ok_status();
}

Status SimKernelHost::write_probe(const std::string& path, std::string_view data) {
  std::string a = written_address(data);
  if (!device_exists(a)) return write_errno(path, data, kENODEV);
  if (driver_of(a)) return ok_status();
  auto drivers = inner_.list_dir(kDrivers);
  if (!drivers.ok()) return ok_status();
  std::sort(drivers->begin(), drivers->end());
  for (const std::string& d : *drivers) {
    if (!driver_exists(d) || !matches(d, a)) continue;
    if (attach(d, a).ok()) break;  // a failed probe lets the next driver try
  }
  return ok_status();
}

Status SimKernelHost::write_id(const std::string& path, const std::string& driver,
                               std::string_view data, bool add) {
  auto f = split_ws(data);
  auto hex4 = [](const std::string& s) {
    if (s.empty() || s.size() > 4) return std::string();
    for (char c : s)
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::string();
    std::string out = std::string(4 - s.size(), '0') + s;
    std::transform(out.begin(), out.end(), out.begin(), ::tolower);
    return out;
  };
  if (f.size() < 2 || hex4(f[0]).empty() || hex4(f[1]).empty())
    return write_errno(path, data, kEINVAL);
  std::string v = hex4(f[0]), d = hex4(f[1]);
  auto lines = load("dynids");
  auto it = std::find_if(lines.begin(), lines.end(), [&](const Line& l) {
    return l.fields.size() >= 3 && l.fields[0] == driver && l.fields[1] == v && l.fields[2] == d;
  });
  if (add) {
    if (it != lines.end()) return write_errno(path, data, kEEXIST);
    lines.push_back(Line{{driver, v, d}});
    save("dynids", lines);
    attach_all_unbound(driver);
  } else {
    if (it == lines.end()) return write_errno(path, data, kENODEV);
    lines.erase(it);
    save("dynids", lines);
  }
  return ok_status();
}

Status SimKernelHost::write_attribute(std::string_view raw_path, std::string_view data) {
  std::string path = normalize_path(raw_path);
  if (path == "/sys/bus/pci/drivers_probe") return write_probe(path, data);
  std::string file = base_name(path);
  std::string parent = dir_name(path);
  if (file == "driver_override") {
    std::string a = base_name(parent);
    if (PciAddress::parse_full(a).ok() && device_exists(a)) return write_override(a, data);
  }
  // /sys/bus/pci/devices/A/driver/{bind,unbind}: through the device's link.
  if (base_name(parent) == "driver" && dir_name(dir_name(parent)) == "/sys/bus/pci/devices") {
    std::string a = base_name(dir_name(parent));
    auto d = driver_of(a);
    if (!d) return not_found("cannot open for writing " + path + ": No such file or directory");
    if (file == "unbind") return write_unbind(path, *d, data);
    if (file == "bind") return write_bind(path, *d, data);
  }
  if (dir_name(parent) == "/sys/bus/pci/drivers") {
    std::string d = base_name(parent);
    if (!driver_exists(d))
      return not_found("cannot open for writing " + path + ": No such file or directory");
    if (file == "unbind") return write_unbind(path, d, data);
    if (file == "bind") return write_bind(path, d, data);
    if (file == "new_id") return write_id(path, d, data, true);
    if (file == "remove_id") return write_id(path, d, data, false);
  }
  return inner_.write_attribute(raw_path, data);
}

Result<CommandOutput> SimKernelHost::run_command(const std::vector<std::string>& argv) {
  if (argv.empty() || base_name(argv[0]) != "modprobe")
    return unsupported("the simulated kernel runs only modprobe, not '" +
                       (argv.empty() ? std::string() : argv[0]) + "'");
  std::string module;
  for (size_t i = 1; i < argv.size(); ++i)
    if (!argv[i].empty() && argv[i][0] != '-') {
      module = argv[i];
      break;
    }
  if (module.empty()) return CommandOutput{1, "", "modprobe: ERROR: missing module name.\n"};
  std::string mod_name = module, drv_name = module;
  std::replace(mod_name.begin(), mod_name.end(), '-', '_');
  // vfio_pci.ko registers "vfio-pci"; the variants register their module's name.
  if (mod_name == "vfio_pci") drv_name = "vfio-pci";
  if (fs::exists(inner_.resolve(std::string(kState) + "/modprobe_fails")))
    return CommandOutput{1, "",
                         "modprobe: FATAL: Module " + module +
                             " not found in directory /lib/modules/6.1.0-13-amd64\n"};
  if (!driver_exists(drv_name)) {
    create_driver(drv_name, mod_name);
    attach_all_unbound(drv_name);
  }
  return CommandOutput{0, "", ""};
}

// ---- pass-through ----

}  // namespace hostpass::testing
