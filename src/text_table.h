// text_table.h — plain-text tables whose columns line up whatever their cells hold: each column
// is as wide as its widest cell (or its minimum width), cells are left-aligned and separated by
// one space, and no line ends in blanks (the last column is not padded).
//
// Width is counted in code points of UTF-8 text (every byte that is not a continuation byte), so
// a pci.ids name with "é" does not push its row out of line; East Asian wide characters and
// combining marks are not measured as terminals draw them. Pure: building and rendering strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hostpass {

struct TextColumn {
  std::string header;
  size_t min_width = 0;  // the column is at least this wide, so short tables keep their layout
};

class TextTable {
 public:
  explicit TextTable(std::vector<TextColumn> columns);
  // A row with fewer cells than columns is padded with empty cells; extra cells are an error of
  // the caller and are dropped.
  void add_row(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // The header line, then one line per row, each ending in '\n'.
  std::string render() const;

 private:
  std::vector<TextColumn> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Code points in UTF-8 text: the width TextTable gives a cell.
size_t text_width(std::string_view text);

}  // namespace hostpass
