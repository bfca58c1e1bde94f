// tml dataset: counts per label and split, totals and problems; tml dataset check: re-hash every
// file against the manifest.
#include <spdlog/spdlog.h>

#include <iomanip>
#include <iostream>

#include "context.h"
#include "core/dataset_report.h"
#include "core/errors.h"
#include "core/project_file.h"
#include "progress_line.h"

namespace tml::cli {

using json = nlohmann::ordered_json;

namespace {

void print_summary(std::ostream& out, const json& s) {
  out << s["dataset"].get<std::string>() << ": " << s["samples"].get<std::size_t>() << " samples";
  if (s["duration_s"].get<double>() > 0) {
    out << ", " << std::fixed << std::setprecision(1) << s["duration_s"].get<double>() << " s";
  }
  out << ", " << std::fixed << std::setprecision(1) << s["bytes"].get<double>() / 1024.0 << " KiB\n\n";
  out << std::left << std::setw(20) << "label" << std::right << std::setw(8) << "train" << std::setw(12)
      << "validation" << std::setw(8) << "test" << std::setw(7) << "total" << "\n";
  auto row = [&](const std::string& name, const json& c, std::size_t total) {
    out << std::left << std::setw(20) << name << std::right << std::setw(8) << c["train"].get<int>() << std::setw(12)
        << c["validation"].get<int>() << std::setw(8) << c["test"].get<int>() << std::setw(7) << total << "\n";
  };
  for (const auto& [label, c] : s["labels"].items()) row(label, c, c["total"].get<std::size_t>());
  row("all", s["splits"], s["samples"].get<std::size_t>());
  if (!s["problems"].empty()) {
    out << "\nproblems:\n";
    for (const auto& p : s["problems"]) out << "  - " << p["message"].get<std::string>() << "\n";
  }
}

int run_check(const Context& ctx) {
  Project project = load_project(".");
  DatasetStore store(project.dataset_dir());
  ProgressLine progress(ctx.show_progress());
  json report = dataset_check(store, [&](std::size_t done, std::size_t total) { progress.update("hashing", done, total); });
  bool ok = report["mismatched"].empty() && report["missing"].empty();
  json doc{{"ok", ok}};
  doc.update(report);
  ctx.print(doc, [&](std::ostream& out) {
    out << report["checked"].get<std::size_t>() << " samples checked, " << report["ok"].get<std::size_t>()
        << " match the manifest\n";
    for (const auto& f : report["mismatched"]) out << "changed since import: " << f.get<std::string>() << "\n";
    for (const auto& f : report["missing"]) out << "missing: " << f.get<std::string>() << "\n";
    for (const auto& f : report["unlisted"]) out << "not in the manifest: " << f.get<std::string>() << "\n";
  });
  if (ok) return 0;
  spdlog::error("{}: {} sample file(s) changed or missing; re-import them or delete their manifest lines",
                store.manifest_path().string(), report["mismatched"].size() + report["missing"].size());
  return static_cast<int>(ExitCode::invalid_input);
}

}  // namespace

Verb add_dataset_verb(CLI::App& tml, Context& ctx) {
  CLI::App* sub = tml.add_subcommand("dataset", "show the dataset: counts per label and split, and problems");
  CLI::App* check = sub->add_subcommand("check", "re-hash every sample file against the manifest");
  return {sub, [&ctx, check] {
            if (check->parsed()) return run_check(ctx);
            Project project = load_project(".");
            DatasetStore store(project.dataset_dir());
            json summary = dataset_summary(project, store);
            json doc{{"ok", true}};
            doc.update(summary);
            ctx.print(doc, [&](std::ostream& out) { print_summary(out, summary); });
            return 0;
          }};
}

}  // namespace tml::cli
