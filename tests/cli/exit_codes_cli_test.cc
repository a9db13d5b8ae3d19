// End-to-end: one exit-code rule for every command. The commands come from `hostpass --help` and
// each group's --help, so a new command is covered without editing this file; each is run on the
// standard fixture host with every bad input that applies to it:
//   missing -f file, a directory as -f      (commands with -f)
//   a malformed and an absent PCI address   (arguments whose help shows an address, "0000:...")
//   an unknown flag, a nonexistent --root, a --root without sys/   (every command)
// and must exit 2, say what is wrong on stderr after "hostpass: ", and leave the tree as it was.
// A command with a required argument this file has no value for fails the test, naming it: add
// the value to kValues.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"
#include "tree_digest.h"

namespace hostpass::testing {
namespace {

// One argument a command's --help lists (CLI11's layout: "  -f,--file TEXT REQUIRED  help").
struct Arg {
  std::string name;  // "-f,--file", "--vm", or a positional's name ("address")
  bool positional = false;
  bool required = false;
  bool takes_value = false;
  std::string help;  // the whole help line
};

struct Command {
  std::vector<std::string> path;  // {"mdev", "types"}
  std::vector<Arg> args;
};

// The entries of a help text's section ("Subcommands:", "Options:", "Positionals:"): a line that
// starts with two spaces and a name, with the deeper-indented lines that continue it (CLI11 moves
// the description of a long name to the next line) appended.
std::vector<std::string> section(const std::string& help, const std::string& title) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == title) {
      inside = true;
      continue;
    }
    if (!inside || line.empty()) continue;
    if (line[0] != ' ') break;
    if (line.size() > 2 && line[2] != ' ')
      out.push_back(line);
    else if (!out.empty())
      out.back() += " " + line;
  }
  return out;
}

std::string first_word(const std::string& line) {
  std::istringstream in(line);
  std::string w;
  in >> w;
  return w;
}

ProgramRun hostpass(std::vector<std::string> args) {
  args.insert(args.begin(), hostpass_bin());
  return run_program(args);
}

std::vector<Arg> args_of(const std::string& help) {
  std::vector<Arg> out;
  for (const char* title : {"Positionals:", "Options:"}) {
    for (const std::string& line : section(help, title)) {
      Arg a;
      a.name = first_word(line);
      a.positional = std::string(title) == "Positionals:";
      a.help = line;
      std::string rest = line.substr(line.find(a.name) + a.name.size());
      a.required = rest.find(" REQUIRED") != std::string::npos;
      // CLI11 prints a value's type right after the name: TEXT, INT, FLOAT, DIR, ...
      std::string type = first_word(rest);
      a.takes_value =
          !type.empty() && type != "REQUIRED" &&
          type.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ:.[]_") == std::string::npos;
      if (a.name == "-h,--help" || a.name == "--help") continue;
      out.push_back(a);
    }
  }
  return out;
}

// Every command that is not a group, from the help texts.
std::vector<Command> commands() {
  std::vector<Command> out;
  std::vector<std::vector<std::string>> todo;
  for (const std::string& line : section(hostpass({"--help"}).out, "Subcommands:"))
    todo.push_back({first_word(line)});
  while (!todo.empty()) {
    std::vector<std::string> path = todo.back();
    todo.pop_back();
    std::vector<std::string> args = path;
    args.push_back("--help");
    std::string help = hostpass(args).out;
    std::vector<std::string> subs = section(help, "Subcommands:");
    if (!subs.empty()) {
      for (const std::string& line : subs) {
        std::vector<std::string> p = path;
        p.push_back(first_word(line));
        todo.push_back(p);
      }
      continue;
    }
    out.push_back(Command{path, args_of(help)});
  }
  return out;
}

// A good value for each required argument, by "<command> <name>" or by name alone.
const std::map<std::string, std::string> kValues = {
    {"address", "0000:03:00.0"},
    {"DEVICE", "0000:03:00.0"},
    {"device", "0000:03:00.0"},
    {"uuid", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"},
    {"--vm", "vm1"},
    {"--parent", "0000:01:00.0"},
    {"--type", "nvidia-222"},
    {"--host", "n1"},
    {"render --format", "libvirt"},
    {"persist --format", "modprobe"},
};

// A target for a command whose positional is optional but a run needs one (so that the run
// reaches the argument under test): given unless that positional is the one replaced.
const std::map<std::string, std::string> kTargets = {
    {"render", "0000:03:00.0"},
};

bool is_file_flag(const Arg& a) {
  return a.name == "-f,--file";
}
bool is_address(const Arg& a) {
  return a.help.find("0000:") != std::string::npos && a.takes_value;
}
std::string flag_of(const Arg& a) {  // "-f,--file" → "-f"
  return a.name.substr(0, a.name.find(','));
}

class ExitCodes : public ::testing::Test {
 protected:
  ExitCodes() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    std::filesystem::create_directories(dir_.path() + "/a-directory");
    std::filesystem::create_directories(dir_.path() + "/no-sys");
  }

  // The command's arguments: every required one with its good value, `replace` put in for the
  // argument it names (and added when that one is optional).
  std::vector<std::string> argv_for(const Command& c, const Arg* replace = nullptr,
                                    const std::string& value = "") {
    std::vector<std::string> argv = {"--root", tree_.root()};
    argv.insert(argv.end(), c.path.begin(), c.path.end());
    std::string command = c.path.back();
    for (const Arg& a : c.args) {
      bool replaced = replace && replace->name == a.name;
      if (!a.required && !replaced) continue;
      std::string v;
      if (replaced) {
        v = value;
      } else if (is_file_flag(a)) {
        v = dir_.path() + "/a-directory";
      } else if (auto it = kValues.find(command + " " + flag_of(a)); it != kValues.end()) {
        v = it->second;
      } else if (auto it2 = kValues.find(a.positional ? a.name : flag_of(a));
                 it2 != kValues.end()) {
        v = it2->second;
      } else {
        ADD_FAILURE() << "no value for the required " << a.name << " of `" << command
                      << "`: add one to kValues";
        continue;
      }
      if (!a.positional) argv.push_back(flag_of(a));
      argv.push_back(v);
    }
    if (auto it = kTargets.find(command); it != kTargets.end() && !(replace && replace->positional))
      argv.push_back(it->second);
    return argv;
  }

  // Runs argv; expects exit 2, a first stderr line "hostpass: ..." that contains `says`, and an
  // unchanged tree.
  void expect_refused(const std::vector<std::string>& argv, const std::string& says) {
    std::string shown;
    for (const std::string& a : argv) shown += " " + a;
    auto before = tree_digest(tree_.root());
    ProgramRun r = hostpass(argv);
    EXPECT_EQ(r.exit_code, 2) << "hostpass" << shown << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("hostpass: ", 0), 0u) << "hostpass" << shown << "\n" << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos)
        << "hostpass" << shown << ": expected '" << says << "' in\n"
        << r.err;
    EXPECT_EQ(tree_digest(tree_.root()), before) << "hostpass" << shown << " changed the tree";
  }

  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(ExitCodes, TheHelpListsTheCommandsThisTestCovers) {
  std::vector<Command> all = commands();
  std::vector<std::string> names;
  for (const Command& c : all) names.push_back(c.path.back());
  // A few that must be there, so that a help layout this test no longer parses fails loudly.
  for (const char* must : {"bind", "list", "types", "filter", "render", "apply", "persist"})
    EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must;
  EXPECT_GE(all.size(), 20u);
}

