// render.h — the snippet each platform wants for a device, resource or assignment.
//
// Pure functions over plain structs (vm_unit.h): no I/O, so every format is tested field by
// field. Contracts followed:
//   libvirt   formatdomain "Host device assignment": PCI
//               <hostdev mode='subsystem' type='pci' managed='no'><driver name='vfio'/>
//                 <source><address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/>
//             managed='no' because hostpass owns the binding (managed='yes' would make libvirt
//             rebind the device itself); mdev
//               <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid=/>
//             (model is the type's device_api: vfio-pci, vfio-ccw or vfio-ap); USB
//               <hostdev mode='subsystem' type='usb'><source><vendor id=/><product id=/>
//             plus <address bus= device=/> when another device has the same ids (libvirt's
//             schema: vendor+product with an optional address). Checked with virt-xml-validate.
//   qemu      -device vfio-pci,host=DDDD:BB:DD.F; mdev -device <device_api>,sysfsdev=
//             /sys/bus/mdev/devices/UUID; USB -device usb-host,hostbus=B,hostaddr=D. Property
//             names checked against `qemu-system-x86_64 -device vfio-pci,help`.
//   kubevirt  gpus[] / hostDevices[] {deviceName, name} (kubevirt.io api/core/v1 GPU and
//             HostDevice) under a VMI's spec.domain.devices, or a VirtualMachine's
//             spec.template.spec.domain.devices (VirtualMachineSpec.template is a
//             VirtualMachineInstanceTemplateSpec: the VMI spec one level down); display devices
//             (class 03, vGPUs) in gpus, the rest in hostDevices, as the user guide does;
//             optional nodeSelector kubernetes.io/hostname (beside domain) for the node that
//             holds the device.
//   opennebula VM template PCI = [ SHORT_ADDRESS = "65:00.0" ] (that device) or
//             PCI = [ VENDOR = "10de", DEVICE = "1eb8", CLASS = "0302" ] (any such device).
// CAPK manifests are edited in capk_manifest.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "result.h"
#include "vm_unit.h"

namespace hostpass {

enum class RenderFormat { Libvirt, Qemu, Kubevirt, Capk, OpenNebula };
Result<RenderFormat> parse_render_format(std::string_view text);

std::string render_libvirt(const std::vector<AssignableUnit>& units);
std::string render_qemu(const std::vector<AssignableUnit>& units);

// One KubeVirt device request: a resource name and whether it is a GPU.
struct KubevirtRequest {
  std::string resource;
  bool gpu = false;
  std::string name;  // the VMI-local name; empty: generated (gpu1, gpu2 / <resource>1, ...)
};
// Which object the fragment is for: a VirtualMachineInstance (spec.domain...) or a
// VirtualMachine (spec.template.spec.domain...).
enum class KubevirtKind { Vmi, Vm };
// "vm" or "vmi"; InvalidInput otherwise.
Result<KubevirtKind> parse_kubevirt_kind(std::string_view text);

struct KubevirtOptions {
  std::optional<std::string> node;  // nodeSelector kubernetes.io/hostname
  KubevirtKind kind = KubevirtKind::Vmi;
};
// InvalidInput when a request has no resource name.
Result<std::string> render_kubevirt(const std::vector<KubevirtRequest>& requests,
                                    const KubevirtOptions& options);
// The VMI-local names render_kubevirt generates, in order ("gpu1", "qat1", ...).
std::vector<std::string> kubevirt_names(const std::vector<KubevirtRequest>& requests);

struct OpenNebulaRenderOptions {
  bool by_type = false;  // VENDOR/DEVICE/CLASS instead of SHORT_ADDRESS
};
// Unsupported for mdev and USB units (OpenNebula assigns vGPUs through the VF's PCI entry).
Result<std::string> render_opennebula(const std::vector<AssignableUnit>& units,
                                      const OpenNebulaRenderOptions& options);

}  // namespace hostpass
