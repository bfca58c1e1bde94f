#pragma once
// The pictures `tml build` writes under build/reports/: the int8 model's confusion matrix on the
// test split, and the arena over time (one bar per activation tensor: x = the ops it is live over,
// y = its bytes in the arena). PNG through OpenCV.
#include <filesystem>
#include <string>
#include <vector>

#include "deploy/compiled_model.h"
#include "deploy/evaluation.h"

namespace tml::cli {

void write_confusion_png(const std::filesystem::path& file, const deploy::Evaluation& e,
                         const std::vector<std::string>& labels, const std::string& title);

void write_arena_png(const std::filesystem::path& file, const deploy::CompiledModel& m);

}  // namespace tml::cli