TEST_F(ExitCodes, MissingFileAndDirectoryAsFile) {
  int covered = 0;
  for (const Command& c : commands()) {
    for (const Arg& a : c.args) {
      if (!is_file_flag(a)) continue;
      ++covered;
      std::string missing = dir_.path() + "/missing.yaml";
      expect_refused(argv_for(c, &a, missing),
                     "cannot read " + missing + ": No such file or directory");
      std::string dir = dir_.path() + "/a-directory";
      expect_refused(argv_for(c, &a, dir), "cannot read " + dir + ": it is a directory");
    }
  }
  EXPECT_GE(covered, 8) << "apply, persist, inventory, plugin, assign, render, mdev apply, "
                           "opennebula inventory";
}

TEST_F(ExitCodes, MalformedAndAbsentAddresses) {
  int covered = 0;
  for (const Command& c : commands()) {
    for (const Arg& a : c.args) {
      if (!is_address(a)) continue;
      ++covered;
      expect_refused(argv_for(c, &a, "0000:99:00.0"), "no PCI device 0000:99:00.0");
      expect_refused(argv_for(c, &a, "zz:zz.z"), "zz:zz.z");
    }
  }
  EXPECT_GE(covered, 11) << "bind, unbind, show, check, verify, assign, release, render, mdev "
                            "types and create, opennebula filter";
}

TEST_F(ExitCodes, UnknownFlag) {
  for (const Command& c : commands()) {
    std::vector<std::string> argv = argv_for(c);
    argv.push_back("--no-such-flag");
    expect_refused(argv, "--no-such-flag");
  }
}

TEST_F(ExitCodes, NonexistentRootAndRootWithoutSys) {
  for (const Command& c : commands()) {
    std::vector<std::string> argv = argv_for(c);
    argv[1] = dir_.path() + "/nonexistent";
    expect_refused(argv, "--root " + argv[1] + ": no such directory");
    argv[1] = dir_.path() + "/no-sys";
    expect_refused(argv, "--root " + argv[1] + " has no sys/: not a host root");
  }
}

// cli/flag_scopes.h: a flag of another format (or, for assign, another kind of name) is refused
// naming what it applies to, not silently ignored.
TEST_F(ExitCodes, FlagsThatMeanNothingHereAreRefused) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"render", "0000:03:00.0", "--format", "libvirt", "--by-type"},
       "--by-type has no meaning with --format libvirt (it applies to --format opennebula)"},
      {{"render", "0000:03:00.0", "--format", "qemu", "--node", "n1"},
       "--node has no meaning with --format qemu (it applies to --format kubevirt)"},
      {{"persist", "--format", "udev", "--role", "worker"},
       "--role has no meaning with --format udev (it applies to --format butane or --format "
       "machineconfig)"},
      {{"persist", "--format", "modprobe", "--udev-world-writable"},
       "--udev-world-writable has no meaning with --format modprobe"},
      {{"kernel-args", "--format", "cmdline", "--apply"},
       "--apply has no meaning with --format cmdline (it applies to --format grub or --format "
       "kernel-cmdline)"},
      {{"kernel-args", "--format", "butane", "--force"},
       "--force has no meaning with --format butane"},
      {{"assign", "0000:03:00.0", "--vm", "vm1", "--numa", "0"},
       "--numa has no meaning with a PCI address (it applies to a resource name)"},
  };
  for (const auto& [args, says] : cases) {
    std::vector<std::string> argv = {"--root", tree_.root()};
    argv.insert(argv.end(), args.begin(), args.end());
    expect_refused(argv, says);
  }
  // The same flags where they mean something are accepted.
  ProgramRun ok = hostpass(
      {"--root", tree_.root(), "render", "0000:03:00.0", "--format", "opennebula", "--by-type"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(ParseErrors, AreInHostpasssVoiceWithAHint) {
  ProgramRun r = hostpass({"assign", "0000:03:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "hostpass: --vm is required\nRun with --help for more information.\n");
}

}  // namespace
}  // namespace hostpass::testing
