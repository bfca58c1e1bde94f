#include "collect/importer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "collect/audio_file.h"
#include "collect/csv_file.h"
#include "collect/image_file.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

void copy_prefix(const fs::path& from, const fs::path& to, std::size_t bytes) {
  auto all = read_file_bytes(from);
  all.resize(std::min(all.size(), bytes));
  write_file_atomic(to, all);
}

Project project_of(const std::string& yaml, const fs::path& root) {
  return Project{.root = root, .config = resolve_project_yaml(yaml, "tml.yaml")};
}

const char* kAudioProject = "name: p\nsensor: {kind: audio, rate: 16000}\nlabels: [yes, no, _silence]\n";

TEST(AudioFile, ReadsRealSpeech) {
  AudioClip clip = read_audio(test::shared_data("audio/yes_1000ms.wav"));
  EXPECT_EQ(clip.rate, 16000);
  EXPECT_EQ(clip.channels, 1);
  EXPECT_EQ(clip.frames(), 16000u);
  EXPECT_TRUE(clip.is_wav_pcm16);
}

TEST(AudioFile, TruncatedAndNonAudioFilesAreRefused) {
  test::TempDir dir;
  copy_prefix(test::shared_data("audio/yes_1000ms.wav"), dir / "cut.wav", 20000);
  EXPECT_NE(error_of([&] { read_audio(dir / "cut.wav"); }).find("cut.wav: truncated"), std::string::npos);
  test::write_text(dir / "text.wav", "this is not audio\n");
  EXPECT_NE(error_of([&] { read_audio(dir / "text.wav"); }).find("not an audio file"), std::string::npos);
}

TEST(AudioFile, Pcm16RoundTripIsExact) {
  AudioClip clip = read_audio(test::shared_data("audio/no_1000ms.wav"));
  test::TempDir dir;
  write_file_atomic(dir / "again.wav", encode_wav_pcm16(clip));
  AudioClip again = read_audio(dir / "again.wav");
  EXPECT_EQ(again.samples, clip.samples);
}

TEST(AudioFile, ResamplingKeepsPitchAndLevel) {
  // A 440 Hz tone at 44.1 kHz stereo becomes 16 kHz mono with the same frequency and RMS.
  AudioClip tone{.rate = 44100, .channels = 2};
  for (int i = 0; i < 44100; ++i) {
    float v = 0.5f * static_cast<float>(std::sin(2 * M_PI * 440.0 * i / 44100.0));
    tone.samples.push_back(v);
    tone.samples.push_back(v);
  }
  AudioClip out = convert_audio(tone, 16000, 1);
  ASSERT_NEAR(static_cast<double>(out.frames()), 16000.0, 2.0);
  int crossings = 0;
  double energy = 0;
  for (std::size_t i = 1000; i < 15000; ++i) {
    crossings += (out.samples[i - 1] < 0) != (out.samples[i] < 0);
    energy += out.samples[i] * out.samples[i];
  }
  EXPECT_NEAR(crossings / (14000.0 / 16000.0) / 2.0, 440.0, 2.0);
  EXPECT_NEAR(std::sqrt(energy / 14000.0), 0.5 / std::sqrt(2.0), 0.005);
}

