// End-to-end: every line of advice hostpass can print names only flags that its command has, so
// that it can be typed as it stands.
//
// Advice is gathered two ways. From the source: the string literals of src/, cli/ and plugin/
// (tests and benchmarks left out), read with comments skipped, adjacent literals joined and a
// `+ expr +` (or a `? :`) between two literals read as one word, as the program would print it.
// From the program: commands run on fixture roots built to need advice (a group that is not
// viable, the root disk, a host without an IOMMU, a CR whose mdev type has no instance, a
// one-deploy inventory that leaves a group sibling out, an assign into such a group).
//
// In every text each `hostpass CMD [SUB] ...` is read up to the first `(`, `)`, `;`, `,`, quote,
// backquote or line end, and every `-x` / `--flag` in it must be an option of
// `hostpass CMD [SUB] --help` or a global one of `hostpass --help` (the CLI falls through to
// them). The checker is itself checked on a made-up line naming a flag that does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fixture_tree.h"
#include "host.h"
#include "inventory_fixture.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

// ---- the commands and their options, from --help ----

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct Help {
  std::set<std::string> options;      // "-f", "--file", "--group"
  std::set<std::string> subcommands;  // "types", "create", ...
};

// CLI11's help: "Options:" / "Subcommands:" sections, one entry a line, indented; an option's
// names are its first column ("-f,--file TEXT REQUIRED").
Help parse_help(const std::string& text) {
  Help h;
  std::istringstream in(text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    // An entry is indented by two spaces; a description that wraps, by more.
    if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] == ' ') continue;
    std::vector<std::string> w = words(line);
    if (w.empty()) continue;
    if (section.rfind("Subcommands", 0) == 0 || section.rfind("SUBCOMMANDS", 0) == 0) {
      h.subcommands.insert(w[0]);
      continue;
    }
    if (w[0][0] != '-') continue;
    std::string names = w[0];
    size_t start = 0;
    while (start < names.size()) {
      size_t comma = names.find(',', start);
      std::string n =
          names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      n = n.substr(0, n.find_first_of("{=[ "));
      if (!n.empty()) h.options.insert(n);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return h;
}

class Commands {
 public:
  // `path`: {} for hostpass itself, {"mdev"}, {"mdev", "apply"}.
  const Help& help(const std::vector<std::string>& path) {
    auto it = cache_.find(path);
    if (it != cache_.end()) return it->second;
    std::vector<std::string> argv{hostpass_bin()};
    argv.insert(argv.end(), path.begin(), path.end());
    argv.push_back("--help");
    ProgramRun r = run_program(argv);
    EXPECT_EQ(r.exit_code, 0) << "hostpass " << ::testing::PrintToString(path)
                              << " --help: " << r.err;
    return cache_[path] = parse_help(r.out);
  }

 private:
  std::map<std::vector<std::string>, Help> cache_;
};

// ---- advice: `hostpass CMD [SUB] ...` and its flags ----

struct Advice {
  std::vector<std::string> command;  // {"bind"}, {"mdev", "apply"}
  std::vector<std::string> flags;    // as written, without "=value"
  std::string text;                  // the words read, for messages
};

bool ends_segment(char c) {
  return c == '(' || c == ')' || c == ';' || c == ',' || c == '"' || c == '\'' || c == '`' ||
         c == '\n';
}

// Every `hostpass CMD ...` in `text` whose CMD is a command of hostpass.
std::vector<Advice> find_advice(const std::string& text, Commands& commands) {
  std::vector<Advice> out;
  const Help& top = commands.help({});
  for (size_t pos = 0; (pos = text.find("hostpass ", pos)) != std::string::npos; ++pos) {
    if (pos > 0 && (std::isalnum(static_cast<unsigned char>(text[pos - 1])) ||
                    text[pos - 1] == '_' || text[pos - 1] == '/' || text[pos - 1] == '-'))
      continue;  // part of a longer name: hostpass_sim, /usr/bin/hostpass, libhostpass
    size_t end = pos + 9;
    while (end < text.size() && !ends_segment(text[end])) ++end;
    std::vector<std::string> w = words(text.substr(pos + 9, end - pos - 9));
    if (w.empty() || !top.subcommands.contains(w[0])) continue;
    Advice a;
    a.text = text.substr(pos, end - pos);
    a.command = {w[0]};
    size_t i = 1;
    if (i < w.size() && commands.help(a.command).subcommands.contains(w[i]))
      a.command.push_back(w[i++]);
    for (; i < w.size(); ++i) {
      const std::string& t = w[i];
      if (t.size() < 2 || t[0] != '-' ||
          !(std::isalpha(static_cast<unsigned char>(t[1])) || (t[1] == '-' && t.size() > 2)))
        continue;
      std::string flag = t.substr(0, t.find_first_of("=[{.:"));
      if (flag.size() > 1) a.flags.push_back(flag);
    }
    out.push_back(std::move(a));
  }
  return out;
}

