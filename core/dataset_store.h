#pragma once
// The dataset store (DESIGN.md §3): dataset/<label>/<id>.<ext> plus dataset/manifest.jsonl, one
// JSON object per sample. Sample files and the manifest are written atomically, sample files
// first: a kill at any moment leaves a manifest that parses and whose every entry matches its
// file. Files a killed writer left unlisted are adopted when the same sample is added again.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace tml {

class FileLock;

inline constexpr const char* kManifestName = "manifest.jsonl";

class DatasetStore {
 public:
  // Reads DIR/manifest.jsonl when present. Throws tml::Error naming the line of a corrupt entry.
  explicit DatasetStore(std::filesystem::path dir);
  ~DatasetStore();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path manifest_path() const { return dir_ / kManifestName; }
  const std::vector<nlohmann::ordered_json>& entries() const { return entries_; }
  const nlohmann::ordered_json* find_by_sha256(const std::string& sha256) const;

  // Takes the dataset's write lock, creates the folder and clears temp files of killed writers.
  void begin_writing();
  // Writes dir/<entry.path> atomically (an identical file already there is adopted) and stages
  // the entry. The entry needs id, label, split, path and sha256 matching bytes.
  void add(nlohmann::ordered_json entry, std::span<const std::uint8_t> bytes);
  // Rewrites the manifest atomically with the staged entries; a no-op when nothing is staged.
  void commit();
  std::size_t staged() const { return entries_.size() - committed_; }

 private:
  std::filesystem::path dir_;
  std::vector<nlohmann::ordered_json> entries_;
  std::unordered_map<std::string, std::size_t> by_sha256_;
  std::size_t committed_ = 0;
  std::unique_ptr<FileLock> lock_;
};

// Files under the label folders that no manifest entry lists (leftovers of an interrupted write).
std::vector<std::filesystem::path> unlisted_files(const DatasetStore& store);

}  // namespace tml
