#include "test_support.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace tml::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "tml-test-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (!made) std::abort();
  path_ = made;
  ::chmod(made, 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path tml_binary() { return TML_BINARY; }
fs::path source_dir() { return TML_SOURCE_DIR; }
fs::path shared_data(const std::string& rel) { return fs::path(TML_SHARED_DATA) / rel; }

ProcessResult run_tml(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv = {tml_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {.cwd = cwd});
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    out[rel] = e.is_directory() ? "dir" : sha256_file(e.path());
  }
  return out;
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string heap_symbols_in_link_map(const std::string& map, std::size_t* tokens) {
  std::istringstream words(map);
  std::string w, found;
  const std::vector<std::string> heap = {"malloc", "_malloc_r", "calloc", "_calloc_r", "realloc", "_realloc_r",
                                         "free", "_free_r", "_sbrk", "_sbrk_r", "sbrk", "_Znwj", "_Znaj",
                                         "_ZdlPv", "_ZdaPv", "_ZdlPvj", "__malloc_lock"};
  std::size_t count = 0;
  while (words >> w) {
    ++count;
    // Symbols appear as words; archive members as lib_a-mallocr.o etc. inside paths.
    for (const std::string& h : heap)
      if (w == h || w == "(" + h + ")") found += " " + w;
    if (w.find("mallocr.o") != std::string::npos || w.find("freer.o") != std::string::npos ||
        w.find("sbrkr.o") != std::string::npos || w.find("new_op") != std::string::npos)
      found += " " + w;
  }
  if (tokens != nullptr) *tokens = count;
  return found;
}

}  // namespace tml::test
