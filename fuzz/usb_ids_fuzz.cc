// usb_ids_fuzz — UsbIds::parse (usb_ids.h) never crashes, and one bad line hides no name: a
// vendor block and a class appended after any text (after a newline, as the next lines of the
// file) are found, unless the text already named those ids (the first entry wins, as in lsusb).
// Every name it returns is one trimmed line.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "usb_ids.h"

namespace {

void one_line(const std::string& name) {
  if (name.empty() || name.find('\n') != std::string::npos) std::abort();
  char last = name.back();
  if (last == ' ' || last == '\t' || last == '\r') std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  hostpass::UsbIds before = hostpass::UsbIds::parse(text);
  hostpass::UsbIds after = hostpass::UsbIds::parse(
      text + "\n0bad  Fuzz Vendor\n\tcafe  Fuzz Product\n\t\tff  an interface\nC fe  Fuzz Class\n");
  std::string v = before.vendor(0x0bad), p = before.product(0x0bad, 0xcafe);
  std::string c = before.class_name(0xfe);
  if (after.vendor(0x0bad) != (v.empty() ? "Fuzz Vendor" : v)) std::abort();
  if (after.product(0x0bad, 0xcafe) != (p.empty() ? "Fuzz Product" : p)) std::abort();
  if (after.class_name(0xfe) != (c.empty() ? "Fuzz Class" : c)) std::abort();
  for (const std::string& name :
       {after.vendor(0x0bad), after.product(0x0bad, 0xcafe), after.class_name(0xfe)})
    one_line(name);
  if (after.vendor_count() < before.vendor_count()) std::abort();
  return 0;
}
