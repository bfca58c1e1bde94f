#include "deploy/int8_executor.h"

#include <cstring>
#include <string>

#include "core/errors.h"

namespace tml::deploy {
namespace {

// The arena, 16-byte aligned like the firmware's.
struct Arena {
  explicit Arena(std::int64_t bytes) : words(static_cast<std::size_t>((bytes + 15) / 16) + 1) {}
  std::uint8_t* at(std::int64_t offset) { return reinterpret_cast<std::uint8_t*>(words.data()) + offset; }
  struct alignas(16) Block {
    std::uint8_t b[16];
  };
  std::vector<Block> words;
};

class Runner {
 public:
  Runner(const CompiledModel& m, Arena& arena) : m_(m), arena_(arena) {}

  template <typename T = std::int8_t>
  T* tensor(int t) {
    const std::int64_t offset = m_.arena_offset[static_cast<std::size_t>(t)];
    if (offset >= 0) return reinterpret_cast<T*>(arena_.at(offset));
    // Constants are read only; the kernels take them as const pointers.
    return const_cast<T*>(reinterpret_cast<const T*>(m_.graph.tensors[static_cast<std::size_t>(t)].data.data()));
  }

  rt::Status run(const KernelCall& c) {
    const auto in = [&](std::size_t i) { return tensor(c.inputs[i]); };
    std::int8_t* out = tensor(c.output);
    const rt::ChannelQuant q{c.multipliers.data(), c.shifts.data(), c.per_tensor};
    const std::int32_t* bias = c.inputs.size() > 2 ? tensor<std::int32_t>(c.inputs[2]) : nullptr;
    switch (c.kind) {
      case OpKind::conv2d:
        return rt::conv2d_s8(c.conv, q, c.input_shapes[0], in(0), c.input_shapes[1], in(1), bias, c.output_shape, out);
      case OpKind::depthwise_conv2d:
        if (c.in_place)
          return rt::depthwise_conv2d_s8_in_place(c.conv, q, c.input_shapes[0], out, c.input_shapes[1], in(1), bias,
                                                  c.output_shape, tensor(-1, c.scratch_offset),
                                                  static_cast<std::size_t>(c.scratch_bytes));
        return rt::depthwise_conv2d_s8(c.conv, q, c.input_shapes[0], in(0), c.input_shapes[1], in(1), bias,
                                       c.output_shape, out);
      case OpKind::fully_connected:
        return rt::fully_connected_s8(c.conv, q, c.input_shapes[0], in(0), c.input_shapes[1], in(1), bias,
                                      c.output_shape, out);
      case OpKind::average_pool2d:
        return rt::average_pool_s8(c.pool, c.input_shapes[0], in(0), c.output_shape, out);
      case OpKind::max_pool2d:
        return rt::max_pool_s8(c.pool, c.input_shapes[0], in(0), c.output_shape, out);
      case OpKind::mean_hw:
        return rt::mean_hw_s8(c.mean, c.input_shapes[0], in(0), c.output_shape, out);
      case OpKind::add:
        return rt::add_s8(c.add, c.input_shapes[0], in(0), c.input_shapes[1], in(1), c.output_shape, out);
      case OpKind::mul:
        return rt::mul_s8(c.mul, c.input_shapes[0], in(0), c.input_shapes[1], in(1), c.output_shape, out);
      case OpKind::concatenation: {
        std::vector<rt::ConcatInput> inputs = c.concat_inputs;
        for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i].data = in(i);
        return rt::concatenation_s8(c.concat_axis, inputs.data(), static_cast<std::int32_t>(inputs.size()),
                                    c.output_shape, out);
      }
      case OpKind::pad:
        return rt::pad_s8(c.pad, c.input_shapes[0], in(0), c.output_shape, out);
      case OpKind::reshape:
        return rt::reshape_s8(c.input_shapes[0], in(0), c.output_shape, out);
      case OpKind::softmax:
        return rt::softmax_s8(c.softmax, c.output_shape, in(0), out);
      case OpKind::logistic:
        return rt::logistic_s8(c.sigmoid, c.output_shape, in(0), out);
      case OpKind::tanh:
        return rt::tanh_s8(c.sigmoid, c.output_shape, in(0), out);
      case OpKind::quantize:
        if (c.requantizes) return rt::requantize_s8(c.requantize, c.output_shape, in(0), out);
        return rt::quantize_f32_s8(c.quantize, c.output_shape, tensor<float>(c.inputs[0]), out);
      case OpKind::dequantize:
        return rt::dequantize_s8_f32(c.quantize, c.output_shape, in(0), tensor<float>(c.output));
      case OpKind::relu:
      case OpKind::relu6:
        break;
    }
    return rt::Status::bad_argument;
  }

 private:
  std::int8_t* tensor(int, std::int64_t offset) { return reinterpret_cast<std::int8_t*>(arena_.at(offset)); }
  const CompiledModel& m_;
  Arena& arena_;
};

}  // namespace

Int8Run run_compiled(const CompiledModel& m, const std::vector<std::vector<std::uint8_t>>& inputs,
                     bool keep_activations) {
  const Graph& g = m.graph;
  if (inputs.size() != g.inputs.size())
    throw Error(ExitCode::invalid_input, "the model takes " + std::to_string(g.inputs.size()) + " input(s), got " +
                                             std::to_string(inputs.size()));
  Arena arena(m.arena_bytes);
  Runner runner(m, arena);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = g.tensors[static_cast<std::size_t>(g.inputs[i])];
    if (inputs[i].size() != t.bytes())
      throw Error(ExitCode::invalid_input, "input '" + t.name + "' needs " + std::to_string(t.bytes()) +
                                               " bytes, got " + std::to_string(inputs[i].size()));
    std::memcpy(arena.at(m.arena_offset[static_cast<std::size_t>(g.inputs[i])]), inputs[i].data(), inputs[i].size());
  }
  Int8Run result;
  if (keep_activations) result.activations.resize(g.tensors.size());
  const auto copy_of = [&](int t) {
    const Tensor& tensor = g.tensors[static_cast<std::size_t>(t)];
    const std::uint8_t* p = arena.at(m.arena_offset[static_cast<std::size_t>(t)]);
    return std::vector<std::uint8_t>(p, p + tensor.bytes());
  };
  if (keep_activations)
    for (int t : g.inputs) result.activations[static_cast<std::size_t>(t)] = copy_of(t);
  for (const KernelCall& call : m.calls) {
    if (runner.run(call) != rt::Status::ok)
      throw Error(ExitCode::internal, "op '" + call.name + "' (" + op_name(call.kind) +
                                          "): the runtime kernel refused its arguments");
    if (keep_activations) result.activations[static_cast<std::size_t>(call.output)] = copy_of(call.output);
  }
  for (int t : g.outputs) result.outputs.push_back(copy_of(t));
  return result;
}

std::vector<std::vector<std::int8_t>> run_int8(const Graph& int8_graph,
                                               const std::vector<std::vector<std::int8_t>>& inputs) {
  const CompiledModel m = compile_model(int8_graph);
  std::vector<std::vector<std::uint8_t>> raw;
  for (const auto& in : inputs) raw.emplace_back(in.begin(), in.end());
  std::vector<std::vector<std::int8_t>> out;
  for (const auto& o : run_compiled(m, raw).outputs) out.emplace_back(o.begin(), o.end());
  return out;
}

}  // namespace tml::deploy
