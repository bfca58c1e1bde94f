#include "core/dataset_store.h"

#include <set>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/file_lock.h"
#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

DatasetStore::DatasetStore(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!fs::exists(manifest_path(), ec)) return;
  std::string text = read_file_text(manifest_path());
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    std::string where = manifest_path().string() + ":" + std::to_string(line_no);
    json entry = json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) {
      throw invalid_input(where, "not a JSON object; restore the manifest from version control or delete the line");
    }
    for (const char* key : {"id", "label", "split", "path", "sha256"}) {
      if (!entry.contains(key) || !entry[key].is_string()) {
        throw invalid_input(where, std::string("entry has no string \"") + key +
                                       "\"; restore the manifest from version control or delete the line");
      }
    }
    by_sha256_[entry["sha256"]] = entries_.size();
    entries_.push_back(std::move(entry));
  }
  committed_ = entries_.size();
}

DatasetStore::~DatasetStore() = default;

const json* DatasetStore::find_by_sha256(const std::string& sha256) const {
  auto it = by_sha256_.find(sha256);
  return it == by_sha256_.end() ? nullptr : &entries_[it->second];
}

void DatasetStore::begin_writing() {
  if (lock_) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) {
    throw filesystem_error(dir_.string(), "cannot create the dataset folder (" +
                                              (ec ? ec.message() : std::string("a file is in the way")) + ")");
  }
  lock_ = std::make_unique<FileLock>(dir_ / ".lock");
  remove_stale_temp_files(dir_);
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.is_directory()) remove_stale_temp_files(e.path());
  }
}

void DatasetStore::add(json entry, std::span<const std::uint8_t> bytes) {
  if (!lock_) throw Error(ExitCode::internal, "DatasetStore::add before begin_writing");
  fs::path file = dir_ / entry["path"].get<std::string>();
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw filesystem_error(file.parent_path().string(), "cannot create the folder (" + ec.message() + ")");
  bool adopt = fs::exists(file, ec) && sha256_file(file) == entry["sha256"].get<std::string>();
  if (!adopt) write_file_atomic(file, bytes);
  by_sha256_[entry["sha256"]] = entries_.size();
  entries_.push_back(std::move(entry));
}

void DatasetStore::commit() {
  if (staged() == 0 && fs::exists(manifest_path())) return;
  std::string text;
  for (const auto& e : entries_) text += e.dump() + "\n";
  write_file_atomic(manifest_path(), text);
  committed_ = entries_.size();
}

std::vector<fs::path> unlisted_files(const DatasetStore& store) {
  std::set<fs::path> listed;
  for (const auto& e : store.entries()) listed.insert((store.dir() / e["path"].get<std::string>()).lexically_normal());
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& label_dir : fs::directory_iterator(store.dir(), ec)) {
    if (!label_dir.is_directory() || label_dir.path().filename().string().starts_with(".")) continue;
    for (const auto& f : fs::directory_iterator(label_dir.path(), ec)) {
      if (f.path().filename().string().starts_with(".")) continue;
      if (!listed.contains(f.path().lexically_normal())) out.push_back(f.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tml
