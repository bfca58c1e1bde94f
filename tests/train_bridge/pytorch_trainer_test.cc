// The bundled PyTorch trainer for real, on small synthetic features (a few seconds each): the JSON
// lines, model.onnx (tml's check and onnx.checker), metrics.json, reproducibility (same seed, same
// metrics; another seed, other metrics), the anomaly scorer, the camera network, and a Python
// without torch. Skipped when Debian's python3 has no torch (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/errors.h"
#include "core/project_file.h"
#include "train_bridge/bundled_trainer.h"
#include "train_bridge/trainer.h"
#include "train_fixtures.h"

namespace tml::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::TempDir;
using test::write_text;
namespace tt = tml::test::train;

const std::vector<std::string> kKeywords = {"yes", "no", "_silence", "_unknown"};

class PyTorchTrainer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!tt::have_torch()) GTEST_SKIP() << "/usr/bin/python3 has no torch (apt-get install python3-torch)";
  }
};

struct TrainRun {
  TrainResult result;
  std::vector<json> events;
};

TrainRun train_project(const fs::path& root, const json& features, TrainOptions options = {}) {
  TrainRun run;
  options.on_event = [&](const json& e) { run.events.push_back(e); };
  run.result = train_model(load_project(root), features, options);
  return run;
}

json without_timing(json metrics) {
  metrics.erase("seconds");
  return metrics;
}

