// json_output.cc — see json_output.h.
#include "json_output.h"

#include "cli.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <sstream>

namespace hostpass {

namespace {

bool json_on = false;

}  // namespace

void set_json_output(bool on) {
  json_on = on;
}

bool json_output() {
  return json_on;
}

bool argv_asks_json(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return false;
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

nlohmann::json error_json(const std::string& kind, const std::string& message) {
  return {{"error", {{"kind", kind}, {"message", message}}}};
}

nlohmann::json error_json(const Error& error) {
  nlohmann::json j = error_json(error_kind_name(error.kind), error.message);
  if (error.kind == ErrorKind::Refused) {
    nlohmann::json blockers = nlohmann::json::array();
    std::istringstream lines(error.message);
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) blockers.push_back(line);
    j["error"]["blockers"] = blockers;
  }
  return j;
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
}

void print_error_json(const Error& error, const nlohmann::json& extra) {
  if (!json_on) return;
  nlohmann::json j = error_json(error);
  if (extra.is_object())
    for (const auto& [key, value] : extra.items()) j[key] = value;
  print_json(j);
}

int report_error_with(const Error& error, const nlohmann::json& extra) {
  print_error_json(error, extra);
  std::cerr << "hostpass: " << error.message << "\n";
  return exit_code_for(error);
}

nlohmann::json string_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

nlohmann::json writes_json(const std::vector<PlannedWrite>& writes) {
  nlohmann::json a = nlohmann::json::array();
  for (const PlannedWrite& w : writes)
    a.push_back({{"op", w.op}, {"path", w.path}, {"data", w.data}});
  return a;
}

nlohmann::json fix_json(const std::string& fix) {
  if (fix.empty()) return nullptr;
  nlohmann::json command = nullptr;
  if (fix.rfind("hostpass ", 0) == 0) {
    size_t end = fix.size();
    for (const char* stop : {" (", ", ", ": "}) end = std::min(end, fix.find(stop));
    command = fix.substr(0, end);
  }
  return {{"command", command}, {"advice", fix}};
}

}  // namespace hostpass
