// result_test.cc — Result's contract, and that misusing it is caught in every build type.
#include "result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace hostpass {
namespace {

Result<std::string> found() {
  return std::string("0000:06:00.0");
}
Result<std::string> missing() {
  return not_found("no device 0000:99:00.0 (no /sys/bus/pci/devices/0000:99:00.0)");
}

TEST(Result, HoldsAValueOrAnError) {
  auto a = found();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "0000:06:00.0");
  EXPECT_EQ(a->size(), 12u);
  auto b = missing();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(b.value_or("none"), "none");
  // A move-only value moves out of an rvalue Result.
  Result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(p).value();
  EXPECT_EQ(*taken, 7);
}

// These run in the test's own build type (RelWithDebInfo: NDEBUG is set, so an assert would
// pass silently and value() would read the wrong alternative).
TEST(ResultDeathTest, ValueOnAnErrorAbortsAndSaysWhichError) {
  auto r = missing();
  EXPECT_DEATH((void)r.value(),
               "bug: Result::value\\(\\) called on an error \\(not-found\\): no device "
               "0000:99:00.0");
  EXPECT_DEATH((void)*r, "called on an error");
  EXPECT_DEATH((void)r->size(), "called on an error");
  EXPECT_DEATH((void)std::move(r).value(), "called on an error");
  const auto& c = r;
  EXPECT_DEATH((void)c.value(), "called on an error");
}

TEST(ResultDeathTest, ErrorOnAValueAborts) {
  auto r = found();
  EXPECT_DEATH((void)r.error(), "bug: Result::error\\(\\) called on a value, not an error");
  Status s = ok_status();
  EXPECT_DEATH((void)s.error(), "bug: Result::error\\(\\) called on a value");
  EXPECT_DEATH((void)std::move(s).error(), "called on a value");
}

}  // namespace
}  // namespace hostpass
