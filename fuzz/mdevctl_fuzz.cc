// mdevctl_fuzz — parse_mdevctl_config (mdev.h), one /etc/mdevctl.d/<parent>/<uuid> file as
// mdevctl writes it, never crashes, and what it accepts prints back (mdevctl_config_text, the
// bytes `hostpass mdev define` writes) to a file that parses to the same definition. The same
// bytes go through parse_mdev_uuid, whose answer is the kernel's lowercase 8-4-4-4-12 form and
// a fixed point.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mdev.h"

namespace {

bool same(const hostpass::MdevDefinition& a, const hostpass::MdevDefinition& b) {
  return a.uuid == b.uuid && a.parent == b.parent && a.type_id == b.type_id &&
         a.auto_start == b.auto_start && a.attrs == b.attrs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string parent = "0000:3b:00.0", uuid = "aa618089-8b16-4d01-a136-25a0f3c73123";
  auto d = hostpass::parse_mdevctl_config(text, parent, uuid);
  if (d.ok()) {
    if (d->parent != parent || d->uuid != uuid) std::abort();
    auto again = hostpass::parse_mdevctl_config(hostpass::mdevctl_config_text(*d), parent, uuid);
    if (!again.ok() || !same(*d, *again)) std::abort();
  }
  auto u = hostpass::parse_mdev_uuid(text);
  if (u.ok()) {
    if (u->size() != 36) std::abort();
    for (size_t i = 0; i < u->size(); ++i) {
      char c = (*u)[i];
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) std::abort();
    }
    auto again = hostpass::parse_mdev_uuid(*u);
    if (!again.ok() || *again != *u) std::abort();
  }
  return 0;
}
