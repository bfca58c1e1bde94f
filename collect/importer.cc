#include "collect/importer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>
#include <set>

#include "collect/audio_file.h"
#include "collect/csv_file.h"
#include "collect/image_file.h"
#include "collect/sample_entry.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Manifest commits while importing: often enough that a kill loses little work, rarely enough
// that rewriting the manifest stays cheap.
constexpr std::size_t kCommitEvery = 64;
constexpr auto kCommitInterval = std::chrono::seconds(1);

const std::set<std::string> kAudioExt = {".wav", ".flac", ".ogg", ".aif", ".aiff"};
const std::set<std::string> kImageExt = {".png", ".jpg", ".jpeg", ".bmp"};
const std::set<std::string> kCsvExt = {".csv"};

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

std::vector<fs::path> expand_inputs(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(input, ec); it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && !sensor_kind_of(it->path()).empty()) found.push_back(it->path());
      }
      if (ec) throw filesystem_error(input.string(), "cannot list the folder (" + ec.message() + ")");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(input, ec)) {
      if (sensor_kind_of(input).empty()) {
        throw invalid_input(input.string(), "unsupported file type '" + input.extension().string() +
                                                "'; tml imports .wav .flac .ogg .aiff (audio), .png .jpg .bmp "
                                                "(camera) and .csv (imu)");
      }
      files.push_back(input);
    } else {
      throw invalid_input(input.string(), "no such file or folder");
    }
  }
  return files;
}

struct Prepared {
  fs::path source;
  std::string label;
  std::string ext;
  std::vector<std::uint8_t> bytes;
  json details;  // sensor-specific manifest fields
};

class Preparer {
 public:
  Preparer(const Project& project, const ImportOptions& options) : project_(project), options_(options) {}

  Prepared prepare(const fs::path& file) const {
    Prepared p;
    p.source = file;
    p.label = label_of(file);
    std::string kind = sensor_kind_of(file);
    if (kind != project_.sensor_kind()) {
      throw invalid_input(file.string(), "a " + kind + " file, but this project's sensor is " +
                                             project_.sensor_kind() + " (sensor.kind in tml.yaml)");
    }
    if (kind == "audio") prepare_audio(p);
    if (kind == "camera") prepare_image(p);
    if (kind == "imu") prepare_csv(p);
    return p;
  }

 private:
  std::string label_of(const fs::path& file) const {
    std::string label = options_.label ? *options_.label : fs::absolute(file).parent_path().filename().string();
    if (!project_.has_label(label)) {
      std::string labels;
      for (const auto& l : project_.labels()) labels += (labels.empty() ? "" : ", ") + l;
      if (options_.label) {
        throw invalid_input("--label " + label, "not a label of this project (" + labels +
                                                    "); add it to labels in tml.yaml or pick one of them");
      }
      throw invalid_input(file.string(), "no --label given and the folder name '" + label +
                                             "' is not a label of this project (" + labels + "); pass --label L");
    }
    return label;
  }

  void prepare_audio(Prepared& p) const {
    const auto& sensor = project_.config["sensor"];
    int rate = sensor["rate"], channels = sensor["channels"];
    AudioClip clip = read_audio(p.source);
    bool convert = clip.rate != rate || clip.channels != channels;
    if (convert && !options_.resample) {
      throw invalid_input(p.source.string(), std::to_string(clip.rate) + " Hz, " + std::to_string(clip.channels) +
                                                 " channel(s), but the project records " + std::to_string(rate) +
                                                 " Hz, " + std::to_string(channels) +
                                                 " channel(s) (sensor in tml.yaml); add --resample to convert");
    }
    json original{{"rate", clip.rate}, {"channels", clip.channels}};
    if (convert) clip = convert_audio(clip, rate, channels);
    p.ext = ".wav";
    p.bytes = (!convert && clip.is_wav_pcm16) ? read_file_bytes(p.source) : encode_wav_pcm16(clip);
    double samples = static_cast<double>(clip.samples.size());
    p.details = json{{"rate", rate},
                     {"channels", channels},
                     {"frames", clip.frames()},
                     {"duration_s", static_cast<double>(clip.frames()) / rate},
                     {"clipping", samples > 0 ? count_full_scale_samples(clip) / samples : 0.0}};
    if (convert) p.details["converted_from"] = original;
  }

