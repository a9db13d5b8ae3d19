// vfio_variant.h — which VFIO driver a device should go to (vfio-pci or a vendor "variant"
// driver such as mlx5_vfio_pci), and whether a driver bound now is a VFIO driver, from the
// kernel's own data rather than from its name.
//
// Contract read (through Host, read-only):
//   /lib/modules/<release>/modules.alias   "alias vfio_pci:v...d...sv...sd...bc..sc..i.. MODULE":
//        scripts/mod/file2alias.c do_pci_entry writes the prefix "vfio_pci:" instead of "pci:"
//        for the id_table entries flagged PCI_ID_F_VFIO_DRIVER_OVERRIDE (the variant drivers'
//        PCI_DRIVER_OVERRIDE_DEVICE_VFIO; vfio_pci.ko itself has one such entry matching any
//        device). A field the entry leaves open is "*"; the pattern is a glob over the
//        device's modalias (module_alias.h pci_modalias).
//   /sys/module/vfio_pci_core/holders/<module>   the modules that link against vfio_pci_core:
//        vfio_pci and every variant (drivers/vfio/pci/*/ all build on vfio_pci_core).
//   /sys/bus/pci/drivers/<driver>/module   the module a driver belongs to (a symlink).
// Driver names: vfio_pci.ko registers "vfio-pci" (drivers/vfio/pci/vfio_pci.c .name); the
// variants register .name = KBUILD_MODNAME, the module's own name with underscores
// (mlx5_vfio_pci, hisi_acc_vfio_pci, nvgrace_gpu_vfio_pci, pds_vfio_pci, virtio_vfio_pci,
// qat_vfio_pci).
//
// The choice follows libvirt's since 10.0 (src/util/virpci.c, virPCIDeviceFindBestVFIOVariant):
// among the vfio_pci: aliases whose pattern matches the device's modalias, the one with the most
// fields given exactly (not "*") wins; on a tie the first in modules.alias is kept. The generic
// vfio_pci entry (every field "*") therefore loses to any variant; with no match at all the
// answer is vfio-pci. The seven modalias fields (v, d, sv, sd, bc, sc, i) count alike. This
// reading of libvirt's rule was not checked against libvirt's source when it was written (the
// source was not at hand): compare before relying on a tie between two variants.
//
// Deliberately not here: loading a module (the bind engine does, as it does for vfio-pci:
// vfio_bind.cc ensure_driver) and the order of sysfs writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

struct PciDevice;

// One "alias vfio_pci:<pattern> <module>" line of modules.alias.
struct VfioAlias {
  std::string pattern;   // "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"
  std::string module;    // "mlx5_vfio_pci"
  int exact_fields = 0;  // how many of v, d, sv, sd, bc, sc, i are given exactly
  std::string line() const { return "alias " + pattern + " " + module; }
};

// Every vfio_pci: alias of a modules.alias text, in file order (damaged lines skipped).
std::vector<VfioAlias> parse_vfio_aliases(std::string_view text);
// The vfio_pci: aliases of the running kernel; NotFound when the release or file is missing.
Result<std::vector<VfioAlias>> read_vfio_aliases(Host& host);

// The driver name a VFIO module registers under /sys/bus/pci/drivers: "vfio-pci" for vfio_pci,
// the module's name for the variants.
std::string vfio_driver_for_module(std::string_view module);

struct VfioDriverChoice {
  std::string driver = "vfio-pci";  // as /sys/bus/pci/drivers names it
  std::string module = "vfio_pci";  // what modprobe loads
  std::optional<VfioAlias> alias;   // the alias that decided; none: no variant matched
  // "alias vfio_pci:... mlx5_vfio_pci (4 of 7 fields exact)" or "no variant driver: vfio-pci".
  std::string reason() const;
};

// libvirt's rule (see the header comment) over `aliases` for `device`'s modalias.
VfioDriverChoice choose_vfio_driver(const std::vector<VfioAlias>& aliases, const PciDevice& device);
// The same for a device on this host. Without a readable modules.alias the answer is vfio-pci,
// saying so in the reason. NotFound when the device does not exist.
Result<VfioDriverChoice> choose_vfio_driver(Host& host, const PciAddress& address);

// The driver `bind --driver auto` binds every one of `addresses` to: `requested` itself unless it
// is "auto". Refused when the devices would pick different VFIO drivers (one bind has one target
// driver: bind them separately). Apply's driver field does not take "auto" yet.
Result<std::string> resolve_bind_driver(Host& host, const std::vector<PciAddress>& addresses,
                                        const std::string& requested);
inline constexpr const char* kAutoDriver = "auto";

// Whether `driver` (bound on this host) is a VFIO driver: vfio-pci; or its module
// (/sys/bus/pci/drivers/<driver>/module) holds vfio_pci_core; or modules.alias has a vfio_pci:
// alias for its module. vfio_rules.h is_vfio_driver(name) is the fallback for callers without a
// Host.
bool is_vfio_driver(Host& host, std::string_view driver);

// Caches the answers of is_vfio_driver(host, ...) for callers that ask about many devices (the
// inventory, the device plugin's health check): modules.alias is read at most once.
class VfioDriverKnowledge {
 public:
  explicit VfioDriverKnowledge(Host& host) : host_(host) {}
  bool is_vfio(std::string_view driver);

 private:
  Host& host_;
  std::optional<std::vector<std::string>> alias_modules_;  // modules with a vfio_pci: alias
  std::vector<std::pair<std::string, bool>> known_;
};

}  // namespace hostpass
