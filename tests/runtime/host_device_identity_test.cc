// Host ≡ Cortex-M4F for the int8 runtime: a small DS-CNN-shaped model (conv, depthwise, pointwise,
// residual ADD, average pool, fully connected, softmax; tests/device/portable_runner.cc `model`)
// runs on ≥ 20 inputs made from real speech, on x86-64, on the Cortex-M4F with the DSP kernels
// (SMLAD/SXTB16) and with the portable kernels. Every activation byte of every layer must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "collect/audio_file.h"
#include "device/device_identity.h"
#include "preprocess/audio_features.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;

// 49x10 MFCCs of one-second windows of real speech, quantized to int8 (scale 2, zero point -3).
std::vector<std::vector<std::int8_t>> speech_inputs() {
  std::vector<fs::path> files;
  for (const char* f : {"yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav"})
    files.push_back(shared_data(std::string("audio/") + f));
  for (const auto& e : fs::directory_iterator("/usr/share/pocketsphinx/test/data/librivox"))
    if (e.path().extension() == ".wav") files.push_back(e.path());
  std::sort(files.begin() + 4, files.end());
  pre::AudioConfig c;  // the voice-control template's MFCC: 30 ms frames, 20 ms hop, 40 mels, 10 coefficients
  pre::AudioState state;
  std::vector<float> work(pre::audio_workspace_floats(c)), mfcc(49 * 10);
  EXPECT_EQ(pre::audio_init(&state, c, work.data(), work.size()), pre::Status::ok);
  std::vector<std::vector<std::int8_t>> inputs;
  for (const fs::path& f : files) {
    AudioClip clip = read_audio(f);
    if (clip.rate != 16000 || clip.channels != 1) clip = convert_audio(clip, 16000, 1);
    for (std::size_t start = 0; start + 16000 <= clip.samples.size() && start < 4 * 16000; start += 16000) {
      EXPECT_EQ(pre::audio_features(&state, clip.samples.data() + start, 16000, mfcc.data(), mfcc.size()), pre::Status::ok);
      std::vector<std::int8_t> q(490);
      for (std::size_t i = 0; i < q.size(); ++i)
        q[i] = static_cast<std::int8_t>(std::clamp(std::lround(mfcc[i] / 2.0f) - 3, -128L, 127L));
      inputs.push_back(q);
    }
  }
  inputs.push_back(std::vector<std::int8_t>(490, -128));  // extremes: every zero-point edge
  inputs.push_back(std::vector<std::int8_t>(490, 127));
  return inputs;
}

TEST(RuntimeHostDevice, ModelActivationsAreByteIdenticalOnBothKernelPaths) {
  TempDir tmp;
  const auto inputs = speech_inputs();
  ASSERT_GE(inputs.size(), 20u);
  std::string host_jobs, dsp_jobs, portable_jobs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string in = (tmp / ("in_" + std::to_string(i) + ".s8")).string();
    write_text(in, std::string(reinterpret_cast<const char*>(inputs[i].data()), inputs[i].size()));
    for (auto [jobs, who] : {std::pair{&host_jobs, "host"}, {&dsp_jobs, "dsp"}, {&portable_jobs, "portable"}})
      *jobs += "model " + in + " " + (tmp / (std::string(who) + "_" + std::to_string(i) + ".out")).string() + "\n";
  }
  write_text(tmp / "host.txt", host_jobs);
  write_text(tmp / "dsp.txt", dsp_jobs);
  write_text(tmp / "portable.txt", portable_jobs);
  const std::string summary = "portable_runner: " + std::to_string(inputs.size()) + " jobs, 0 failed";
  for (const DeviceRun& run : {run_on_host(tmp / "host.txt"), run_on_qemu(tmp / "dsp.txt"),
                               run_on_qemu_portable_kernels(tmp / "portable.txt")}) {
    ASSERT_EQ(run.exit_code, 0) << run.output;
    ASSERT_NE(run.output.find(summary), std::string::npos) << run.output;
  }
  std::size_t identical = 0, bytes = 0;
  std::vector<int> argmax_counts(4, 0);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string h = read_text(tmp / ("host_" + std::to_string(i) + ".out"));
    const std::string d = read_text(tmp / ("dsp_" + std::to_string(i) + ".out"));
    const std::string p = read_text(tmp / ("portable_" + std::to_string(i) + ".out"));
    ASSERT_EQ(h.size(), 4 * 25 * 5 * 16 + 16 + 4 + 4u);
    EXPECT_EQ(h, d) << "input " << i << ": host and the DSP kernels differ";
    EXPECT_EQ(h, p) << "input " << i << ": host and the portable kernels differ";
    if (h == d && h == p) ++identical;
    bytes += h.size();
    // The probabilities (last 4 bytes) are a real softmax: they sum to ~256 - 4 * 128 in int8.
    int sum = 0, best = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = static_cast<std::int8_t>(h[h.size() - 4 + k]) + 128;
      sum += v;
      if (v > static_cast<std::int8_t>(h[h.size() - 4 + best]) + 128) best = k;
    }
    EXPECT_NEAR(sum, 256, 4) << "input " << i;
    ++argmax_counts[best];
  }
  EXPECT_EQ(identical, inputs.size());
  // Not a degenerate network: the inputs do not all end in the same class.
  EXPECT_LT(*std::max_element(argmax_counts.begin(), argmax_counts.end()), static_cast<int>(inputs.size()));
  std::printf("[ host = device ] runtime: %zu inputs x 7 layers (%zu bytes each run), host = DSP = portable on %zu\n",
              inputs.size(), bytes, identical);
}

}  // namespace
}  // namespace tml::test
