// tree_digest.cc — see tree_digest.h.
#include "tree_digest.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace hostpass::testing {

std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::string& skip_prefix) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().string().substr(root.size());
    if (!skip_prefix.empty() && rel.rfind(skip_prefix, 0) == 0) continue;
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      std::ifstream f(it->path(), std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      out[rel] = ss.str();
    } else {
      out[rel] = "<dir>";
    }
  }
  return out;
}

}  // namespace hostpass::testing
