#include "text_table.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

TEST(TextTable, ColumnsGrowToTheWidestCell) {
  TextTable t({{"VM"}, {"RESOURCE"}, {"NUMA"}});
  t.add_row({"vm1", "nvidia.com/TU104GL_Tesla_T4_with_a_long_name", "0"});
  t.add_row({"a-much-longer-vm", "-", "1"});
  EXPECT_EQ(t.render(),
            "VM               RESOURCE                                     NUMA\n"
            "vm1              nvidia.com/TU104GL_Tesla_T4_with_a_long_name 0\n"
            "a-much-longer-vm -                                            1\n");
}

TEST(TextTable, MinimumWidthsKeepShortTablesAsTheyWere) {
  TextTable t({{"VM", 6}, {"KIND", 5}, {"SINCE"}});
  t.add_row({"vm1", "pci", "today"});
  EXPECT_EQ(t.render(),
            "VM     KIND  SINCE\n"
            "vm1    pci   today\n");
}

TEST(TextTable, TheLastColumnIsNotPaddedAndMissingCellsAreEmpty) {
  TextTable t({{"A"}, {"B"}});
  t.add_row({"x"});
  t.add_row({"y", "a long last cell"});
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.render(), "A B\nx\ny a long last cell\n");
}

TEST(TextTable, Utf8CellsAreMeasuredInCodePoints) {
  EXPECT_EQ(text_width("caf\xc3\xa9"), 4u);
  TextTable t({{"NAME"}, {"X"}});
  t.add_row({"caf\xc3\xa9", "1"});
  t.add_row({"coffee", "2"});
  EXPECT_EQ(t.render(), "NAME   X\ncaf\xc3\xa9   1\ncoffee 2\n");
}

}  // namespace
}  // namespace hostpass
