// tml preprocess on real data: the dataset's features (cached), one file's .npy and picture.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "collect/audio_file.h"
#include "core/atomic_file.h"
#include "core/npy.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_tml;

json ok_json(const ProcessResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

fs::path voice_project(const test::TempDir& dir) {
  EXPECT_EQ(run_tml({"new", "v", "--template", "voice-control"}, dir.path()).exit_code, 0);
  fs::path p = dir / "v";
  fs::path audio = test::shared_data("audio");
  EXPECT_EQ(run_tml({"import", (audio / "yes_1000ms.wav").string(), "--label", "yes"}, p).exit_code, 0);
  EXPECT_EQ(run_tml({"import", (audio / "no_1000ms.wav").string(), "--label", "no"}, p).exit_code, 0);
  EXPECT_EQ(run_tml({"import", (audio / "silence_1000ms.wav").string(), (audio / "noise_1000ms.wav").string(),
                     "--label", "_silence"},
                    p)
                .exit_code,
            0);
  return p;
}

TEST(PreprocessCli, DatasetFeaturesAreCachedAndAssembled) {
  test::TempDir dir;
  fs::path p = voice_project(dir);
  json first = ok_json(run_tml({"--json", "preprocess"}, p));
  EXPECT_EQ(first["computed"], 4);
  EXPECT_EQ(first["shape"], json({49, 10}));
  std::size_t total = 0;
  for (const char* split : {"train", "validation", "test"}) {
    NpyArray x = npy_read(p / "build/features" / (std::string(split) + "_x.npy"));
    NpyArray y = npy_read(p / "build/features" / (std::string(split) + "_y.npy"));
    EXPECT_EQ(x.shape.size(), 3u);
    EXPECT_EQ(x.shape[0], y.shape[0]);
    total += y.shape[0];
  }
  EXPECT_EQ(total, 4u);
  json again = ok_json(run_tml({"--json", "preprocess"}, p));
  EXPECT_EQ(again["computed"], 0);
  EXPECT_EQ(again["up_to_date"], true);

  // A new sample: only it is computed.
  AudioClip clip = read_audio(test::shared_data("audio/no_1000ms.wav"));
  std::rotate(clip.samples.begin(), clip.samples.begin() + 800, clip.samples.end());
  write_file_atomic(dir / "shifted.wav", encode_wav_pcm16(clip));
  ASSERT_EQ(run_tml({"import", (dir / "shifted.wav").string(), "--label", "_unknown"}, p).exit_code, 0);
  json one_more = ok_json(run_tml({"--json", "preprocess"}, p));
  EXPECT_EQ(one_more["computed"], 1);
  EXPECT_EQ(one_more["cached"], 4);

  // A changed feature definition recomputes everything.
  std::string yaml = test::read_text(p / "tml.yaml");
  yaml.replace(yaml.find("mfcc_coeffs: 10"), 15, "mfcc_coeffs: 13");
  test::write_text(p / "tml.yaml", yaml);
  json changed = ok_json(run_tml({"--json", "preprocess"}, p));
  EXPECT_EQ(changed["computed"], 5);
  EXPECT_EQ(changed["shape"], json({49, 13}));
}

TEST(PreprocessCli, OneFileAsNpyAndPicture) {
  test::TempDir dir;
  fs::path p = voice_project(dir);
  fs::path wav = test::shared_data("audio/yes_1000ms.wav");
  json r = ok_json(run_tml({"--json", "preprocess", "--file", wav.string(), "--out", "yes.npy", "--plot", "yes.png"}, p));
  EXPECT_EQ(r["shape"], json({49, 10}));
  NpyArray a = npy_read(p / "yes.npy");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{49, 10}));
  EXPECT_EQ(a.type, NpyType::float32);
  // NumPy itself reads it.
  ProcessResult np = run_process({"/usr/bin/python3", "-c",
                                  "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.shape, a.dtype)",
                                  (p / "yes.npy").string()});
  EXPECT_EQ(np.out, "(49, 10) float32\n") << np.err;
  cv::Mat picture = cv::imread((p / "yes.png").string());
  ASSERT_FALSE(picture.empty());
  EXPECT_GT(picture.cols, 400);
  // The same features as the dataset pipeline computed for that sample.
  ASSERT_EQ(run_tml({"preprocess"}, p).exit_code, 0);
  std::string sha;
  for (const auto& line : test::lines_of(test::read_text(p / "dataset/manifest.jsonl"))) {
    json e = json::parse(line);
    if (e["label"] == "yes") sha = e["sha256"];
  }
  json features = json::parse(test::read_text(p / "build/features/features.json"));
  auto cached = test::read_text(p / ".tml/features" / features["config_hash"].get<std::string>() / (sha + ".bin"));
  EXPECT_EQ(std::string(a.data.begin(), a.data.end()), cached);
}

TEST(PreprocessCli, BadUse) {
  test::TempDir dir;
  fs::path p = voice_project(dir);
  ProcessResult r = run_tml({"preprocess", "--out", "x.npy"}, p);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only with --file"), std::string::npos) << r.err;
  r = run_tml({"preprocess", "--file", test::shared_data("images/person.bmp").string(), "--out", "x.npy"}, p);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a camera file, but this project's sensor is audio"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p / "x.npy"));
}

}  // namespace
}  // namespace tml