// The flags of `advice` that neither its command nor hostpass itself has: "--group (hostpass
// assign vm3 --group ...)".
std::vector<std::string> unknown_flags(const std::vector<Advice>& advice, Commands& commands) {
  std::vector<std::string> bad;
  const Help& top = commands.help({});
  for (const Advice& a : advice) {
    const Help& h = commands.help(a.command);
    for (const std::string& f : a.flags)
      if (!h.options.contains(f) && !top.options.contains(f))
        bad.push_back(f + " in \"" + a.text + "\"");
  }
  return bad;
}

// The flags `text` names bare, outside any `hostpass CMD ...` (find_advice checks those) and any
// other program's command line (`dmesg | grep -i ...`, `grubby --update-kernel ...`): "or use
// --group" in a refusal of assign. Printed by a command, they are that command's to accept.
std::vector<std::string> bare_flags(const std::string& text) {
  static const std::set<std::string> programs = {
      "bootctl",  "dmesg",    "dracut",         "grep",        "grub-mkconfig", "grub2-mkconfig",
      "grubby",   "hostpass", "kernel-install", "kubectl",     "lspci",         "mdevctl",
      "modprobe", "oc",       "systemctl",      "update-grub", "virsh"};
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    while (end < text.size() && !ends_segment(text[end])) ++end;
    for (const std::string& w : words(text.substr(start, end - start))) {
      if (programs.contains(w)) break;  // the rest of the segment is that program's
      if (w.size() > 2 && w[0] == '-' && w[1] == '-' &&
          std::isalpha(static_cast<unsigned char>(w[2])))
        out.push_back(w.substr(0, w.find_first_of("=[{.:")));
    }
    start = end + 1;
  }
  return out;
}

// ---- the string literals of the source ----

// The literals of one C++ file in order, comments and character literals skipped, escapes
// decoded; a literal that follows the previous one across only whitespace, or across an
// expression joined by + or ?: (no ';', '{', '}' or ','), continues its text.
std::vector<std::string> literal_texts(const std::string& src) {
  std::vector<std::string> out;
  std::string gap;  // what lies between the previous literal and this one
  bool have = false;
  size_t i = 0;
  auto join = [&](const std::string& lit) {
    bool expr = gap.find_first_of(";{},") == std::string::npos &&
                gap.find_first_of("+?:") != std::string::npos;
    bool blank = gap.find_first_not_of(" \t\r\n") == std::string::npos;
    if (have && (blank || expr)) {
      out.back() += (blank ? "" : " X ") + lit;
    } else {
      out.push_back(lit);
    }
    have = true;
    gap.clear();
  };
  while (i < src.size()) {
    char c = src[i];
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
      i = src.find('\n', i);
      if (i == std::string::npos) break;
      continue;
    }
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '*') {
      i = src.find("*/", i + 2);
      if (i == std::string::npos) break;
      i += 2;
      continue;
    }
    if (c == '\'') {  // a character literal ('"', '\\'); digit separators do not occur here
      size_t end =
          i + 2 < src.size() ? src.find('\'', i + (src[i + 1] == '\\' ? 3 : 2)) : std::string::npos;
      if (end == std::string::npos) break;
      i = end + 1;
      gap += "c";
      continue;
    }
    bool raw =
        c == 'R' && i + 1 < src.size() && src[i + 1] == '"' &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(src[i - 1])) || src[i - 1] == '_'));
    if (raw) {  // R"delim(...)delim"
      size_t open = src.find('(', i);
      if (open == std::string::npos) break;
      std::string close = ")" + src.substr(i + 2, open - i - 2) + "\"";
      size_t end = src.find(close, open);
      if (end == std::string::npos) break;
      join(src.substr(open + 1, end - open - 1));
      i = end + close.size();
      continue;
    }
    if (c == '"') {
      std::string lit;
      for (++i; i < src.size() && src[i] != '"'; ++i) {
        if (src[i] == '\\' && i + 1 < src.size()) {
          char e = src[++i];
          lit += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          lit += src[i];
        }
      }
      ++i;
      join(lit);
      continue;
    }
    gap += c;
    ++i;
  }
  return out;
}

struct SourceAdvice {
  std::string file;
  Advice advice;
};

