#include "collect/csv_file.h"

#include <charconv>
#include <cmath>

#include "core/errors.h"

namespace tml {

namespace {

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = line.find(',', start);
    std::string cell = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t b = cell.find_first_not_of(" \t");
    std::size_t e = cell.find_last_not_of(" \t");
    cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cells;
}

bool parse_number(const std::string& cell, double& out) {
  if (cell.empty()) return false;
  const char* begin = cell.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, cell.data() + cell.size(), out);
  return ec == std::errc() && ptr == cell.data() + cell.size() && std::isfinite(out);
}

}  // namespace

CsvTable parse_csv(const std::string& text, const std::string& file_name) {
  CsvTable table;
  std::size_t pos = 0, line_no = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<std::string> cells = split_cells(line);
    std::string where = file_name + ":" + std::to_string(line_no);
    if (first) {
      first = false;
      table.columns = cells.size();
      double ignored;
      bool numeric = true;
      for (const auto& c : cells) numeric = numeric && parse_number(c, ignored);
      if (!numeric) {
        table.header = cells;
        continue;
      }
    }
    if (cells.size() != table.columns) {
      throw invalid_input(where, "row has " + std::to_string(cells.size()) + " columns, expected " +
                                     std::to_string(table.columns) + " like the first row; fix or remove the row");
    }
    std::vector<double> row(cells.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (!parse_number(cells[i], row[i])) {
        throw invalid_input(where, "column " + std::to_string(i + 1) + ": '" + cells[i] +
                                       "' is not a number; every row after the header must be numeric");
      }
    }
    table.rows.push_back(std::move(row));
  }
  if (table.rows.empty()) throw invalid_input(file_name, "no data rows; expected numbers such as 0.12,-0.98,0.05");
  return table;
}

}  // namespace tml
