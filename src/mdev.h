// mdev.h — mediated devices (vGPU and friends): types, instances, create/remove, and mdevctl's
// persistent definitions.
//
// Kernel contract (Documentation/driver-api/vfio-mediated-device.rst, drivers/vfio/mdev/):
//   /sys/class/mdev_bus/<parent> -> the parent device
//   <parent>/mdev_supported_types/<type-id>/{name,description,device_api,available_instances}
//   <parent>/mdev_supported_types/<type-id>/create   (write a UUID to create an instance)
//   <parent>/mdev_supported_types/<type-id>/devices/<uuid> -> the instance
//   /sys/bus/mdev/devices/<uuid> -> <parent device>/<uuid>; <uuid>/mdev_type -> its type;
//   <uuid>/remove (write "1" to remove)
// `name` and `description` are optional in the kernel's ABI (a type without them is shown with
// empty values); device_api and available_instances are mandatory.
// mdevctl's persistent config (mdevctl src/mdev.rs write_config()/load_from_json(), config base
// /etc/mdevctl.d): /etc/mdevctl.d/<parent>/<uuid>, pretty-printed JSON with keys in this order
//   {"mdev_type": "nvidia-222", "start": "auto"|"manual", "attrs": [{"name": "value"}, ...]}
// (serde_json to_string_pretty with preserve_order, two-space indent, no final newline).
//
// What it deliberately does not do: remove instances it was not asked to remove, or touch a
// parent's driver. Instance writes go through Host::write_attribute, so FaultyHost and the
// kernel-like fixture (tests/support/sim_mdev.h) see exactly what the kernel would.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kMdevBusClassDir = "/sys/class/mdev_bus";
inline constexpr const char* kMdevDevicesDir = "/sys/bus/mdev/devices";
inline constexpr const char* kMdevctlConfigDir = "/etc/mdevctl.d";

struct MdevType {
  std::string parent;  // "0000:01:00.0" (PCI parents) or another bus id
  std::string id;      // "nvidia-222"
  std::string name;    // contents of `name`: "GRID T4-1Q" (KubeVirt's mdevNameSelector)
  std::string description;
  std::string device_api;
  int available_instances = 0;
  std::vector<std::string> warnings;
};

struct MdevInstance {
  std::string uuid;
  std::string parent;
  std::string type_id;
  std::string type_name;
  std::string sysfs_path;  // /sys/devices/.../<parent>/<uuid>
};

// Every type of every parent, sorted by parent then type id (mdevctl types' order).
Result<std::vector<MdevType>> list_mdev_types(Host& host);
Result<std::vector<MdevType>> list_mdev_types(Host& host, std::vector<std::string>* warnings);
// Every existing instance, sorted by parent then UUID.
Result<std::vector<MdevInstance>> list_mdev_instances(Host& host);
Result<std::vector<MdevInstance>> list_mdev_instances(Host& host,
                                                      std::vector<std::string>* warnings);

// ---- UUIDs ----

// Accepts exactly the 8-4-4-4-12 hex form the kernel's guid_parse() accepts (either case) and
// returns it lowercase, as the kernel names the instance (%pUl). InvalidInput otherwise.
Result<std::string> parse_mdev_uuid(std::string_view text);
// A random (version 4) UUID from /proc/sys/kernel/random/uuid, read through `host`.
Result<std::string> random_mdev_uuid(Host& host);
// A parent name is used as a path component: refuse "", ".", "..", anything with '/'.
Status validate_mdev_parent_name(std::string_view parent);

// ---- instances ----

struct MdevCreateRequest {
  std::string parent;
  std::string type;              // the type id, or the type's name (exact, or with '_' for ' ')
  std::optional<std::string> uuid;  // none: a random v4 UUID
};

// Creates one instance: checks the parent and type exist and available_instances > 0, writes
// the UUID to <parent>/mdev_supported_types/<type>/create, and verifies that
// /sys/bus/mdev/devices/<uuid> appeared with that parent and type.
// Refused when no instance is available or the UUID exists; NotFound for an unknown parent/type.
Result<MdevInstance> create_mdev(Host& host, const MdevCreateRequest& request);
// Writes "1" to /sys/bus/mdev/devices/<uuid>/remove and verifies the instance is gone.
Result<MdevInstance> remove_mdev(Host& host, std::string_view uuid);

// ---- mdevctl persistence ----

struct MdevDefinition {
  std::string uuid;
  std::string parent;
  std::string type_id;
  bool auto_start = true;  // "start": "auto" | "manual"
  std::vector<std::pair<std::string, std::string>> attrs;
};

std::string mdevctl_config_path(const MdevDefinition& d);  // /etc/mdevctl.d/<parent>/<uuid>
// The exact bytes mdevctl writes for this definition.
std::string mdevctl_config_text(const MdevDefinition& d);
// Parses one mdevctl config file as mdevctl's load_from_json() does (mdev_type and start
// required; attrs an array of single-key objects with string values).
Result<MdevDefinition> parse_mdevctl_config(std::string_view text, const std::string& parent,
                                            const std::string& uuid);
// Writes the definition (replacing an existing one).
Status define_mdev(Host& host, const MdevDefinition& d);
// Removes /etc/mdevctl.d/<parent>/<uuid> for whichever parent defines `uuid`. Not an error when
// it is not defined. Returns whether a definition was removed.
Result<bool> undefine_mdev(Host& host, std::string_view uuid);
// Every definition under /etc/mdevctl.d, sorted by parent then UUID. Unparsable files are
// skipped with a warning (mdevctl itself refuses them).
Result<std::vector<MdevDefinition>> list_mdev_definitions(Host& host,
                                                          std::vector<std::string>* warnings);

// ---- KubeVirt matching ----

// KubeVirt's normalization of a type's name for selectors: spaces become '_', then trimmed
// (virt-handler device-manager removeSelectorSpaces / discoverConfigurableMDEVTypes).
std::string kubevirt_mdev_name(std::string_view name);
// mediatedDeviceTypes entries (creation): the entry is compared verbatim with the type id and
// with the normalized name (MDEVTypesManager.discoverConfigurableMDEVTypes), so "GRID T4-1Q"
// as written matches nothing there and "GRID_T4-1Q" or "nvidia-230" is needed.
bool mdev_type_matches(const MdevType& type, std::string_view desired);
// permittedHostDevices.mediatedDevices[].mdevNameSelector (exposure): both the selector and the
// type's name are normalized (device_controller.go removeSelectorSpaces); the type id matches too.
bool mdev_name_selector_matches(const MdevType& type, std::string_view selector);

}  // namespace hostpass
