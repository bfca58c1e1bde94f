// tml test: the test split through the board, stage by stage. The emulated board (qemu-m4, host) is
// flashed with the built app, its sensor replaying the test split's raw windows; for every window
// the board computes features and int8 outputs from the raw signal (CLASSIFY) and tml compares them
// byte for byte with the same source built for the host (model_runner --raw). Reports parity,
// the device's accuracy and confusion matrix, its cost per stage and its flash/RAM; writes
// build/reports/test.json. Exit 1 when host and device disagree (a tml bug).
#include <algorithm>
#include <iostream>

#include "board_output.h"
#include "build_reports.h"
#include "built_firmware.h"
#include "collect/board_classify.h"
#include "context.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "deploy/evaluation.h"
#include "deploy/firmware_build.h"
#include "model_summary.h"
#include "progress_line.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct TestArgs {
  std::string board;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

int run_test(const Context& ctx, const TestArgs& args) {
  Project project = load_project(".");
  const std::string board = args.board.empty() ? project.config["target"].value("board", "qemu-m4") : args.board;
  if (board == "nano33ble")
    throw invalid_input("--board nano33ble", "tml test replays the test split through the board's sensor, which only the "
                                             "emulated boards can do; run it on --board qemu-m4 (the same Cortex-M4F code)");
  const BuiltFirmware fw = built_firmware(project, board);
  const LabelledFiles split = test_split(project);
  if (split.files.empty()) throw invalid_input((project.dataset_dir() / "manifest.jsonl").string(), "the test split is empty; add samples (tml import, tml collect)");
  const auto labels = project.labels();

  // The test windows as the sensor delivers them, and the replay file the board's sensor plays.
  std::vector<std::vector<std::uint8_t>> windows;
  std::vector<std::uint8_t> stream;
  for (const auto& f : split.files) {
    windows.push_back(sensor_window_of(project, sensor_bytes_of(project, f)));
    stream.insert(stream.end(), windows.back().begin(), windows.back().end());
  }
  ReplaySensor replay{project_sensor(project), fs::absolute(project.root / ".tml" / "replay" / "test.raw"), {}};
  for (const auto& f : split.files) replay.sources.push_back(f.string());
  fs::create_directories(replay.raw_file.parent_path());
  write_file_atomic(replay.raw_file, stream);

  // The host: the same sources built for this machine.
  if (ctx.show_progress()) std::cerr << "building the host reference...\r" << std::flush;
  const deploy::FirmwareImage host_image =
      deploy::build_model_firmware(fw.model_dir, deploy::Board::host, project.root / "build" / "deploy" / "build-host");
  const deploy::RunnerResult host = deploy::run_model_firmware(host_image, windows, true);

  // The board.
  if (ctx.show_progress()) std::cerr << "flashing the " << board << " board...\r" << std::flush;
  FlashedBoard b = flash_app(project, fw, replay);
  std::vector<WindowResult> device;
  {
    ProgressLine progress(ctx.show_progress());
    ClassifyRequest req;
    req.sensor = project_sensor_index(b.hello, project, board + " board");
    req.take = 1;
    req.windows = static_cast<std::uint32_t>(windows.size());
    req.hop_bytes = fw.window_bytes;
    req.as_fast_as_possible = true;
    req.send_features = true;
    const ClassifyRun run = classify_on_board(
        *b.client, req,
        [&](const WindowResult& w) {
          device.push_back(w);
          progress.update("classifying the test split on the " + board + " board", device.size(), windows.size());
          return true;
        },
        [] { return interrupted(); });
    if (run.stopped) throw Error(ExitCode::interrupted, "tml test interrupted after " + std::to_string(device.size()) + " of " +
                                                            std::to_string(windows.size()) + " test samples");
  }

  // Stage by stage: features (float32 bytes), then the int8 outputs.
  std::size_t features_same = 0, outputs_same = 0;
  std::vector<int> predicted_labels;
  json mismatches = json::array(), results = json::array();
  std::vector<double> feature_instr, inference_instr, feature_ms, inference_ms;
  for (std::size_t i = 0; i < device.size(); ++i) {
    const bool f_same = device[i].features == host.features[i];
    const bool o_same = device[i].outputs == host.outputs[i];
    features_same += f_same;
    outputs_same += o_same;
    if ((!f_same || !o_same) && mismatches.size() < 20)
      mismatches.push_back({{"sample", split.files[i].string()}, {"features_identical", f_same}, {"outputs_identical", o_same}});
    const int predicted = deploy::argmax(reinterpret_cast<const std::int8_t*>(device[i].outputs.data()), device[i].outputs.size());
    predicted_labels.push_back(predicted);
    results.push_back({{"file", fs::relative(split.files[i], project.root).string()},
                       {"truth", labels[static_cast<std::size_t>(split.labels[i])]},
                       {"predicted", labels[static_cast<std::size_t>(predicted)]},
                       {"features_identical", f_same}, {"outputs_identical", o_same}});
    const double ipt = instructions_per_tick(board, device[i].tick_hz);
    if (ipt > 0) {
      feature_instr.push_back(device[i].features_ticks * ipt);
      inference_instr.push_back(device[i].inference_ticks * ipt);
    }
    if (device[i].tick_hz > 0) {
      feature_ms.push_back(1e3 * device[i].features_ticks / device[i].tick_hz);
      inference_ms.push_back(1e3 * device[i].inference_ticks / device[i].tick_hz);
    }
  }
  const int classes = static_cast<int>(labels.size());
  const deploy::Evaluation on_device = deploy::evaluate(split.labels, predicted_labels, classes);
  const double host_int8 = fw.report["quantize"]["int8"].value("accuracy", 0.0);
  const double n = static_cast<double>(device.size());

  json doc{{"ok", features_same == device.size() && outputs_same == device.size()},
           {"board", board},
           {"hello", hello_json(b.hello)},
           {"samples", device.size()},
           {"parity", {{"features_identical", features_same}, {"outputs_identical", outputs_same},
                       {"features_percent", 100.0 * features_same / n}, {"outputs_percent", 100.0 * outputs_same / n},
                       {"mismatches", mismatches}}},
           {"device", evaluation_json(on_device, labels)},
           {"host_int8_accuracy", host_int8},
           {"held_out_groups", {{"groups", split.groups}, {"also_in_training", split.groups_trained}}},
           {"accuracy_gap_points", 100.0 * (on_device.accuracy - host_int8)}};
  json cost{{"clock", board == "qemu-m4" ? "QEMU -icount shift=4: 62.5 M instructions per virtual second" : "host wall clock"},
            {"features_ms_median", median(feature_ms)}, {"inference_ms_median", median(inference_ms)}};
  if (!inference_instr.empty()) {
    cost["instructions_features_median"] = static_cast<long long>(median(feature_instr) + 0.5);
    cost["instructions_inference_median"] = static_cast<long long>(median(inference_instr) + 0.5);
  }
  // Per layer: measured by tml build on the same image's runner (one inference, exact).
  if (fw.report["firmware"].contains("instructions_per_inference"))
    cost["build_instructions_per_inference"] = fw.report["firmware"]["instructions_per_inference"];
  doc["cost"] = cost;
  if (!fw.app_map.empty() && fs::exists(fw.app_map)) {
    const deploy::ImageUse use = deploy::read_link_map(fw.app_map);
    doc["memory"] = image_use(use);
    doc["memory"]["flash_total_bytes"] = use.flash();
    doc["memory"]["ram_total_bytes"] = use.ram();  // static: .data + .bss
    doc["memory"]["stack_bound_bytes"] = fw.report["firmware"].value("stack_bound_bytes", 0LL);
  }
  doc["results"] = results;
  if (!doc["ok"].get<bool>())
    doc["error"] = {{"code", static_cast<int>(ExitCode::internal)},
                    {"message", "host and device disagree on " + std::to_string(device.size() - std::min(features_same, outputs_same)) +
                                    " test samples (a tml bug: please report it with build/reports/test.json)"}};
  fs::create_directories(project.root / "build" / "reports");
  write_file_atomic(project.root / "build" / "reports" / "test.json", doc.dump(2) + "\n");

  ctx.print(doc, [&](std::ostream& out) {
    char line[256];
    out << "Tested " << project.name() << " on the " << board << " board (" << device.size() << " test samples, raw signal -> features -> int8 on the device)\n";
    std::snprintf(line, sizeof line, "  parity        features %zu/%zu identical, outputs %zu/%zu identical (host = device %.1f%%)\n",
                  features_same, device.size(), outputs_same, device.size(), 100.0 * std::min(features_same, outputs_same) / n);
    out << line;
    std::snprintf(line, sizeof line, "  accuracy      device %.1f%%, host int8 %.1f%% (%+.1f points)", 100 * on_device.accuracy,
                  100 * host_int8, 100.0 * (on_device.accuracy - host_int8));
    out << line;
    if (split.groups > 0)  // samples imported with --group-pattern (speakers, machines)
      out << "; " << split.groups - split.groups_trained << " of the test split's " << split.groups
          << " groups never seen in training";
    out << "\n\n";
    write_confusion_table(out, doc["device"], labels, "device");
    out << "\n";
    if (cost.contains("instructions_inference_median")) {
      std::snprintf(line, sizeof line, "  cost          %lld instructions preprocessing + %lld inference per window (Cortex-M4F, exact); %.1f + %.1f ms at 62.5 MIPS\n",
                    cost["instructions_features_median"].get<long long>(), cost["instructions_inference_median"].get<long long>(),
                    median(feature_ms), median(inference_ms));
    } else {
      std::snprintf(line, sizeof line, "  cost          %.2f ms preprocessing + %.2f ms inference per window (host clock)\n", median(feature_ms), median(inference_ms));
    }
    out << line;
    if (doc.contains("memory")) {
      std::snprintf(line, sizeof line, "  memory        flash %lld B, RAM %lld B static + %lld B stack bound (the whole board app: model, runtime, preprocessing, protocol)\n",
                    doc["memory"]["flash_total_bytes"].get<long long>(), doc["memory"]["ram_total_bytes"].get<long long>(),
                    doc["memory"]["stack_bound_bytes"].get<long long>());
      out << line;
    }
    out << "  report        build/reports/test.json\n";
  });
  if (!doc["ok"].get<bool>()) {
    std::cerr << "tml: error: host and device disagree on " << device.size() - std::min(features_same, outputs_same) << " of " << device.size()
              << " test samples (a tml bug: please report it with build/reports/test.json)\n";
    return static_cast<int>(ExitCode::internal);
  }
  return 0;
}

}  // namespace

Verb add_test_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<TestArgs>();
  CLI::App* sub = tml.add_subcommand("test", "run the test split through the board and prove host = device, stage by stage");
  sub->add_option("--board,-b", args->board, "qemu-m4 or host (default: target.board in tml.yaml)");
  return {sub, [&ctx, args] { return run_test(ctx, *args); }};
}

}  // namespace tml::cli
