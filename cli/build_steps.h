#pragma once
// The quantize stage of `tml build`: the trainer's float model -> int8 (calibrated on the train
// split), evaluated float and int8 on the test split, compiled (planned) and turned into code.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/project_file.h"
#include "deploy/codegen.h"
#include "deploy/compiled_model.h"
#include "deploy/evaluation.h"
#include "deploy/quantizer.h"

namespace tml::cli {

struct LabelledSplit {
  std::vector<std::vector<float>> x;  // one sample each, as the trainer reads it (raw features as float)
  std::vector<int> y;
};

// build/features/<split>_x.npy and _y.npy as floats and label indices.
LabelledSplit load_split(const std::filesystem::path& features_dir, const std::string& split);

struct QuantizeStage {
  deploy::QuantizedModel quantized;
  deploy::CompiledModel compiled;
  deploy::Evaluation float_eval, int8_eval;
  std::vector<deploy::LayerError> layers;  // per op, in op order
  deploy::CodegenOptions codegen;
  std::vector<std::vector<std::uint8_t>> test_inputs, test_outputs;  // int8 bytes: the host runtime's run
};

QuantizeStage quantize_and_evaluate(const Project& project, const std::filesystem::path& onnx,
                                    const std::filesystem::path& features_dir, const std::string& config_hash);

// tml_features.h for the firmware: the project's preprocessing as the portable core's config struct
// (tml_features::config()) and kKind (0 audio, 1 camera, 2 IMU), so the image computes the model's
// input from the raw sensor window exactly as tml does on the host.
std::string features_header(const Project& project);

// The project's preprocessing settings as constexpr C++ (for model.h).
std::string preprocess_declarations(const Project& project);

}  // namespace tml::cli
