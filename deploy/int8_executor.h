#pragma once
// Runs a CompiledModel on the host with the runtime kernels, in one arena laid out exactly as the
// planner decided (so a planning mistake corrupts results here, not first on the device). This is
// the host side of the host = device proof: the generated firmware makes the same kernel calls
// with the same parameters at the same offsets. Host only.
#include <cstdint>
#include <vector>

#include "deploy/compiled_model.h"

namespace tml::deploy {

struct Int8Run {
  std::vector<std::vector<std::uint8_t>> outputs;      // raw bytes of each graph output, in order
  std::vector<std::vector<std::uint8_t>> activations;  // per graph tensor when kept (constants empty)
};

// INPUTS: the raw bytes of each graph input (int8, or float32 little-endian for a float input).
// Throws tml::Error: invalid_input when an input has the wrong size, internal when a kernel refuses
// its arguments (a lowering bug).
Int8Run run_compiled(const CompiledModel& model, const std::vector<std::vector<std::uint8_t>>& inputs,
                     bool keep_activations = false);

// Compiles GRAPH and runs it once per call: convenient for tests; evaluation loops should compile once.
std::vector<std::vector<std::int8_t>> run_int8(const Graph& int8_graph,
                                               const std::vector<std::vector<std::int8_t>>& inputs);

}  // namespace tml::deploy