void expect_onnx_checker_accepts(const fs::path& model) {
  auto r = run_process({"/usr/bin/python3", "-c",
                        "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m); "
                        "print(m.opset_import[0].version, m.graph.input[0].name, m.graph.output[0].name)",
                        model.string()});
  if (r.err.find("No module named 'onnx'") != std::string::npos) return;  // python3-onnx not installed
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

const char* kAudioYaml =
    "name: kws\nsensor:\n  kind: audio\nlabels: [yes, no, _silence, _unknown]\n"
    "model:\n  architecture: ds-cnn\n  filters: 16\n  blocks: 2\n"
    "train:\n  epochs: 6\n  batch: 32\n  lr: 0.003\n  threads: 2\n  early_stopping: 3\n";

TEST_F(PyTorchTrainer, AudioDsCnnTrainsExportsAndIsReproducible) {
  TempDir dir;
  write_text(dir / "tml.yaml", kAudioYaml);
  json features = tt::write_features(dir.path(), "audio", {49, 10}, kKeywords, {160, 40, 40}, 2.0f);
  std::vector<EpochProgress> progress;
  TrainOptions o;
  o.on_progress = [&](const EpochProgress& p) { progress.push_back(p); };
  TrainRun a = train_project(dir.path(), features, o);

  // JSON lines: start, one epoch event per epoch run, done.
  ASSERT_GE(a.events.size(), 3u);
  const json& start = a.events.front();
  EXPECT_EQ(start["event"], "start");
  EXPECT_EQ(start["protocol"], 1);
  EXPECT_EQ(start["architecture"], "ds-cnn");
  EXPECT_EQ(start["world_size"], 1);
  EXPECT_EQ(start["threads"], 2);
  EXPECT_EQ(start["train"], 160);
  EXPECT_GT(start["parameters"].get<int>(), 500);
  EXPECT_EQ(a.events.back()["event"], "done");
  const json& m = a.result.metrics_doc;
  int epochs_run = m["epochs_run"];
  EXPECT_EQ(progress.size(), static_cast<std::size_t>(epochs_run));
  EXPECT_EQ(m["history"].size(), static_cast<std::size_t>(epochs_run));
  for (const auto& p : progress) {
    EXPECT_EQ(p.phase, "classifier");
    EXPECT_TRUE(p.loss && p.accuracy && p.val_loss && p.val_accuracy);
    EXPECT_GE(p.eta_seconds, 0.0);
  }

  // The model: tml's check (opset 13, input, Softmax, supported ops) and onnx.checker.
  EXPECT_EQ(a.result.onnx.opset, 13);
  EXPECT_EQ(a.result.onnx.input_name, "input");
  EXPECT_EQ(a.result.onnx.input_shape, (std::vector<std::int64_t>{-1, 1, 49, 10}));
  EXPECT_EQ(a.result.onnx.output_shape, (std::vector<std::int64_t>{-1, 4}));
  EXPECT_EQ(a.result.onnx.output_producer, "Softmax");
  for (const auto& op : a.result.onnx.ops) {
    const auto& ok = supported_onnx_ops();
    EXPECT_NE(std::find(ok.begin(), ok.end(), op), ok.end()) << op;
  }
  expect_onnx_checker_accepts(a.result.model);

  std::printf("[ figures  ] ds-cnn 16x2: %d epochs, test accuracy %.1f%%, %.1f s\n", epochs_run,
              100 * m["test"]["accuracy"].get<double>(), a.result.seconds);
  // Metrics: the blobs are separable, so well above chance (25 %).
  EXPECT_GE(m["test"]["accuracy"].get<double>(), 0.6) << m.dump();
  EXPECT_EQ(m["test"]["count"], 40);
  int confusion_total = 0;
  for (const auto& row : m["test"]["confusion"])
    for (const auto& v : row) confusion_total += v.get<int>();
  EXPECT_EQ(confusion_total, 40);
  EXPECT_EQ(m["input"]["shape"], json({nullptr, 1, 49, 10}));
  EXPECT_EQ(m["class_weights"].size(), 4u);

  // Same job, same seed: the same metrics. Another seed: other metrics.
  TrainRun b = train_project(dir.path(), features);
  EXPECT_EQ(without_timing(a.result.metrics_doc), without_timing(b.result.metrics_doc));
  TrainRun c = train_project(dir.path(), features, {.overrides = {.seed = 2}});
  EXPECT_NE(without_timing(a.result.metrics_doc)["history"], without_timing(c.result.metrics_doc)["history"]);
  EXPECT_EQ(c.result.metrics_doc["seed"], 2);
}

TEST_F(PyTorchTrainer, ImuDenseWithAnomalyScorer) {
  TempDir dir;
  write_text(dir / "tml.yaml",
             "name: m\nsensor:\n  kind: imu\nlabels: [normal, imbalance, bearing_fault]\n"
             "model:\n  architecture: dense\n  hidden: [16, 8]\n  anomaly_detector: autoencoder\n"
             "train:\n  epochs: 8\n  batch: 16\n  lr: 0.01\n  threads: 1\n");
  json features = tt::write_features(dir.path(), "imu", {36}, {"normal", "imbalance", "bearing_fault"}, {90, 30, 30});
  TrainRun r = train_project(dir.path(), features);
  EXPECT_EQ(r.result.onnx.ops, (std::vector<std::string>{"Gemm", "Relu", "Softmax"}));
  EXPECT_EQ(r.result.onnx.input_shape, (std::vector<std::int64_t>{-1, 36}));
  ASSERT_FALSE(r.result.anomaly_model.empty());
  EXPECT_TRUE(fs::exists(r.result.anomaly_model));
  expect_onnx_checker_accepts(r.result.anomaly_model);
  const json& a = r.result.metrics_doc["anomaly"];
  EXPECT_GT(a["threshold"].get<double>(), 0.0);
  EXPECT_EQ(a["output"], "score");
  bool saw_anomaly_phase = false;
  for (const auto& e : r.events) saw_anomaly_phase |= e.value("phase", "") == "anomaly";
  EXPECT_TRUE(saw_anomaly_phase);
  EXPECT_GE(r.result.metrics_doc["test"]["accuracy"].get<double>(), 0.8);
}

TEST_F(PyTorchTrainer, CameraMobileNetOnInt8Images) {
  TempDir dir;
  write_text(dir / "tml.yaml",
             "name: w\nsensor:\n  kind: camera\nlabels: [person, no_person]\n"
             "model:\n  architecture: mobilenet-v1\n  alpha: 0.25\n"
             "train:\n  epochs: 2\n  batch: 16\n  threads: 2\n");
  json features = tt::write_features(dir.path(), "camera", {32, 32, 1}, {"person", "no_person"}, {48, 8, 8}, 1.0f, "int8");
  TrainRun r = train_project(dir.path(), features);
  EXPECT_EQ(r.result.onnx.input_shape, (std::vector<std::int64_t>{-1, 1, 32, 32}));
  EXPECT_NE(std::find(r.result.onnx.ops.begin(), r.result.onnx.ops.end(), "Clip"), r.result.onnx.ops.end());
  EXPECT_EQ(std::find(r.result.onnx.ops.begin(), r.result.onnx.ops.end(), "Constant"), r.result.onnx.ops.end());
  expect_onnx_checker_accepts(r.result.model);
}

TEST_F(PyTorchTrainer, CnnWithoutValidationAndTestSplits) {
  TempDir dir;
  write_text(dir / "tml.yaml", "name: kws\nsensor:\n  kind: audio\nlabels: [yes, no, _silence, _unknown]\n"
                               "model:\n  architecture: cnn\n  filters: 8\n  blocks: 2\n"
                               "train:\n  epochs: 2\n  batch: 16\n  threads: 1\n");
  json features = tt::write_features(dir.path(), "audio", {49, 10}, kKeywords, {60, 0, 0});
  TrainRun r = train_project(dir.path(), features);
  const json& m = r.result.metrics_doc;
  EXPECT_EQ(m["validation_source"], "10% of the training split");
  EXPECT_EQ(m["validation"]["count"], 6);
  EXPECT_EQ(m["train"]["count"], 54);
  EXPECT_TRUE(m["test"]["accuracy"].is_null());
  EXPECT_EQ(m["test"]["count"], 0);
  EXPECT_EQ(r.result.onnx.input_shape, (std::vector<std::int64_t>{-1, 1, 49, 10}));
  EXPECT_NE(std::find(r.result.onnx.ops.begin(), r.result.onnx.ops.end(), "MaxPool"), r.result.onnx.ops.end());
}

TEST_F(PyTorchTrainer, PythonWithoutTorchNamesTheAptPackage) {
  TempDir dir;
  write_text(dir / "tml.yaml", kAudioYaml);
  json features = tt::write_features(dir.path(), "audio", {49, 10}, kKeywords, {8, 4, 4});
  // A python3 on which `import torch` fails.
  tt::write_script(dir / "python3",
                   "#!/bin/sh\nexec /usr/bin/python3 -c 'import runpy, sys; sys.modules[\"torch\"] = None; "
                   "args = [a for a in sys.argv[1:] if a != \"-u\"]; sys.argv = args; "
                   "runpy.run_path(args[0], run_name=\"__main__\")' \"$@\"\n");
  TrainOptions o;
  o.python = dir / "python3";
  try {
    train_project(dir.path(), features, o);
    FAIL() << "trained without torch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::external_tool);
    std::string m = e.what();
    EXPECT_NE(m.find("trainer: PyTorch is not installed"), std::string::npos) << m;
    EXPECT_NE(m.find("fix: apt-get install python3-torch"), std::string::npos) << m;
  }
  EXPECT_FALSE(fs::exists(dir / "build/model/model.onnx"));
}

TEST(BundledTrainer, CompiledInCopyMatchesTheSources) {
  const fs::path src = test::source_dir() / "train_bridge" / "trainers";
  std::size_t checked = 0;
  for (const auto& f : bundled_trainer_files()) {
    EXPECT_EQ(f.text, test::read_text(src / f.name)) << f.name << " is stale: rebuild";
    ++checked;
  }
  EXPECT_GE(checked, 4u);
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().extension() != ".py") continue;
    bool listed = false;
    for (const auto& f : bundled_trainer_files()) listed |= f.name == e.path().filename().string();
    EXPECT_TRUE(listed) << e.path().filename() << " is not in train_bridge/CMakeLists.txt TML_TRAINER_FILES";
  }
}

