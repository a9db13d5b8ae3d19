// tree_digest.h — every path under a fixture root with its link target or file content, so a
// test can prove a command changed nothing ("zero writes") by comparing two digests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hostpass::testing {

// Keys are paths relative to `root` ("/sys/bus/pci/..."); values are "-> target" for links,
// the content for files, "<dir>" for directories. Paths starting with `skip_prefix` (when not
// empty) are left out, e.g. "/.simkernel", the simulated kernel's own bookkeeping.
std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::string& skip_prefix = "");
// The same, leaving out every path that starts with one of `skip_prefixes`.
std::map<std::string, std::string> tree_digest(const std::string& root,
                                               const std::vector<std::string>& skip_prefixes);

// The state lock file a mutating command creates under the default state directory
// (state_lock.h): hostpass's own bookkeeping, left out when a test proves "nothing changed".
inline constexpr const char* kStateLockFile = "/var/lib/hostpass/lock";

}  // namespace hostpass::testing
