// user_file.h — files the user names on the command line (-f inventory.yml, -f manifest.yaml,
// -f CR.yaml, -f hostpass.yaml) are the user's, not the machine's: every command reads them (and,
// for in-place edits, replaces them) relative to the current directory through a Host rooted at
// "/", whatever --root says. --root only moves the machine hostpass acts on (its /sys, /proc,
// /dev, /etc, /var/lib/hostpass). So a ConfigMap mounted in a pod, or a file Ansible copied,
// works as typed with --root.
//
// A file that cannot be read is the user's to fix: exit 2 (InvalidInput) with
// "cannot read X: No such file or directory", "cannot read X: it is a directory", or the
// system's reason ("Permission denied"), X as the user typed it.
#pragma once

#include <cstddef>
#include <string>

#include "kubevirt_policy.h"
#include "result.h"

namespace hostpass {

// The absolute path of a command-line file name ("inv.yml" → "$PWD/inv.yml").
std::string user_file_path(const std::string& name);
// The file's content (at most `max_bytes`); InvalidInput as the header says when it cannot be read.
Result<std::string> read_user_file(const std::string& name, size_t max_bytes = size_t{64} << 20);
// Replaces the file atomically (write a sibling, fsync, rename).
Status replace_user_file(const std::string& name, const std::string& content);
// The KubeVirt/HyperConverged CR the user named (kubevirt_policy.h's parse_policy on its text).
Result<Policy> load_user_policy(const std::string& name);

}  // namespace hostpass
