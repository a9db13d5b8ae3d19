// openshift_config.h — renders OpenShift node configuration: a Butane source (variant openshift)
// and the MachineConfig it stands for. One piece of code for `kernel-args` (kernel arguments) and
// `persist` (modprobe.d / modules-load.d files), as in OpenShift Virtualization's 100-worker-iommu
// MachineConfig and 100-worker-vfiopci.bu.
//
// Contracts followed:
//   MachineConfig: apiVersion machineconfiguration.openshift.io/v1, kind MachineConfig,
//     metadata.labels["machineconfiguration.openshift.io/role"], spec.kernelArguments (list of
//     strings), spec.config.ignition.version "3.2.0", spec.config.storage.files[] with path, mode
//     (decimal, 420 = 0644), overwrite, contents.source as an RFC 2397 data URL — what
//     `butane` emits for small uncompressed files ("data:,<percent-encoded>").
//   Butane openshift variant (coreos/butane docs, config-openshift-v4_14): variant "openshift",
//     version "4.14.0", metadata.name and labels, openshift.kernel_arguments, storage.files[] with
//     contents.inline.
// What it deliberately does not do: talk to a cluster, or pick a role for the user.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace hostpass {

inline constexpr const char* kButaneOpenShiftVersion = "4.14.0";
inline constexpr const char* kIgnitionVersion = "3.2.0";

struct NodeFile {
  std::string path;      // absolute, on the node: "/etc/modprobe.d/vfio.conf"
  std::string contents;  // exact bytes
  int mode = 0644;
};

struct NodeConfig {
  std::string name;  // "100-worker-iommu"
  std::string role = "worker";
  std::vector<std::string> kernel_arguments;
  std::vector<NodeFile> files;
};

// InvalidInput unless `role` is a Kubernetes label value made of [a-z0-9-] (worker, master, a
// custom pool such as gpu-worker), 1..63 characters.
Status validate_role(std::string_view role);

std::string render_butane(const NodeConfig& config);
std::string render_machine_config(const NodeConfig& config);

// RFC 2397 data URL with RFC 3986 percent-encoding: "options vfio-pci" →
// "data:,options%20vfio-pci".
std::string data_url(std::string_view contents);

}  // namespace hostpass
