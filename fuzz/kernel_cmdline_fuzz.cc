// kernel_cmdline_fuzz — split_cmdline (preflight.h), the kernel's rule for /proc/cmdline, never
// crashes and yields no empty argument; edit_args (kernel_args.h) on what it split is idempotent
// for both IOMMU vendors: the list it returns already satisfies the spec, so a second edit adds
// and removes nothing (what `hostpass kernel-args` promises for a second run), and it never
// duplicates an argument it added.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernel_args.h"
#include "preflight.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = hostpass::split_cmdline(text);
  for (const std::string& a : args)
    if (a.empty()) std::abort();
  for (hostpass::CpuVendor vendor : {hostpass::CpuVendor::Intel, hostpass::CpuVendor::Amd}) {
    auto spec = hostpass::kernel_arg_spec(vendor, {"10de:1eb8", "8086:5845"});
    if (!spec.ok()) std::abort();
    hostpass::ArgsEdit once = hostpass::edit_args(args, *spec);
    hostpass::ArgsEdit twice = hostpass::edit_args(once.result, *spec);
    if (twice.changed() || twice.result != once.result) std::abort();
    for (const std::string& a : once.added)
      if (std::count(once.result.begin(), once.result.end(), a) != 1) std::abort();
  }
  return 0;
}
