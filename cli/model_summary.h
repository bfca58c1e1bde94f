#pragma once
// What `tml inspect`, `tml deploy`, `tml run` (and `tml build`) say about a compiled model: the
// op table and the arena plan, as JSON and as text, from one place.
#include <filesystem>
#include <iosfwd>

#include <nlohmann/json.hpp>

#include "deploy/compiled_model.h"
#include "deploy/firmware_build.h"

namespace tml::cli {

// A .tflite file -> its compiled model (imported, lowered, planned). Anything else is refused with
// the way forward (a float ONNX model goes through `tml build`, which quantizes it).
deploy::CompiledModel load_compiled_model(const std::filesystem::path& file);

// {"ops": N, "macs": .., "constants_bytes": .., "arena": {bytes, lower_bound, tflm_greedy, algorithm, proven_optimal}}
nlohmann::ordered_json model_totals(const deploy::CompiledModel& m);
// One entry per op: index, op, name, output shape, MACs, in_place.
nlohmann::ordered_json op_table(const deploy::CompiledModel& m);
nlohmann::ordered_json tensor_table(const deploy::CompiledModel& m);
nlohmann::ordered_json image_use(const deploy::ImageUse& use);

void print_totals(std::ostream& out, const deploy::CompiledModel& m);
void print_op_table(std::ostream& out, const deploy::CompiledModel& m);
void print_tensor_table(std::ostream& out, const deploy::CompiledModel& m);
std::string shape_string(const std::vector<int>& shape);

}  // namespace tml::cli
