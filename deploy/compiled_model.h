#pragma once
// A quantized Graph made ready to run: every op turned into one runtime kernel call with its
// parameters computed as TFLite's Prepare does (deploy/kernel_params.h), and every activation given
// its offset in one static arena by the memory planner. Both consumers read this one structure:
// the host executor (deploy/int8_executor.h) runs the calls on the host, and the code generator
// (deploy/codegen.h) prints the same calls as C++ for the firmware, so host and device execute the
// same kernels with the same numbers at the same arena offsets. Host only.
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/graph.h"
#include "deploy/memory_planner.h"
#include "runtime/activations.h"
#include "runtime/conv.h"
#include "runtime/elementwise.h"
#include "runtime/pooling.h"
#include "runtime/shape_ops.h"

namespace tml::deploy {

// One kernel call. Tensor references are indices into CompiledModel::graph.tensors; where a tensor
// lives (arena offset or constant data) is CompiledModel's business.
struct KernelCall {
  OpKind kind = OpKind::add;
  std::string name;              // the op's name in the source model
  std::vector<int> inputs;       // activation and constant inputs, in the op's order
  int output = -1;
  std::vector<rt::Shape> input_shapes;  // one per input (right-aligned to rank 4)
  rt::Shape output_shape;

  // Parameters; only the ones of `kind` are set.
  rt::ConvParams conv;                                  // conv2d, depthwise_conv2d, fully_connected
  std::vector<std::int32_t> multipliers, shifts;        // per output channel, or one when per_tensor
  bool per_tensor = false;
  bool in_place = false;                                // depthwise in place (TinyEngine) was planned
  std::int64_t scratch_offset = -1, scratch_bytes = 0;  // its channel buffer in the arena
  rt::PoolParams pool;
  rt::MeanParams mean;
  rt::AddParams add;
  rt::MulParams mul;
  rt::SoftmaxParams softmax;
  rt::LogisticParams sigmoid;                           // logistic, tanh
  rt::QuantizeParams quantize;                          // quantize f32 -> s8, dequantize s8 -> f32
  rt::RequantizeParams requantize;                      // quantize s8 -> s8
  bool requantizes = false;                             // quantize op with an int8 input
  rt::PadParams pad;
  std::int32_t concat_axis = 0;                         // 0..3 in the rank-4 shape
  std::vector<rt::ConcatInput> concat_inputs;           // data pointers left null; filled at run time

  std::int64_t macs = 0;  // multiply-accumulates (conv, depthwise, fully connected), else 0
};

struct CompileOptions {
  PlannerOptions planner;  // inplace_depthwise on by default below: the runtime has the kernel
  CompileOptions() { planner.inplace_depthwise = true; }
};

struct CompiledModel {
  Graph graph;                          // int8 graph (constants hold the weights)
  std::vector<KernelCall> calls;        // in execution order
  std::vector<std::int64_t> arena_offset;  // per graph tensor: its arena offset, -1 for constants
  std::int64_t arena_bytes = 0;
  MemoryPlan plan;                      // the planner's result (lower bound, algorithm, attempts)
  PlanProblem problem;                  // what was planned (for reports: lifetimes, sizes)
  std::vector<int> plan_tensor;         // per problem tensor: its graph tensor, -1 for scratch buffers
  std::int64_t tflm_greedy_bytes = 0;   // TFLite Micro's greedy planner on the same problem
  std::int64_t macs = 0;                // total over the calls
  std::int64_t weight_bytes = 0;        // constant data (weights, biases) incl. per-channel parameters
};

// Lowers an int8 graph (from the quantizer or the TFLite importer). Throws tml::Error
// (ExitCode::invalid_input) naming the op when a kernel cannot take it: an unsupported op (standalone
// RELU), a float tensor where int8 is needed, a quantization TFLite's Prepare would refuse.
CompiledModel compile_model(Graph graph, const CompileOptions& options = {});

// The IR's shape right-aligned to rank 4: {C} -> {1,1,1,C}, {N,C} -> {1,1,N,C}... (numpy
// broadcasting aligns from the right, and every kernel works on the flat element order).
rt::Shape rank4(const std::vector<int>& shape);

// Bytes one element of the tensor's type takes.
std::size_t element_bytes(DType type);

}  // namespace tml::deploy
