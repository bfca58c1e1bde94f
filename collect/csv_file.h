#pragma once
// Numeric CSV files (IMU and other sensor series): an optional header row, then rows of numbers
// with the same column count. How IMU samples enter the dataset store (kept byte for byte).
#include <filesystem>
#include <string>
#include <vector>

namespace tml {

struct CsvTable {
  std::vector<std::string> header;  // empty when the first row is numeric
  std::size_t columns = 0;
  std::vector<std::vector<double>> rows;
};

// Throws tml::Error(invalid_input) "FILE:LINE: ..." for ragged rows, non-numeric cells or no data.
CsvTable parse_csv(const std::string& text, const std::string& file_name);

}  // namespace tml
