// grub_defaults_fuzz — edit_grub_defaults (kernel_args.h), the edit of /etc/default/grub's shell
// assignments, never crashes, fails only with InvalidInput (an unterminated quote), and is
// idempotent: editing its own output changes nothing, as a second `kernel-args --apply` must
// not. unified_diff is empty exactly when the edit changed nothing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kernel_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (hostpass::CpuVendor vendor : {hostpass::CpuVendor::Intel, hostpass::CpuVendor::Amd}) {
    auto spec = hostpass::kernel_arg_spec(vendor, {"10de:1eb8"});
    if (!spec.ok()) std::abort();
    auto once = hostpass::edit_grub_defaults(text, *spec);
    if (!once.ok()) {
      if (once.error().kind != hostpass::ErrorKind::InvalidInput) std::abort();
      continue;
    }
    if (once->before != text) std::abort();
    auto twice = hostpass::edit_grub_defaults(once->after, *spec);
    if (!twice.ok() || twice->changed()) std::abort();
    std::string diff = hostpass::unified_diff("/etc/default/grub", once->before, once->after);
    if (diff.empty() == once->changed()) std::abort();
  }
  return 0;
}
