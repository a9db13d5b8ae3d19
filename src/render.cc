// render.cc — see render.h.
#include "render.h"

#include <map>

#include "pci_id.h"

namespace hostpass {

namespace {

// libvirt's address and id attributes: "0x" and the digits. A domain wider than 16 bits (Intel
// VMD) keeps every digit: cut to four it would name another device.
std::string hexp(uint32_t v, int digits) {
  return "0x" + hex_digits(v, digits);
}

// A KubeVirt-local device name from a resource name: "intel.com/qat" → "qat". Lowercase
// alphanumerics and '-', as a DNS-1123 label (the VMI's device names become libvirt aliases).
std::string local_base(const std::string& resource) {
  std::string tail = resource.substr(resource.rfind('/') + 1);
  std::string out;
  for (char c : tail) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok)
      out += l;
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  return out.empty() ? "hostdevice" : out;
}

// YAML plain scalars are safe for resource names (domain/name, DNS characters) and our names;
// anything else is double-quoted.
std::string yaml_scalar(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '/' || c == '-' || c == '_';
    plain = plain && ok;
  }
  if (plain && (s == "true" || s == "false" || s == "null" || s == "yes" || s == "no"))
    plain = false;
  if (plain) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

Result<RenderFormat> parse_render_format(std::string_view text) {
  if (text == "libvirt") return RenderFormat::Libvirt;
  if (text == "qemu") return RenderFormat::Qemu;
  if (text == "kubevirt") return RenderFormat::Kubevirt;
  if (text == "capk") return RenderFormat::Capk;
  if (text == "opennebula") return RenderFormat::OpenNebula;
  return invalid_input("unknown format '" + std::string(text) +
                       "': expected libvirt, qemu, kubevirt, capk or opennebula");
}

std::string render_libvirt(const std::vector<AssignableUnit>& units) {
  std::string out;
  for (const AssignableUnit& u : units) {
    switch (u.kind) {
      case UnitKind::Pci:
        for (const PciMember& m : u.pci) {
          out += "<hostdev mode='subsystem' type='pci' managed='no'>\n";
          out += "  <driver name='vfio'/>\n";
          out += "  <source>\n";
          out += "    <address domain='" + hexp(m.address.domain, 4) + "' bus='" +
                 hexp(m.address.bus, 2) + "' slot='" + hexp(m.address.device, 2) + "' function='" +
                 hexp(m.address.function, 1) + "'/>\n";
          out += "  </source>\n";
          out += "</hostdev>\n";
        }
        break;
      case UnitKind::Mdev:
        out += "<hostdev mode='subsystem' type='mdev' model='" +
               (u.mdev_device_api.empty() ? std::string("vfio-pci") : u.mdev_device_api) + "'>\n";
        out += "  <source>\n";
        out += "    <address uuid='" + u.mdev_uuid + "'/>\n";
        out += "  </source>\n";
        out += "</hostdev>\n";
        break;
      case UnitKind::Usb:
        for (const UsbMember& m : u.usb) {
          out += "<hostdev mode='subsystem' type='usb'>\n";
          out += "  <source>\n";
          out += "    <vendor id='" + ("0x" + hex4(m.vendor)) + "'/>\n";
          out += "    <product id='" + ("0x" + hex4(m.product)) + "'/>\n";
          if (m.ambiguous)
            out += "    <address bus='" + std::to_string(m.busnum) + "' device='" +
                   std::to_string(m.devnum) + "'/>\n";
          out += "  </source>\n";
          out += "</hostdev>\n";
        }
        break;
    }
  }
  return out;
}

std::string render_qemu(const std::vector<AssignableUnit>& units) {
  std::vector<std::string> args;
  for (const AssignableUnit& u : units) {
    switch (u.kind) {
      case UnitKind::Pci:
        for (const PciMember& m : u.pci)
          args.push_back("-device vfio-pci,host=" + m.address.to_string());
        break;
      case UnitKind::Mdev:
        args.push_back("-device " +
                       (u.mdev_device_api.empty() ? std::string("vfio-pci") : u.mdev_device_api) +
                       ",sysfsdev=/sys/bus/mdev/devices/" + u.mdev_uuid);
        break;
      case UnitKind::Usb:
        for (const UsbMember& m : u.usb)
          args.push_back("-device usb-host,hostbus=" + std::to_string(m.busnum) +
                         ",hostaddr=" + std::to_string(m.devnum));
        break;
    }
  }
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) out += args[i] + (i + 1 < args.size() ? " \\\n" : "\n");
  return out;
}

