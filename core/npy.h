#pragma once
// NumPy .npy files (format version 1.0, little-endian, C order): how features reach the trainer.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tml {

enum class NpyType { float32, int8, uint8, int32 };

std::size_t npy_item_size(NpyType type);

// The whole file as bytes: header + data. data.size() must equal product(shape) * item size.
std::vector<std::uint8_t> npy_encode(NpyType type, const std::vector<std::size_t>& shape,
                                     std::span<const std::uint8_t> data);

struct NpyArray {
  NpyType type = NpyType::float32;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> data;
};

// Throws tml::Error(invalid_input) naming the file when it is not a .npy of a supported type.
NpyArray npy_read(const std::filesystem::path& file);

}  // namespace tml
