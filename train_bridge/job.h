#pragma once
// job.json: what tml tells a trainer (docs/train-bridge.md). Built from the project (tml.yaml's
// labels, sensor, preprocess, model and train sections) and the features `tml preprocess` wrote
// (build/features/features.json and the .npy files it names).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/project_file.h"

namespace tml::train {

inline constexpr int kJobVersion = 1;

// How one sample's features become the model's input (without the batch axis):
//   audio  {T,F}   -> {1,T,F}  "add_channel" (NCHW, one channel)
//   camera {H,W,C} -> {C,H,W}  "hwc_to_chw"  (NCHW)
//   imu    {F}     -> {F}      "identity"    (NF)
// Values are the feature values cast to float32, unscaled (int8 pixels stay -128..127).
struct InputMapping {
  std::string mapping;
  std::string layout;
  std::vector<std::int64_t> shape;
};
InputMapping input_mapping(const std::string& sensor, const std::vector<std::size_t>& feature_shape);

struct JobOutputs {
  std::filesystem::path dir;            // where the trainer writes (a staging folder)
  std::filesystem::path model;          // model.onnx
  std::filesystem::path metrics;        // metrics.json
  std::filesystem::path anomaly_model;  // anomaly.onnx, or empty when not asked for
};

struct JobOverrides {
  int epochs = 0;   // 0: tml.yaml's
  int seed = -1;    // -1: tml.yaml's
  int threads = 0;  // 0: tml.yaml's (0 there: all cores)
};

// Throws tml::Error(invalid_input) when the features do not belong to the project (other labels,
// sensor or a missing split) — run `tml preprocess` again.
nlohmann::ordered_json make_job(const Project& project, const nlohmann::json& features,
                                const std::filesystem::path& features_dir, const JobOutputs& outputs,
                                const JobOverrides& overrides = {});

// Whether tml.yaml asks for an anomaly scorer next to the classifier.
bool wants_anomaly_model(const Project& project);

}  // namespace tml::train
