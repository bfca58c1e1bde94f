#include "collect/take_writer.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstring>

#include "collect/audio_file.h"
#include "core/errors.h"
#include "preprocess/image_ops.h"

namespace tml {

using json = nlohmann::ordered_json;

double rate_hz(const proto::SensorDescriptor& s) { return s.rate_millihertz / 1000.0; }

namespace {

EncodedTake encode_audio(const proto::SensorDescriptor& s, const std::vector<std::uint8_t>& bytes) {
  const std::size_t frames = bytes.size() / (2u * s.channels);
  std::vector<std::int16_t> pcm(frames * s.channels);
  std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);  // little-endian on the wire and on the host
  std::size_t full_scale = 0;
  for (std::int16_t v : pcm) full_scale += (v >= 32767 || v <= -32768) ? 1 : 0;
  const int rate = static_cast<int>(rate_hz(s) + 0.5);
  EncodedTake t{".wav", encode_wav_pcm16(pcm.data(), frames, rate, s.channels), {}};
  t.details = json{{"rate", rate},
                   {"channels", s.channels},
                   {"frames", frames},
                   {"duration_s", static_cast<double>(frames) / rate},
                   {"clipping", pcm.empty() ? 0.0 : static_cast<double>(full_scale) / pcm.size()}};
  return t;
}

EncodedTake encode_imu(const proto::SensorDescriptor& s, const std::vector<std::uint8_t>& bytes) {
  const std::size_t rows = bytes.size() / (4u * s.channels);
  std::string csv;
  char cell[32];
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      float v;
      std::memcpy(&v, bytes.data() + 4 * (r * s.channels + c), 4);
      std::snprintf(cell, sizeof cell, c + 1 < s.channels ? "%.9g," : "%.9g\n", static_cast<double>(v));
      csv += cell;
    }
  }
  const double rate = rate_hz(s);
  EncodedTake t{".csv", std::vector<std::uint8_t>(csv.begin(), csv.end()), {}};
  t.details = json{{"rate", rate},
                   {"channels", s.channels},
                   {"rows", rows},
                   {"time_column", false},
                   {"duration_s", static_cast<double>(rows) / rate}};
  return t;
}

EncodedTake encode_camera(const proto::SensorDescriptor& s, const std::vector<std::uint8_t>& bytes) {
  const pre::PixelFormat format = s.format == proto::SampleFormat::rgb565   ? pre::PixelFormat::rgb565
                                  : s.format == proto::SampleFormat::yuv422 ? pre::PixelFormat::yuv422
                                                                            : pre::PixelFormat::grayscale;
  const int channels = format == pre::PixelFormat::grayscale ? 1 : 3;
  cv::Mat image(s.height, s.width, channels == 1 ? CV_8UC1 : CV_8UC3);
  if (pre::decode_pixels(bytes.data(), bytes.size(), format, s.width, s.height,
                         pre::ImageU8{image.data, s.width, s.height, channels}) != pre::Status::ok)
    throw invalid_input("", "the camera frame does not decode (size or format)");
  if (channels == 3) cv::cvtColor(image, image, cv::COLOR_RGB2BGR);
  EncodedTake t{".png", {}, json{{"shape", {s.height, s.width, channels}}}};
  if (!cv::imencode(".png", image, t.bytes)) throw Error(ExitCode::internal, "OpenCV could not encode a PNG");
  return t;
}

}  // namespace

std::size_t unit_bytes(const proto::SensorDescriptor& s) {
  return s.kind == proto::SensorKind::camera
             ? static_cast<std::size_t>(s.width) * s.height * proto::bytes_per_sample(s.format, 1)
             : proto::bytes_per_sample(s.format, s.channels);
}

EncodedTake encode_take(const proto::SensorDescriptor& s, const std::vector<std::uint8_t>& bytes) {
  const std::size_t unit = unit_bytes(s);
  if (unit == 0 || bytes.empty() || bytes.size() % unit != 0)
    throw invalid_input("", std::to_string(bytes.size()) + " bytes are not whole samples of the sensor (" +
                                std::to_string(unit) + " bytes each)");
  switch (s.kind) {
    case proto::SensorKind::audio:
      if (s.format != proto::SampleFormat::int16) break;
      return encode_audio(s, bytes);
    case proto::SensorKind::imu:
      if (s.format != proto::SampleFormat::float32) break;
      return encode_imu(s, bytes);
    case proto::SensorKind::camera:
      if (bytes.size() != unit) throw invalid_input("", "a camera take must hold exactly one frame");
      return encode_camera(s, bytes);
  }
  throw invalid_input("", "sensor format not supported for storage");
}

json capture_stats(const TakeResult& t, const proto::SensorDescriptor& s) {
  const std::size_t unit = unit_bytes(s);
  const double samples = unit ? static_cast<double>(t.bytes.size()) / unit : 0;
  json c{{"frames", t.frames},
         {"frames_lost", t.lost_frames},
         {"frames_corrupt", t.corrupt_frames},
         {"frames_duplicate", t.duplicate_frames},
         {"gap_bytes", t.gap_bytes},
         {"board_dropped_bytes", t.board_dropped_bytes},
         {"declared_rate", rate_hz(s)},
         {"seconds", t.seconds},
         {"link_bytes_per_s", t.seconds > 0 ? t.link_bytes / t.seconds : 0.0}};
  // Measured by the board's own clock: samples over first-to-last DATA time (one chunk less).
  if (t.device_seconds > 0 && t.frames > 1) c["measured_rate"] = samples * (t.frames - 1) / t.frames / t.device_seconds;
  else c["measured_rate"] = nullptr;
  c["clean"] = t.clean;
  if (!t.clean) c["problem"] = t.problem;
  return c;
}

}  // namespace tml
