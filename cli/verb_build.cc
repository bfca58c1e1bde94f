// tml build: the whole chain, incrementally — features -> train -> quantize (+ evaluate, generate
// code) -> firmware (+ fit check, instructions measured on the emulated Cortex-M4F) — and a summary.
// Each stage records the hash of its inputs in build/stages.json; a stage whose inputs did not change
// is not run (its last results come from build/report.json). Outputs: build/model/ (trainer),
// build/deploy/model/ (model.h/.cc), build/deploy/build-<board>/ (image), build/report.json,
// build/reports/*.png.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "build_reports.h"
#include "build_steps.h"
#include "collect/emulated_board.h"
#include "collect/feature_extraction.h"
#include "context.h"
#include "core/atomic_file.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "core/sha256.h"
#include "deploy/arduino_export.h"
#include "deploy/fit_check.h"
#include "deploy/model_package.h"
#include "feature_store.h"
#include "model_summary.h"
#include "progress_line.h"
#include "train_progress.h"
#include "train_runner.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Bumped when a stage's outputs change meaning, so old builds re-run.
constexpr const char* kBuildFormat = "tml-build-1";

struct BuildArgs {
  int epochs = 0;
  int threads = 0;
  bool force = false;
};

// The tml binary itself: a new quantizer or code generator must re-run quantize and firmware.
const std::string& tml_binary_hash() {
  static const std::string hash = sha256_file(fs::read_symlink("/proc/self/exe"));
  return hash;
}

json read_json_or_empty(const fs::path& file) {
  if (!fs::exists(file)) return json::object();
  json j = json::parse(read_file_text(file), nullptr, false);
  return j.is_discarded() || !j.is_object() ? json::object() : j;
}

void stage_line(const Context& ctx, int index, const std::string& name, const std::string& what) {
  if (!ctx.quiet) std::cerr << "[" << index << "/4] " << name << ": " << what << "\n";
}

