// mdev.h — mediated devices (vGPU and friends). (CONTRACT: implemented in mdev.cc.)
//
// Kernel contract (Documentation/driver-api/vfio-mediated-device.rst):
//   /sys/class/mdev_bus/<parent> -> the parent device
//   <parent>/mdev_supported_types/<type-id>/{name,description,device_api,available_instances}
//   <parent>/mdev_supported_types/<type-id>/create   (write a UUID to create an instance)
//   <parent>/mdev_supported_types/<type-id>/devices/<uuid> -> the instance
//   /sys/bus/mdev/devices/<uuid> -> instance; <uuid>/mdev_type -> its type; <uuid>/remove
// mdevctl's persistent config: /etc/mdevctl.d/<parent>/<uuid>, JSON {"mdev_type", "start", "attrs"}.
#pragma once

#include <string>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

struct MdevType {
  std::string parent;  // "0000:01:00.0" (PCI parents) or another bus id
  std::string id;      // "nvidia-222"
  std::string name;    // contents of `name`: "GRID T4-1Q" (KubeVirt's mdevNameSelector)
  std::string description;
  std::string device_api;
  int available_instances = 0;
};

struct MdevInstance {
  std::string uuid;
  std::string parent;
  std::string type_id;
  std::string type_name;
};

Result<std::vector<MdevType>> list_mdev_types(Host& host);
Result<std::vector<MdevInstance>> list_mdev_instances(Host& host);

}  // namespace hostpass
