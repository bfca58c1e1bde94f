// Host ≡ device for the portable preprocessing core: the features tml computes from stored samples
// (collect/feature_extraction, the code behind `tml preprocess`) must equal, byte for byte, what the
// Cortex-M4F computes from the raw sensor signal: tests/device/portable_runner.cc built for
// x86-64 and for QEMU mps2-an386, on the same job file. Real inputs, ≥ 20 per modality:
//  - audio: 1 s windows of real speech (../shared/data, pocketsphinx-testdata), int16 PCM as the PDM
//    microphone delivers it, streamed hop by hop on the device;
//  - camera: real photos (../shared/data, python3-skimage, dataset-fashion-mnist) as the 160x120
//    frames the OV7675 sends (RGB565 and YUV422); the host side reads the frame as the PNG that
//    `tml collect` stores;
//  - IMU: vibration windows (shaft imbalance, bearing impacts, noise) as float32 samples; the host
//    side reads them as the CSV the dataset stores.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "collect/audio_file.h"
#include "collect/camera_frame.h"
#include "collect/feature_extraction.h"
#include "core/atomic_file.h"
#include "device/device_identity.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;

void write_bytes(const fs::path& file, const void* data, std::size_t size) {
  write_text(file, std::string(static_cast<const char*>(data), size));
}

// One job: what the host computed (expected), and the runner's input/parameters.
struct Job {
  std::string name;
  std::string kind;
  fs::path input;
  std::string params;
  std::string expected;  // bytes from the host's own path (FeatureExtractor); empty: host runner only
};

// Runs every job through the host runner and QEMU and checks: both succeed; host runner == QEMU
// for every output byte; host runner == expected where given. Returns the number of identical jobs.
std::size_t check_host_equals_device(const fs::path& dir, const std::vector<Job>& jobs) {
  std::string host_jobs, qemu_jobs;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::string out = "out_" + std::to_string(i) + ".bin";
    host_jobs += jobs[i].kind + " " + jobs[i].input.string() + " " + (dir / ("host_" + out)).string() + " " +
                 jobs[i].params + "\n";
    qemu_jobs += jobs[i].kind + " " + jobs[i].input.string() + " " + (dir / ("qemu_" + out)).string() + " " +
                 jobs[i].params + "\n";
  }
  write_text(dir / "host_jobs.txt", host_jobs);
  write_text(dir / "qemu_jobs.txt", qemu_jobs);
  const DeviceRun host = run_on_host(dir / "host_jobs.txt");
  const DeviceRun qemu = run_on_qemu(dir / "qemu_jobs.txt");
  const std::string summary = "portable_runner: " + std::to_string(jobs.size()) + " jobs, 0 failed";
  EXPECT_EQ(host.exit_code, 0) << host.output;
  EXPECT_NE(host.output.find(summary), std::string::npos) << host.output;
  EXPECT_EQ(qemu.exit_code, 0) << qemu.output;
  EXPECT_NE(qemu.output.find(summary), std::string::npos) << qemu.output;

  std::size_t identical = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::string out = "out_" + std::to_string(i) + ".bin";
    if (!fs::is_regular_file(dir / ("host_" + out)) || !fs::is_regular_file(dir / ("qemu_" + out))) {
      ADD_FAILURE() << jobs[i].name << ": no output";
      continue;
    }
    const std::string h = read_text(dir / ("host_" + out)), q = read_text(dir / ("qemu_" + out));
    bool same = !h.empty() && h == q;
    if (h != q) {
      std::size_t at = 0;
      while (at < h.size() && at < q.size() && h[at] == q[at]) ++at;
      ADD_FAILURE() << jobs[i].name << ": host and Cortex-M4F differ first at byte " << at << " of " << h.size();
    }
    if (!jobs[i].expected.empty() && jobs[i].expected != h) {
      same = false;
      ADD_FAILURE() << jobs[i].name << ": tml's features (" << jobs[i].expected.size()
                    << " bytes) differ from the runner's (" << h.size() << " bytes)";
    }
    if (same) ++identical;
  }
  return identical;
}

