// tml deploy MODEL.tflite [--board qemu-m4|host] [--out DIR]: plan, generate and build the firmware
// for an existing int8 model; DIR/model/ holds the generated model.h/.cc, DIR/build-<board>/ the
// image, DIR/report.json the summary. On qemu-m4 one inference (on the input's zero point) is run
// to measure the exact instruction count.
#include <iostream>

#include "context.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "deploy/arduino_export.h"
#include "deploy/fit_check.h"
#include "deploy/model_package.h"
#include "model_summary.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct DeployArgs {
  std::string model, out, board = "qemu-m4";
};

// One input at the input's zero point (real 0): the cost of an inference barely depends on data.
std::vector<std::uint8_t> zero_input(const deploy::Tensor& input) {
  std::vector<std::uint8_t> bytes(input.bytes(), 0);
  if (input.type == deploy::DType::int8 && !input.quant.zero_point.empty())
    std::fill(bytes.begin(), bytes.end(), static_cast<std::uint8_t>(static_cast<std::int8_t>(input.quant.zero_point[0])));
  return bytes;
}

int run(const Context& ctx, const DeployArgs& args) {
  // nano33ble: the Cortex-M4F image (the same core and compiler) gives sizes and instructions, and
  // the model is exported as an Arduino sketch.
  const bool nano = args.board == "nano33ble";
  const deploy::Board board = nano ? deploy::Board::qemu_m4 : deploy::parse_model_board(args.board);
  const deploy::CompiledModel m = load_compiled_model(args.model);
  const fs::path out = args.out.empty() ? fs::path(fs::path(args.model).stem().string() + "-" + args.board) : fs::path(args.out);
  if (ctx.show_progress()) std::cerr << "generating and building the " << args.board << " firmware...\r" << std::flush;
  deploy::CodegenOptions options;
  options.source_label = fs::path(args.model).filename().string();
  const deploy::ModelPackage p = deploy::package_model(m, options, board, out);
  json doc{{"ok", true}, {"model", args.model}, {"board", args.board}, {"out", out.string()},
           {"model_source", (p.model_dir / "model.cc").string()}, {"image", p.image.runner.string()}};
  doc.update(model_totals(m));
  if (p.use) {
    doc.update(image_use(*p.use));
    const deploy::FitReport fit = deploy::check_fit(deploy::board_limits(args.board, *p.use), *p.use,
                                                    deploy::stack_bound(p.image.runner.parent_path()));
    doc["fits"] = fit.fits();
    doc["fit_report"] = fit.text();
    if (!fit.fits()) {
      write_file_atomic(out / "report.json", doc.dump(2) + "\n");
      throw Error(ExitCode::invalid_input, args.model + ": does not fit " + args.board + ": " + fit.overflow() + "; see " +
                                               (out / "report.json").string());
    }
  }
  if (nano) {
    const deploy::ArduinoExport sketch = deploy::export_arduino_sketch(p.model_dir, out / "nano33ble");
    doc["arduino"] = {{"sketch", sketch.sketch.string()},
                      {"binary", sketch.binary.empty() ? json(nullptr) : json(sketch.binary.string())},
                      {"note", sketch.note}};
  }
  if (board == deploy::Board::qemu_m4) {
    const deploy::Tensor& input = m.graph.tensors.at(static_cast<std::size_t>(m.graph.inputs.at(0)));
    const deploy::RunnerResult r = deploy::run_model_firmware(p.image, {zero_input(input)});
    if (!r.instructions.empty()) {
      const double instr = r.instructions[0];
      doc["instructions_per_inference"] = static_cast<long long>(instr + 0.5);
      doc["instructions_per_mac"] = m.macs ? instr / static_cast<double>(m.macs) : 0.0;
      json per_op = json::array();
      for (const auto& op : r.op_instructions) per_op.push_back({{"op", op.name}, {"instructions", static_cast<long long>(op.instructions + 0.5)}});
      doc["op_instructions"] = per_op;
    }
  }
  write_file_atomic(out / "report.json", doc.dump(2) + "\n");
  ctx.print(doc, [&](std::ostream& o) {
    o << "Deployed " << args.model << " for " << args.board << " -> " << out.string() << "\n";
    print_totals(o, m);
    if (p.use)
      o << "flash " << p.use->flash() << " B (model " << p.use->model_flash << ", runtime " << p.use->runtime_flash
        << ", runner + libc " << p.use->other_flash << "); RAM " << p.use->ram() << " B (arena and model "
        << p.use->model_ram << ")\n";
    if (doc.contains("instructions_per_inference")) {
      char line[128];
      std::snprintf(line, sizeof line, "%.3f M instructions per inference (%.2f per MAC), measured on qemu-m4\n",
                    doc["instructions_per_inference"].get<double>() / 1e6, doc["instructions_per_mac"].get<double>());
      o << line;
    }
    if (doc.contains("fit_report")) o << doc["fit_report"].get<std::string>();
    if (doc.contains("arduino")) o << "Arduino sketch: " << doc["arduino"]["sketch"].get<std::string>() << " ("
                                   << doc["arduino"]["note"].get<std::string>() << ")\n";
    o << "Image: " << p.image.runner.string() << "; report: " << (out / "report.json").string() << "\n";
  });
  return 0;
}

}  // namespace

Verb add_deploy_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<DeployArgs>();
  CLI::App* sub = tml.add_subcommand("deploy", "generate and build firmware for an int8 .tflite model");
  sub->add_option("model", args->model, "the .tflite file")->required();
  sub->add_option("--board", args->board, "qemu-m4 (default), host, or nano33ble (Arduino sketch; sized on the Cortex-M4F build)")
      ->check(CLI::IsMember({"host", "qemu-m4", "nano33ble"}));
  sub->add_option("--out", args->out, "output folder (default: <model>-<board>)");
  return {sub, [&ctx, args] { return run(ctx, *args); }};
}

}  // namespace tml::cli
