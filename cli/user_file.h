// user_file.h — files the user names on the command line (-f inventory.yml, -f manifest.yaml,
// -f CR.yaml) are the user's, not the machine's: they are read (and, for in-place edits, replaced)
// relative to the current directory through a Host rooted at "/", whatever --root says. --root
// only moves the machine hostpass acts on (its /sys, /proc, /dev, /etc, /var/lib/hostpass).
#pragma once

#include <string>

#include "result.h"

namespace hostpass {

// The absolute path of a command-line file name ("inv.yml" → "$PWD/inv.yml").
std::string user_file_path(const std::string& name);
Result<std::string> read_user_file(const std::string& name);
// Replaces the file atomically (write a sibling, fsync, rename).
Status replace_user_file(const std::string& name, const std::string& content);

}  // namespace hostpass