std::string as_string(const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); }

// --- audio ----------------------------------------------------------------------------------

std::vector<fs::path> speech_files() {
  std::vector<fs::path> files;
  for (const char* f : {"yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav"})
    files.push_back(shared_data(std::string("audio/") + f));
  for (const char* dir : {"/usr/share/pocketsphinx/test/data/cards", "/usr/share/pocketsphinx/test/data/librivox"}) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".wav") found.push_back(e.path());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

TEST(HostDeviceIdentity, AudioFeaturesOnRealSpeech) {
  TempDir tmp;
  const Project project = template_project("voice-control", tmp.path());
  const FeatureExtractor extractor(project);
  const pre::AudioConfig kws = audio_config_of(project);

  // Two more configurations that reach the other code paths: log-mel (Slaney, Hamming, pre-emphasis,
  // pushed in odd-sized blocks) and a magnitude spectrogram with per-clip mean normalisation.
  pre::AudioConfig logmel = kws;
  logmel.kind = pre::AudioFeatureKind::logmel;
  logmel.mel_scale = pre::MelScale::slaney;
  logmel.window = pre::WindowKind::hamming;
  logmel.window_periodic = false;
  logmel.pre_emphasis = 0.97f;
  logmel.fmax = 8000.0f;
  pre::AudioConfig spectrogram = kws;
  spectrogram.kind = pre::AudioFeatureKind::spectrogram;
  spectrogram.spectrum = pre::SpectrumKind::magnitude;
  spectrogram.frame_length = 256;
  spectrogram.hop_length = 128;
  spectrogram.fft_size = 256;
  spectrogram.mean_normalize = true;

  std::vector<Job> jobs;
  std::size_t clips = 0;
  for (const fs::path& file : speech_files()) {
    AudioClip clip = read_audio(file);
    if (clip.rate != 16000 || clip.channels != 1) clip = convert_audio(clip, 16000, 1);
    // 1 s windows at every whole second the recording has (at most 3 per recording).
    for (std::size_t start = 0; start + 16000 <= clip.frames() && start < 3 * 16000; start += 16000) {
      const std::string name = file.stem().string() + "@" + std::to_string(start / 16000) + "s";
      AudioClip window{16000, 1, false,
                       std::vector<float>(clip.samples.begin() + static_cast<std::ptrdiff_t>(start),
                                          clip.samples.begin() + static_cast<std::ptrdiff_t>(start + 16000))};
      const fs::path wav = tmp / (std::to_string(clips) + ".wav");
      const std::vector<std::uint8_t> bytes = encode_wav_pcm16(window);
      write_bytes(wav, bytes.data(), bytes.size());
      // The device gets the int16 samples the stored WAV holds.
      const AudioClip stored = read_audio(wav);
      std::vector<std::int16_t> pcm(stored.samples.size());
      for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(stored.samples[i] * 32768.0f);
      const fs::path raw = tmp / (std::to_string(clips) + ".pcm");
      write_bytes(raw, pcm.data(), pcm.size() * 2);
      jobs.push_back({name + " mfcc", "audio", raw, audio_job_params(kws, kws.hop_length), as_string(extractor.extract(wav))});
      jobs.push_back({name + " logmel", "audio", raw, audio_job_params(logmel, 97), ""});
      jobs.push_back({name + " spectrogram", "audio", raw, audio_job_params(spectrogram, 128), ""});
      ++clips;
    }
  }
  ASSERT_GE(clips, 20u);
  const std::size_t identical = check_host_equals_device(tmp.path(), jobs);
  EXPECT_EQ(identical, jobs.size());
  std::printf("[ host = device ] audio: %zu real 1 s clips x 3 configurations, %zu of %zu outputs identical\n", clips,
              identical, jobs.size());
}

// --- camera ---------------------------------------------------------------------------------

