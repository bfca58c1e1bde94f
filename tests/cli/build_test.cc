// tml build as a user runs it, on the demo datasets (scripts/demo_data.py): the voice-control chain
// from a fresh project to a checked Cortex-M4F image (int8 within 1 point of float, host = device on
// the whole test split), incremental reruns, and a model too big for the Nano 33 BLE refused with
// what overflows. About a minute on 2 cores (training included).
#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_tml;

// A fresh project of TEMPLATE with the demo dataset at SCALE imported.
fs::path demo_project(const test::TempDir& dir, const std::string& template_name, const std::string& scale) {
  const ProcessResult g = run_process({"/usr/bin/python3", (test::source_dir() / "scripts/demo_data.py").string(),
                                       template_name, (dir / "data").string(), "--seed", "1", "--scale", scale});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  const fs::path project = dir / "p";
  ProcessResult r = run_tml({"new", "p", "--template", template_name, "--dir", project.string()}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> import = {"import"};
  for (const auto& e : fs::directory_iterator(dir / "data"))
    if (e.is_directory()) import.push_back(e.path().string());
  r = run_tml(import, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return project;
}

json build_json(const fs::path& project, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--json", "build", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = run_tml(args, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

TEST(Build, VoiceControlFromAFreshProjectToACheckedImage) {
  test::TempDir dir;
  const fs::path project = demo_project(dir, "voice-control", "1.0");
  const json doc = build_json(project);
  const double float_acc = doc["quantize"]["float"]["accuracy"].get<double>();
  const double int8_acc = doc["quantize"]["int8"]["accuracy"].get<double>();
  std::printf("[ figures  ] voice-control: float %.1f%%, int8 %.1f%% of %d; arena %lld B; %lld instructions/inference\n",
              100 * float_acc, 100 * int8_acc, doc["quantize"]["int8"]["count"].get<int>(),
              doc["quantize"]["arena"]["bytes"].get<long long>(), doc["firmware"]["instructions_per_inference"].get<long long>());
  EXPECT_GE(float_acc, 0.85);
  EXPECT_LE(float_acc - int8_acc, 0.01);
  EXPECT_EQ(doc["firmware"]["parity"]["identical"], doc["firmware"]["parity"]["samples"]);
  EXPECT_EQ(doc["firmware"]["parity"]["samples"], doc["quantize"]["int8"]["count"]);
  // From the raw signal: int16 PCM preprocessed on the device gives the host's output bytes.
  EXPECT_EQ(doc["firmware"]["raw_parity"]["identical"], doc["firmware"]["raw_parity"]["samples"]);
  EXPECT_EQ(doc["firmware"]["raw_parity"]["samples"], doc["quantize"]["int8"]["count"]);
  EXPECT_GT(doc["firmware"]["instructions_preprocessing"].get<long long>(), 1'000'000);
  EXPECT_TRUE(doc["firmware"]["fits"].get<bool>());
  EXPECT_LE(doc["quantize"]["arena"]["bytes"].get<double>(), 1.05 * doc["quantize"]["arena"]["lower_bound"].get<double>());
  for (const char* file : {"build/deploy/model/model.h", "build/deploy/model/model.cc", "build/report.json",
                           "build/reports/confusion_int8.png", "build/reports/arena.png",
                           "build/deploy/build-qemu-m4/model_runner.elf"})
    EXPECT_TRUE(fs::exists(project / file)) << file;
  for (const auto& [stage, ran] : doc["stages_run"].items()) EXPECT_TRUE(ran.get<bool>()) << stage;

  // Nothing changed: no stage runs.
  const json again = build_json(project);
  for (const auto& [stage, ran] : again["stages_run"].items()) EXPECT_FALSE(ran.get<bool>()) << stage;
  const ProcessResult human = run_tml({"build"}, project);
  EXPECT_NE(human.out.find("Nothing changed"), std::string::npos) << human.out;

  // Only a quantization setting changed: quantize onward runs, training does not.
  std::string yaml = read_file_text(project / "tml.yaml");
  yaml = std::regex_replace(yaml, std::regex("calibration_count: 200"), "calibration_count: 50");
  write_file_atomic(project / "tml.yaml", yaml);
  const json requant = build_json(project);
  EXPECT_FALSE(requant["stages_run"]["features"].get<bool>());
  EXPECT_FALSE(requant["stages_run"]["train"].get<bool>());
  EXPECT_TRUE(requant["stages_run"]["quantize"].get<bool>());
  EXPECT_EQ(requant["quantize"]["calibration_samples"], 50);
}

// The other two templates at reduced size (few epochs): the chain runs and the image checks out.
TEST(Build, WildlifeAndMaintenanceBuildFromFreshProjects) {
  for (const char* name : {"wildlife", "maintenance"}) {
    SCOPED_TRACE(name);
    test::TempDir dir;
    const fs::path project = demo_project(dir, name, "0.25");
    const json doc = build_json(project, {"--epochs", "3"});
    EXPECT_TRUE(doc["ok"].get<bool>());
    EXPECT_EQ(doc["firmware"]["parity"]["identical"], doc["firmware"]["parity"]["samples"]);
    EXPECT_GT(doc["firmware"]["parity"]["samples"].get<int>(), 0);
    EXPECT_EQ(doc["firmware"]["raw_parity"]["identical"], doc["firmware"]["raw_parity"]["samples"]);
    EXPECT_TRUE(doc["firmware"]["fits"].get<bool>());
    EXPECT_TRUE(fs::exists(project / "build/deploy/model/model.cc"));
    std::printf("[ figures  ] %s (scale 0.25, 3 epochs): float %.1f%%, int8 %.1f%% of %d\n", name,
                100 * doc["quantize"]["float"]["accuracy"].get<double>(), 100 * doc["quantize"]["int8"]["accuracy"].get<double>(),
                doc["quantize"]["int8"]["count"].get<int>());
  }
}

TEST(Build, AModelTooBigForTheNanoIsRefusedWithWhatOverflows) {
  test::TempDir dir;
  const fs::path project = demo_project(dir, "maintenance", "0.25");
  std::string yaml = read_file_text(project / "tml.yaml");
  yaml = std::regex_replace(yaml, std::regex("hidden: \\[32, 16\\]"), "hidden: [1024, 1024]");
  yaml = std::regex_replace(yaml, std::regex("anomaly_detector: autoencoder"), "anomaly_detector: none");
  yaml = std::regex_replace(yaml, std::regex("board: qemu-m4"), "board: nano33ble");
  write_file_atomic(project / "tml.yaml", yaml);
  const ProcessResult r = run_tml({"build", "--epochs", "2", "--threads", "2"}, project);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::string last;
  for (const auto& line : test::lines_of(r.err))
    if (!line.empty() && line[0] != '[') last = line;
  EXPECT_NE(last.find("does not fit nano33ble: flash needs"), std::string::npos) << r.err;
  EXPECT_NE(last.find("over by"), std::string::npos) << r.err;
  const json report = json::parse(read_file_text(project / "build/report.json"));
  EXPECT_FALSE(report["firmware"]["fits"].get<bool>());
  EXPECT_NE(report["firmware"]["fit_report"].get<std::string>().find("OVER by"), std::string::npos);
}

}  // namespace
}  // namespace tml
