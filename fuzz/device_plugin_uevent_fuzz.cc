// device_plugin_uevent_fuzz — the kernel uevent parser (device_plugin_uevent.h) never crashes,
// and whatever it maps to a health entry names one entry of a /sys/bus/<bus>/devices directory:
// no '/', no "..", nothing empty.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "device_plugin_uevent.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ev = hostpass::parse_uevent(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!ev) return 0;
  if (ev->devpath.rfind("/devices/", 0) != 0 || ev->devpath.find("/../") != std::string::npos)
    std::abort();
  auto entry = hostpass::uevent_health_entry(*ev);
  if (!entry) return 0;
  const std::string& name = entry->second;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    std::abort();
  if (entry->first != "/sys/bus/pci/devices" && entry->first != "/sys/bus/usb/devices" &&
      entry->first != "/sys/bus/mdev/devices")
    std::abort();
  return 0;
}
