// Audio features against torchaudio on real speech (the reference users trust), and streaming
// against whole-clip extraction.
#include "preprocess/audio_features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "collect/audio_file.h"
#include "core/process.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using namespace tml::pre;
using json = nlohmann::json;

struct Named {
  const char* name;
  AudioConfig config;
};

std::vector<Named> configs() {
  AudioConfig kws;  // the voice-control template: 49 x 10 MFCC
  AudioConfig slaney;
  slaney.kind = AudioFeatureKind::logmel;
  slaney.frame_length = 400;
  slaney.hop_length = 160;
  slaney.fft_size = 1024;
  slaney.window = WindowKind::hamming;
  slaney.window_periodic = false;
  slaney.pre_emphasis = 0.97f;
  slaney.mel_bands = 64;
  slaney.mel_scale = MelScale::slaney;
  slaney.fmin = 0.0f;
  slaney.fmax = 8000.0f;
  AudioConfig spec;
  spec.kind = AudioFeatureKind::spectrogram;
  spec.frame_length = 256;
  spec.hop_length = 128;
  spec.fft_size = 256;
  spec.spectrum = SpectrumKind::magnitude;
  // Single-precision FFTs (ours and torch's) agree to ~1e-7 of a frame's energy; bins far below that
  // are rounding noise in both, so a spectrogram needs a floor above it to compare (or to learn from).
  spec.log_floor = 1e-4f;
  AudioConfig lifted;
  lifted.mel_bands = 26;
  lifted.mfcc_coeffs = 13;
  lifted.lifter = 22;
  lifted.mean_normalize = true;
  lifted.fmin = 64.0f;
  lifted.fmax = 7000.0f;
  return {{"mfcc_htk_kws", kws}, {"logmel_slaney_hamming_preemph", slaney}, {"magnitude_spectrogram", spec},
          {"mfcc_lifter_meannorm", lifted}};
}

json to_json(const AudioConfig& c) {
  const char* kinds[] = {"mfcc", "logmel", "spectrogram"};
  return json{{"sample_rate", c.sample_rate}, {"kind", kinds[static_cast<int>(c.kind)]},
              {"frame_length", c.frame_length}, {"hop_length", c.hop_length}, {"fft_size", c.fft_size},
              {"window", c.window == WindowKind::hann ? "hann" : "hamming"}, {"window_periodic", c.window_periodic},
              {"pre_emphasis", c.pre_emphasis}, {"spectrum", c.spectrum == SpectrumKind::power ? "power" : "magnitude"},
              {"mel_bands", c.mel_bands}, {"mel_scale", c.mel_scale == MelScale::htk ? "htk" : "slaney"},
              {"fmin", c.fmin}, {"fmax", c.fmax}, {"log_floor", c.log_floor}, {"mfcc_coeffs", c.mfcc_coeffs},
              {"lifter", c.lifter}, {"mean_normalize", c.mean_normalize}};
}

// Real speech at 16 kHz: the shared Speech Commands clips and pocketsphinx's recordings.
std::vector<std::pair<std::string, std::vector<float>>> real_clips() {
  std::vector<fs::path> files;
  for (const char* f : {"yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav"}) {
    files.push_back(test::shared_data(std::string("audio/") + f));
  }
  for (const char* dir : {"/usr/share/pocketsphinx/test/data/cards", "/usr/share/pocketsphinx/test/data/librivox"}) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".wav") found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  std::vector<std::pair<std::string, std::vector<float>>> clips;
  for (const auto& f : files) {
    AudioClip clip = read_audio(f);
    if (clip.rate != 16000 || clip.channels != 1) clip = convert_audio(clip, 16000, 1);
    clips.emplace_back(f.filename().string(), clip.samples);
  }
  return clips;
}

std::vector<float> ours(const AudioConfig& c, const std::vector<float>& x) {
  AudioState state;
  std::vector<float> work(audio_workspace_floats(c));
  EXPECT_EQ(audio_init(&state, c, work.data(), work.size()), Status::ok);
  std::vector<float> out(audio_frame_count(c, x.size()) * audio_feature_width(c));
  EXPECT_EQ(audio_features(&state, x.data(), x.size(), out.data(), out.size()), Status::ok);
  return out;
}

