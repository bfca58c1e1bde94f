#include "core/dataset_report.h"

#include <algorithm>
#include <filesystem>

#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Above this ratio between the largest and the smallest non-empty label, training needs class
// weights or more data: it is reported as a problem.
constexpr double kImbalanceRatio = 3.0;

json problem(const std::string& kind, const std::string& message) {
  return json{{"kind", kind}, {"message", message}};
}

}  // namespace

json dataset_summary(const Project& project, const DatasetStore& store) {
  json labels = json::object();
  for (const auto& l : project.labels()) {
    labels[l] = json{{"train", 0}, {"validation", 0}, {"test", 0}, {"total", 0}};
  }
  json split_totals = json{{"train", 0}, {"validation", 0}, {"test", 0}};
  json problems = json::array();
  double duration = 0;
  std::uintmax_t bytes = 0;
  std::size_t missing = 0;
  for (const auto& e : store.entries()) {
    std::string label = e["label"];
    if (!labels.contains(label)) {
      labels[label] = json{{"train", 0}, {"validation", 0}, {"test", 0}, {"total", 0}};
      problems.push_back(problem("unknown_label", "label '" + label + "' has samples but is not in tml.yaml labels"));
    }
    std::string split = e["split"];
    if (labels[label].contains(split)) labels[label][split] = labels[label][split].get<int>() + 1;
    if (split_totals.contains(split)) split_totals[split] = split_totals[split].get<int>() + 1;
    labels[label]["total"] = labels[label]["total"].get<int>() + 1;
    if (e.contains("duration_s") && e["duration_s"].is_number()) duration += e["duration_s"].get<double>();
    if (e.contains("bytes") && e["bytes"].is_number()) bytes += e["bytes"].get<std::uintmax_t>();
    std::error_code ec;
    if (!fs::exists(store.dir() / e["path"].get<std::string>(), ec)) {
      ++missing;
      problems.push_back(problem("missing_file", (store.dir() / e["path"].get<std::string>()).string() +
                                                     " is in the manifest but not on disk"));
    }
  }
  int largest = 0, smallest = 0;
  std::string largest_label, smallest_label;
  for (const auto& [label, counts] : labels.items()) {
    int n = counts["total"];
    if (n == 0) {
      problems.push_back(problem("empty_label", "label '" + label + "' has no samples"));
      continue;
    }
    if (n > largest) largest = n, largest_label = label;
    if (smallest == 0 || n < smallest) smallest = n, smallest_label = label;
  }
  if (smallest > 0 && largest > kImbalanceRatio * smallest) {
    problems.push_back(problem("imbalance", "class imbalance: '" + largest_label + "' has " +
                                                std::to_string(largest) + " samples, '" + smallest_label +
                                                "' only " + std::to_string(smallest)));
  }
  for (const auto& f : unlisted_files(store)) {
    problems.push_back(problem("unlisted_file", f.string() + " is not in the manifest (left by an interrupted "
                                                             "write; importing the same file again adopts it)"));
  }
  return json{{"dataset", store.dir().lexically_normal().string()},
              {"samples", store.entries().size()},
              {"splits", split_totals},
              {"labels", labels},
              {"duration_s", duration},
              {"bytes", bytes},
              {"problems", problems}};
}

json dataset_check(const DatasetStore& store, const std::function<void(std::size_t, std::size_t)>& progress) {
  json mismatched = json::array(), missing = json::array(), unlisted = json::array();
  std::size_t ok = 0, done = 0;
  for (const auto& e : store.entries()) {
    fs::path file = store.dir() / e["path"].get<std::string>();
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      missing.push_back(file.string());
    } else if (sha256_file(file) != e["sha256"].get<std::string>()) {
      mismatched.push_back(file.string());
    } else {
      ++ok;
    }
    if (progress) progress(++done, store.entries().size());
  }
  for (const auto& f : unlisted_files(store)) unlisted.push_back(f.string());
  return json{{"checked", store.entries().size()}, {"ok", ok}, {"mismatched", mismatched},
              {"missing", missing}, {"unlisted", unlisted}};
}

}  // namespace tml