TEST(BundledTrainer, InstallsOncePerContent) {
  TempDir dir;
  fs::path a = install_bundled_trainer(dir.path());
  fs::path b = install_bundled_trainer(dir.path());
  EXPECT_EQ(a, b);
  EXPECT_TRUE(fs::exists(a / kBundledTrainerScript));
  EXPECT_EQ(a.parent_path(), dir / ".tml/trainer");
}

// torchrun with 2 local processes: DistributedDataParallel over gloo, rank 0 reports and exports.
TEST(TrainBridgeTorchrun, TwoProcessesTrainAndExport) {
  if (!tt::have_torch()) GTEST_SKIP() << "no torch";
  if (!fs::exists("/usr/bin/torchrun")) GTEST_SKIP() << "no /usr/bin/torchrun";
  TempDir dir;
  write_text(dir / "tml.yaml",
             std::string(kAudioYaml) + "  trainer: command\n  command: [/usr/bin/torchrun, --standalone, "
                                       "--nproc_per_node=2, --redirects, \"2\", --tee, \"2\", \"{trainer}\", \"{job}\"]\n");
  json features = tt::write_features(dir.path(), "audio", {49, 10}, kKeywords, {160, 40, 40}, 2.0f);
  TrainRun r = train_project(dir.path(), features);
  const json& m = r.result.metrics_doc;
  std::printf("[ figures  ] torchrun 2 processes: %d epochs, test accuracy %.1f%%, %.1f s\n",
              m["epochs_run"].get<int>(), 100 * m["test"]["accuracy"].get<double>(), r.result.seconds);
  EXPECT_EQ(m["world_size"], 2);
  EXPECT_EQ(m["threads"], 1);  // 2 threads shared by 2 processes
  EXPECT_EQ(r.events.front()["world_size"], 2);
  EXPECT_GE(m["test"]["accuracy"].get<double>(), 0.6) << m.dump();
  EXPECT_EQ(r.result.onnx.input_shape, (std::vector<std::int64_t>{-1, 1, 49, 10}));
  expect_onnx_checker_accepts(r.result.model);
  int epoch_events = 0;
  for (const auto& e : r.events) epoch_events += e["event"] == "epoch";
  EXPECT_EQ(epoch_events, m["epochs_run"].get<int>());  // only rank 0 reports
}

}  // namespace
}  // namespace tml::train