TEST(ImageFile, RealImageAndNonImage) {
  StoredImage image = read_image_as_png(test::shared_data("images/person.bmp"));
  EXPECT_EQ(image.width, 96);
  EXPECT_EQ(image.height, 96);
  cv::Mat decoded = cv::imdecode(image.png, cv::IMREAD_UNCHANGED);
  cv::Mat original = cv::imread(test::shared_data("images/person.bmp").string(), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(cv::norm(decoded, original, cv::NORM_INF), 0.0) << "BMP to PNG must be lossless";
  test::TempDir dir;
  test::write_text(dir / "fake.png", "not a picture");
  EXPECT_NE(error_of([&] { read_image_as_png(dir / "fake.png"); }).find("not an image"), std::string::npos);
  write_file_atomic(dir / "whole.png", image.png);
  copy_prefix(dir / "whole.png", dir / "cut.png", image.png.size() / 2);
  EXPECT_NE(error_of([&] { read_image_as_png(dir / "cut.png"); }).find("cut.png: not an image"), std::string::npos);
}

TEST(CsvFile, HeaderRowsAndErrors) {
  CsvTable t = parse_csv("ax,ay,az\n0.1,0.2,0.3\n-1,2e-3,+4\n", "a.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"ax", "ay", "az"}));
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(t.rows[1][1], 0.002);
  EXPECT_EQ(error_of([] { parse_csv("1,2,3\n4,5\n", "r.csv"); }),
            "r.csv:2: row has 2 columns, expected 3 like the first row; fix or remove the row");
  EXPECT_EQ(error_of([] { parse_csv("1,2\n3,x\n", "n.csv"); }),
            "n.csv:2: column 2: 'x' is not a number; every row after the header must be numeric");
  EXPECT_NE(error_of([] { parse_csv("a,b\n", "h.csv"); }).find("no data rows"), std::string::npos);
}

TEST(Importer, AddsSkipsDuplicatesAndRecordsTheManifestFields) {
  test::TempDir root;
  Project project = project_of(kAudioProject, root.path());
  DatasetStore store(project.dataset_dir());
  json r = import_files(project, store, {test::shared_data("audio/yes_1000ms.wav")}, {.label = "yes"});
  ASSERT_EQ(r["added"].size(), 1u);
  const json& e = r["added"][0];
  for (const char* key : {"id", "label", "split", "path", "sha256", "bytes", "sensor", "rate", "channels", "frames",
                          "duration_s", "clipping", "source", "capture", "added"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  EXPECT_EQ(e["frames"], 16000);
  EXPECT_EQ(e["source"]["config_hash"], project.config_hash());
  // The stored file is the original, byte for byte.
  EXPECT_EQ(read_file_bytes(store.dir() / e["path"].get<std::string>()),
            read_file_bytes(test::shared_data("audio/yes_1000ms.wav")));
  json again = import_files(project, store, {test::shared_data("audio/yes_1000ms.wav")}, {.label = "yes"});
  EXPECT_EQ(again["added"].size(), 0u);
  ASSERT_EQ(again["skipped"].size(), 1u);
  EXPECT_EQ(again["skipped"][0]["existing"], e["path"]);
}

// --group-pattern: all clips of a speaker land in one split (held-out speakers), the group is
// recorded; files the pattern does not match are split by their own id; a bad pattern writes nothing.
TEST(Importer, GroupPatternKeepsEachSpeakerInOneSplit) {
  test::TempDir root;
  Project project = project_of(kAudioProject, root.path());
  const AudioClip yes = read_audio(test::shared_data("audio/yes_1000ms.wav"));
  const fs::path in = root / "in" / "yes";
  fs::create_directories(in);
  for (int speaker = 0; speaker < 40; ++speaker)
    for (int take = 0; take < 3; ++take) {
      AudioClip c = yes;
      c.samples[0] = static_cast<float>(speaker * 3 + take) / 32768.0f;  // distinct bytes, distinct ids
      write_file_atomic(in / ("speaker" + std::to_string(speaker) + "_nohash_" + std::to_string(take) + ".wav"),
                        encode_wav_pcm16(c));
    }
  write_file_atomic(in / "loose.wav", read_file_bytes(test::shared_data("audio/yes_1000ms.wav")));
  DatasetStore store(project.dataset_dir());
  EXPECT_NE(error_of([&] { import_files(project, store, {in}, {.group_pattern = "(unclosed"}); }).find("--group-pattern"),
            std::string::npos);
  EXPECT_TRUE(store.entries().empty());
  const json r = import_files(project, store, {in}, {.group_pattern = "^(.+)_nohash_"});
  ASSERT_EQ(r["added"].size(), 121u);
  std::map<std::string, std::set<std::string>> splits;
  for (const auto& e : r["added"]) {
    if (!e.contains("group")) continue;
    splits[e["group"].get<std::string>()].insert(e["split"].get<std::string>());
  }
  ASSERT_EQ(splits.size(), 40u);  // loose.wav has no group
  std::set<std::string> seen;
  for (const auto& [group, s] : splits) {
    EXPECT_EQ(s.size(), 1u) << group;
    seen.insert(*s.begin());
  }
  EXPECT_TRUE(seen.count("train") && seen.count("test")) << "40 speakers fall in several splits";
}

TEST(Importer, WrongRateNeedsResample) {
  test::TempDir root;
  AudioClip clip = read_audio(test::shared_data("audio/no_1000ms.wav"));
  write_file_atomic(root / "no8k.wav", encode_wav_pcm16(convert_audio(clip, 8000, 1)));
  Project project = project_of(kAudioProject, root.path());
  DatasetStore store(project.dataset_dir());
  EXPECT_NE(error_of([&] { import_files(project, store, {root / "no8k.wav"}, {.label = "no"}); })
                .find("8000 Hz, 1 channel(s), but the project records 16000 Hz"),
            std::string::npos);
  json r = import_files(project, store, {root / "no8k.wav"}, {.label = "no", .resample = true});
  ASSERT_EQ(r["added"].size(), 1u);
  EXPECT_EQ(r["added"][0]["rate"], 16000);
  EXPECT_EQ(r["added"][0]["converted_from"]["rate"], 8000);
  EXPECT_EQ(read_audio(store.dir() / r["added"][0]["path"].get<std::string>()).rate, 16000);
}

TEST(Importer, OneBadFileWritesNothing) {
  test::TempDir root;
  fs::create_directories(root / "in");
  fs::copy_file(test::shared_data("audio/yes_1000ms.wav"), root / "in/a.wav");
  copy_prefix(test::shared_data("audio/no_1000ms.wav"), root / "in/b.wav", 10000);
  Project project = project_of(kAudioProject, root.path());
  DatasetStore store(project.dataset_dir());
  EXPECT_NE(error_of([&] { import_files(project, store, {root / "in"}, {.label = "yes"}); }).find("b.wav: truncated"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(project.dataset_dir()));
}

TEST(Importer, LabelFromFolderAndSensorMismatch) {
  test::TempDir root;
  fs::create_directories(root / "in/no");
  fs::copy_file(test::shared_data("audio/no_1000ms.wav"), root / "in/no/x.wav");
  Project project = project_of(kAudioProject, root.path());
  DatasetStore store(project.dataset_dir());
  json r = import_files(project, store, {root / "in"}, {});
  ASSERT_EQ(r["added"].size(), 1u);
  EXPECT_EQ(r["added"][0]["label"], "no");
  EXPECT_NE(error_of([&] { import_files(project, store, {test::shared_data("images/person.bmp")}, {.label = "no"}); })
                .find("a camera file, but this project's sensor is audio"),
            std::string::npos);
  EXPECT_NE(error_of([&] { import_files(project, store, {root / "in"}, {.label = "maybe"}); })
                .find("--label maybe: not a label of this project (yes, no, _silence)"),
            std::string::npos);
}

}  // namespace
}  // namespace tml
