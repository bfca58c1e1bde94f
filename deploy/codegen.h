#pragma once
// The code generator (DESIGN.md §3 "Generated firmware"): a CompiledModel becomes model.h/model.cc,
// plain C++17 for the firmware and the host alike:
//  - weights, biases and per-channel multipliers/shifts as const arrays (flash);
//  - one static arena of the planned size (no heap); every activation at its planned offset;
//  - the op sequence as straight kernel calls, one `case` per op in run_op() so a runner can time
//    or inspect op by op, and invoke() that runs them all;
//  - input quantization / output dequantization helpers with the model's own scales;
//  - the project's preprocessing config as constexpr values and its config hash.
// A person can read it: each call carries the source op's name, shapes and MACs. Host only.
#include <string>
#include <vector>

#include "deploy/compiled_model.h"

namespace tml::deploy {

struct CodegenOptions {
  std::string name_space = "tml_model";
  std::string config_hash;       // reported by the board in HELLO; empty for a bare model
  std::string preprocess_decls;  // C++ declarations placed in model.h (constexpr preprocessing config)
  std::string source_label;      // where the model came from, for the header comment
  // Per-feature standardisation folded out of the graph (deploy/quantizer InputTransform): the
  // generated quantize_input() computes x * scale[k] + shift[k] in float (two roundings, as the
  // host) before quantizing, k = (i / stride) % scale.size(). Empty: none.
  std::vector<float> input_scale, input_shift;
  std::size_t input_stride = 1;
};

struct GeneratedModel {
  std::string header;  // model.h
  std::string source;  // model.cc
};

// A C++ float literal that reads back as exactly V (9 significant digits always round-trip).
std::string cpp_float_literal(float v);

// Throws tml::Error(invalid_input) for a model the generated API cannot express: not exactly one
// input and one output.
GeneratedModel generate_model(const CompiledModel& model, const CodegenOptions& options = {});

}  // namespace tml::deploy
