#include "deploy/compiled_model.h"

#include <algorithm>

#include "core/errors.h"
#include "deploy/kernel_params.h"
#include "deploy/quantize_multiplier.h"
#include "runtime/conv.h"

namespace tml::deploy {
namespace {

Error op_error(const Op& op, const std::string& what) {
  return Error(ExitCode::invalid_input,
               std::string("op '") + op.name + "' (" + op_name(op.kind) + "): " + what);
}

TensorQuant per_tensor_quant(const Graph& g, const Op& op, int tensor) {
  const Tensor& t = g.tensors[static_cast<std::size_t>(tensor)];
  if (t.type != DType::int8) throw op_error(op, "tensor '" + t.name + "' must be int8");
  if (t.quant.scale.size() != 1 || t.quant.zero_point.size() != 1)
    throw op_error(op, "tensor '" + t.name + "' needs one scale and zero point (per-tensor quantization)");
  return TensorQuant{t.quant.scale[0], t.quant.zero_point[0]};
}

FusedActivation fused(Activation a) {
  switch (a) {
    case Activation::relu: return FusedActivation::relu;
    case Activation::relu6: return FusedActivation::relu6;
    case Activation::none: break;
  }
  return FusedActivation::none;
}

template <typename T>
T need(const std::optional<T>& v, const Op& op, const char* what) {
  if (!v) throw op_error(op, std::string("its quantization is not valid for this kernel (") + what + ")");
  return *v;
}

bool same_quant(TensorQuant a, TensorQuant b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: offsets, activation range and one requantization
// multiplier per output channel, as TFLite's PopulateConvolutionQuantizationParams.
void lower_conv_like(const Graph& g, const Op& op, KernelCall& call) {
  if (op.inputs.size() < 2) throw op_error(op, "needs an input and weights");
  const TensorQuant in = per_tensor_quant(g, op, op.inputs[0]);
  const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
  const Tensor& w = g.tensors[static_cast<std::size_t>(op.inputs[1])];
  if (w.type != DType::int8 || !w.is_constant()) throw op_error(op, "weights must be constant int8");
  if (w.quant.scale.empty()) throw op_error(op, "weights '" + w.name + "' have no quantization");
  for (std::int32_t zp : w.quant.zero_point)
    if (zp != 0) throw op_error(op, "weights '" + w.name + "' must be symmetric (zero point 0)");
  if (op.inputs.size() > 2) {
    const Tensor& b = g.tensors[static_cast<std::size_t>(op.inputs[2])];
    if (b.type != DType::int32 || !b.is_constant()) throw op_error(op, "bias must be constant int32");
  }
  const auto range = need(activation_range_s8(fused(op.activation), out), op, "output");
  call.conv.input_offset = -in.zero_point;
  call.conv.output_offset = out.zero_point;
  call.conv.act_min = range.min;
  call.conv.act_max = range.max;
  call.conv.stride_h = op.stride_h;
  call.conv.stride_w = op.stride_w;
  call.conv.dilation_h = op.dilation_h;
  call.conv.dilation_w = op.dilation_w;
  call.conv.pad_top = op.pad_top;
  call.conv.pad_left = op.pad_left;
  call.conv.depth_multiplier = op.depth_multiplier;
  call.per_tensor = w.quant.scale.size() == 1;
  for (float ws : w.quant.scale) {
    const double effective = static_cast<double>(in.scale) * static_cast<double>(ws) / static_cast<double>(out.scale);
    const QuantizedMultiplier q = quantize_multiplier(effective);
    call.multipliers.push_back(q.multiplier);
    call.shifts.push_back(q.shift);
  }
  const rt::Shape& o = call.output_shape;
  const rt::Shape ws = rank4(w.shape);
  if (op.kind == OpKind::conv2d)
    call.macs = static_cast<std::int64_t>(o.elements()) * ws.h * ws.w * ws.c;
  else if (op.kind == OpKind::depthwise_conv2d)
    call.macs = static_cast<std::int64_t>(o.elements()) * ws.h * ws.w;
  else {  // fully connected: the kernel takes TFLite's {Cout, Cin} as {Cout,1,1,Cin}
    const std::int32_t cout = std::max(w.shape.front(), 1);
    const std::int32_t cin = static_cast<std::int32_t>(w.elements()) / cout;
    call.input_shapes[1] = rt::Shape{cout, 1, 1, cin};
    call.macs = static_cast<std::int64_t>(o.elements()) * cin;
  }
}

void lower_op(const Graph& g, const Op& op, KernelCall& call) {
  switch (op.kind) {
    case OpKind::conv2d:
    case OpKind::depthwise_conv2d:
    case OpKind::fully_connected:
      lower_conv_like(g, op, call);
      return;
    case OpKind::average_pool2d:
    case OpKind::max_pool2d: {
      const TensorQuant in = per_tensor_quant(g, op, op.inputs[0]);
      const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
      if (!same_quant(in, out)) throw op_error(op, "input and output must share scale and zero point");
      const auto range = need(activation_range_s8(fused(op.activation), out), op, "output");
      call.pool = rt::PoolParams{op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.pad_top, op.pad_left,
                                 range.min, range.max};
      return;
    }
    case OpKind::mean_hw:
      call.mean = need(mean_params(per_tensor_quant(g, op, op.inputs[0]), per_tensor_quant(g, op, op.outputs[0])),
                       op, "mean");
      return;
    case OpKind::add:
    case OpKind::mul: {
      if (op.inputs.size() != 2) throw op_error(op, "needs two inputs");
      const TensorQuant a = per_tensor_quant(g, op, op.inputs[0]);
      const TensorQuant b = per_tensor_quant(g, op, op.inputs[1]);
      const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
      if (op.kind == OpKind::add)
        call.add = need(add_params(a, b, out, fused(op.activation)), op, "add");
      else
        call.mul = need(mul_params(a, b, out, fused(op.activation)), op, "mul");
      return;
    }
    case OpKind::concatenation: {
      const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
      const int rank = static_cast<int>(g.tensors[static_cast<std::size_t>(op.outputs[0])].shape.size());
      const int axis = op.axis < 0 ? op.axis + rank : op.axis;
      if (axis < 0 || axis >= rank) throw op_error(op, "axis out of range");
      call.concat_axis = axis + (4 - rank);
      for (std::size_t i = 0; i < op.inputs.size(); ++i)
        call.concat_inputs.push_back(need(
            concat_input(call.input_shapes[i], nullptr, per_tensor_quant(g, op, op.inputs[i]), out), op, "concat"));
      return;
    }
    case OpKind::pad: {
      const TensorQuant in = per_tensor_quant(g, op, op.inputs[0]);
      const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
      if (!same_quant(in, out)) throw op_error(op, "input and output must share scale and zero point");
      const int rank = static_cast<int>(op.paddings.size() / 2);
      if (rank < 1 || rank > 4) throw op_error(op, "paddings must cover 1 to 4 dimensions");
      for (int d = 0; d < rank; ++d) {
        call.pad.before[4 - rank + d] = op.paddings[static_cast<std::size_t>(2 * d)];
        call.pad.after[4 - rank + d] = op.paddings[static_cast<std::size_t>(2 * d + 1)];
      }
      call.pad.pad_value = static_cast<std::int8_t>(out.zero_point);
      return;
    }
    case OpKind::reshape:
      return;
    case OpKind::softmax:
      call.softmax = need(softmax_params(per_tensor_quant(g, op, op.inputs[0]),
                                         per_tensor_quant(g, op, op.outputs[0]), op.beta),
                          op, "softmax output must be scale 1/256, zero point -128");
      return;
    case OpKind::logistic:
      call.sigmoid = need(logistic_params(per_tensor_quant(g, op, op.inputs[0]),
                                          per_tensor_quant(g, op, op.outputs[0])),
                          op, "logistic output must be scale 1/256, zero point -128");
      return;
    case OpKind::tanh:
      call.sigmoid = need(
          tanh_params(per_tensor_quant(g, op, op.inputs[0]), per_tensor_quant(g, op, op.outputs[0])), op,
          "tanh output must be scale 1/128, zero point 0");
      return;
    case OpKind::quantize: {
      const Tensor& in = g.tensors[static_cast<std::size_t>(op.inputs[0])];
      const TensorQuant out = per_tensor_quant(g, op, op.outputs[0]);
      if (in.type == DType::float32) {
        call.quantize = need(quantize_params(out), op, "quantize");
      } else {
        call.requantizes = true;
        call.requantize = need(requantize_params(per_tensor_quant(g, op, op.inputs[0]), out), op, "requantize");
      }
      return;
    }
    case OpKind::dequantize:
      if (g.tensors[static_cast<std::size_t>(op.outputs[0])].type != DType::float32)
        throw op_error(op, "output must be float32");
      call.quantize = need(quantize_params(per_tensor_quant(g, op, op.inputs[0])), op, "dequantize");
      return;
    case OpKind::relu:
    case OpKind::relu6:
      throw op_error(op, "a standalone activation has no int8 kernel; it must be fused into the op before it");
  }
  throw op_error(op, "unknown op");
}

PlanProblemBuilder::InPlace in_place_kind(const KernelCall& call) {
  switch (call.kind) {
    case OpKind::add:
    case OpKind::mul:
    case OpKind::softmax:
    case OpKind::logistic:
    case OpKind::tanh:
      return PlanProblemBuilder::InPlace::kElementwise;
    case OpKind::quantize:
      return call.requantizes ? PlanProblemBuilder::InPlace::kElementwise : PlanProblemBuilder::InPlace::kNone;
    case OpKind::reshape:
      return PlanProblemBuilder::InPlace::kReshape;
    case OpKind::depthwise_conv2d: {
      // What depthwise_conv2d_s8_in_place accepts: multiplier 1, at most 15x15 taps, and with more
      // than one batch an output image of the input's size.
      const rt::Shape& in = call.input_shapes[0];
      const rt::Shape& w = call.input_shapes[1];
      const rt::Shape& out = call.output_shape;
      const bool fits = call.conv.depth_multiplier == 1 && w.h * w.w <= 225 &&
                        (in.n == 1 || (out.h == in.h && out.w == in.w));
      return fits ? PlanProblemBuilder::InPlace::kDepthwise : PlanProblemBuilder::InPlace::kNone;
    }
    default:
      return PlanProblemBuilder::InPlace::kNone;
  }
}

void check_tensor_refs(const Graph& g) {
  const auto valid = [&](int t) { return t >= 0 && static_cast<std::size_t>(t) < g.tensors.size(); };
  for (const Op& op : g.ops) {
    if (op.outputs.size() != 1) throw op_error(op, "must have exactly one output");
    for (int t : op.inputs)
      if (!valid(t)) throw op_error(op, "input tensor index out of range");
    if (!valid(op.outputs[0])) throw op_error(op, "output tensor index out of range");
    if (g.tensors[static_cast<std::size_t>(op.outputs[0])].is_constant())
      throw op_error(op, "writes a constant tensor");
  }
  for (const Tensor& t : g.tensors)
    if (t.shape.size() > 4) throw Error(ExitCode::invalid_input, "tensor '" + t.name + "' has rank above 4");
}

}  // namespace

std::size_t element_bytes(DType type) { return type == DType::int8 ? 1 : 4; }

rt::Shape rank4(const std::vector<int>& shape) {
  std::int32_t d[4] = {1, 1, 1, 1};
  const std::size_t r = std::min<std::size_t>(shape.size(), 4);
  for (std::size_t i = 0; i < r; ++i) d[4 - r + i] = shape[shape.size() - r + i];
  return rt::Shape{d[0], d[1], d[2], d[3]};
}

CompiledModel compile_model(Graph graph, const CompileOptions& options) {
  check_tensor_refs(graph);
  CompiledModel m;
  m.graph = std::move(graph);
  const Graph& g = m.graph;

  for (const Op& op : g.ops) {
    KernelCall call;
    call.kind = op.kind;
    call.name = op.name;
    call.inputs = op.inputs;
    call.output = op.outputs[0];
    for (int t : op.inputs) call.input_shapes.push_back(rank4(g.tensors[static_cast<std::size_t>(t)].shape));
    call.output_shape = rank4(g.tensors[static_cast<std::size_t>(call.output)].shape);
    lower_op(g, op, call);
    m.macs += call.macs;
    m.calls.push_back(std::move(call));
  }

  // Plan every non-constant tensor: graph inputs, then one output per call.
  PlanProblemBuilder builder;
  std::vector<int> plan_index(g.tensors.size(), -1);
  for (int t : g.inputs) {
    const Tensor& tensor = g.tensors[static_cast<std::size_t>(t)];
    plan_index[static_cast<std::size_t>(t)] = builder.add_input(tensor.name, static_cast<std::int64_t>(tensor.bytes()));
    m.plan_tensor.push_back(t);
  }
  for (const KernelCall& call : m.calls) {
    std::vector<int> inputs;
    for (int t : call.inputs) {
      if (g.tensors[static_cast<std::size_t>(t)].is_constant()) continue;
      if (plan_index[static_cast<std::size_t>(t)] < 0)
        throw Error(ExitCode::invalid_input, "op '" + call.name + "' reads tensor '" +
                                                 g.tensors[static_cast<std::size_t>(t)].name +
                                                 "' before any op writes it");
      inputs.push_back(plan_index[static_cast<std::size_t>(t)]);
    }
    const Tensor& out = g.tensors[static_cast<std::size_t>(call.output)];
    if (plan_index[static_cast<std::size_t>(call.output)] >= 0)
      throw Error(ExitCode::invalid_input, "tensor '" + out.name + "' is written twice");
    const auto kind = inputs.empty() ? PlanProblemBuilder::InPlace::kNone : in_place_kind(call);
    const std::int64_t scratch =
        kind == PlanProblemBuilder::InPlace::kDepthwise
            ? static_cast<std::int64_t>(rt::depthwise_in_place_scratch_bytes(call.input_shapes[0], call.output_shape))
            : 0;
    plan_index[static_cast<std::size_t>(call.output)] =
        builder.add_op(inputs, out.name, static_cast<std::int64_t>(out.bytes()), kind, scratch);
    m.plan_tensor.push_back(call.output);
  }
  for (int t : g.outputs) {
    if (plan_index[static_cast<std::size_t>(t)] < 0)
      throw Error(ExitCode::invalid_input, "graph output '" + g.tensors[static_cast<std::size_t>(t)].name +
                                               "' is not written by any op");
    builder.mark_output(plan_index[static_cast<std::size_t>(t)]);
  }
  m.problem = builder.build();
  m.plan = plan_memory(m.problem, options.planner);
  m.tflm_greedy_bytes = plan_tflm_greedy(m.problem).arena_size;
  m.arena_bytes = m.plan.arena_size;

  m.arena_offset.assign(g.tensors.size(), -1);
  for (std::size_t t = 0; t < g.tensors.size(); ++t)
    if (plan_index[t] >= 0) m.arena_offset[t] = m.plan.offsets[static_cast<std::size_t>(plan_index[t])];

  // Depthwise calls whose in-place hint the plan used run the in-place kernel in its channel buffer.
  for (std::size_t h = 0; h < m.problem.hints.size(); ++h) {
    const InPlaceHint& hint = m.problem.hints[h];
    if (!m.plan.hint_used[h] || hint.kind != InPlaceKind::kDepthwiseChannelwise) continue;
    const int target = m.plan_tensor[static_cast<std::size_t>(hint.target)];
    for (KernelCall& call : m.calls) {
      if (call.output != target) continue;
      call.in_place = true;
      call.scratch_offset = m.plan.hint_scratch_offsets[h];
      call.scratch_bytes = hint.channel_scratch_bytes;
    }
  }

  for (const Tensor& t : g.tensors)
    if (t.is_constant()) m.weight_bytes += static_cast<std::int64_t>(t.data.size());
  for (const KernelCall& call : m.calls) m.weight_bytes += static_cast<std::int64_t>(8 * call.multipliers.size());
  return m;
}

}  // namespace tml::deploy