std::vector<std::string> kubevirt_names(const std::vector<KubevirtRequest>& requests) {
  std::vector<std::string> names;
  std::map<std::string, int> counters;
  for (const KubevirtRequest& r : requests) {
    if (!r.name.empty()) {
      names.push_back(r.name);
      continue;
    }
    std::string base = r.gpu ? "gpu" : local_base(r.resource);
    names.push_back(base + std::to_string(++counters[base]));
  }
  return names;
}

Result<KubevirtKind> parse_kubevirt_kind(std::string_view text) {
  if (text == "vm") return KubevirtKind::Vm;
  if (text == "vmi") return KubevirtKind::Vmi;
  return invalid_input("unknown --kind '" + std::string(text) +
                       "': expected vm (a VirtualMachine) or vmi (a VirtualMachineInstance)");
}

Result<std::string> render_kubevirt(const std::vector<KubevirtRequest>& requests,
                                    const KubevirtOptions& options) {
  for (const KubevirtRequest& r : requests)
    if (r.resource.empty())
      return invalid_input(
          "KubeVirt assigns host devices by resource name, and this device has "
          "none: give the KubeVirt or HyperConverged CR that permits it with -f");
  std::vector<std::string> names = kubevirt_names(requests);
  // The VMI spec's keys start at `in`: two spaces under a VMI's spec, six under a VM's
  // spec.template.spec.
  bool vm = options.kind == KubevirtKind::Vm;
  std::string in = vm ? "      " : "  ";
  std::string gpus, host_devices;
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string entry = in + "    - deviceName: " + yaml_scalar(requests[i].resource) + "\n" + in +
                        "      name: " + yaml_scalar(names[i]) + "\n";
    (requests[i].gpu ? gpus : host_devices) += entry;
  }
  std::string out = vm ? "spec:\n  template:\n    spec:\n" : "spec:\n";
  if (options.node)
    out += in + "nodeSelector:\n" + in + "  kubernetes.io/hostname: " + yaml_scalar(*options.node) +
           "\n";
  out += in + "domain:\n" + in + "  devices:\n";
  if (!gpus.empty()) out += in + "    gpus:\n" + gpus;
  if (!host_devices.empty()) out += in + "    hostDevices:\n" + host_devices;
  return out;
}

Result<std::string> render_opennebula(const std::vector<AssignableUnit>& units,
                                      const OpenNebulaRenderOptions& options) {
  std::string out;
  for (const AssignableUnit& u : units) {
    if (u.kind != UnitKind::Pci)
      return unsupported(std::string("OpenNebula's VM template has no form for ") +
                         (u.kind == UnitKind::Mdev ? "a mediated device (" : "a USB device (") +
                         u.id + "): OpenNebula passes vGPUs through their PCI virtual function");
    for (const PciMember& m : u.pci) {
      if (options.by_type) {
        out += "PCI = [ VENDOR = \"" + hex4(m.vendor) + "\", DEVICE = \"" + hex4(m.device) +
               "\", CLASS = \"" + hex4(static_cast<uint16_t>(m.class_code >> 8)) + "\" ]\n";
      } else {
        // The probe's SHORT_ADDRESS: lspci's slot name (domain only when not 0000).
        std::string short_address =
            m.address.domain ? m.address.to_string() : m.address.to_short_string();
        out += "PCI = [ SHORT_ADDRESS = \"" + short_address + "\" ]\n";
      }
    }
  }
  return out;
}

}  // namespace hostpass
