#pragma once
// The pictures `tml build` writes under build/reports/: the int8 model's confusion matrix on the
// test split, and the arena over time (one bar per activation tensor: x = the ops it is live over,
// y = its bytes in the arena). PNG through OpenCV.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "deploy/compiled_model.h"
#include "deploy/evaluation.h"
#include <nlohmann/json.hpp>

namespace tml::cli {

void write_confusion_png(const std::filesystem::path& file, const deploy::Evaluation& e,
                         const std::vector<std::string>& labels, const std::string& title);

// An evaluation as JSON (accuracy, count, confusion [truth][predicted], per-class precision/recall),
// and that JSON as a text table (rows: truth) with each class's precision and recall.
nlohmann::ordered_json evaluation_json(const deploy::Evaluation& e, const std::vector<std::string>& labels);
void write_confusion_table(std::ostream& out, const nlohmann::ordered_json& evaluation,
                           const std::vector<std::string>& labels, const std::string& name);

void write_arena_png(const std::filesystem::path& file, const deploy::CompiledModel& m);

}  // namespace tml::cli
