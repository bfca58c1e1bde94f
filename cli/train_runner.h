#pragma once
// Runs the trainer with tml's live progress line (used by `tml train` and `tml build`).
#include <nlohmann/json.hpp>

#include "context.h"
#include "core/project_file.h"
#include "train_bridge/trainer.h"

namespace tml::cli {

train::TrainResult run_trainer(const Context& ctx, const Project& project, const nlohmann::json& features,
                               const train::JobOverrides& overrides);

}  // namespace tml::cli
