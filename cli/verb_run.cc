// tml run MODEL.tflite --input X.npy [--board host|qemu-m4] [--out Y.npy]: inference on the host
// runtime (in process) or on the emulated Cortex-M4F (the generated firmware, built once and cached),
// one per sample of X (its elements a multiple of the model input's). Writes the raw output tensors.
#include <iostream>

#include "context.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "deploy/int8_executor.h"
#include "deploy/model_package.h"
#include "model_summary.h"
#include "runtime/activations.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct RunArgs {
  std::string model, input, out, board = "host";
};

// The samples of the .npy as the model input's raw bytes: int8 as is, float32 quantized with the
// input's scale and zero point (or kept for a float input).
std::vector<std::vector<std::uint8_t>> samples_of(const NpyArray& a, const deploy::Tensor& input, const std::string& file) {
  const std::size_t per = input.elements();
  const std::size_t count = a.data.size() / npy_item_size(a.type);
  if (count == 0 || count % per != 0)
    throw invalid_input(file, std::to_string(count) + " values is not a multiple of the model input's " +
                                  std::to_string(per) + " (" + shape_string(input.shape) + ")");
  std::vector<std::vector<std::uint8_t>> samples;
  for (std::size_t s = 0; s < count / per; ++s) {
    std::vector<std::uint8_t> bytes(input.bytes());
    if (input.type == deploy::DType::float32 && a.type == NpyType::float32) {
      std::memcpy(bytes.data(), a.data.data() + s * per * 4, per * 4);
    } else if (input.type == deploy::DType::int8 && a.type == NpyType::int8) {
      std::memcpy(bytes.data(), a.data.data() + s * per, per);
    } else if (input.type == deploy::DType::int8 && a.type == NpyType::float32) {
      const rt::QuantizeParams q{input.quant.scale.at(0), input.quant.zero_point.at(0)};
      rt::quantize_f32_s8(q, rt::Shape{1, 1, 1, static_cast<std::int32_t>(per)},
                          reinterpret_cast<const float*>(a.data.data()) + s * per, reinterpret_cast<std::int8_t*>(bytes.data()));
    } else {
      throw invalid_input(file, std::string("the model input is ") + (input.type == deploy::DType::int8 ? "int8" : "float32") +
                                    "; give int8 or float32 values");
    }
    samples.push_back(std::move(bytes));
  }
  return samples;
}

std::vector<double> dequantized(const deploy::Tensor& t, const std::vector<std::uint8_t>& raw) {
  std::vector<double> v;
  if (t.type == deploy::DType::float32) {
    for (std::size_t i = 0; i + 4 <= raw.size(); i += 4) {
      float f;
      std::memcpy(&f, raw.data() + i, 4);
      v.push_back(f);
    }
  } else {
    for (std::uint8_t b : raw)
      v.push_back(static_cast<double>(t.quant.scale.at(0)) * (static_cast<std::int8_t>(b) - t.quant.zero_point.at(0)));
  }
  return v;
}

int run(const Context& ctx, const RunArgs& args) {
  const deploy::Board board = deploy::parse_model_board(args.board);
  const deploy::CompiledModel m = load_compiled_model(args.model);
  const deploy::Tensor& input = m.graph.tensors.at(static_cast<std::size_t>(m.graph.inputs.at(0)));
  const deploy::Tensor& output = m.graph.tensors.at(static_cast<std::size_t>(m.graph.outputs.at(0)));
  const auto samples = samples_of(npy_read(args.input), input, args.input);

  std::vector<std::vector<std::uint8_t>> outputs;
  std::vector<double> instructions;
  if (board == deploy::Board::host) {
    for (const auto& s : samples) outputs.push_back(deploy::run_compiled(m, {s}).outputs.at(0));
  } else {
    const deploy::GeneratedModel code = deploy::generate_model(m);
    const fs::path dir = deploy::model_cache_dir(sha256_hex(code.header + code.source));
    if (ctx.show_progress()) std::cerr << "building the " << args.board << " firmware...\r" << std::flush;
    const deploy::ModelPackage p = deploy::package_model(m, {}, board, dir);
    const deploy::RunnerResult r = deploy::run_model_firmware(p.image, samples);
    outputs = r.outputs;
    instructions = r.instructions;
  }

  if (!args.out.empty()) {
    std::vector<std::uint8_t> all;
    for (const auto& o : outputs) all.insert(all.end(), o.begin(), o.end());
    std::vector<std::size_t> shape;
    if (outputs.size() > 1) shape.push_back(outputs.size());
    for (int d : output.shape) shape.push_back(static_cast<std::size_t>(d));
    write_file_atomic(args.out, npy_encode(output.type == deploy::DType::int8 ? NpyType::int8 : NpyType::float32, shape, all));
  }

  json results = json::array();
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    json r{{"raw", output.type == deploy::DType::int8
                       ? json(std::vector<int>(reinterpret_cast<const std::int8_t*>(outputs[i].data()),
                                               reinterpret_cast<const std::int8_t*>(outputs[i].data()) + outputs[i].size()))
                       : json(nullptr)},
           {"values", dequantized(output, outputs[i])}};
    if (i < instructions.size()) r["instructions"] = static_cast<long long>(instructions[i] + 0.5);
    results.push_back(r);
  }
  json doc{{"ok", true}, {"model", args.model}, {"board", args.board}, {"inferences", outputs.size()},
           {"output_shape", output.shape}, {"results", results}};
  if (!args.out.empty()) doc["out"] = args.out;
  ctx.print(doc, [&](std::ostream& out) {
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto values = results[i]["values"].get<std::vector<double>>();
      std::size_t best = 0;
      for (std::size_t k = 1; k < values.size(); ++k)
        if (values[k] > values[best]) best = k;
      out << "#" << i << ":";
      for (std::size_t k = 0; k < values.size() && k < 12; ++k) out << " " << values[k];
      if (values.size() > 12) out << " ... (" << values.size() << " values)";
      if (values.size() > 1) out << "  -> top " << best;
      if (results[i].contains("instructions")) out << "  [" << results[i]["instructions"] << " instructions]";
      out << "\n";
    }
    if (!args.out.empty()) out << "Wrote " << args.out << "\n";
  });
  return 0;
}

}  // namespace

Verb add_run_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = tml.add_subcommand("run", "run an int8 .tflite model on inputs from a .npy file (host or emulated board)");
  sub->add_option("model", args->model, "the .tflite file")->required();
  sub->add_option("--input", args->input, ".npy with one or more inputs (int8, or float32 quantized with the input's scale)")
      ->required();
  sub->add_option("--board", args->board, "host (in process) or qemu-m4 (the generated firmware under QEMU)")
      ->check(CLI::IsMember({"host", "qemu-m4"}));
  sub->add_option("--out", args->out, "write the raw output tensors to this .npy");
  return {sub, [&ctx, args] { return run(ctx, *args); }};
}

}  // namespace tml::cli
