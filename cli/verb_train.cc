// tml train: features (preprocess first when they are missing or stale), then the trainer (the
// bundled PyTorch one or tml.yaml's train.command) with a live progress line, and a summary.
// The model, metrics, job and log land in build/model/ only when the run succeeded.
#include <cstdlib>
#include <iostream>

#include <spdlog/spdlog.h>

#include "context.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "collect/feature_extraction.h"
#include "feature_store.h"
#include "progress_line.h"
#include "train_bridge/trainer.h"
#include "train_progress.h"
#include "train_runner.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct TrainArgs {
  int epochs = 0;
  int seed = -1;
  int threads = 0;
};

std::optional<double> number_at(const json& doc, std::initializer_list<const char*> path) {
  const json* j = &doc;
  for (const char* key : path) {
    if (!j->is_object() || !j->contains(key)) return std::nullopt;
    j = &(*j)[key];
  }
  if (!j->is_number()) return std::nullopt;
  return j->get<double>();
}

// The metrics value at PATH as the trainer wrote it (integers stay integers), or null.
json value_at(const json& doc, std::initializer_list<const char*> path) {
  const json* j = &doc;
  for (const char* key : path) {
    if (!j->is_object() || !j->contains(key)) return nullptr;
    j = &(*j)[key];
  }
  return j->is_number() ? *j : json(nullptr);
}

std::string rel(const Project& project, const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::relative(p, project.root, ec);
  return ec || r.empty() ? p.string() : r.string();
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + (dims[i] < 0 ? std::string("N") : std::to_string(dims[i]));
  return s + "]";
}

std::string with_commas(long long v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

int run_train(const Context& ctx, const TrainArgs& args) {
  Project project = load_project(".");
  DatasetStore store(project.dataset_dir());
  FeatureExtractor extractor(project);
  nlohmann::json features;
  {
    ProgressLine progress(ctx.show_progress());
    FeatureRunOptions options{.progress = [&](std::size_t done, std::size_t total) { progress.update("features", done, total); }};
    features = preprocess_dataset(project, store, extractor, options);
  }
  if (!features.value("up_to_date", true)) {
    spdlog::info("computed features for {} sample(s) ({} from the cache)", features.value("computed", 0),
                 features.value("cached", 0));
  }
  if (features["splits"]["train"].value("count", 0) == 0) {
    throw invalid_input(store.dir().string(), "no samples in the train split; add data with `tml import` or `tml collect`");
  }

  const train::TrainResult r =
      run_trainer(ctx, project, features, {.epochs = args.epochs, .seed = args.seed, .threads = args.threads});

  const json& m = r.metrics_doc;
  std::string architecture = project.config["model"]["architecture"].get<std::string>();
  auto parameters = number_at(m, {"parameters"});
  auto epochs_run = number_at(m, {"epochs_run"});
  auto best_epoch = number_at(m, {"best_epoch"});
  bool stopped_early = m.contains("stopped_early") && m["stopped_early"].is_boolean() && m["stopped_early"].get<bool>();
  auto test_acc = number_at(m, {"test", "accuracy"});
  auto val_acc = number_at(m, {"validation", "accuracy"});
  auto train_acc = number_at(m, {"train", "accuracy"});
  auto test_count = number_at(m, {"test", "count"});

  json doc{{"ok", true},
           {"model", rel(project, r.model)},
           {"metrics", rel(project, r.metrics)},
           {"job", rel(project, r.job)},
           {"log", rel(project, r.log)},
           {"anomaly_model", r.anomaly_model.empty() ? json(nullptr) : json(rel(project, r.anomaly_model))},
           {"architecture", architecture},
           {"parameters", value_at(m, {"parameters"})},
           {"epochs_run", value_at(m, {"epochs_run"})},
           {"best_epoch", value_at(m, {"best_epoch"})},
           {"stopped_early", stopped_early},
           {"accuracy", {{"train", value_at(m, {"train", "accuracy"})},
                         {"validation", value_at(m, {"validation", "accuracy"})},
                         {"test", value_at(m, {"test", "accuracy"})}}},
           {"test_count", value_at(m, {"test", "count"})},
           {"seconds", r.seconds},
           {"onnx", {{"opset", r.onnx.opset},
                     {"ops", r.onnx.ops},
                     {"input", r.onnx.input_name},
                     {"input_shape", r.onnx.input_shape},
                     {"output", r.onnx.output_name},
                     {"output_shape", r.onnx.output_shape}}},
           {"features", {{"computed", features.value("computed", 0)}, {"up_to_date", features.value("up_to_date", false)}}},
           {"trainer", r.command}};
  if (m.contains("anomaly") && m["anomaly"].is_object()) doc["anomaly"] = m["anomaly"];
  ctx.print(doc, [&](std::ostream& out) {
    out << "Trained " << architecture;
    if (parameters) out << " (" << with_commas(static_cast<long long>(*parameters)) << " parameters)";
    if (epochs_run) {
      out << ": " << static_cast<int>(*epochs_run) << " epoch(s)";
      if (best_epoch) out << " (best " << static_cast<int>(*best_epoch) << (stopped_early ? ", stopped early)" : ")");
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", r.seconds);
    out << " in " << secs << " s.\n";
    out << "Accuracy: test " << format_percent(test_acc);
    if (test_count) out << " of " << static_cast<long long>(*test_count);
    out << ", validation " << format_percent(val_acc) << ", train " << format_percent(train_acc) << ".\n";
    out << "Model: " << rel(project, r.model) << " (ONNX opset " << r.onnx.opset << ", input " << dims_text(r.onnx.input_shape)
        << ", output " << dims_text(r.onnx.output_shape) << ")\n";
    if (!r.anomaly_model.empty()) {
      out << "Anomaly scorer: " << rel(project, r.anomaly_model);
      if (auto t = number_at(m, {"anomaly", "threshold"})) out << " (threshold " << *t << ")";
      out << "\n";
    }
    out << "Also: " << rel(project, r.metrics) << ", " << rel(project, r.job) << ", " << rel(project, r.log) << "\n";
  });
  return 0;
}

}  // namespace

Verb add_train_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = tml.add_subcommand(
      "train", "train the model on the dataset's features (computes them first when needed); writes build/model/");
  sub->add_option("--epochs", args->epochs, "maximum epochs (default: train.epochs)")->check(CLI::Range(1, 10000));
  sub->add_option("--seed", args->seed, "random seed (default: train.seed)")->check(CLI::Range(0, 2147483647));
  sub->add_option("--threads", args->threads, "training threads (default: train.threads, 0 there: all cores)")
      ->check(CLI::Range(1, 256));
  return {sub, [&ctx, args] { return run_train(ctx, *args); }};
}

}  // namespace tml::cli
