#include "model_summary.h"

#include <cstdio>
#include <ostream>

#include "core/errors.h"
#include "deploy/tflite_import.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

deploy::CompiledModel load_compiled_model(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".onnx")
    throw invalid_input(file.string(), "a float ONNX model: quantize and deploy it with `tml build` in its project");
  if (ext != ".tflite")
    throw invalid_input(file.string(), "not a model tml can deploy; give an int8 .tflite file");
  deploy::Graph graph = deploy::import_tflite(file);
  try {
    return deploy::compile_model(std::move(graph));
  } catch (const Error& e) {
    throw Error(e.code(), file.string() + ": " + e.what());
  }
}

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

json model_totals(const deploy::CompiledModel& m) {
  return json{{"ops", m.calls.size()},
              {"macs", m.macs},
              {"constants_bytes", m.weight_bytes},
              {"arena", {{"bytes", m.arena_bytes},
                         {"lower_bound", m.plan.lower_bound},
                         {"tflm_greedy", m.tflm_greedy_bytes},
                         {"algorithm", deploy::to_string(m.plan.algorithm)},
                         {"proven_optimal", m.plan.proven_optimal}}}};
}

json op_table(const deploy::CompiledModel& m) {
  json ops = json::array();
  for (std::size_t i = 0; i < m.calls.size(); ++i) {
    const deploy::KernelCall& c = m.calls[i];
    const deploy::Tensor& out = m.graph.tensors[static_cast<std::size_t>(c.output)];
    json op{{"index", i}, {"op", deploy::op_name(c.kind)}, {"name", c.name}, {"output", shape_string(out.shape)},
            {"macs", c.macs}, {"arena_offset", m.arena_offset[static_cast<std::size_t>(c.output)]}};
    if (c.kind == deploy::OpKind::conv2d || c.kind == deploy::OpKind::depthwise_conv2d) {
      op["stride"] = {c.conv.stride_h, c.conv.stride_w};
      op["pad"] = {c.conv.pad_top, c.conv.pad_left};
      op["per_channel"] = !c.per_tensor;
    }
    if (c.in_place) op["in_place"] = true;
    ops.push_back(op);
  }
  return ops;
}

json tensor_table(const deploy::CompiledModel& m) {
  json tensors = json::array();
  for (std::size_t t = 0; t < m.graph.tensors.size(); ++t) {
    const deploy::Tensor& tensor = m.graph.tensors[t];
    json j{{"index", t},
           {"name", tensor.name},
           {"shape", tensor.shape},
           {"type", tensor.type == deploy::DType::int8 ? "int8" : tensor.type == deploy::DType::int32 ? "int32" : "float32"},
           {"bytes", tensor.bytes()},
           {"constant", tensor.is_constant()}};
    if (!tensor.quant.empty()) {
      j["scale"] = tensor.quant.scale.size() == 1 ? json(tensor.quant.scale[0]) : json(tensor.quant.scale.size());
      j["per_channel"] = tensor.quant.scale.size() > 1;
      if (tensor.quant.zero_point.size() == 1) j["zero_point"] = tensor.quant.zero_point[0];
    }
    if (m.arena_offset[t] >= 0) j["arena_offset"] = m.arena_offset[t];
    tensors.push_back(j);
  }
  return tensors;
}

json image_use(const deploy::ImageUse& use) {
  return json{{"flash_bytes", {{"model", use.model_flash}, {"runtime", use.runtime_flash}, {"preprocess", use.preprocess_flash},
                                {"other", use.other_flash}, {"total", use.flash()}}},
              {"ram_bytes", {{"model", use.model_ram}, {"runtime", use.runtime_ram}, {"preprocess", use.preprocess_ram},
                              {"other", use.other_ram}, {"total", use.ram()}}},
              {"sections_bytes", use.sections}};
}

void print_totals(std::ostream& out, const deploy::CompiledModel& m) {
  char line[256];
  std::snprintf(line, sizeof line, "%zu ops, %lld MACs, constants %lld B\n", m.calls.size(),
                static_cast<long long>(m.macs), static_cast<long long>(m.weight_bytes));
  out << line;
  const double over = m.plan.lower_bound ? 100.0 * static_cast<double>(m.arena_bytes - m.plan.lower_bound) /
                                               static_cast<double>(m.plan.lower_bound)
                                         : 0.0;
  std::snprintf(line, sizeof line, "arena %lld B (lower bound %lld B, +%.1f%%; TFLM's greedy plan %lld B) by %s%s\n",
                static_cast<long long>(m.arena_bytes), static_cast<long long>(m.plan.lower_bound), over,
                static_cast<long long>(m.tflm_greedy_bytes), deploy::to_string(m.plan.algorithm),
                m.plan.proven_optimal ? ", proven optimal" : "");
  out << line;
}

void print_op_table(std::ostream& out, const deploy::CompiledModel& m) {
  char line[256];
  std::snprintf(line, sizeof line, "%4s  %-18s %-18s %12s %10s  %s\n", "#", "op", "output", "MACs", "offset", "name");
  out << line;
  for (std::size_t i = 0; i < m.calls.size(); ++i) {
    const deploy::KernelCall& c = m.calls[i];
    const deploy::Tensor& t = m.graph.tensors[static_cast<std::size_t>(c.output)];
    std::snprintf(line, sizeof line, "%4zu  %-18s %-18s %12lld %10lld  ", i, deploy::op_name(c.kind),
                  shape_string(t.shape).c_str(), static_cast<long long>(c.macs),
                  static_cast<long long>(m.arena_offset[static_cast<std::size_t>(c.output)]));
    out << line << c.name << (c.in_place ? " (in place)" : "") << "\n";  // names can be long
  }
}

void print_tensor_table(std::ostream& out, const deploy::CompiledModel& m) {
  char line[320];
  std::snprintf(line, sizeof line, "%4s  %-16s %-7s %9s %13s %5s %10s  %s\n", "#", "shape", "type", "bytes", "scale", "zp",
                "offset", "name");
  out << line;
  for (std::size_t t = 0; t < m.graph.tensors.size(); ++t) {
    const deploy::Tensor& tensor = m.graph.tensors[t];
    const char* type = tensor.type == deploy::DType::int8 ? "int8" : tensor.type == deploy::DType::int32 ? "int32" : "float32";
    std::string scale = "-", zp = "-";
    if (tensor.quant.scale.size() == 1) {
      char b[32];
      std::snprintf(b, sizeof b, "%.6g", static_cast<double>(tensor.quant.scale[0]));
      scale = b;
      zp = std::to_string(tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0]);
    } else if (!tensor.quant.scale.empty()) {
      scale = std::to_string(tensor.quant.scale.size()) + " channels";
      zp = "0";
    }
    const std::string offset = m.arena_offset[t] >= 0 ? std::to_string(m.arena_offset[t]) : "flash";
    std::snprintf(line, sizeof line, "%4zu  %-16s %-7s %9zu %13s %5s %10s  ", t, shape_string(tensor.shape).c_str(), type,
                  tensor.bytes(), scale.c_str(), zp.c_str(), offset.c_str());
    out << line << tensor.name << "\n";  // names can be long
  }
}

}  // namespace tml::cli
