#include "feature_store.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/sha256.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

const char* kSplits[] = {"train", "validation", "test"};

const char* dtype_name(NpyType t) {
  switch (t) {
    case NpyType::float32: return "float32";
    case NpyType::int8: return "int8";
    case NpyType::uint8: return "uint8";
    case NpyType::int32: return "int32";
  }
  return "";
}

// Computes the missing cache files with `jobs` threads; returns how many were computed.
std::size_t fill_cache(const std::vector<const json*>& entries, const DatasetStore& store,
                       const FeatureExtractor& extractor, const fs::path& cache, const FeatureRunOptions& options) {
  std::vector<const json*> todo;
  for (const json* e : entries) {
    if (!fs::exists(cache / ((*e)["sha256"].get<std::string>() + ".bin"))) todo.push_back(e);
  }
  if (todo.empty()) return 0;
  fs::create_directories(cache);
  unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    while (!failed && !interrupted()) {
      std::size_t i = next++;
      if (i >= todo.size()) return;
      const json& e = *todo[i];
      try {
        std::vector<std::uint8_t> bytes = extractor.extract(store.dir() / e["path"].get<std::string>());
        write_file_atomic(cache / (e["sha256"].get<std::string>() + ".bin"), bytes);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true)) error = std::current_exception();
        return;
      }
      std::size_t d = ++done;
      if (options.progress) {
        std::lock_guard lock(mutex);
        options.progress(d, todo.size());
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<std::size_t>(jobs, todo.size()); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  throw_if_interrupted();
  return todo.size();
}

}  // namespace

json preprocess_dataset(const Project& project, const DatasetStore& store, const FeatureExtractor& extractor,
                        const FeatureRunOptions& options) {
  auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> labels = project.labels();
  std::vector<const json*> entries;
  std::string digest_input;
  for (const auto& e : store.entries()) {
    if (!project.has_label(e["label"])) {
      throw invalid_input(store.manifest_path().string(), "label '" + e["label"].get<std::string>() +
                                                              "' is not in tml.yaml labels; add it there or "
                                                              "remove its samples from the dataset");
    }
    entries.push_back(&e);
    digest_input += e["sha256"].get<std::string>() + e["label"].get<std::string>() + e["split"].get<std::string>() + "\n";
  }
  if (entries.empty()) throw invalid_input(store.dir().string(), "the dataset is empty; add samples with `tml import`");
  std::string digest = sha256_hex(digest_input);

  fs::path out_dir = project.root / "build" / "features";
  fs::path summary_file = out_dir / "features.json";
  if (fs::exists(summary_file)) {
    json old = json::parse(read_file_text(summary_file), nullptr, false);
    bool current = !old.is_discarded() && old.value("config_hash", "") == extractor.config_hash() &&
                   old.value("dataset_digest", "") == digest;
    for (const char* split : kSplits) {
      current = current && fs::exists(out_dir / (std::string(split) + "_x.npy")) &&
                fs::exists(out_dir / (std::string(split) + "_y.npy"));
    }
    if (current) {
      old["computed"] = 0;
      old["cached"] = entries.size();
      old["up_to_date"] = true;
      return old;
    }
  }

  fs::path cache = project.root / ".tml" / "features" / extractor.config_hash();
  std::size_t computed = fill_cache(entries, store, extractor, cache, options);

  fs::create_directories(out_dir);
  const std::size_t sample_bytes = extractor.bytes_per_sample();
  json splits = json::object();
  for (const char* split : kSplits) {
    std::vector<std::uint8_t> x;
    std::vector<std::int32_t> y;
    for (const json* e : entries) {
      if ((*e)["split"] != split) continue;
      std::vector<std::uint8_t> bytes = read_file_bytes(cache / ((*e)["sha256"].get<std::string>() + ".bin"));
      if (bytes.size() != sample_bytes) {
        throw Error(ExitCode::filesystem, (cache / ((*e)["sha256"].get<std::string>() + ".bin")).string() +
                                              ": cached features have the wrong size; delete .tml/features and rerun");
      }
      x.insert(x.end(), bytes.begin(), bytes.end());
      y.push_back(static_cast<std::int32_t>(std::find(labels.begin(), labels.end(), (*e)["label"]) - labels.begin()));
    }
    std::vector<std::size_t> shape = {y.size()};
    shape.insert(shape.end(), extractor.shape().begin(), extractor.shape().end());
    std::string xs = std::string(split) + "_x.npy", ys = std::string(split) + "_y.npy";
    write_file_atomic(out_dir / xs, npy_encode(extractor.type(), shape, x));
    write_file_atomic(out_dir / ys, npy_encode(NpyType::int32, {y.size()},
                                               std::span(reinterpret_cast<const std::uint8_t*>(y.data()), y.size() * 4)));
    splits[split] = json{{"count", y.size()}, {"x", xs}, {"y", ys}};
  }
  json summary{{"config_hash", extractor.config_hash()},
               {"dataset_digest", digest},
               {"sensor", project.sensor_kind()},
               {"features", extractor.describe()},
               {"shape", extractor.shape()},
               {"dtype", dtype_name(extractor.type())},
               {"labels", labels},
               {"splits", splits}};
  write_file_atomic(summary_file, summary.dump(2) + "\n");
  summary["computed"] = computed;
  summary["cached"] = entries.size() - computed;
  summary["up_to_date"] = false;
  summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace tml::cli
