// tml build, flash, test and monitor as a user runs them, on the demo datasets (scripts/demo_data.py):
// each template from a fresh project to a checked Cortex-M4F image and the board app on the emulated
// board (tml test: host = device features and outputs on the whole test split, device accuracy
// within 1 point of the host's int8), live classification (tml monitor), the emulator stopped during
// test and monitor, incremental reruns, and a model too big for the Nano 33 BLE refused with what
// overflows. A few minutes on 2 cores (training included).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_tml;

// A fresh project of TEMPLATE with the demo dataset at SCALE: the first two files of the first label
// are collected through the emulated board (its microphone, camera or IMU replaying them, as PNG/WAV/CSV
// takes over the wire protocol), the rest imported.
fs::path demo_project(const test::TempDir& dir, const std::string& template_name, const std::string& scale) {
  const ProcessResult g = run_process({"/usr/bin/python3", (test::source_dir() / "scripts/demo_data.py").string(),
                                       template_name, (dir / "data").string(), "--seed", "1", "--scale", scale});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  const fs::path project = dir / "p";
  ProcessResult r = run_tml({"new", "p", "--template", template_name, "--dir", project.string()}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<fs::path> folders;
  for (const auto& e : fs::directory_iterator(dir / "data"))
    if (e.is_directory()) folders.push_back(e.path());
  std::sort(folders.begin(), folders.end());
  std::vector<fs::path> first;
  for (const auto& e : fs::directory_iterator(folders.at(0))) first.push_back(e.path());
  std::sort(first.begin(), first.end());
  first.resize(std::min<std::size_t>(first.size(), 2));
  std::vector<std::string> flash = {"flash", "--board", "qemu-m4", "--replay"};
  for (const auto& f : first) flash.push_back(f.string());
  r = run_tml(flash, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_tml({"--json", "collect", "--label", folders[0].filename().string(), "--count", std::to_string(first.size()), "--fast"}, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  run_tml({"stop"}, project);
  for (const auto& f : first) fs::remove(f);  // collected, not imported again
  // Voices are held out: every clip of a voice lands in the same split (Speech Commands' naming).
  std::vector<std::string> import = {"import", "--group-pattern", "^(.+)_nohash_"};
  for (const auto& f : folders) import.push_back(f.string());
  r = run_tml(import, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::size_t from_board = 0;
  for (const auto& line : test::lines_of(read_file_text(project / "dataset/manifest.jsonl")))
    if (!line.empty()) from_board += json::parse(line)["source"].value("kind", "") != "import";
  EXPECT_EQ(from_board, first.size()) << "takes collected through the emulated board";
  return project;
}

json build_json(const fs::path& project, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--json", "build", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = run_tml(args, project);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

// tml test --json on the project's board (flashed by tml test itself), checked as the acceptance
// asks: 100% parity of features and outputs, device accuracy within 1 point of the host's int8.
json device_test(const fs::path& project, const char* name) {
  const ProcessResult r = run_tml({"--json", "test"}, project);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  const json t = json::parse(r.out);
  EXPECT_TRUE(t["ok"].get<bool>());
  EXPECT_EQ(t["parity"]["features_identical"], t["samples"]);
  EXPECT_EQ(t["parity"]["outputs_identical"], t["samples"]);
  EXPECT_GT(t["samples"].get<int>(), 0);
  EXPECT_LE(std::abs(t["accuracy_gap_points"].get<double>()), 1.0);
  EXPECT_GT(t["cost"]["instructions_inference_median"].get<long long>(), 0);
  EXPECT_GT(t["memory"]["flash_total_bytes"].get<long long>(), 0);
  EXPECT_TRUE(fs::exists(project / "build/reports/test.json"));
  std::printf("[ figures  ] %s on qemu-m4: device %.1f%% vs host int8 %.1f%% of %d; %lld + %lld instructions; flash %lld B, RAM %lld B\n",
              name, 100 * t["device"]["accuracy"].get<double>(), 100 * t["host_int8_accuracy"].get<double>(),
              t["samples"].get<int>(), t["cost"]["instructions_features_median"].get<long long>(),
              t["cost"]["instructions_inference_median"].get<long long>(), t["memory"]["flash_total_bytes"].get<long long>(),
              t["memory"]["ram_total_bytes"].get<long long>());
  return t;
}

// The pid of the project's emulated board, or 0.
pid_t board_pid(const fs::path& project) {
  if (!fs::exists(project / ".tml/board.json")) return 0;
  const json j = json::parse(read_file_text(project / ".tml/board.json"), nullptr, false);
  return j.is_object() ? j.value("pid", 0) : 0;
}

// Runs ARGS in a thread, kills the board once it is classifying (0.7 s after the board pid changes
// from OLD_PID: HELLO takes ~0.1 s, the test split ~4 s), and returns how the command ended and how
// long after the kill.
std::pair<ProcessResult, double> kill_board_during(const fs::path& project, const std::vector<std::string>& args, pid_t old_pid) {
  ProcessResult result;
  std::thread command([&] { result = run_tml(args, project); });
  pid_t pid = 0;
  for (int i = 0; i < 600 && (pid == 0 || pid == old_pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pid = board_pid(project);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const auto killed = std::chrono::steady_clock::now();
  if (pid > 0) ::kill(pid, SIGKILL);
  command.join();
  return {result, std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count()};
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
  // The board app links no heap (DESIGN.md §3), like the collection firmware.
  std::size_t tokens = 0;
  EXPECT_EQ(test::heap_symbols_in_link_map(read_file_text(project / "build/deploy/build-qemu-m4/tml_app.map"), &tokens), "");
  EXPECT_GT(tokens, 100u);

  // On the board: the whole test split from raw audio, stage by stage.
  const json tested = device_test(project, "voice-control");
  // Held-out voices: no test voice was trained on, and the device still reaches 90%.
  EXPECT_GT(tested["held_out_groups"]["groups"].get<int>(), 5);
  EXPECT_EQ(tested["held_out_groups"]["also_in_training"], 0);
  EXPECT_GE(tested["device"]["accuracy"].get<double>(), 0.90);

  // tml flash puts the app on the board (its HELLO carries this build's config hash); tml monitor
  // classifies the board's own (replayed) microphone, one JSON line per window.
  ProcessResult flash = run_tml({"--json", "flash"}, project);
  ASSERT_EQ(flash.exit_code, 0) << flash.err;
  EXPECT_EQ(json::parse(flash.out)["firmware"], "app");
  EXPECT_EQ(json::parse(flash.out)["hello"]["config_hash"], doc["quantize"]["config_hash"]);
  const ProcessResult monitor = run_tml({"--json", "monitor", "--windows", "12", "--threshold", "0.5"}, project);
  ASSERT_EQ(monitor.exit_code, 0) << monitor.err;
  const auto lines = test::lines_of(monitor.out);
  ASSERT_EQ(lines.size(), 13u) << monitor.out;
  int detections = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const json w = json::parse(lines[i]);
    EXPECT_EQ(w["window"], i);
    EXPECT_NEAR(w["time_s"].get<double>(), 1.0 + 0.25 * static_cast<double>(i), 1e-9);  // 1 s window, 250 ms hop
    EXPECT_GT(w["instructions"].get<long long>(), 1'000'000);
    detections += w["detection"].get<bool>();
    // The sensor replays the test split's 1 s clips in order: every fourth window is clip i/4 exactly,
    // classified as tml test classified it.
    if (i % 4 == 0) EXPECT_EQ(w["label"], tested["results"][i / 4]["predicted"]) << i;
  }
  EXPECT_EQ(json::parse(lines.back())["windows"], 12);
  EXPECT_EQ(json::parse(lines.back())["detections"], detections);

  // The emulator stopped during tml monitor, then during tml test: a clear one-line error within
  // 2 s (the acceptance bound; the link closing is seen at once), exit 3.
  {
    const auto [r, seconds] = kill_board_during(project, {"--json", "monitor"}, 0);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(test::lines_of(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("closed the link (emulator stopped?)"), std::string::npos) << r.err;
    EXPECT_LT(seconds, 2.0);
    std::printf("[ figures  ] monitor ended %.2f s after the emulator was killed\n", seconds);
  }
  {
    const auto [r, seconds] = kill_board_during(project, {"test"}, board_pid(project));
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("closed the link (emulator stopped?)"), std::string::npos) << r.err;
    EXPECT_LT(seconds, 2.0);
    std::printf("[ figures  ] test ended %.2f s after the emulator was killed\n", seconds);
  }
  run_tml({"stop"}, project);

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
TEST(Build, WildlifeAndMaintenanceFromFreshProjectsToTheBoard) {
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
    device_test(project, name);
    // Live on the board: windows of 2 s (IMU) or one frame (camera) arrive without a timeout.
    ASSERT_EQ(run_tml({"flash"}, project).exit_code, 0);
    const ProcessResult monitor = run_tml({"--json", "monitor", "--windows", "3"}, project);
    EXPECT_EQ(monitor.exit_code, 0) << monitor.err;
    EXPECT_EQ(test::lines_of(monitor.out).size(), 4u) << monitor.out;
    run_tml({"stop"}, project);
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
