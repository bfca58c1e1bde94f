#pragma once
// `tml import`: files and folders of WAV/FLAC/Ogg/AIFF, PNG/JPEG/BMP and CSV into the dataset store.
// Every input is decoded and checked before anything is written, so bad input writes nothing.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset_store.h"
#include "core/project_file.h"

namespace tml {

// The sensor kind a file feeds by its extension ("audio", "camera", "imu"), or "" when tml does
// not read that kind of file.
std::string sensor_kind_of(const std::filesystem::path& file);

struct ImportOptions {
  std::optional<std::string> label;  // none: each file's folder name is its label
  bool resample = false;             // convert audio to the project's rate and channel count
  // A regular expression searched in each file's name (without extension); its first capture group
  // (or the whole match) is the sample's group, which decides its split: all of a speaker's clips
  // train, or all test. Files it does not match are split by their own id. E.g. Speech Commands'
  // "^(.+)_nohash_" (the speaker).
  std::string group_pattern;
  std::function<void(const char* stage, std::size_t done, std::size_t total)> progress;
};

// {"added": [entries], "skipped": [{"file", "reason", "existing"}]}. Throws tml::Error on bad
// input (before writing anything) and ExitCode::interrupted on Ctrl-C (after committing the
// samples written so far).
nlohmann::ordered_json import_files(const Project& project, DatasetStore& store,
                                    const std::vector<std::filesystem::path>& inputs, const ImportOptions& options);

}  // namespace tml
