// tml import PATH... [--label L] [--resample]: files and folders into the dataset store.
#include <iostream>
#include <map>

#include "collect/importer.h"
#include "context.h"
#include "core/project_file.h"
#include "progress_line.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct ImportArgs {
  std::vector<std::string> paths;
  std::string label;
  bool resample = false;
  std::string group_pattern;
};

int run_import(const Context& ctx, const ImportArgs& args) {
  Project project = load_project(".");
  DatasetStore store(project.dataset_dir());
  ProgressLine progress(ctx.show_progress());
  ImportOptions options;
  if (!args.label.empty()) options.label = args.label;
  options.resample = args.resample;
  options.group_pattern = args.group_pattern;
  options.progress = [&](const char* stage, std::size_t done, std::size_t total) { progress.update(stage, done, total); };
  std::vector<fs::path> inputs(args.paths.begin(), args.paths.end());
  json result = import_files(project, store, inputs, options);

  std::map<std::string, int> per_label;
  for (const auto& e : result["added"]) per_label[e["label"]]++;
  json doc{{"ok", true},
           {"added_count", result["added"].size()},
           {"skipped_count", result["skipped"].size()},
           {"dataset_samples", store.entries().size()}};
  doc.update(result);
  ctx.print(doc, [&](std::ostream& out) {
    out << "Imported " << result["added"].size() << " sample(s)";
    std::string sep = " (";
    for (const auto& [label, n] : per_label) out << sep << label << ": " << n, sep = ", ";
    if (!per_label.empty()) out << ")";
    out << "; the dataset now holds " << store.entries().size() << ".\n";
    for (const auto& s : result["skipped"]) {
      out << "skipped " << s["file"].get<std::string>() << ": duplicate of dataset/"
          << s["existing"].get<std::string>() << "\n";
    }
  });
  return 0;
}

}  // namespace

Verb add_import_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* sub = tml.add_subcommand("import", "add WAV/FLAC/Ogg, PNG/JPEG/BMP or CSV files and folders to the dataset");
  sub->add_option("PATH", args->paths, "files or folders (searched recursively)")->required();
  sub->add_option("--label,-l", args->label,
                  "label of every file (default: each file's folder name, which must be a label)");
  sub->add_flag("--resample", args->resample, "convert audio to the project's sample rate and channel count");
  sub->add_option("--group-pattern", args->group_pattern,
                  "regex on file names whose first group (a speaker, a machine) keeps a group's samples in one split, "
                  "e.g. '^(.+)_nohash_'");
  return {sub, [&ctx, args] { return run_import(ctx, *args); }};
}

}  // namespace tml::cli
