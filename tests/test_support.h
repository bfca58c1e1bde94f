#pragma once
// Shared helpers for the test suites: temp folders, running the real tml binary, folder snapshots.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/process.h"

namespace tml::test {

// A fresh folder (mode 0755) removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path tml_binary();
std::filesystem::path source_dir();
std::filesystem::path shared_data(const std::string& rel);

// Runs tml with ARGS in CWD.
ProcessResult run_tml(const std::vector<std::string>& args, const std::filesystem::path& cwd);

// Every file and folder below DIR: relative path -> SHA-256 (folders: "dir"). Equal snapshots
// mean nothing was written.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir);

void write_text(const std::filesystem::path& file, const std::string& text);
std::string read_text(const std::filesystem::path& file);

// Lines of a text, without the newline characters; a last line without '\n' is still returned.
std::vector<std::string> lines_of(const std::string& text);

// The heap allocator symbols (malloc, free, sbrk, operator new/delete, ...) and allocator archive
// members a GNU ld link map mentions, space-separated; "" for firmware that links no heap.
// *tokens: the words read (a real map has many).
std::string heap_symbols_in_link_map(const std::string& map, std::size_t* tokens = nullptr);

}  // namespace tml::test
