#include "deploy/codegen.h"

#include <cstdio>
#include <sstream>

#include "core/errors.h"

namespace tml::deploy {
namespace {


std::string shape_literal(const rt::Shape& s) {
  std::ostringstream o;
  o << "rt::Shape{" << s.n << ", " << s.h << ", " << s.w << ", " << s.c << "}";
  return o.str();
}

// A model's own names go into // comments: no control characters (a newline would end the comment).
std::string comment_safe(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

// The C identifier of a constant tensor's array.
std::string const_name(int tensor) { return "k_t" + std::to_string(tensor); }

template <typename T>
void write_array(std::ostream& o, const char* type, const std::string& name, const T* values, std::size_t count,
                 const std::string& comment) {
  o << "// " << comment << "\n";
  o << "alignas(4) const " << type << " " << name << "[" << count << "] = {";
  for (std::size_t i = 0; i < count; ++i) {
    if (i % 24 == 0) o << "\n   ";
    o << " " << static_cast<long long>(values[i]) << ",";
  }
  o << "\n};\n\n";
}

std::string shape_text(const std::vector<int>& shape) {
  std::string s = "{";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "}";
}

// The C++ expression of a tensor's data as the kernel takes it.
std::string data_ref(const CompiledModel& m, int t, const char* type = "std::int8_t") {
  const std::int64_t offset = m.arena_offset[static_cast<std::size_t>(t)];
  if (offset >= 0) return std::string("reinterpret_cast<") + type + "*>(g_arena + " + std::to_string(offset) + ")";
  return const_name(t);
}

void write_constants(std::ostream& o, const CompiledModel& m) {
  const Graph& g = m.graph;
  for (std::size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor& tensor = g.tensors[t];
    if (!tensor.is_constant()) continue;
    const std::string comment = "'" + comment_safe(tensor.name) + "' " + shape_text(tensor.shape);
    if (tensor.type == DType::int8)
      write_array(o, "std::int8_t", const_name(static_cast<int>(t)),
                  reinterpret_cast<const std::int8_t*>(tensor.data.data()), tensor.data.size(), comment);
    else if (tensor.type == DType::int32)
      write_array(o, "std::int32_t", const_name(static_cast<int>(t)),
                  reinterpret_cast<const std::int32_t*>(tensor.data.data()), tensor.data.size() / 4, comment);
    else
      throw Error(ExitCode::invalid_input, "constant '" + tensor.name + "' is float32; quantize the model first");
  }
  for (std::size_t i = 0; i < m.calls.size(); ++i) {
    const KernelCall& c = m.calls[i];
    if (c.multipliers.empty()) continue;
    const std::string what = "op " + std::to_string(i) + " requantization";
    write_array(o, "std::int32_t", "k_mult" + std::to_string(i), c.multipliers.data(), c.multipliers.size(),
                what + " multipliers");
    write_array(o, "std::int32_t", "k_shift" + std::to_string(i), c.shifts.data(), c.shifts.size(), what + " shifts");
  }
}

void write_conv_params(std::ostream& o, const rt::ConvParams& p) {
  o << "      rt::ConvParams p;\n"
    << "      p.stride_h = " << p.stride_h << "; p.stride_w = " << p.stride_w << ";\n"
    << "      p.dilation_h = " << p.dilation_h << "; p.dilation_w = " << p.dilation_w << ";\n"
    << "      p.pad_top = " << p.pad_top << "; p.pad_left = " << p.pad_left << ";\n"
    << "      p.input_offset = " << p.input_offset << "; p.output_offset = " << p.output_offset << ";\n"
    << "      p.act_min = " << p.act_min << "; p.act_max = " << p.act_max << ";\n"
    << "      p.depth_multiplier = " << p.depth_multiplier << ";\n";
}

void write_requantize(std::ostream& o, const char* name, const rt::RequantizeParams& r) {
  o << "      rt::RequantizeParams " << name << ";\n"
    << "      " << name << ".input_zero_point = " << r.input_zero_point << "; " << name
    << ".output_zero_point = " << r.output_zero_point << ";\n"
    << "      " << name << ".multiplier = " << r.multiplier << "; " << name << ".shift = " << r.shift << ";\n";
}

void write_call(std::ostream& o, const CompiledModel& m, std::size_t index) {
  const KernelCall& c = m.calls[index];
  const auto in = [&](std::size_t i) { return data_ref(m, c.inputs[i]); };
  const std::string out = data_ref(m, c.output);
  const auto shape = [&](std::size_t i) { return shape_literal(c.input_shapes[i]); };
  const std::string out_shape = shape_literal(c.output_shape);
  o << "    case " << index << ": {  // " << op_name(c.kind) << " '" << comment_safe(c.name) << "' -> "
    << shape_text(m.graph.tensors[static_cast<std::size_t>(c.output)].shape);
  if (c.macs) o << ", " << c.macs << " MACs";
  o << "\n";
  switch (c.kind) {
    case OpKind::conv2d:
    case OpKind::depthwise_conv2d:
    case OpKind::fully_connected: {
      write_conv_params(o, c.conv);
      const std::string i = std::to_string(index);
      o << "      const rt::ChannelQuant q{k_mult" << i << ", k_shift" << i << ", " << (c.per_tensor ? "true" : "false")
        << "};\n";
      const std::string bias = c.inputs.size() > 2 ? const_name(c.inputs[2]) : "nullptr";
      if (c.kind == OpKind::depthwise_conv2d && c.in_place)
        o << "      // in place: the output overwrites the input, one channel at a time through a scratch buffer\n"
          << "      return rt::depthwise_conv2d_s8_in_place(p, q, " << shape(0) << ", " << out << ", " << shape(1)
          << ", " << in(1) << ", " << bias << ", " << out_shape << ", reinterpret_cast<std::int8_t*>(g_arena + "
          << c.scratch_offset << "), " << c.scratch_bytes << ");\n";
      else
        o << "      return rt::"
          << (c.kind == OpKind::conv2d             ? "conv2d_s8"
              : c.kind == OpKind::depthwise_conv2d ? "depthwise_conv2d_s8"
                                                   : "fully_connected_s8")
          << "(p, q, " << shape(0) << ", " << in(0) << ", " << shape(1) << ", " << in(1) << ", " << bias << ", "
          << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::average_pool2d:
    case OpKind::max_pool2d: {
      const rt::PoolParams& p = c.pool;
      o << "      rt::PoolParams p;\n"
        << "      p.filter_h = " << p.filter_h << "; p.filter_w = " << p.filter_w << ";\n"
        << "      p.stride_h = " << p.stride_h << "; p.stride_w = " << p.stride_w << ";\n"
        << "      p.pad_top = " << p.pad_top << "; p.pad_left = " << p.pad_left << ";\n"
        << "      p.act_min = " << p.act_min << "; p.act_max = " << p.act_max << ";\n"
        << "      return rt::" << (c.kind == OpKind::max_pool2d ? "max_pool_s8" : "average_pool_s8") << "(p, "
        << shape(0) << ", " << in(0) << ", " << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::mean_hw:
      o << "      rt::MeanParams p;\n"
        << "      p.same_quantization = " << (c.mean.same_quantization ? "true" : "false") << ";\n"
        << "      p.input_zero_point = " << c.mean.input_zero_point << "; p.output_zero_point = "
        << c.mean.output_zero_point << ";\n"
        << "      p.multiplier = " << c.mean.multiplier << "; p.shift = " << c.mean.shift << ";\n"
        << "      return rt::mean_hw_s8(p, " << shape(0) << ", " << in(0) << ", " << out_shape << ", " << out << ");\n";
      break;
    case OpKind::add: {
      const rt::AddParams& p = c.add;
      o << "      rt::AddParams p;\n"
        << "      p.input1_offset = " << p.input1_offset << "; p.input2_offset = " << p.input2_offset
        << "; p.output_offset = " << p.output_offset << ";\n"
        << "      p.left_shift = " << p.left_shift << ";\n"
        << "      p.input1_multiplier = " << p.input1_multiplier << "; p.input1_shift = " << p.input1_shift << ";\n"
        << "      p.input2_multiplier = " << p.input2_multiplier << "; p.input2_shift = " << p.input2_shift << ";\n"
        << "      p.output_multiplier = " << p.output_multiplier << "; p.output_shift = " << p.output_shift << ";\n"
        << "      p.act_min = " << p.act_min << "; p.act_max = " << p.act_max << ";\n"
        << "      return rt::add_s8(p, " << shape(0) << ", " << in(0) << ", " << shape(1) << ", " << in(1) << ", "
        << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::mul: {
      const rt::MulParams& p = c.mul;
      o << "      rt::MulParams p;\n"
        << "      p.input1_offset = " << p.input1_offset << "; p.input2_offset = " << p.input2_offset
        << "; p.output_offset = " << p.output_offset << ";\n"
        << "      p.output_multiplier = " << p.output_multiplier << "; p.output_shift = " << p.output_shift << ";\n"
        << "      p.act_min = " << p.act_min << "; p.act_max = " << p.act_max << ";\n"
        << "      return rt::mul_s8(p, " << shape(0) << ", " << in(0) << ", " << shape(1) << ", " << in(1) << ", "
        << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::concatenation: {
      o << "      rt::ConcatInput inputs[" << c.concat_inputs.size() << "];\n";
      for (std::size_t i = 0; i < c.concat_inputs.size(); ++i) {
        const rt::ConcatInput& ci = c.concat_inputs[i];
        const std::string name = "inputs[" + std::to_string(i) + "]";
        o << "      " << name << ".shape = " << shape(i) << "; " << name << ".data = " << in(i) << ";\n";
        if (ci.requantize) {
          write_requantize(o, ("r" + std::to_string(i)).c_str(), ci.requant);
          o << "      " << name << ".requantize = true; " << name << ".requant = r" << i << ";\n";
        }
      }
      o << "      return rt::concatenation_s8(" << c.concat_axis << ", inputs, " << c.concat_inputs.size() << ", "
        << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::pad: {
      const rt::PadParams& p = c.pad;
      o << "      rt::PadParams p;\n";
      for (int d = 0; d < 4; ++d)
        o << "      p.before[" << d << "] = " << p.before[d] << "; p.after[" << d << "] = " << p.after[d] << ";\n";
      o << "      p.pad_value = " << static_cast<int>(p.pad_value) << ";\n"
        << "      return rt::pad_s8(p, " << shape(0) << ", " << in(0) << ", " << out_shape << ", " << out << ");\n";
      break;
    }
    case OpKind::reshape:
      o << "      return rt::reshape_s8(" << shape(0) << ", " << in(0) << ", " << out_shape << ", " << out << ");\n";
      break;
    case OpKind::softmax:
      o << "      rt::SoftmaxParams p;\n"
        << "      p.input_beta_multiplier = " << c.softmax.input_beta_multiplier
        << "; p.input_beta_left_shift = " << c.softmax.input_beta_left_shift << ";\n"
        << "      p.diff_min = " << c.softmax.diff_min << ";\n"
        << "      return rt::softmax_s8(p, " << out_shape << ", " << in(0) << ", " << out << ");\n";
      break;
    case OpKind::logistic:
    case OpKind::tanh:
      o << "      rt::LogisticParams p;\n"
        << "      p.input_zero_point = " << c.sigmoid.input_zero_point << "; p.input_range_radius = "
        << c.sigmoid.input_range_radius << ";\n"
        << "      p.input_multiplier = " << c.sigmoid.input_multiplier << "; p.input_left_shift = "
        << c.sigmoid.input_left_shift << ";\n"
        << "      return rt::" << (c.kind == OpKind::tanh ? "tanh_s8" : "logistic_s8") << "(p, " << out_shape << ", "
        << in(0) << ", " << out << ");\n";
      break;
    case OpKind::quantize:
      if (c.requantizes) {
        write_requantize(o, "p", c.requantize);
        o << "      return rt::requantize_s8(p, " << out_shape << ", " << in(0) << ", " << out << ");\n";
      } else {
        o << "      const rt::QuantizeParams p{" << cpp_float_literal(c.quantize.scale) << ", " << c.quantize.zero_point
          << "};\n"
          << "      return rt::quantize_f32_s8(p, " << out_shape << ", " << data_ref(m, c.inputs[0], "float") << ", "
          << out << ");\n";
      }
      break;
    case OpKind::dequantize:
      o << "      const rt::QuantizeParams p{" << cpp_float_literal(c.quantize.scale) << ", " << c.quantize.zero_point
        << "};\n"
        << "      return rt::dequantize_s8_f32(p, " << out_shape << ", " << in(0) << ", "
        << data_ref(m, c.output, "float") << ");\n";
      break;
    case OpKind::relu:
    case OpKind::relu6:
      throw Error(ExitCode::internal, "codegen: standalone activation reached code generation");
  }
  o << "    }\n";
}

const char* c_type(DType t) { return t == DType::int8 ? "std::int8_t" : t == DType::int32 ? "std::int32_t" : "float"; }

}  // namespace

std::string cpp_float_literal(float v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9gf", static_cast<double>(v));
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s.insert(s.size() - 1, ".0");
  return s;
}

GeneratedModel generate_model(const CompiledModel& m, const CodegenOptions& opt) {
  const Graph& g = m.graph;
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw Error(ExitCode::invalid_input, "the generated model API takes exactly one input and one output (this model has " +
                                             std::to_string(g.inputs.size()) + " and " +
                                             std::to_string(g.outputs.size()) + ")");
  if (opt.input_scale.size() != opt.input_shift.size() || opt.input_stride == 0)
    throw Error(ExitCode::internal, "codegen: malformed input transform");
  if (!opt.input_scale.empty() && g.tensors[static_cast<std::size_t>(g.inputs[0])].type != DType::int8)
    throw Error(ExitCode::internal, "codegen: the input transform needs an int8 input");
  const Tensor& input = g.tensors[static_cast<std::size_t>(g.inputs[0])];
  const Tensor& output = g.tensors[static_cast<std::size_t>(g.outputs[0])];
  const auto q_scale = [](const Tensor& t) { return t.quant.scale.empty() ? 1.0f : t.quant.scale[0]; };
  const auto q_zp = [](const Tensor& t) { return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0]; };

  GeneratedModel out;
  std::ostringstream h;
  h << "#pragma once\n// Generated by tml from " << (opt.source_label.empty() ? "a model" : comment_safe(opt.source_label))
    << ". Do not edit: `tml build` rewrites it.\n"
    << "// " << m.calls.size() << " ops, " << m.macs << " MACs, arena " << m.arena_bytes << " bytes (lower bound "
    << m.plan.lower_bound << "), constants " << m.weight_bytes << " bytes.\n"
    << "#include <cstddef>\n#include <cstdint>\n\n#include \"runtime/status.h\"\n\n"
    << "namespace " << opt.name_space << " {\n\n"
    << "constexpr std::size_t kArenaBytes = " << m.arena_bytes << ";\n"
    << "constexpr int kOpCount = " << m.calls.size() << ";\n"
    << "constexpr long long kMacs = " << m.macs << ";\n\n"
    << "// Input '" << comment_safe(input.name) << "' " << shape_text(input.shape) << " " << c_type(input.type) << "\n"
    << "using InputType = " << c_type(input.type) << ";\n"
    << "constexpr std::size_t kInputElements = " << input.elements() << ";\n"
    << "constexpr float kInputScale = " << cpp_float_literal(q_scale(input)) << ";\n"
    << "constexpr std::int32_t kInputZeroPoint = " << q_zp(input) << ";\n"
    << "// Output '" << comment_safe(output.name) << "' " << shape_text(output.shape) << " " << c_type(output.type) << "\n"
    << "using OutputType = " << c_type(output.type) << ";\n"
    << "constexpr std::size_t kOutputElements = " << output.elements() << ";\n"
    << "constexpr float kOutputScale = " << cpp_float_literal(q_scale(output)) << ";\n"
    << "constexpr std::int32_t kOutputZeroPoint = " << q_zp(output) << ";\n\n"
    << "extern const char kConfigHash[];  // the project's config hash (empty for a bare model)\n\n";
  if (!opt.preprocess_decls.empty()) h << "// Preprocessing (the project's tml.yaml)\n" << opt.preprocess_decls << "\n";
  h << "// The input and output tensors inside the arena.\n"
    << "InputType* input();\nconst OutputType* output();\n\n"
    << "// float -> the input's quantization (round half away from zero, saturated), and back for the output.\n"
    << "void quantize_input(const float* values);\nvoid dequantize_output(float* values);\n\n"
    << "// Runs op INDEX (0 .. kOpCount-1) / all ops; a runner can time or inspect them one by one.\n"
    << "tml::rt::Status run_op(int index);\n"
    << "tml::rt::Status invoke(int* failed_op = nullptr);\n"
    << "const char* op_name(int index);\n\n"
    << "}  // namespace " << opt.name_space << "\n";
  out.header = h.str();

  std::ostringstream s;
  s << "// Generated by tml. Do not edit. See model.h.\n#include \"model.h\"\n\n"
    << "#include \"runtime/activations.h\"\n#include \"runtime/conv.h\"\n#include \"runtime/elementwise.h\"\n"
    << "#include \"runtime/pooling.h\"\n#include \"runtime/shape_ops.h\"\n\n"
    << "namespace " << opt.name_space << " {\nnamespace rt = tml::rt;\n\n"
    << "const char kConfigHash[] = \"" << opt.config_hash << "\";\n\n"
    << "namespace {\n\n"
    << "// Every activation lives here, at the offset the planner gave it (" << to_string(m.plan.algorithm)
    << (m.plan.proven_optimal ? ", proven optimal" : "") << ").\n"
    << "alignas(16) std::uint8_t g_arena[kArenaBytes];\n\n";
  write_constants(s, m);
  s << "}  // namespace\n\n"
    << "InputType* input() { return " << data_ref(m, g.inputs[0], c_type(input.type)) << "; }\n"
    << "const OutputType* output() { return " << data_ref(m, g.outputs[0], c_type(output.type)) << "; }\n\n"
    << "void quantize_input(const float* values) {\n";
  if (input.type == DType::int8 && !opt.input_scale.empty()) {
    s << "  // The features' standardisation, folded out of the graph: x * scale + shift per feature.\n"
      << "  static const float scale[" << opt.input_scale.size() << "] = {";
    for (float v : opt.input_scale) s << cpp_float_literal(v) << ", ";
    s << "};\n  static const float shift[" << opt.input_shift.size() << "] = {";
    for (float v : opt.input_shift) s << cpp_float_literal(v) << ", ";
    s << "};\n"
      << "  const rt::QuantizeParams p{kInputScale, kInputZeroPoint};\n"
      << "  for (std::size_t i = 0; i < kInputElements; ++i) {\n"
      << "    const std::size_t k = (i / " << opt.input_stride << ") % " << opt.input_scale.size() << ";\n"
      << "    const float scaled = values[i] * scale[k];\n"
      << "    const float standardised = scaled + shift[k];\n"
      << "    rt::quantize_f32_s8(p, rt::Shape{1, 1, 1, 1}, &standardised, input() + i);\n"
      << "  }\n";
  } else if (input.type == DType::int8) {
    s << "  const rt::QuantizeParams p{kInputScale, kInputZeroPoint};\n"
      << "  rt::quantize_f32_s8(p, rt::Shape{1, 1, 1, static_cast<std::int32_t>(kInputElements)}, values, input());\n";
  }
  else
    s << "  for (std::size_t i = 0; i < kInputElements; ++i) input()[i] = static_cast<InputType>(values[i]);\n";
  s << "}\n\nvoid dequantize_output(float* values) {\n";
  if (output.type == DType::int8)
    s << "  const rt::QuantizeParams p{kOutputScale, kOutputZeroPoint};\n"
      << "  rt::dequantize_s8_f32(p, rt::Shape{1, 1, 1, static_cast<std::int32_t>(kOutputElements)}, output(), values);\n";
  else
    s << "  for (std::size_t i = 0; i < kOutputElements; ++i) values[i] = static_cast<float>(output()[i]);\n";
  s << "}\n\nconst char* op_name(int index) {\n  static const char* const names[] = {\n";
  for (const KernelCall& c : m.calls) s << "      \"" << op_name(c.kind) << "\",\n";
  if (m.calls.empty()) s << "      \"?\",\n";  // a zero-length array is not C++
  s << "  };\n  return index >= 0 && index < kOpCount ? names[index] : \"?\";\n}\n\n"
    << "rt::Status run_op(int index) {\n  switch (index) {\n";
  for (std::size_t i = 0; i < m.calls.size(); ++i) write_call(s, m, i);
  s << "    default:\n      return rt::Status::bad_argument;\n  }\n}\n\n"
    << "rt::Status invoke(int* failed_op) {\n  for (int i = 0; i < kOpCount; ++i) {\n"
    << "    const rt::Status status = run_op(i);\n"
    << "    if (status != rt::Status::ok) {\n      if (failed_op != nullptr) *failed_op = i;\n      return status;\n    }\n"
    << "  }\n  return rt::Status::ok;\n}\n\n}  // namespace " << opt.name_space << "\n";
  out.source = s.str();
  return out;
}

}  // namespace tml::deploy
