// capk_manifest.h — adds a host device to the worker KubevirtMachineTemplate of a manifest from
// `clusterctl generate cluster` (Cluster API Provider KubeVirt), as the Cluster API Provider
// KubeVirt PCI passthrough guide asks by hand.
//
// Contract followed: CAPK's infrastructure.cluster.x-k8s.io KubevirtMachineTemplate; the device
// goes under spec.template.spec.virtualMachineTemplate.spec.template.spec.domain.devices, as
// `gpus: [{deviceName, name}]` (or hostDevices for non-display devices), KubeVirt's VMI API.
// The manifest holds one KubevirtMachineTemplate per machine pool: `<cluster>-control-plane`
// and `<cluster>-md-0` (workers). Only the worker template is edited; asking for the control
// plane is refused (the CAPK guide's warning: devices there would make every control-plane VM need
// the device).
//
// The edit is textual, so everything else — other documents, comments, quoting, key order,
// indentation — stays byte for byte: the documents are parsed (yaml-cpp) only to find where the
// template's `devices` mapping and its `gpus` list are, then the new lines are inserted with the
// indentation and sequence style the file already uses, and the result is parsed again to verify
// that the entry is where KubeVirt will read it. Re-running with the same deviceName is a no-op.
// Not handled (refused with a message): flow-style ({...}) devices or gpus, a template without
// spec.template.spec.virtualMachineTemplate.spec.template.spec.domain.
#pragma once

#include <string>

#include "result.h"

namespace hostpass {

struct CapkDeviceRequest {
  std::string device_name;    // the resource name, "nvidia.com/gpu_dev1"
  std::string name;           // the VMI-local name; empty: gpu<N> / <resource><N>, unused so far
  bool gpu = true;            // gpus (true) or hostDevices
  std::string cluster;        // edit "<cluster>-md-0"; empty: the one template named *-md-0
  std::string template_name;  // exact KubevirtMachineTemplate name (overrides cluster)
};

struct CapkEdit {
  std::string text;           // the whole manifest after the edit
  bool changed = false;       // false: the entry was already there
  std::string template_name;  // which KubevirtMachineTemplate was edited
  std::string name;           // the entry's local name
  int line = 0;               // 1-based line of the inserted "- deviceName:" (or existing one)
};

Result<CapkEdit> capk_add_device(const std::string& manifest, const std::string& source_name,
                                 const CapkDeviceRequest& request);

}  // namespace hostpass