TEST(AudioFeatures, MatchTorchaudioOnRealSpeech) {
  auto clips = real_clips();
  ASSERT_GE(clips.size(), 14u);
  test::TempDir dir;
  json job{{"runs", json::array()}};
  auto cfgs = configs();
  for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
    json run{{"config", to_json(cfgs[ci].config)}, {"clips", json::array()}};
    for (std::size_t i = 0; i < clips.size(); ++i) {
      fs::path in = dir / ("clip" + std::to_string(i) + ".f32");
      if (ci == 0) std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(clips[i].second.data()),
                                                            clips[i].second.size() * sizeof(float));
      run["clips"].push_back({{"in", in.string()}, {"out", (dir / (std::to_string(ci) + "_" + std::to_string(i) + ".ref")).string()}});
    }
    job["runs"].push_back(run);
  }
  test::write_text(dir / "job.json", job.dump());
  ProcessResult r = run_process({"/usr/bin/python3", (test::source_dir() / "tests/preprocess/torchaudio_reference.py").string(),
                                 (dir / "job.json").string()});
  ASSERT_EQ(r.exit_code, 0) << "torchaudio reference failed (scripts/setup.sh installs python3-torchaudio): " << r.err;

  for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
    double worst_ratio = 0;
    for (std::size_t i = 0; i < clips.size(); ++i) {
      std::vector<float> mine = ours(cfgs[ci].config, clips[i].second);
      auto ref_bytes = test::read_text(dir / (std::to_string(ci) + "_" + std::to_string(i) + ".ref"));
      ASSERT_EQ(ref_bytes.size(), mine.size() * sizeof(float)) << cfgs[ci].name << " " << clips[i].first;
      std::vector<float> ref(mine.size());
      std::memcpy(ref.data(), ref_bytes.data(), ref_bytes.size());
      auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
      double range = *hi - *lo, worst = 0;
      for (std::size_t k = 0; k < ref.size(); ++k) worst = std::max(worst, std::fabs(double(mine[k]) - ref[k]));
      EXPECT_LE(worst, 1e-3 * range) << cfgs[ci].name << " on " << clips[i].first;
      worst_ratio = std::max(worst_ratio, worst / range);
    }
    std::printf("[          ] %-32s worst |tml - torchaudio| = %.2e x clip range over %zu clips\n", cfgs[ci].name,
                worst_ratio, clips.size());
  }
}

TEST(AudioFeatures, StreamingEqualsWholeClip) {
  auto x = real_clips()[0].second;
  for (const auto& [name, c] : configs()) {
    if (c.mean_normalize) continue;  // a whole-clip operation
    std::vector<float> whole = ours(c, x);
    AudioState state;
    std::vector<float> work(audio_workspace_floats(c));
    ASSERT_EQ(audio_init(&state, c, work.data(), work.size()), Status::ok);
    std::vector<float> streamed;
    std::vector<float> frame(audio_feature_width(c));
    std::size_t pos = 0, step = c.frame_length;  // the device pushes one frame, then one hop at a time
    while (pos < x.size()) {
      std::size_t n = std::min(step, x.size() - pos), used = 0;
      bool ready = false;
      ASSERT_EQ(audio_push(&state, x.data() + pos, n, frame.data(), &used, &ready), Status::ok);
      EXPECT_EQ(used, n);
      if (ready) streamed.insert(streamed.end(), frame.begin(), frame.end());
      pos += n;
      step = c.hop_length;
    }
    ASSERT_EQ(streamed.size(), whole.size()) << name;
    EXPECT_EQ(std::memcmp(streamed.data(), whole.data(), whole.size() * sizeof(float)), 0) << name;
  }
}

TEST(AudioFeatures, ShapesAndBadConfigs) {
  AudioConfig c;
  EXPECT_EQ(audio_frame_count(c, 16000), 49u);
  EXPECT_EQ(audio_feature_width(c), 10u);
  AudioState s;
  float work[16];
  EXPECT_EQ(audio_init(&s, c, work, 16), Status::buffer_too_small);
  AudioConfig bad = c;
  bad.fft_size = 500;
  EXPECT_EQ(audio_validate(bad), Status::bad_argument);
  bad = c;
  bad.fft_size = 256;  // shorter than the 480-sample frame
  EXPECT_EQ(audio_validate(bad), Status::bad_argument);
  bad = c;
  bad.fmax = 9000;
  EXPECT_EQ(audio_validate(bad), Status::bad_argument);
  bad = c;
  bad.mfcc_coeffs = 41;
  EXPECT_EQ(audio_validate(bad), Status::bad_argument);
}

}  // namespace
}  // namespace tml
