// tree_digest.cc — see tree_digest.h.
#include "tree_digest.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace hostpass::testing {

std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::string& skip_prefix) {
  return tree_digest(root, skip_prefix.empty() ? std::vector<std::string>{}
                                               : std::vector<std::string>{skip_prefix});
}

std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::vector<std::string>& skip_prefixes) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().string().substr(root.size());
    bool skip = false;
    for (const std::string& p : skip_prefixes) skip = skip || rel.rfind(p, 0) == 0;
    if (skip) continue;
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
