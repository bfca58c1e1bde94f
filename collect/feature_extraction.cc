#include "collect/feature_extraction.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>

#include "collect/audio_file.h"
#include "collect/csv_file.h"
#include "collect/importer.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Bumped whenever the core's feature code changes what it computes, so caches are not reused.
constexpr int kFeatureCodeVersion = 1;

std::size_t samples_for_ms(double ms, double rate) { return static_cast<std::size_t>(std::llround(ms * rate / 1000.0)); }

const char* status_text(pre::Status s) {
  switch (s) {
    case pre::Status::ok: return "ok";
    case pre::Status::bad_argument: return "a parameter the feature code cannot honour";
    case pre::Status::buffer_too_small: return "a buffer too small";
  }
  return "?";
}

void check(pre::Status s, const fs::path& file) {
  if (s != pre::Status::ok) throw invalid_input(file.string(), std::string("preprocessing failed: ") + status_text(s));
}

template <typename T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<std::uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace

pre::AudioConfig audio_config_of(const Project& project) {
  const json& s = project.config["sensor"];
  const json& p = project.config["preprocess"];
  double rate = s["rate"];
  pre::AudioConfig c;
  c.sample_rate = s["rate"];
  std::string kind = p["features"];
  c.kind = kind == "mfcc" ? pre::AudioFeatureKind::mfcc
           : kind == "logmel" ? pre::AudioFeatureKind::logmel : pre::AudioFeatureKind::spectrogram;
  c.frame_length = static_cast<std::uint16_t>(samples_for_ms(p["frame_ms"], rate));
  c.hop_length = static_cast<std::uint16_t>(samples_for_ms(p["hop_ms"], rate));
  c.fft_size = p["fft_size"];
  c.window = p["window"] == "hann" ? pre::WindowKind::hann : pre::WindowKind::hamming;
  c.window_periodic = p["window_periodic"];
  c.pre_emphasis = p["pre_emphasis"];
  c.spectrum = p["spectrum"] == "power" ? pre::SpectrumKind::power : pre::SpectrumKind::magnitude;
  c.mel_bands = p["mel_bands"];
  c.mel_scale = p["mel_scale"] == "htk" ? pre::MelScale::htk : pre::MelScale::slaney;
  c.fmin = p["fmin"];
  c.fmax = p["fmax"];
  c.log_floor = p["log_floor"];
  c.mfcc_coeffs = p["mfcc_coeffs"];
  c.lifter = p["lifter"];
  c.mean_normalize = p["mean_normalize"];
  return c;
}

pre::ImageConfig image_config_of(const Project& project) {
  const json& s = project.config["sensor"];
  const json& p = project.config["preprocess"];
  pre::ImageConfig c;
  std::string f = s["pixel_format"];
  c.input_format = f == "rgb565" ? pre::PixelFormat::rgb565
                   : f == "yuv422" ? pre::PixelFormat::yuv422
                   : f == "rgb888" ? pre::PixelFormat::rgb888 : pre::PixelFormat::grayscale;
  c.input_width = s["width"];
  c.input_height = s["height"];
  c.width = p["width"];
  c.height = p["height"];
  c.crop = p["crop"] == "center" ? pre::CropMode::center : p["crop"] == "letterbox" ? pre::CropMode::letterbox : pre::CropMode::none;
  c.interpolation = p["interpolation"] == "area" ? pre::Interpolation::area : pre::Interpolation::bilinear;
  c.color = p["color"] == "grayscale" ? pre::ColorMode::grayscale : pre::ColorMode::rgb;
  c.normalize = p["normalize"] == "int8" ? pre::Normalize::int8 : p["normalize"] == "uint8" ? pre::Normalize::uint8 : pre::Normalize::float32;
  return c;
}

pre::ImuConfig imu_config_of(const Project& project) {
  const json& s = project.config["sensor"];
  const json& p = project.config["preprocess"];
  pre::ImuConfig c;
  c.sample_rate = s["rate"];
  c.channels = s["channels"];
  c.window_samples = static_cast<std::uint32_t>(samples_for_ms(s["window_ms"], s["rate"].get<double>()));
  c.remove_mean = p["remove_mean"];
  c.filter = p["filter"] == "none" ? pre::ImuFilter::none : p["filter"] == "lowpass" ? pre::ImuFilter::lowpass : pre::ImuFilter::highpass;
  c.filter_cutoff_hz = p["filter_cutoff_hz"];
  c.filter_order = p["filter_order"];
  c.fft_size = p["fft_size"];
  c.spectral_bands = p["spectral_bands"];
  c.band_spacing = p["band_spacing"] == "linear" ? pre::BandSpacing::linear : pre::BandSpacing::log;
  c.rms = p["rms"];
  c.spectral_peaks = p["spectral_peaks"];
  return c;
}