int run_build(const Context& ctx, const BuildArgs& args) {
  Project project = load_project(".");
  const fs::path build = project.root / "build";
  const fs::path stages_file = build / "stages.json";
  json stages = args.force ? json::object() : read_json_or_empty(stages_file);
  json report = read_json_or_empty(build / "report.json");
  json ran = json::object();
  std::vector<std::string> warnings;
  // report.json first: a stage recorded as current always has its results on disk.
  const auto save_stages = [&] {
    write_file_atomic(build / "report.json", report.dump(2) + "\n");
    write_file_atomic(stages_file, stages.dump(2) + "\n");
  };

  // 1. features (cached per sample and config by the feature store)
  DatasetStore store(project.dataset_dir());
  FeatureExtractor extractor(project);
  json features;
  {
    ProgressLine progress(ctx.show_progress());
    FeatureRunOptions options{.progress = [&](std::size_t done, std::size_t total) { progress.update("features", done, total); }};
    features = preprocess_dataset(project, store, extractor, options);
  }
  const bool features_ran = !features.value("up_to_date", true);
  ran["features"] = features_ran;
  stage_line(ctx, 1, "features", features_ran ? "computed " + std::to_string(features.value("computed", 0)) + " sample(s)" : "up to date");
  if (features["splits"]["train"].value("count", 0) == 0)
    throw invalid_input(store.dir().string(), "no samples in the train split; add data with `tml import` or `tml collect`");
  const std::string features_digest = features.value("config_hash", "") + features.value("dataset_digest", "");
  report["dataset"] = {{"train", features["splits"]["train"]["count"]}, {"validation", features["splits"]["validation"]["count"]},
                       {"test", features["splits"]["test"]["count"]}};
  report["features"] = {{"shape", features["shape"]}, {"dtype", features["dtype"]}, {"config_hash", features["config_hash"]}};

  // 2. train
  const fs::path onnx = build / "model" / "model.onnx";
  const std::string train_inputs =
      sha256_hex(std::string(kBuildFormat) + features_digest + project.config["labels"].dump() + project.config["model"].dump() +
                 project.config["train"].dump() + std::to_string(args.epochs));
  const bool train_current = stages.value("train", "") == train_inputs && fs::exists(onnx) && report.contains("train");
  ran["train"] = !train_current;
  if (!train_current) {
    const train::TrainResult r = run_trainer(ctx, project, features, {.epochs = args.epochs, .seed = -1, .threads = args.threads});
    const json& m = r.metrics_doc;
    report["train"] = {{"architecture", project.config["model"]["architecture"]},
                       {"parameters", m.value("parameters", json(nullptr))},
                       {"epochs_run", m.value("epochs_run", json(nullptr))},
                       {"seconds", r.seconds},
                       {"test_accuracy", m.contains("test") ? m["test"].value("accuracy", json(nullptr)) : json(nullptr)}};
    stages["train"] = train_inputs;
    stages.erase("quantize");
    save_stages();
  }
  stage_line(ctx, 2, "train", train_current ? "up to date" : "trained " + report["train"]["architecture"].get<std::string>());

  // 3. quantize, evaluate, generate code
  const fs::path deploy_dir = build / "deploy";
  const std::string config_hash = sha256_hex(project.config_hash() + sha256_file(onnx)).substr(0, 16);
  const std::string quantize_inputs =
      sha256_hex(std::string(kBuildFormat) + tml_binary_hash() + sha256_file(onnx) + project.config["quantize"].dump() +
                 features_digest + config_hash + project.name());
  const bool quantize_current = stages.value("quantize", "") == quantize_inputs &&
                                fs::exists(deploy_dir / "model" / "model.cc") && report.contains("quantize");
  ran["quantize"] = !quantize_current;
  if (!quantize_current) {
    if (ctx.show_progress()) std::cerr << "quantizing and evaluating...\r" << std::flush;
    const QuantizeStage q = quantize_and_evaluate(project, onnx, build / "features", config_hash);
    const auto labels = project.labels();
    const deploy::CompiledModel& m = q.compiled;
    json quant = model_totals(m);
    quant["float"] = evaluation_json(q.float_eval, labels);
    quant["int8"] = evaluation_json(q.int8_eval, labels);
    quant["drop_points"] = 100.0 * (q.float_eval.accuracy - q.int8_eval.accuracy);
    quant["calibration_samples"] = q.quantized.report.samples_used;
    std::vector<deploy::LayerError> worst = q.layers;
    std::sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) { return a.snr_db < b.snr_db; });
    json layers = json::array();
    for (std::size_t i = 0; i < worst.size() && i < 3; ++i)
      layers.push_back({{"op", worst[i].op}, {"kind", deploy::op_name(worst[i].kind)}, {"snr_db", worst[i].snr_db},
                        {"max_error_steps", worst[i].max_error_steps}});
    quant["worst_layers"] = layers;
    quant["config_hash"] = config_hash;
    quant["input_bytes"] = m.graph.tensors[static_cast<std::size_t>(m.graph.inputs[0])].bytes();
    quant["warnings"] = q.quantized.report.warnings;
    report["quantize"] = quant;
    fs::create_directories(build / "reports");
    write_confusion_png(build / "reports" / "confusion_int8.png", q.int8_eval, labels, project.name() + ": int8 model, test split");
    write_confusion_png(build / "reports" / "confusion_float.png", q.float_eval, labels, project.name() + ": float model, test split");
    write_arena_png(build / "reports" / "arena.png", m);
    const deploy::GeneratedModel code = deploy::generate_model(m, q.codegen);
    fs::create_directories(deploy_dir / "model");
    write_file_atomic(deploy_dir / "model" / "model.h", code.header);
    write_file_atomic(deploy_dir / "model" / "model.cc", code.source);
    write_file_atomic(deploy_dir / "model" / "tml_features.h", features_header(project));
    // The test split as the int8 model sees it, and the host runtime's outputs: the firmware stage
    // runs the same inputs on the emulated Cortex-M4F and must get the same bytes.
    std::vector<std::uint8_t> inputs, outputs;
    for (const auto& v : q.test_inputs) inputs.insert(inputs.end(), v.begin(), v.end());
    for (const auto& v : q.test_outputs) outputs.insert(outputs.end(), v.begin(), v.end());
    write_file_atomic(deploy_dir / "test_inputs.bin", inputs);
    write_file_atomic(deploy_dir / "test_outputs_host.bin", outputs);
    stages["quantize"] = quantize_inputs;
    stages.erase("firmware");
    save_stages();
  }
  const double drop = report["quantize"].value("drop_points", 0.0);
  const double max_drop = project.config["quantize"].value("max_accuracy_drop", 1.0);
  if (drop > max_drop) {
    std::string names;
    for (const auto& l : report["quantize"]["worst_layers"]) names += (names.empty() ? "" : ", ") + l["op"].get<std::string>();
    char line[256];
    std::snprintf(line, sizeof line, "int8 accuracy is %.1f points below float (quantize.max_accuracy_drop %.1f); "
                  "largest quantization error in: %s", drop, max_drop, names.c_str());
    warnings.push_back(line);
  }
  stage_line(ctx, 3, "quantize", quantize_current ? "up to date" : "int8 model generated");

  // 4. firmware: the model built for the Cortex-M4F (sizes, stack, instructions), checked against the board
  const std::string board = project.config["target"].value("board", "qemu-m4");
  const std::string model_text = read_file_text(deploy_dir / "model" / "model.cc") + read_file_text(deploy_dir / "model" / "model.h") +
                                 read_file_text(deploy_dir / "model" / "tml_features.h");
  const std::string firmware_inputs = sha256_hex(std::string(kBuildFormat) + tml_binary_hash() + model_text + board);
  const fs::path image_dir = deploy_dir / "build-qemu-m4";
  const bool firmware_current =
      stages.value("firmware", "") == firmware_inputs && fs::exists(image_dir / "model_runner.elf") && report.contains("firmware");
  ran["firmware"] = !firmware_current;
  if (!firmware_current) {
    if (ctx.show_progress()) std::cerr << "building the firmware...\r" << std::flush;
    const deploy::FirmwareImage image = deploy::build_model_firmware(deploy_dir / "model", deploy::Board::qemu_m4, image_dir);
    if (board == "host") deploy::build_model_firmware(deploy_dir / "model", deploy::Board::host, deploy_dir / "build-host");
    // Sized on the board app (what tml flash puts on the board), not the test runner.
    const deploy::ImageUse use = deploy::read_link_map(image.app_map.empty() ? image.map : image.app_map);
    const std::int64_t stack = deploy::stack_bound(image_dir);
    const deploy::FitReport fit = deploy::check_fit(deploy::board_limits(board, use), use, stack);
    json firmware = image_use(use);
    firmware["board"] = board;
    firmware["stack_bound_bytes"] = stack;
    firmware["fits"] = fit.fits();
    firmware["fit_report"] = fit.text();
    firmware["image"] = fs::relative(image.runner, project.root).string();
    // One inference on the emulated Cortex-M4F, exact instruction count (the same core as the Nano 33 BLE).
    // The whole test split on the emulated Cortex-M4F: its output bytes must equal the host runtime's,
    // and the first inference gives the exact instruction count (the Nano 33 BLE has the same core).
    const std::size_t input_bytes = report["quantize"].value("input_bytes", std::size_t{0});
    const auto inputs = read_file_bytes(deploy_dir / "test_inputs.bin");
    const auto host_outputs = read_file_bytes(deploy_dir / "test_outputs_host.bin");
    std::vector<std::vector<std::uint8_t>> samples;
    for (std::size_t at = 0; input_bytes && at + input_bytes <= inputs.size(); at += input_bytes)
      samples.emplace_back(inputs.begin() + static_cast<long>(at), inputs.begin() + static_cast<long>(at + input_bytes));
    // No test samples (a tiny dataset, test_fraction 0): one input at zero measures the cost, no parity.
    const bool have_tests = !samples.empty();
    if (!have_tests) samples.emplace_back(input_bytes, 0);
    const deploy::RunnerResult r = deploy::run_model_firmware(image, samples);
    std::size_t identical = 0;
    const std::size_t output_bytes = samples.empty() || r.outputs.empty() ? 0 : r.outputs[0].size();
    for (std::size_t i = 0; i < r.outputs.size() && (i + 1) * output_bytes <= host_outputs.size(); ++i)
      identical += std::equal(r.outputs[i].begin(), r.outputs[i].end(), host_outputs.begin() + static_cast<long>(i * output_bytes));
    firmware["parity"] = {{"samples", samples.size()}, {"identical", identical}};
    if (!r.instructions.empty()) firmware["instructions_per_inference"] = static_cast<long long>(r.instructions[0] + 0.5);
    // From the raw signal: the test samples as the sensor delivers them, preprocessed on the device
    // (tml_features.h + the portable core), quantized and classified; compared with the host's outputs
    // (tml's features of the stored files). Equal for audio and IMU; for a camera, equal when the
    // stored image is already the sensor's frame (size and pixel format), else the frame encoding
    // itself changes the input.
    std::vector<std::vector<std::uint8_t>> raws;
    for (const auto& e : store.entries())
      if (e.value("split", "") == "test" && project.has_label(e["label"]))
        raws.push_back(sensor_window_of(project, sensor_bytes_of(project, store.dir() / e["path"].get<std::string>())));
    deploy::RunnerResult raw;
    if (!raws.empty()) {
      try {
        raw = deploy::run_model_firmware(image, raws, true);
      } catch (const Error& e) {  // reported, not fatal: the host = device proof above is the one enforced
        firmware["raw_parity"] = {{"samples", raws.size()}, {"identical", 0}, {"error", e.what()}};
        raws.clear();
      }
    }
    if (!raws.empty()) {
      std::size_t same = 0;
      for (std::size_t i = 0; i < raw.outputs.size() && (i + 1) * output_bytes <= host_outputs.size(); ++i)
        same += std::equal(raw.outputs[i].begin(), raw.outputs[i].end(), host_outputs.begin() + static_cast<long>(i * output_bytes));
      firmware["raw_parity"] = {{"samples", raws.size()}, {"identical", same}};
      // The median: the first input also pays the one-time set-up (window, twiddles, filterbank).
      if (!raw.feature_instructions.empty()) {
        std::vector<double> t = raw.feature_instructions;
        std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
        firmware["instructions_preprocessing"] = static_cast<long long>(t[t.size() / 2] + 0.5);
      }
    }
    if (identical != samples.size())
      throw Error(ExitCode::internal, "the Cortex-M4F build's outputs differ from the host runtime's on " +
                                          std::to_string(samples.size() - identical) + " of " + std::to_string(samples.size()) +
                                          " test samples (a tml bug: please report it with build/deploy/)");
    if (board == "nano33ble") {
      const deploy::ArduinoExport sketch = deploy::export_arduino_sketch(deploy_dir / "model", deploy_dir / "nano33ble");
      firmware["arduino"] = {{"sketch", fs::relative(sketch.sketch, project.root).string()},
                             {"binary", sketch.binary.empty() ? json(nullptr) : json(sketch.binary.string())},
                             {"note", sketch.note}};
    }
    report["firmware"] = firmware;
    write_file_atomic(build / "report.json", report.dump(2) + "\n");
    if (!fit.fits()) {
      throw Error(ExitCode::invalid_input, "the model does not fit " + board + ": " + fit.overflow() +
                                               "; build/report.json (firmware.fit_report) shows what takes the space: a smaller model, input or camera frame helps");
    }
    stages["firmware"] = firmware_inputs;
    save_stages();
  }
  stage_line(ctx, 4, "firmware", firmware_current ? "up to date" : "built for " + board);
  report["warnings"] = warnings;
  report["stages_run"] = ran;
  write_file_atomic(build / "report.json", report.dump(2) + "\n");
  for (const auto& w : warnings) spdlog::warn("{}", w);

  json doc = report;
  doc["ok"] = true;
  ctx.print(doc, [&](std::ostream& out) {
    const auto pct = [](const json& v) { return v.is_number() ? format_percent(v.get<double>()) : std::string("-"); };
    const json& q = report["quantize"];
    const json& f = report["firmware"];
    bool any = false;
    for (const auto& [k, v] : ran.items()) any = any || v.get<bool>();
    out << (any ? "Built " : "Nothing changed: every stage is up to date. ") << project.name() << " for " << board << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  dataset       %d train / %d validation / %d test samples\n",
                  report["dataset"]["train"].get<int>(), report["dataset"]["validation"].get<int>(), report["dataset"]["test"].get<int>());
    out << line;
    out << "  features      " << report["features"]["shape"].dump() << " " << report["features"]["dtype"].get<std::string>() << "\n";
    if (report.contains("train")) out << "  model         " << report["train"]["architecture"].get<std::string>() << ", "
                                      << report["train"]["parameters"].dump() << " parameters\n";
    out << "  accuracy      float " << pct(q["float"]["accuracy"]) << ", int8 " << pct(q["int8"]["accuracy"]) << " (test split, "
        << q["int8"]["count"] << " samples)\n";
    out << "\n";
    write_confusion_table(out, q["int8"], project.labels(), "int8");
    out << "\n";
    std::snprintf(line, sizeof line, "  arena         %lld B (lower bound %lld B, TFLM greedy %lld B)\n",
                  q["arena"]["bytes"].get<long long>(), q["arena"]["lower_bound"].get<long long>(),
                  q["arena"]["tflm_greedy"].get<long long>());
    out << line;
    if (f.is_object()) {
      std::snprintf(line, sizeof line, "  flash         model %lld B + runtime %lld B + preprocessing %lld B; RAM model %lld B, stack bound %lld B\n",
                    f["flash_bytes"]["model"].get<long long>(), f["flash_bytes"]["runtime"].get<long long>(),
                    f["flash_bytes"]["preprocess"].get<long long>(),
                    f["ram_bytes"]["model"].get<long long>(), f["stack_bound_bytes"].get<long long>());
      out << line;
    }
    if (f.is_object() && f.contains("parity"))
      out << "  host = device " << f["parity"]["identical"] << " of " << f["parity"]["samples"]
          << " test samples give identical output bytes on the emulated Cortex-M4F\n";
    if (f.is_object() && f.contains("raw_parity"))
      out << "  from raw      " << f["raw_parity"]["identical"] << " of " << f["raw_parity"]["samples"]
          << " raw test signals, preprocessed on the device, give the host's output bytes\n";
    out << "  cost          " << q["macs"] << " MACs";
    if (f.is_object() && f.contains("instructions_per_inference"))
      out << ", " << f["instructions_per_inference"] << " instructions per inference"
          << (f.contains("instructions_preprocessing") ? " + " + f["instructions_preprocessing"].dump() + " preprocessing" : "")
          << " (Cortex-M4F, exact, QEMU)";
    out << "\n";
    if (f.is_object() && f.contains("arduino")) out << "  nano33ble     " << f["arduino"]["sketch"].get<std::string>() << ": "
                                                    << f["arduino"]["note"].get<std::string>() << "\n";
    out << "  outputs       build/deploy/model/model.h, model.cc; " << (f.is_object() ? f["image"].get<std::string>() : "")
        << "; build/report.json; build/reports/*.png\n";
  });
  return 0;
}

}  // namespace

Verb add_build_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<BuildArgs>();
  CLI::App* sub = tml.add_subcommand("build", "features, training, int8 quantization and firmware, incrementally, with a summary");
  sub->add_option("--epochs", args->epochs, "maximum training epochs (default: train.epochs)")->check(CLI::Range(1, 10000));
  sub->add_option("--threads", args->threads, "training threads")->check(CLI::Range(1, 256));
  sub->add_flag("--force", args->force, "run every stage even when its inputs did not change");
  return {sub, [&ctx, args] { return run_build(ctx, *args); }};
}

}  // namespace tml::cli