std::vector<std::pair<std::string, cv::Mat>> real_photos() {
  std::vector<std::pair<std::string, cv::Mat>> photos;
  for (const char* f : {"person.bmp", "no_person.bmp"})
    photos.emplace_back(f, cv::imread(shared_data(std::string("images/") + f).string(), cv::IMREAD_COLOR));
  const std::string skimage = "/usr/lib/python3/dist-packages/skimage/data/";
  for (const char* f : {"astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "horse.png",
                        "moon.png", "page.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg",
                        "ihc.png", "grass.png"})
    photos.emplace_back(f, cv::imread(skimage + f, cv::IMREAD_COLOR));
  // Fashion-MNIST test images (Debian dataset-fashion-mnist): the first eight.
  FILE* p = popen("gzip -dc /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz 2>/dev/null", "r");
  if (p != nullptr) {
    std::vector<unsigned char> bytes(16 + 8 * 28 * 28);
    const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), p);
    pclose(p);
    for (int i = 0; got == bytes.size() && i < 8; ++i) {
      cv::Mat gray(28, 28, CV_8UC1, bytes.data() + 16 + i * 28 * 28), bgr;
      cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
      photos.emplace_back("fashion-mnist#" + std::to_string(i), bgr);
    }
  }
  return photos;
}

TEST(HostDeviceIdentity, ImagePreprocessingOnRealPhotos) {
  TempDir tmp;
  const Project project = template_project("wildlife", tmp.path());
  const FeatureExtractor extractor(project);
  const pre::ImageConfig camera = image_config_of(project);  // rgb565 160x120 -> 96x96 gray int8, area
  ASSERT_EQ(camera.input_format, pre::PixelFormat::rgb565);
  pre::ImageConfig yuv = camera;  // YUV422 frames, bilinear, letterboxed RGB as float32
  yuv.input_format = pre::PixelFormat::yuv422;
  yuv.interpolation = pre::Interpolation::bilinear;
  yuv.crop = pre::CropMode::letterbox;
  yuv.color = pre::ColorMode::rgb;
  yuv.normalize = pre::Normalize::float32;

  std::vector<Job> jobs;
  std::size_t photos = 0;
  for (const auto& [name, bgr] : real_photos()) {
    ASSERT_FALSE(bgr.empty()) << name << " is missing: run scripts/setup.sh (python3-skimage, dataset-fashion-mnist)";
    cv::Mat scene, rgb;
    cv::resize(bgr, scene, cv::Size(160, 120), 0, 0, cv::INTER_AREA);
    cv::cvtColor(scene, rgb, cv::COLOR_BGR2RGB);
    const std::string id = std::to_string(photos);
    // What the OV7675 sends for the scene.
    const std::vector<std::uint8_t> rgb565 = encode_camera_frame(rgb, proto::SampleFormat::rgb565);
    const std::vector<std::uint8_t> yuyv = encode_camera_frame(rgb, proto::SampleFormat::yuv422);
    write_bytes(tmp / (id + ".rgb565"), rgb565.data(), rgb565.size());
    write_bytes(tmp / (id + ".yuyv"), yuyv.data(), yuyv.size());
    // The PNG `tml collect` stores for an RGB565 frame: the frame decoded to 8-bit RGB, losslessly.
    cv::Mat decoded(120, 160, CV_8UC3), stored;
    ASSERT_EQ(pre::decode_pixels(rgb565.data(), rgb565.size(), pre::PixelFormat::rgb565, 160, 120,
                                 pre::ImageU8{decoded.data, 160, 120, 3}),
              pre::Status::ok);
    cv::cvtColor(decoded, stored, cv::COLOR_RGB2BGR);
    const fs::path png = tmp / (id + ".png");
    ASSERT_TRUE(cv::imwrite(png.string(), stored));
    jobs.push_back({name + " rgb565", "image", tmp / (id + ".rgb565"), image_job_params(camera),
                    as_string(extractor.extract(png))});
    jobs.push_back({name + " yuv422", "image", tmp / (id + ".yuyv"), image_job_params(yuv), ""});
    ++photos;
  }
  ASSERT_GE(photos, 20u);
  const std::size_t identical = check_host_equals_device(tmp.path(), jobs);
  EXPECT_EQ(identical, jobs.size());
  std::printf("[ host = device ] camera: %zu real photos as RGB565 and YUV422 frames, %zu of %zu outputs identical\n",
              photos, identical, jobs.size());
}

