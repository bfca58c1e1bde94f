// Host speed of the portable preprocessing core, with peers measured in the same run:
// MFCC of a one-second 16 kHz clip against torchaudio (one thread), and image resizing against
// OpenCV's cv::resize. Prints figures and ratios; asserts nothing.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "collect/audio_file.h"
#include "core/process.h"
#include "preprocess/audio_features.h"
#include "preprocess/image_ops.h"

namespace {

namespace fs = std::filesystem;
using namespace tml::pre;

std::vector<float> g_clip;
cv::Mat g_frame_gray;  // 160x120 from a real photo

void BM_Mfcc49x10_OneSecond(benchmark::State& state) {
  AudioConfig c;
  AudioState s;
  std::vector<float> work(audio_workspace_floats(c)), out(49 * 10);
  audio_init(&s, c, work.data(), work.size());
  for (auto _ : state) {
    audio_features(&s, g_clip.data(), g_clip.size(), out.data(), out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mfcc49x10_OneSecond)->Unit(benchmark::kMicrosecond);

void BM_MfccOneHop(benchmark::State& state) {
  AudioConfig c;
  AudioState s;
  std::vector<float> work(audio_workspace_floats(c)), out(10);
  audio_init(&s, c, work.data(), work.size());
  std::size_t used;
  bool ready;
  audio_push(&s, g_clip.data(), 480, out.data(), &used, &ready);
  std::size_t pos = 480;
  for (auto _ : state) {
    if (pos + 320 > g_clip.size()) pos = 0;
    audio_push(&s, g_clip.data() + pos, 320, out.data(), &used, &ready);
    pos += 320;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MfccOneHop)->Unit(benchmark::kMicrosecond);

void BM_ResizeArea160x120To96_Tml(benchmark::State& state) {
  std::vector<std::uint8_t> out(96 * 96);
  for (auto _ : state) {
    resize({g_frame_gray.data, 160, 120, 1}, {out.data(), 96, 96, 1}, Interpolation::area);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResizeArea160x120To96_Tml)->Unit(benchmark::kMicrosecond);

void BM_ResizeArea160x120To96_OpenCV(benchmark::State& state) {
  cv::setNumThreads(1);
  cv::Mat out;
  for (auto _ : state) {
    cv::resize(g_frame_gray, out, cv::Size(96, 96), 0, 0, cv::INTER_AREA);
    benchmark::DoNotOptimize(out.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResizeArea160x120To96_OpenCV)->Unit(benchmark::kMicrosecond);

// Remembers items/s per benchmark for the ratios printed at the end.
class Recorder : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rate;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate[r.benchmark_name()] = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  fs::path data = fs::path(TML_SHARED_DATA);
  g_clip = tml::read_audio(data / "audio/yes_1000ms.wav").samples;
  cv::Mat photo = cv::imread("/usr/lib/python3/dist-packages/skimage/data/camera.png",
                             cv::IMREAD_GRAYSCALE);
  if (photo.empty()) photo = cv::imread((data / "images/person.bmp").string(), cv::IMREAD_GRAYSCALE);
  cv::resize(photo, g_frame_gray, cv::Size(160, 120), 0, 0, cv::INTER_AREA);

  benchmark::Initialize(&argc, argv);
  Recorder recorder;
  benchmark::RunSpecifiedBenchmarks(&recorder);

  // torchaudio in the same run, on the same clip.
  fs::path clip = fs::temp_directory_path() / "tml_bench_clip.f32";
  std::ofstream(clip, std::ios::binary).write(reinterpret_cast<const char*>(g_clip.data()), g_clip.size() * 4);
  tml::ProcessResult peer = tml::run_process(
      {"/usr/bin/python3", std::string(TML_SOURCE_DIR) + "/bench/torchaudio_mfcc_peer.py", clip.string(), "3"},
      {.env = {{"OMP_NUM_THREADS", "1"}}});
  double ours = recorder.rate["BM_Mfcc49x10_OneSecond"];
  std::printf("\nMFCC 49x10 of a one-second 16 kHz clip, one core:\n  tml         %10.0f clips/s\n", ours);
  if (peer.exit_code == 0) {
    double theirs = nlohmann::json::parse(peer.out)["clips_per_second"].get<double>();
    std::printf("  torchaudio  %10.0f clips/s\n  ratio       %10.1fx (goal >= 5x)\n", theirs, ours / theirs);
  } else {
    std::printf("  torchaudio  not measured: %s\n", peer.err.c_str());
  }
  double tml_resize = recorder.rate["BM_ResizeArea160x120To96_Tml"];
  double cv_resize = recorder.rate["BM_ResizeArea160x120To96_OpenCV"];
  if (cv_resize > 0) {
    std::printf("\nINTER_AREA 160x120 -> 96x96 gray, one core:\n  tml %.0f/s, OpenCV %.0f/s, ratio %.2fx\n", tml_resize,
                cv_resize, tml_resize / cv_resize);
  }
  fs::remove(clip);
  return 0;
}
