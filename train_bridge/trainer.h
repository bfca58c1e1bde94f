#pragma once
// Runs a training job: job.json into a staging folder, the trainer process (the bundled PyTorch
// trainer or tml.yaml's train.command), its JSON lines turned into progress, Ctrl-C forwarded, the
// outputs checked, and — only when everything is right — model.onnx, metrics.json, job.json and
// train.log renamed into build/model/. A failed or interrupted run leaves build/model/ as it was
// (plus failed-train.log) and ends with one line naming the cause and the fix.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/project_file.h"
#include "train_bridge/job.h"
#include "train_bridge/onnx_check.h"

namespace tml::train {

// One "epoch" event with an estimate of the time left.
struct EpochProgress {
  std::string phase;  // "classifier", "anomaly", or what the trainer calls it
  int epoch = 0;
  int epochs = 0;
  std::optional<double> loss, accuracy, val_loss, val_accuracy;
  double eta_seconds = -1;  // < 0: unknown
  int phase_index = 0;      // 0-based among the phases the start event announced
  int phases = 1;
};

struct TrainOptions {
  std::filesystem::path python = "/usr/bin/python3";  // interpreter of the bundled trainer
  std::filesystem::path trainer_dir;  // the bundled trainer's .py files; empty: the compiled-in copy
  JobOverrides overrides;
  std::function<void(const EpochProgress&)> on_progress;
  std::function<void(const nlohmann::json&)> on_event;  // every event line of the trainer
  // After Ctrl-C: SIGINT to the trainer's process group, SIGTERM after `interrupt_grace`, SIGKILL 5 s later.
  std::chrono::milliseconds interrupt_grace{15000};
};

struct TrainResult {
  std::filesystem::path dir;            // build/model
  std::filesystem::path model;          // build/model/model.onnx
  std::filesystem::path metrics;        // build/model/metrics.json
  std::filesystem::path job;            // build/model/job.json
  std::filesystem::path log;            // build/model/train.log
  std::filesystem::path anomaly_model;  // build/model/anomaly.onnx, or empty
  nlohmann::ordered_json metrics_doc;
  nlohmann::json start;                 // the trainer's start and done events
  nlohmann::json done;
  OnnxInfo onnx;
  std::vector<std::string> command;     // what ran (argv)
  double seconds = 0;
};

// The trainer command for this project: argv, plus the environment it gets. Placeholders in
// train.command: {job} (job.json; appended when absent), {trainer} (the bundled tml_trainer.py),
// {python} (the bundled trainer's interpreter), {threads}. Throws tml::Error naming the fix when
// the interpreter is missing or train.command is empty.
struct TrainerCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::vector<std::string> unset_env;
  bool bundled = false;  // the default PyTorch trainer (not train.command)
};
TrainerCommand trainer_command(const Project& project, const std::filesystem::path& job_file, int threads,
                               const TrainOptions& options);

// Trains. `features` is build/features/features.json (the summary `tml preprocess` returns).
// Throws tml::Error: ExitCode::external_tool for everything the trainer did wrong (missing
// interpreter or package, non-zero exit, killed, garbage on stdout, missing/corrupt outputs),
// ExitCode::interrupted after Ctrl-C, invalid_input/filesystem for tml-side problems.
TrainResult train_model(const Project& project, const nlohmann::json& features, const TrainOptions& options = {});

}  // namespace tml::train
