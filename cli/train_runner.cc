#include "train_runner.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "train_progress.h"

namespace tml::cli {

train::TrainResult run_trainer(const Context& ctx, const Project& project, const nlohmann::json& features,
                               const train::JobOverrides& overrides) {
  train::TrainOptions options;
  if (const char* python = std::getenv("TML_PYTHON"); python && *python) options.python = python;
  if (const char* dir = std::getenv("TML_TRAINER_DIR"); dir && *dir) options.trainer_dir = dir;
  if (const char* grace = std::getenv("TML_TRAIN_INTERRUPT_GRACE_MS"); grace && *grace) {
    options.interrupt_grace = std::chrono::milliseconds(std::max(0L, std::atol(grace)));
  }
  options.overrides = overrides;
  TrainProgressLine line(ctx.show_progress());
  line.status("starting the trainer...");
  options.on_event = [&](const nlohmann::json& e) {
    if (e.value("event", "") != "start") return;
    std::string text = "training";
    if (e.contains("architecture") && e["architecture"].is_string()) text += " " + e["architecture"].get<std::string>();
    if (e.contains("train") && e["train"].is_number()) text += " on " + std::to_string(e["train"].get<long long>()) + " samples";
    line.status(text + "...");
  };
  options.on_progress = [&](const train::EpochProgress& p) {
    line.epoch(p.phase, p.epoch, p.epochs, p.loss, p.accuracy, p.val_accuracy, p.eta_seconds);
    spdlog::debug("{} epoch {}/{}: loss {} accuracy {} validation {} ETA {}", p.phase, p.epoch, p.epochs,
                  p.loss.value_or(-1), format_percent(p.accuracy), format_percent(p.val_accuracy),
                  format_duration(p.eta_seconds));
  };
  try {
    train::TrainResult r = train::train_model(project, features, options);
    line.clear();
    return r;
  } catch (...) {
    line.clear();
    throw;
  }
}

}  // namespace tml::cli
