// test_dirs.h — a fresh scratch directory per test, removed afterwards unless the test failed
// (then it stays for inspection, and its path is printed).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace hostpass::testing {

// "<TMPDIR or /tmp>/hostpass-test-<suite>-<test>-<pid>", created empty.
std::string scratch_dir(const std::string& tag = "");

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "");
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace hostpass::testing
