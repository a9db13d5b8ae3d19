// capk_manifest_fuzz — capk_add_device (capk_manifest.h), the textual edit of a clusterctl
// manifest, never crashes or lets a yaml-cpp exception out, and when it edits:
//   - every line of the manifest is kept, in order (the edit only inserts lines);
//   - re-running it on its own output is a no-op (same text, changed = false), as documented.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "capk_manifest.h"

namespace {

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    out.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return out;
}

bool kept_in_order(std::string_view before, std::string_view after) {
  std::vector<std::string_view> a = lines(before), b = lines(after);
  size_t j = 0;
  for (std::string_view line : a) {
    while (j < b.size() && b[j] != line) ++j;
    if (j == b.size()) return false;
    ++j;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool gpu : {true, false}) {
    hostpass::CapkDeviceRequest request{gpu ? "nvidia.com/gpu_dev1" : "devices.kubevirt.io/nvme",
                                        "", gpu, "", ""};
    auto once = hostpass::capk_add_device(text, "cluster.yaml", request);
    if (!once.ok()) continue;
    if (!once->changed && once->text != text) std::abort();
    if (!kept_in_order(text, once->text)) std::abort();
    auto twice = hostpass::capk_add_device(once->text, "cluster.yaml", request);
    if (!twice.ok() || twice->changed || twice->text != once->text) std::abort();
  }
  return 0;
}
