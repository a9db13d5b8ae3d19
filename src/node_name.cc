// node_name.cc — see node_name.h.
#include "node_name.h"

#include <cctype>

namespace hostpass {

Result<std::string> this_node_name(Host& host) {
  std::string why;
  for (const char* path : {kKernelHostnamePath, kEtcHostnamePath}) {
    auto text = host.read_file(path, 4096);
    if (!text.ok()) {
      why += (why.empty() ? "" : "; ") + text.error().message;
      continue;
    }
    // The first line that is not empty or a comment (hostname(5): "#" lines are ignored).
    std::string name;
    std::string_view rest = *text;
    while (name.empty() && !rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = trim(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.front() != '#') name = std::string(line);
    }
    if (name.empty()) {
      why += (why.empty() ? "" : "; ") + std::string(path) + " is empty";
      continue;
    }
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  return not_found("cannot tell this node's name (" + why + ")");
}

}  // namespace hostpass