// --- IMU ------------------------------------------------------------------------------------

TEST(HostDeviceIdentity, ImuFeaturesOnVibrationWindows) {
  TempDir tmp;
  const Project project = template_project("maintenance", tmp.path());
  const FeatureExtractor extractor(project);
  const pre::ImuConfig machine = imu_config_of(project);  // 952 Hz, 3 axes, 2 s, high-pass, log bands
  pre::ImuConfig lowpass = machine;
  lowpass.filter = pre::ImuFilter::lowpass;
  lowpass.filter_cutoff_hz = 120.0f;
  lowpass.filter_order = 5;
  lowpass.band_spacing = pre::BandSpacing::linear;
  lowpass.fft_size = 512;

  std::vector<Job> jobs;
  std::uint32_t lcg = 2024;
  auto noise = [&lcg] {
    lcg = lcg * 1664525u + 1013904223u;
    return static_cast<double>(lcg >> 8) / 16777216.0 - 0.5;
  };
  const double rate = machine.sample_rate;
  const std::size_t rows = machine.window_samples;
  for (int w = 0; w < 24; ++w) {
    // Shaft at 20..43 Hz; every third window an imbalance (strong 1x), every fourth bearing impacts.
    const double shaft = 20.0 + w, kPi = 3.14159265358979323846;
    std::string csv = "t,ax,ay,az\n";
    std::vector<float> samples;
    for (std::size_t r = 0; r < rows; ++r) {
      const double t = static_cast<double>(r) / rate;
      const double imbalance = w % 3 == 0 ? 0.8 : 0.1;
      double impact = 0.0;
      if (w % 4 == 0) {
        const double phase = std::fmod(t * shaft * 3.2, 1.0);
        impact = std::exp(-phase * 40.0) * std::sin(2 * kPi * 310.0 * t);
      }
      const float ax = static_cast<float>(imbalance * std::sin(2 * kPi * shaft * t) + 0.05 * noise() + impact);
      const float ay = static_cast<float>(imbalance * std::cos(2 * kPi * shaft * t) + 0.05 * noise());
      const float az = static_cast<float>(1.0 + 0.02 * std::sin(2 * kPi * 2 * shaft * t) + 0.05 * noise() + 0.5 * impact);
      char line[96];
      std::snprintf(line, sizeof line, "%.6f,%.9g,%.9g,%.9g\n", t, static_cast<double>(ax), static_cast<double>(ay),
                    static_cast<double>(az));
      csv += line;
      samples.insert(samples.end(), {ax, ay, az});
    }
    const std::string id = std::to_string(w);
    write_text(tmp / (id + ".csv"), csv);
    write_bytes(tmp / (id + ".f32"), samples.data(), samples.size() * 4);
    jobs.push_back({"window " + id + " maintenance", "imu", tmp / (id + ".f32"), imu_job_params(machine),
                    as_string(extractor.extract(tmp / (id + ".csv")))});
    jobs.push_back({"window " + id + " lowpass", "imu", tmp / (id + ".f32"), imu_job_params(lowpass), ""});
  }
  const std::size_t identical = check_host_equals_device(tmp.path(), jobs);
  EXPECT_EQ(identical, jobs.size());
  std::printf("[ host = device ] imu: 24 vibration windows x 2 configurations, %zu of %zu outputs identical\n",
              identical, jobs.size());
}

}  // namespace
}  // namespace tml::test