std::vector<SourceAdvice> source_advice(Commands& commands) {
  std::vector<SourceAdvice> out;
  for (const char* dir : {"src", "cli", "plugin"}) {
    fs::path d = fs::path(HOSTPASS_SOURCE_DIR) / dir;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d)) {
      std::string name = e.path().filename().string();
      bool test = name.size() > 8 && name.substr(name.size() - 8) == "_test.cc";
      bool bench = name.find("bench") != std::string::npos;
      if (e.path().extension() == ".cc" && !test && !bench) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      for (const std::string& text : literal_texts(ss.str()))
        for (Advice& a : find_advice(text, commands))
          out.push_back({std::string(dir) + "/" + f.filename().string(), std::move(a)});
    }
  }
  return out;
}

// ---- the tests ----

TEST(AdviceCli, TheCheckerFindsAFlagTheCommandLacks) {
  Commands commands;
  std::vector<Advice> a = find_advice(
      "fix: hostpass bind --group 0000:02:00.0; or hostpass assign 0000:02:00.0 --vm vm3 --group "
      "(made up); or hostpass mdev apply -f cr.yaml --nonsense, then hostpass --json list",
      commands);
  ASSERT_EQ(a.size(), 3u);  // "hostpass --json" names no command
  // Bare flags are read outside hostpass's and other programs' command lines.
  EXPECT_EQ(bare_flags("name them too, or use --group; confirm with: dmesg | grep -i remap; "
                       "or --force=swap (hostpass bind --driver x)"),
            (std::vector<std::string>{"--group", "--force"}));
  EXPECT_EQ(a[2].command, (std::vector<std::string>{"mdev", "apply"}));
  EXPECT_EQ(
      unknown_flags(a, commands),
      (std::vector<std::string>{"--group in \"hostpass assign 0000:02:00.0 --vm vm3 --group \"",
                                "--nonsense in \"hostpass mdev apply -f cr.yaml --nonsense\""}));
}

TEST(AdviceCli, LiteralsAreReadAsTheProgramPrintsThem) {
  std::vector<std::string> t = literal_texts(
      "// \"hostpass bind --not-this\" in a comment\n"
      "f(\"a \" \"hostpass mdev create --parent \" + p.parent + \" --type \" + id, \"next\");\n"
      "g(x ? \"hostpass bind \" : \"y\"); char q = '\"'; h(\"z\\n\");");
  EXPECT_EQ(t, (std::vector<std::string>{"a hostpass mdev create --parent  X  --type ", "next",
                                         "hostpass bind  X y", "z\n"}));
}

TEST(AdviceCli, EveryAdviceInTheSourceNamesFlagsItsCommandHas) {
  Commands commands;
  std::vector<SourceAdvice> found = source_advice(commands);
  // The collection itself works: known advice is among it.
  std::set<std::string> seen;
  for (const SourceAdvice& s : found) {
    std::string key = s.file + ": hostpass";
    for (const std::string& w : s.advice.command) key += " " + w;
    for (const std::string& f : s.advice.flags) key += " " + f;
    seen.insert(key);
  }
  EXPECT_TRUE(seen.contains("src/preflight.cc: hostpass bind --group")) << seen.size();
  EXPECT_TRUE(seen.contains("src/kubevirt_inventory.cc: hostpass mdev create --parent --type"));
  EXPECT_TRUE(seen.contains("src/kubevirt_inventory.cc: hostpass mdev apply -f"));
  EXPECT_GT(found.size(), 40u);
  for (const SourceAdvice& s : found) {
    std::vector<std::string> bad = unknown_flags({s.advice}, commands);
    for (const std::string& b : bad) ADD_FAILURE() << s.file << ": " << b;
  }
}

