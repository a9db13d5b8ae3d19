// ledger_cli.h — what the ledger and render commands share: reading the CR the user names (a
// user file, user_file.h) and printing a ledger row.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "host.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "ledger.h"
#include "result.h"
#include "user_file.h"  // load_user_policy

namespace hostpass {

// Loads the CR the user named (a user file, read relative to the current directory) and builds
// this host's inventory from it.
Result<Inventory> inventory_from_cr(Host& host, const std::string& cr_file);

// One ledger row as JSON (schema in docs/ledger.md).
nlohmann::json assignment_json(const Assignment& a);

}  // namespace hostpass
