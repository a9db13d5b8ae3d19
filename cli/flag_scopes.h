// flag_scopes.h — flags that mean something only with some values of another choice: render's
// --by-type only with --format opennebula, persist's --role only with butane/machineconfig,
// assign's --numa only for a resource name. Each command states its table once; a flag the user
// gave that means nothing with the value chosen is refused (exit 2, before anything is read)
// instead of being silently ignored:
//   hostpass: --by-type has no meaning with --format libvirt (it applies to --format opennebula)
// Only flags the user gave count (CLI::App::count), so defaults never trip the check.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "result.h"

namespace CLI {
class App;
}

namespace hostpass {

struct FlagScope {
  std::string_view flag;               // "--by-type", as the command declares it
  std::vector<std::string_view> with;  // the values it means something with: {"opennebula"}
};

// The first row of `table` whose flag was given on `command` while `value` is not in its `with`:
// InvalidInput "<flag> has no meaning with <context> (it applies to <prefix><with...>)".
// `context` names the chosen value for the message ("--format libvirt", "a PCI address");
// `prefix` is what comes before each value in the hint ("--format " or "").
Status check_flag_scopes(const CLI::App& command, std::initializer_list<FlagScope> table,
                         std::string_view value, std::string_view context, std::string_view prefix);

}  // namespace hostpass
