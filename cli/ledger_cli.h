// ledger_cli.h — helpers shared by the ledger and render commands.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "host.h"
#include "kubevirt_inventory.h"
#include "ledger.h"
#include "result.h"

namespace hostpass {

// Loads the CR the user named (a user file, read relative to the current directory) and builds
// this host's inventory from it.
Result<Inventory> inventory_from_cr(Host& host, const std::string& cr_file);

// One ledger row as JSON (schema in docs/ledger.md).
nlohmann::json assignment_json(const Assignment& a);

}  // namespace hostpass
