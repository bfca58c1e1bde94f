// tml preprocess: features of the whole dataset (cached, all cores) for training, or of one file
// (--file) as a .npy array and/or a picture.
#include <iostream>

#include "context.h"
#include "core/atomic_file.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "collect/feature_extraction.h"
#include "feature_plot.h"
#include "feature_store.h"
#include "progress_line.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct PreprocessArgs {
  std::string file;
  std::string out;
  std::string plot;
  unsigned jobs = 0;
};

int run_one_file(const Context& ctx, const Project& project, const PreprocessArgs& args) {
  if (args.out.empty() && args.plot.empty()) {
    throw invalid_input("--file " + args.file, "say where the result goes: --out OUT.npy and/or --plot OUT.png");
  }
  FeatureExtractor extractor(project);
  std::vector<std::uint8_t> features = extractor.extract(args.file);
  if (!args.out.empty()) write_file_atomic(args.out, npy_encode(extractor.type(), extractor.shape(), features));
  if (!args.plot.empty()) plot_features(args.plot, args.file, project, extractor, features);
  json doc{{"ok", true}, {"file", args.file}, {"features", extractor.describe()}, {"shape", extractor.shape()},
           {"config_hash", extractor.config_hash()}};
  if (!args.out.empty()) doc["out"] = args.out;
  if (!args.plot.empty()) doc["plot"] = args.plot;
  ctx.print(doc, [&](std::ostream& out) {
    out << args.file << ": " << extractor.describe() << " [";
    for (std::size_t i = 0; i < extractor.shape().size(); ++i) out << (i ? " x " : "") << extractor.shape()[i];
    out << "]";
    if (!args.out.empty()) out << " -> " << args.out;
    if (!args.plot.empty()) out << " (picture: " << args.plot << ")";
    out << "\n";
  });
  return 0;
}

int run_dataset(const Context& ctx, const Project& project, const PreprocessArgs& args) {
  DatasetStore store(project.dataset_dir());
  FeatureExtractor extractor(project);
  ProgressLine progress(ctx.show_progress());
  FeatureRunOptions options{.jobs = args.jobs,
                            .progress = [&](std::size_t done, std::size_t total) { progress.update("features", done, total); }};
  json summary = preprocess_dataset(project, store, extractor, options);
  json doc{{"ok", true}};
  doc.update(summary);
  ctx.print(doc, [&](std::ostream& out) {
    if (summary["up_to_date"].get<bool>()) {
      out << "Features are up to date (" << summary["cached"].get<std::size_t>() << " samples, nothing computed).\n";
    } else {
      out << "Computed features for " << summary["computed"].get<std::size_t>() << " sample(s), "
          << summary["cached"].get<std::size_t>() << " from the cache.\n";
    }
    out << summary["features"].get<std::string>() << " " << summary["shape"].dump() << " "
        << summary["dtype"].get<std::string>() << " per sample in build/features/: train "
        << summary["splits"]["train"]["count"].get<std::size_t>() << ", validation "
        << summary["splits"]["validation"]["count"].get<std::size_t>() << ", test "
        << summary["splits"]["test"]["count"].get<std::size_t>() << "\n";
  });
  return 0;
}

}  // namespace

Verb add_preprocess_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<PreprocessArgs>();
  CLI::App* sub = tml.add_subcommand(
      "preprocess", "compute features: for the whole dataset (cached), or for one --file as .npy and/or picture");
  sub->add_option("--file,-f", args->file, "one WAV, image or CSV file instead of the dataset")->check(CLI::ExistingFile);
  sub->add_option("--out,-o", args->out, "with --file: write the features as a NumPy .npy file")->type_name("OUT.npy");
  sub->add_option("--plot", args->plot, "with --file: draw the features into a PNG")->type_name("OUT.png");
  sub->add_option("--jobs,-j", args->jobs, "threads for the dataset (default: all cores)");
  return {sub, [&ctx, args] {
            Project project = load_project(".");
            if (!args->file.empty()) return run_one_file(ctx, project, *args);
            if (!args->out.empty() || !args->plot.empty()) {
              throw invalid_input("--out/--plot", "only with --file; the dataset's features go to build/features/");
            }
            return run_dataset(ctx, project, *args);
          }};
}

}  // namespace tml::cli
