// Exact Cortex-M4F instruction counts of the preprocessing core, measured in QEMU mps2-an386 with
// -icount shift=10 (one instruction = 1024 ns of virtual time) and the CMSDK timer0 at 25 MHz: one
// instruction = 25.6 timer ticks, identical run to run (DESIGN.md §5). QEMU counts instructions,
// not cycles: FPU and memory wait states of a real nRF52840 come on top.
//
// Workloads (the templates' configurations, real inputs):
//  - voice-control MFCC 49x10 of a real one-second clip, streamed hop by hop (20 ms = 320 samples);
//  - wildlife camera frame 160x120 RGB565 -> 96x96 grayscale int8 (centre crop, area), and bilinear;
//  - maintenance IMU window 2 s x 3 axes at 952 Hz (high-pass, 16 log bands, 3 peaks).
// Usage: device_preprocess_bench   (prints a table; asserts nothing)
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "collect/audio_file.h"
#include "collect/camera_frame.h"
#include "collect/feature_extraction.h"
#include "device/device_identity.h"

namespace fs = std::filesystem;
using namespace tml;

namespace {

constexpr double kTicksPerInstruction = 25.6;

void write_file(const fs::path& file, const void* data, std::size_t size) {
  std::ofstream out(file, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// "timing KIND line=N key=value ..." lines of the runner -> per job line, key -> value.
std::map<int, std::map<std::string, double>> parse_timings(const std::string& output) {
  std::map<int, std::map<std::string, double>> timings;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("timing ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string word, kind;
    words >> kind;
    std::map<std::string, double> values;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq == std::string::npos) continue;
      const std::string value = word.substr(eq + 1);
      values[word.substr(0, eq)] = value.find_first_not_of("0123456789") == std::string::npos ? std::stod(value) : 0.0;
    }
    timings[static_cast<int>(values["line"])] = values;
  }
  return timings;
}

// What the OV7675 sends for a scene: 160x120 RGB565.
std::vector<std::uint8_t> rgb565_frame(const cv::Mat& bgr) {
  cv::Mat scene, rgb;
  cv::resize(bgr, scene, cv::Size(160, 120), 0, 0, cv::INTER_AREA);
  cv::cvtColor(scene, rgb, cv::COLOR_BGR2RGB);
  return encode_camera_frame(rgb, proto::SampleFormat::rgb565);
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / ("tml_device_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path shared = TML_SHARED_DATA;

  // Audio: yes_1000ms.wav as int16 PCM.
  const Project voice = test::template_project("voice-control", dir);
  const pre::AudioConfig kws = audio_config_of(voice);
  const AudioClip clip = read_audio(shared / "audio/yes_1000ms.wav");
  std::vector<std::int16_t> pcm(16000, 0);
  for (std::size_t i = 0; i < pcm.size() && i < clip.samples.size(); ++i)
    pcm[i] = static_cast<std::int16_t>(std::lround(clip.samples[i] * 32768.0f));
  write_file(dir / "clip.pcm", pcm.data(), pcm.size() * 2);

  // Camera: person.bmp as the OV7675's 160x120 RGB565 frame.
  const Project wildlife = test::template_project("wildlife", dir);
  const pre::ImageConfig camera = image_config_of(wildlife);
  pre::ImageConfig bilinear = camera;
  bilinear.interpolation = pre::Interpolation::bilinear;
  const std::vector<std::uint8_t> frame = rgb565_frame(cv::imread((shared / "images/person.bmp").string()));
  write_file(dir / "frame.rgb565", frame.data(), frame.size());

  // IMU: a 2 s window of a 25 Hz shaft with noise.
  const Project maintenance = test::template_project("maintenance", dir);
  const pre::ImuConfig imu = imu_config_of(maintenance);
  std::vector<float> window;
  for (std::uint32_t r = 0; r < imu.window_samples; ++r) {
    const double t = r / static_cast<double>(imu.sample_rate);
    window.insert(window.end(), {static_cast<float>(0.5 * std::sin(2 * M_PI * 25 * t)),
                                 static_cast<float>(0.5 * std::cos(2 * M_PI * 25 * t)),
                                 static_cast<float>(1.0 + 0.01 * std::sin(2 * M_PI * 50 * t))});
  }
  write_file(dir / "window.f32", window.data(), window.size() * 4);

  const std::string jobs = "audio " + (dir / "clip.pcm").string() + " " + (dir / "mfcc.out").string() + " " +
                           test::audio_job_params(kws, kws.hop_length) + "\n" +
                           "image " + (dir / "frame.rgb565").string() + " " + (dir / "area.out").string() + " " +
                           test::image_job_params(camera) + "\n" +
                           "image " + (dir / "frame.rgb565").string() + " " + (dir / "bilinear.out").string() + " " +
                           test::image_job_params(bilinear) + "\n" +
                           "imu " + (dir / "window.f32").string() + " " + (dir / "imu.out").string() + " " +
                           test::imu_job_params(imu) + "\n";
  write_file(dir / "jobs.txt", jobs.data(), jobs.size());
  const test::DeviceRun run = test::run_on_qemu(dir / "jobs.txt", {"-icount", "shift=10"});
  fs::remove_all(dir);
  if (run.exit_code != 0) {
    std::fprintf(stderr, "device_preprocess_bench: the Cortex-M4F runner failed:\n%s\n", run.output.c_str());
    return 1;
  }
  auto t = parse_timings(run.output);
  auto instr = [](double ticks) { return ticks / kTicksPerInstruction; };
  const auto& a = t[1];
  const double frames = a.at("frames");
  std::printf("Cortex-M4F instruction counts (QEMU mps2-an386, -icount shift=10, timer0 ticks / 25.6)\n\n");
  std::printf("voice-control MFCC %gx%u, %u-point FFT, %u mel bands:\n", frames, kws.mfcc_coeffs, kws.fft_size,
              kws.mel_bands);
  std::printf("  one 20 ms hop (mean of %g)   %10.0f instructions (goal <= 32,000)\n", frames - 1,
              instr(a.at("steady")) / (frames - 1));
  std::printf("  one 20 ms hop (worst)         %10.0f\n", instr(a.at("hop_max")));
  std::printf("  first frame (30 ms window)    %10.0f\n", instr(a.at("first_frame")));
  std::printf("  one-second clip, %g frames    %10.0f  (%.1f%% of a 64 MHz core at one instruction per cycle)\n",
              frames, instr(a.at("total")), 100.0 * instr(a.at("total")) / 64e6);
  std::printf("\nwildlife camera frame 160x120 RGB565 -> 96x96 gray int8 (centre crop):\n");
  std::printf("  area                          %10.0f instructions\n", instr(t[2].at("total")));
  std::printf("  bilinear                      %10.0f\n", instr(t[3].at("total")));
  std::printf("\nmaintenance IMU window %u samples x %u axes (%u-point FFT, %u bands, %u peaks):\n",
              imu.window_samples, imu.channels, imu.fft_size, imu.spectral_bands, imu.spectral_peaks);
  std::printf("  features                      %10.0f instructions\n", instr(t[4].at("total")));
  return 0;
}
