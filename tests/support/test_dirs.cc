// test_dirs.cc — see test_dirs.h.
#include "test_dirs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace hostpass::testing {

std::string scratch_dir(const std::string& tag) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "-" + info->name() : "global";
  for (char& c : name)
    if (c == '/') c = '_';
  std::string dir = base + "/hostpass-test-" + name + (tag.empty() ? "" : "-" + tag) + "-" +
                    std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

ScratchDir::ScratchDir(const std::string& tag) : path_(scratch_dir(tag)) {}

ScratchDir::~ScratchDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info && info->result()->Failed()) {
    std::cerr << "kept test tree: " << path_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace hostpass::testing
