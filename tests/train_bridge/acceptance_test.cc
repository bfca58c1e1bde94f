// The acceptance run: a voice-control project with >= 400 one-second clips — keywords spoken by
// espeak-ng in many voices, speeds and pitches, resampled to 16 kHz by sox, padded/cut to one second
// at a random offset, mixed with the real background noise of ../shared/data/audio, plus the real
// "yes"/"no" recordings there, written by scripts/demo_data.py — goes through the real tml binary:
// `tml new`, `tml import`, `tml train` (features computed on the way). The float model must reach
// >= 90 % test accuracy. A couple of minutes on 2 cores; filter with
// --gtest_filter=-TrainBridgeAcceptance.*.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>

#include "core/npy.h"
#include "deploy/float_executor.h"
#include "deploy/onnx_import.h"
#include "train_fixtures.h"

namespace tml::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
namespace tt = tml::test::train;

TEST(TrainBridgeAcceptance, VoiceControlFromEspeakClipsReaches90Percent) {
  if (!tt::have_torch()) GTEST_SKIP() << "no torch for /usr/bin/python3";
  for (const char* tool : {"/usr/bin/espeak-ng", "/usr/bin/sox"}) {
    if (!fs::exists(tool)) GTEST_SKIP() << tool << " missing (apt-get install espeak-ng sox)";
  }
  test::TempDir dir;
  auto t0 = std::chrono::steady_clock::now();
  // scripts/demo_data.py writes clips/<label>/*.wav: yes 130 + 4 real, no 130 + 4 real, _unknown 150
  // (33 other words), _silence 60 (real noise and silence at random gains). Deterministic for a seed.
  auto g = run_process({"/usr/bin/python3", (test::source_dir() / "scripts/demo_data.py").string(), "voice-control",
                        (dir / "clips").string(), "--seed", "1", "--shared", test::shared_data("").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::size_t clips = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "clips")) clips += e.path().extension() == ".wav";
  ASSERT_GE(clips, 400u);
  auto t1 = std::chrono::steady_clock::now();

  auto r = test::run_tml({"new", "vc", "--template", "voice-control", "--dir", (dir / "vc").string()}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path project = dir / "vc";
  std::vector<std::string> import = {"import"};
  for (const char* label : {"yes", "no", "_silence", "_unknown"}) import.push_back((dir / "clips" / label).string());
  r = test::run_tml(import, project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t2 = std::chrono::steady_clock::now();

  r = test::run_tml({"--json", "train", "--threads", "2"}, project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t3 = std::chrono::steady_clock::now();
  json doc = json::parse(r.out);
  const double test_accuracy = doc["accuracy"]["test"].get<double>();
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf("[ figures  ] %zu clips (generated in %.1f s, imported in %.1f s); train (features + %d epochs, "
              "best %d%s) %.1f s; accuracy test %.1f%% of %d, validation %.1f%%, train %.1f%%\n",
              clips, secs(t0, t1), secs(t1, t2), doc["epochs_run"].get<int>(), doc["best_epoch"].get<int>(),
              doc["stopped_early"].get<bool>() ? ", stopped early" : "", secs(t2, t3), 100 * test_accuracy,
              doc["test_count"].get<int>(), 100 * doc["accuracy"]["validation"].get<double>(),
              100 * doc["accuracy"]["train"].get<double>());
  EXPECT_GE(doc["test_count"].get<int>(), 50);
  EXPECT_GE(test_accuracy, 0.90) << r.out;
  EXPECT_EQ(doc["onnx"]["input_shape"], json({-1, 1, 49, 10}));
  EXPECT_TRUE(fs::exists(project / "build/model/model.onnx"));
  EXPECT_TRUE(fs::exists(project / "build/model/train.log"));
  json metrics = json::parse(test::read_text(project / "build/model/metrics.json"));
  EXPECT_NE(metrics["augment"].get<std::string>().find("background mixing"), std::string::npos);

  // The ONNX back in tml: imported into deploy's IR and run by the float reference executor on the
  // test split, it must score what the trainer reported (within 0.5 points).
  const deploy::Graph graph = deploy::import_onnx(project / "build/model/model.onnx");
  const NpyArray x = npy_read(project / "build/features/test_x.npy");
  const NpyArray y = npy_read(project / "build/features/test_y.npy");
  ASSERT_EQ(x.shape.size(), 3u);  // {N, 49, 10}: as NHWC {1, 49, 10, 1} the bytes are the same
  const std::size_t n = x.shape[0], per = x.shape[1] * x.shape[2];
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<float> sample(per);
    std::memcpy(sample.data(), x.data.data() + i * per * 4, per * 4);
    const std::vector<float> p = deploy::run_float(graph, {sample}).at(0);
    const auto best = static_cast<std::int32_t>(std::max_element(p.begin(), p.end()) - p.begin());
    std::int32_t label;
    std::memcpy(&label, y.data.data() + i * 4, 4);
    correct += best == label ? 1 : 0;
  }
  const double imported_accuracy = static_cast<double>(correct) / static_cast<double>(n);
  std::printf("[ figures  ] imported ONNX, float executor: test accuracy %.1f%% (trainer %.1f%%)\n",
              100 * imported_accuracy, 100 * test_accuracy);
  EXPECT_NEAR(imported_accuracy, test_accuracy, 0.005);
}

}  // namespace
}  // namespace tml::train