  void prepare_image(Prepared& p) const {
    StoredImage image = read_image_as_png(p.source);
    p.ext = ".png";
    p.bytes = std::move(image.png);
    p.details = json{{"shape", {image.height, image.width, image.channels}}};
  }

  void prepare_csv(Prepared& p) const {
    const auto& sensor = project_.config["sensor"];
    std::size_t channels = sensor["channels"];
    int rate = sensor["rate"];
    p.bytes = read_file_bytes(p.source);
    CsvTable table = parse_csv(std::string(p.bytes.begin(), p.bytes.end()), p.source.string());
    if (table.columns != channels && table.columns != channels + 1) {
      throw invalid_input(p.source.string(), std::to_string(table.columns) + " columns, but the project records " +
                                                 std::to_string(channels) + " channels (sensor.channels in "
                                                 "tml.yaml); expected " + std::to_string(channels) +
                                                 " columns, or a time column first and then " +
                                                 std::to_string(channels));
    }
    p.ext = ".csv";
    p.details = json{{"rate", rate},
                     {"channels", channels},
                     {"rows", table.rows.size()},
                     {"time_column", table.columns == channels + 1},
                     {"duration_s", static_cast<double>(table.rows.size()) / rate}};
  }

  const Project& project_;
  const ImportOptions& options_;
};

}  // namespace

std::string sensor_kind_of(const fs::path& p) {
  std::string e = lower_ext(p);
  if (kAudioExt.contains(e)) return "audio";
  if (kImageExt.contains(e)) return "camera";
  if (kCsvExt.contains(e)) return "imu";
  return "";
}

json import_files(const Project& project, DatasetStore& store, const std::vector<fs::path>& inputs,
                  const ImportOptions& options) {
  std::vector<fs::path> files = expand_inputs(inputs);
  if (files.empty()) throw invalid_input("", "no importable files found in the given paths");
  auto progress = [&](const char* stage, std::size_t done) {
    if (options.progress) options.progress(stage, done, files.size());
  };

  std::regex group_re;
  try {
    if (!options.group_pattern.empty()) group_re = std::regex(options.group_pattern);
  } catch (const std::regex_error& e) {
    throw invalid_input("--group-pattern " + options.group_pattern, std::string("not a regular expression (") + e.what() + ")");
  }
  const auto group_of = [&](const fs::path& file) -> std::string {
    std::smatch m;
    const std::string stem = file.stem().string();
    if (options.group_pattern.empty() || !std::regex_search(stem, m, group_re)) return "";
    return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
  };

  // Pass 1: decode and check everything; nothing is written if any input is bad.
  Preparer preparer(project, options);
  for (std::size_t i = 0; i < files.size(); ++i) {
    throw_if_interrupted();
    preparer.prepare(files[i]);
    progress("checking", i + 1);
  }

  // Pass 2: write samples, committing the manifest in batches.
  store.begin_writing();
  json added = json::array(), skipped = json::array();
  auto last_commit = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (interrupted()) {
      store.commit();
      throw_if_interrupted();
    }
    Prepared p = preparer.prepare(files[i]);
    std::string sha = sha256_hex(p.bytes);
    if (const json* existing = store.find_by_sha256(sha)) {
      skipped.push_back(json{{"file", p.source.string()}, {"reason", "duplicate"}, {"existing", (*existing)["path"]}});
    } else {
      const json source{{"kind", "import"},
                        {"file", fs::absolute(p.source).lexically_normal().string()},
                        {"device", nullptr},
                        {"firmware", nullptr},
                        {"config_hash", project.config_hash()}};
      // capture statistics exist only for samples recorded from a board
      json entry = sample_entry(project, p.label, sha, p.ext, p.bytes.size(), p.details, source, nullptr, group_of(p.source));
      store.add(entry, p.bytes);
      added.push_back(entry);
    }
    if (store.staged() >= kCommitEvery || std::chrono::steady_clock::now() - last_commit > kCommitInterval) {
      store.commit();
      last_commit = std::chrono::steady_clock::now();
    }
    progress("importing", i + 1);
  }
  store.commit();
  return json{{"added", added}, {"skipped", skipped}};
}

}  // namespace tml
