// End-to-end: what the command line says about commands that do not exist, with or without
// --help, at the top level and inside a group (mdev); real ones still show their help.
#include <gtest/gtest.h>

#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

ProgramRun hostpass(std::vector<std::string> args) {
  args.insert(args.begin(), hostpass_bin());
  return run_program(args);
}

constexpr const char* kHint = "Run with --help for more information.\n";

TEST(UnknownCommand, WithHelpIsAnErrorNotTheMainHelp) {
  ProgramRun r = hostpass({"frobnicate", "--help"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("hostpass: unknown command 'frobnicate'\n") + kHint);
  EXPECT_EQ(r.out, "");
}

TEST(UnknownCommand, WithoutHelpOrAfterGlobalFlagsTheSame) {
  for (std::vector<std::string> args : {std::vector<std::string>{"frobnicate"},
                                        {"--json", "frobnicate"},
                                        {"--root", "/nonexistent", "frobnicate", "-h"},
                                        {"frobnicate", "--version"}}) {
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(r.err, std::string("hostpass: unknown command 'frobnicate'\n") + kHint)
        << args.back();
  }
}

TEST(UnknownCommand, InsideAGroupNamesTheGroup) {
  ProgramRun r = hostpass({"mdev", "frobnicate", "--help"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("hostpass: unknown command 'mdev frobnicate'\n") + kHint);
}

TEST(KnownCommand, HelpStillShowsHelpAndExitsZero) {
  ProgramRun top = hostpass({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Subcommands:"), std::string::npos) << top.out;
  ProgramRun list = hostpass({"list", "--help"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("--vendor"), std::string::npos) << list.out;
  ProgramRun mdev = hostpass({"mdev", "--help"});
  EXPECT_EQ(mdev.exit_code, 0);
  EXPECT_NE(mdev.out.find("apply"), std::string::npos) << mdev.out;
  EXPECT_EQ(hostpass({"--version"}).exit_code, 0);
}

}  // namespace
}  // namespace hostpass::testing
