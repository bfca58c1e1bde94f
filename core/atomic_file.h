#pragma once
// Crash-safe file replacement: temp file in the same folder, fsync, rename, fsync the folder.
// A kill at any moment leaves either the old file or the new one, never a half-written one.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace tml {

// Temp files are named ".tmp-<name>-<pid>" beside the target; readers skip names starting with '.'.
void write_file_atomic(const std::filesystem::path& target, std::span<const std::uint8_t> bytes);
void write_file_atomic(const std::filesystem::path& target, std::string_view text);

// Whole-file read; throws tml::Error (filesystem) naming the file on failure.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& file);
std::string read_file_text(const std::filesystem::path& file);

// Removes ".tmp-*" leftovers of killed writers from one folder (not recursive).
void remove_stale_temp_files(const std::filesystem::path& folder);

}  // namespace tml