class AdviceRun : public ::testing::Test {
 protected:
  AdviceRun() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  // Runs hostpass on the tree; a flag its output names bare must be one of this command's.
  ProgramRun hostpass(std::vector<std::string> args) {
    std::vector<std::string> command;
    if (!args.empty() && commands_.help({}).subcommands.contains(args[0])) {
      command.push_back(args[0]);
      if (args.size() > 1 && commands_.help(command).subcommands.contains(args[1]))
        command.push_back(args[1]);
    }
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    ProgramRun r = run_program(args);
    printed_ += r.out + "\n" + r.err + "\n";
    for (const std::string& f : bare_flags(r.out + "\n" + r.err)) {
      ++bare_seen_;
      if (!commands_.help(command).options.contains(f) && !commands_.help({}).options.contains(f))
        ADD_FAILURE() << f << ", which hostpass " << join(command, " ")
                      << " does not have, in its output:\n"
                      << r.out << r.err;
    }
    return r;
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // Every advice printed so far names only flags its command has; returns how many `hostpass
  // CMD` advices and bare flags were seen.
  size_t expect_fitting_advice() {
    std::vector<Advice> a = find_advice(printed_, commands_);
    for (const std::string& b : unknown_flags(a, commands_)) ADD_FAILURE() << b;
    return a.size() + bare_seen_;
  }
  ScratchDir dir_;
  FixtureTree tree_;
  Commands commands_;
  std::string printed_;
  size_t bare_seen_ = 0;
};

// The standard host's QAT pair 0000:02:00.0 + 0000:02:00.1 shares IOMMU group 6 on qat_c62x.
TEST_F(AdviceRun, CheckAdvisesBindGroupWhenTheGroupNeedsIt) {
  ProgramRun r = hostpass({"check", "02:00.0"});
  EXPECT_NE(r.out.find("      fix: hostpass bind --group 0000:02:00.0\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("fix: hostpass bind 0000:02:00.0"), std::string::npos) << r.out;
  ProgramRun alone = hostpass({"check", "00:04.0"});  // alone in group 4
  EXPECT_NE(alone.out.find("      fix: hostpass bind 0000:00:04.0\n"), std::string::npos)
      << alone.out;
  EXPECT_GE(expect_fitting_advice(), 2u);
}

TEST_F(AdviceRun, AssignIntoAGroupWithASiblingSaysBindItFirstNotGroup) {
  ProgramRun r = hostpass({"assign", "0000:02:00.0", "--vm", "vm3"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bind them to vfio-pci first (hostpass bind 0000:02:00.1), then assign "
                       "again"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("--group"), std::string::npos) << r.err;
  EXPECT_GE(expect_fitting_advice(), 1u);
}

TEST_F(AdviceRun, OneDeployInventoryLeavingASiblingOutSaysAddItToPciDevices) {
  std::string inv = write("inv.yml",
                          "node:\n  hosts:\n    n1:\n      pci_passthrough_enabled: true\n"
                          "      pci_devices:\n        - address: \"0000:02:00.0\"\n");
  ProgramRun r = hostpass({"opennebula", "inventory", "-f", inv, "--host", "n1"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("; add 0000:02:00.1 to pci_devices"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--group"), std::string::npos) << r.err;
  expect_fitting_advice();
}

TEST_F(AdviceRun, BindRefusalsOfferOnlyWhatBindHas) {
  ProgramRun group = hostpass({"bind", "02:00.0", "--dry-run"});
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_NE(group.err.find("name them too, or use --group"), std::string::npos) << group.err;
  // The root disk and a NIC that is up: --force is offered for the one it can take, and the
  // refusal says which device it can never take.
  ProgramRun root = hostpass({"bind", "00:02.0", "00:03.0", "--dry-run"});
  EXPECT_EQ(root.exit_code, 2);
  EXPECT_NE(root.err.find("refusing 0000:00:02.0: it holds the root filesystem (/dev/vda1 on /); "
                          "--force does not override this\n"),
            std::string::npos)
      << root.err;
  EXPECT_NE(root.err.find("--force can override what blocks 0000:00:03.0, never what blocks "
                          "0000:00:02.0 (root-filesystem): leave that device out"),
            std::string::npos)
      << root.err;
  EXPECT_GE(expect_fitting_advice(), 1u);
}

TEST_F(AdviceRun, ChecksOfAHostWithoutAnIommuAdviseCommandsThatExist) {
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/class/iommu"))) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/kernel/iommu_groups")))
    fs::remove_all(e.path());
  tree_.set_cmdline("root=/dev/vda1 ro quiet");
  hostpass({"check", "00:04.0", "01:00.0"});
  hostpass({"bind", "00:04.0", "--dry-run"});
  hostpass({"kernel-args"});
  EXPECT_GE(expect_fitting_advice(), 2u) << printed_;
}

TEST(AdviceInventory, InventoryOfAnMdevNodeAdvisesCommandsThatExist) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  build_inventory_node(tree);
  Commands commands;
  std::string cr =
      std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/policy/node_kubevirt_cr.yaml";
  ProgramRun r = run_program({hostpass_bin(), "--root", tree.root(), "inventory", "-f", cr});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Advice> a = find_advice(r.out + r.err, commands);
  EXPECT_GE(a.size(), 3u) << r.out;
  for (const std::string& b : unknown_flags(a, commands)) ADD_FAILURE() << b;
  for (const std::string& f : bare_flags(r.out + r.err))
    if (!commands.help({"inventory"}).options.contains(f) && !commands.help({}).options.contains(f))
      ADD_FAILURE() << f << ", which inventory does not have";
}

}  // namespace
}  // namespace hostpass::testing
