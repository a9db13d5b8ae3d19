// text_table.cc — see text_table.h.
#include "text_table.h"

#include <algorithm>

namespace hostpass {

size_t text_width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

TextTable::TextTable(std::vector<TextColumn> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::render() const {
  std::vector<size_t> widths;
  widths.reserve(columns_.size());
  for (const TextColumn& c : columns_)
    widths.push_back(std::max(c.min_width, text_width(c.header)));
  for (const std::vector<std::string>& r : rows_)
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], text_width(r[i]));
  std::string out;
  auto line = [&](auto cell_of) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = cell_of(i);
      out += cell;
      if (i + 1 < columns_.size()) out += std::string(widths[i] - text_width(cell) + 1, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();  // an empty last cell
    out += '\n';
  };
  line([&](size_t i) -> const std::string& { return columns_[i].header; });
  for (const std::vector<std::string>& r : rows_)
    line([&](size_t i) -> const std::string& { return r[i]; });
  return out;
}

}  // namespace hostpass
