#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace tml {

// Lower-case hex SHA-256 (OpenSSL).
std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view text);
// Throws tml::Error (filesystem) when the file cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace tml
