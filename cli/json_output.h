// json_output.h — the one JSON convention every command follows under --json (docs/json.md):
// stdout carries the result, or on failure the error object; the shapes several commands share
// (`writes`, `fix`, strings that are null when unknown) are built here, once.
//
// Whether this run prints JSON is a property of the command line (`--json` anywhere on it), so
// it is known even when CLI11 cannot parse the rest; run_cli sets it before parsing, and every
// report path (report_error, report_error_lines, a flag-parsing error) prints the error object
// on stdout when it is on. The human message still goes to stderr as "hostpass: ...".
// Not here: what a command's own result looks like (its cmd_<name>.cc) or the device objects
// (device_json.h, cmd_usb.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "device_json.h"  // kInvalidUtf8
#include "result.h"
#include "vfio_bind.h"  // PlannedWrite

namespace hostpass {

// The output mode of this run (false until run_cli sets it).
void set_json_output(bool on);
bool json_output();

// True when argv (after argv[0], up to a bare "--") holds the word --json.
bool argv_asks_json(int argc, const char* const* argv);

// {"error": {"kind": "invalid-input", "message": "..."}}; a refusal (ErrorKind::Refused) adds
// "blockers": the message's lines, one refused device or reason a line, as the text prints them.
nlohmann::json error_json(const Error& error);
nlohmann::json error_json(const std::string& kind, const std::string& message);

// Prints `j` on stdout, indented, invalid UTF-8 replaced (kInvalidUtf8), and a newline.
void print_json(const nlohmann::json& j);

// With JSON output on: prints error_json(error), with the keys of `extra` (an object, or null)
// added beside "error" (bind's "recovered"). Does nothing otherwise.
void print_error_json(const Error& error, const nlohmann::json& extra = nullptr);

// report_error (cli.h) with the keys of `extra` beside "error" in JSON: prints the error object
// on stdout when JSON output is on, "hostpass: <message>" on stderr; returns exit_code_for().
int report_error_with(const Error& error, const nlohmann::json& extra);

// The string, or null when it is empty (unknown, or nothing to say).
nlohmann::json string_or_null(const std::string& s);

// [{"op": "write", "path": "...", "data": "..."}, ...]: the shape of `writes` in every command.
nlohmann::json writes_json(const std::vector<PlannedWrite>& writes);

// A fix line as {"command": the typable `hostpass ...` part or null, "advice": the whole line},
// or null for an empty fix. The command is the text up to the first " (", ", " or ": " after a
// leading "hostpass "; a fix that does not start with "hostpass " is prose only.
nlohmann::json fix_json(const std::string& fix);

}  // namespace hostpass
