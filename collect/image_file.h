#pragma once
// Image files through OpenCV: how camera samples enter the dataset store (always as PNG).
#include <cstdint>
#include <filesystem>
#include <vector>

namespace tml {

struct StoredImage {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> png;  // the file's own bytes when it already was a PNG
};

// Decodes the file (PNG, JPEG, BMP, ...). Throws tml::Error(invalid_input) naming the file when it
// is not an 8-bit image OpenCV can read.
StoredImage read_image_as_png(const std::filesystem::path& file);

}  // namespace tml
