// flag_scopes.cc — see flag_scopes.h.
#include "flag_scopes.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>

namespace hostpass {

Status check_flag_scopes(const CLI::App& command, std::initializer_list<FlagScope> table,
                         std::string_view value, std::string_view context,
                         std::string_view prefix) {
  for (const FlagScope& row : table) {
    if (command.count(std::string(row.flag)) == 0) continue;
    if (std::find(row.with.begin(), row.with.end(), value) != row.with.end()) continue;
    std::string applies;
    for (size_t i = 0; i < row.with.size(); ++i) {
      applies += i == 0 ? "" : (i + 1 == row.with.size() ? " or " : ", ");
      applies += std::string(prefix) + std::string(row.with[i]);
    }
    return invalid_input(std::string(row.flag) + " has no meaning with " + std::string(context) +
                         " (it applies to " + applies + ")");
  }
  return ok_status();
}

}  // namespace hostpass