FeatureExtractor::FeatureExtractor(const Project& project) : project_(project), kind_(project.sensor_kind()) {
  json definition{{"sensor", project.config["sensor"]},
                  {"preprocess", project.config["preprocess"]},
                  {"code", kFeatureCodeVersion}};
  config_hash_ = sha256_hex(definition.dump()).substr(0, 16);
  if (kind_ == "audio") {
    pre::AudioConfig c = audio_config_of(project);
    std::size_t window = samples_for_ms(project.config["sensor"]["window_ms"], c.sample_rate);
    shape_ = {pre::audio_frame_count(c, window), pre::audio_feature_width(c)};
  } else if (kind_ == "camera") {
    pre::ImageConfig c = image_config_of(project);
    shape_ = {static_cast<std::size_t>(c.height), static_cast<std::size_t>(c.width),
              c.color == pre::ColorMode::rgb ? 3u : 1u};
    type_ = c.normalize == pre::Normalize::int8 ? NpyType::int8
            : c.normalize == pre::Normalize::uint8 ? NpyType::uint8 : NpyType::float32;
  } else {
    shape_ = {pre::imu_feature_count(imu_config_of(project))};
  }
}

std::size_t FeatureExtractor::bytes_per_sample() const {
  std::size_t n = npy_item_size(type_);
  for (std::size_t d : shape_) n *= d;
  return n;
}

std::string FeatureExtractor::describe() const {
  if (kind_ == "audio") return std::string(project_.config["preprocess"]["features"]);
  if (kind_ == "camera") return "image";
  return "imu";
}

std::vector<std::uint8_t> FeatureExtractor::extract(const fs::path& file) const {
  std::string kind = sensor_kind_of(file);
  if (kind != kind_) {
    throw invalid_input(file.string(), (kind.empty() ? std::string("not a file tml reads") : "a " + kind + " file") +
                                           ", but this project's sensor is " + kind_ + " (sensor.kind in tml.yaml)");
  }
  if (kind_ == "audio") return extract_audio(file);
  if (kind_ == "camera") return extract_image(file);
  return extract_imu(file);
}

std::vector<std::uint8_t> FeatureExtractor::extract_audio(const fs::path& file) const {
  pre::AudioConfig c = audio_config_of(project_);
  AudioClip clip = read_audio(file);
  if (clip.rate != static_cast<int>(c.sample_rate)) {
    throw invalid_input(file.string(), std::to_string(clip.rate) + " Hz, but the project uses " +
                                           std::to_string(c.sample_rate) + " Hz; convert it with `tml import --resample`");
  }
  std::size_t window = samples_for_ms(project_.config["sensor"]["window_ms"], c.sample_rate);
  std::vector<float> mono(window, 0.0f);  // zero-padded or cut to the window; channels averaged
  for (std::size_t i = 0; i < std::min(window, clip.frames()); ++i) {
    float sum = 0.0f;
    for (int ch = 0; ch < clip.channels; ++ch) sum += clip.samples[i * clip.channels + ch];
    mono[i] = sum / static_cast<float>(clip.channels);
  }
  pre::AudioState state;
  std::vector<float> work(pre::audio_workspace_floats(c));
  check(pre::audio_init(&state, c, work.data(), work.size()), file);
  std::vector<float> out(shape_[0] * shape_[1]);
  check(pre::audio_features(&state, mono.data(), mono.size(), out.data(), out.size()), file);
  return bytes_of(out);
}

std::vector<std::uint8_t> FeatureExtractor::extract_image(const fs::path& file) const {
  cv::Mat image = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  if (image.empty() || image.depth() != CV_8U) {
    throw invalid_input(file.string(), "not an 8-bit image OpenCV can read");
  }
  pre::ImageConfig c = image_config_of(project_);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2RGB);
  else if (image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  c.input_format = image.channels() == 1 ? pre::PixelFormat::grayscale : pre::PixelFormat::rgb888;
  c.input_width = image.cols;
  c.input_height = image.rows;
  if (!image.isContinuous()) image = image.clone();
  std::vector<std::uint8_t> work(pre::image_workspace_bytes(c));
  std::vector<std::uint8_t> out(pre::image_output_bytes(c));
  check(pre::image_preprocess(c, image.data, image.total() * image.elemSize(), work.data(), work.size(), out.data(),
                              out.size()),
        file);
  return out;
}

std::vector<std::uint8_t> FeatureExtractor::extract_imu(const fs::path& file) const {
  pre::ImuConfig c = imu_config_of(project_);
  CsvTable table = parse_csv(read_file_text(file), file.string());
  std::size_t first = table.columns == c.channels + 1u ? 1 : 0;  // a leading time column is dropped
  if (table.columns - first != c.channels) {
    throw invalid_input(file.string(), std::to_string(table.columns) + " columns, expected " +
                                           std::to_string(c.channels) + " (sensor.channels)");
  }
  std::vector<float> samples(static_cast<std::size_t>(c.window_samples) * c.channels, 0.0f);
  for (std::size_t r = 0; r < std::min<std::size_t>(c.window_samples, table.rows.size()); ++r) {
    for (std::size_t ch = 0; ch < c.channels; ++ch) {
      samples[r * c.channels + ch] = static_cast<float>(table.rows[r][first + ch]);
    }
  }
  std::vector<float> work(pre::imu_workspace_floats(c));
  std::vector<float> out(shape_[0]);
  check(pre::imu_features(c, samples.data(), samples.size(), work.data(), work.size(), out.data(), out.size()), file);
  return bytes_of(out);
}

}  // namespace tml
