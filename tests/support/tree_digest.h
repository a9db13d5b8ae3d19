// tree_digest.h — every path under a fixture root with its link target or file content, so a
// test can prove a command changed nothing ("zero writes") by comparing two digests.
#pragma once

#include <map>
#include <string>

namespace hostpass::testing {

// Keys are paths relative to `root` ("/sys/bus/pci/..."); values are "-> target" for links,
// the content for files, "<dir>" for directories. Paths starting with `skip_prefix` (when not
// empty) are left out, e.g. "/.simkernel", the simulated kernel's own bookkeeping.
std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::string& skip_prefix = "");

}  // namespace hostpass::testing
