#include "hal/replay.h"

namespace tml::hal {

namespace {

using proto::SampleFormat;
using proto::SensorKind;

bool equal(const char* a, std::size_t n, const char* b) {
  std::size_t i = 0;
  for (; i < n; ++i) {
    if (b[i] == '\0' || a[i] != b[i]) return false;
  }
  return b[i] == '\0';
}

bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// Decimal digits only, no sign, at most 4294967295.
bool parse_u32(const char* s, std::size_t n, std::uint32_t* out) {
  if (n == 0 || n > 10) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
  }
  if (v > 0xFFFFFFFFull) return false;
  *out = static_cast<std::uint32_t>(v);
  return true;
}

bool parse_u32(const char* s, std::uint32_t* out) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return parse_u32(s, n, out);
}

}  // namespace

bool parse_sensor_arg(const char* text, SensorArg* out, ErrorText* error) {
  // Split the first six fields at ':'; the rest is the path.
  const char* field[7];
  std::size_t len[7];
  const char* p = text;
  for (int f = 0; f < 6; ++f) {
    field[f] = p;
    while (*p != '\0' && *p != ':') ++p;
    len[f] = static_cast<std::size_t>(p - field[f]);
    if (*p != ':') {
      error->add("--sensor ").add(text).add(": expected KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH");
      return false;
    }
    ++p;
  }
  field[6] = p;
  len[6] = 0;
  while (p[len[6]] != '\0') ++len[6];

  SensorArg arg;
  proto::SensorDescriptor& d = arg.info.descriptor;
  if (equal(field[0], len[0], "audio")) d.kind = SensorKind::audio;
  else if (equal(field[0], len[0], "imu")) d.kind = SensorKind::imu;
  else if (equal(field[0], len[0], "camera")) d.kind = SensorKind::camera;
  else {
    error->add("--sensor ").add(text).add(": KIND must be audio, imu or camera");
    return false;
  }
  if (equal(field[1], len[1], "int16")) d.format = SampleFormat::int16;
  else if (equal(field[1], len[1], "float32")) d.format = SampleFormat::float32;
  else if (equal(field[1], len[1], "rgb565")) d.format = SampleFormat::rgb565;
  else if (equal(field[1], len[1], "yuv422")) d.format = SampleFormat::yuv422;
  else if (equal(field[1], len[1], "gray8")) d.format = SampleFormat::gray8;
  else {
    error->add("--sensor ").add(text).add(": FORMAT must be int16, float32, rgb565, yuv422 or gray8");
    return false;
  }
  std::uint32_t channels = 0, rate = 0, width = 0, height = 0;
  if (!parse_u32(field[2], len[2], &channels) || channels < 1 || channels > 64) {
    error->add("--sensor ").add(text).add(": CHANNELS must be 1 ... 64");
    return false;
  }
  if (!parse_u32(field[3], len[3], &rate) || rate == 0) {
    error->add("--sensor ").add(text).add(": RATE_MILLIHZ must be a positive integer (16 kHz = 16000000)");
    return false;
  }
  if (!parse_u32(field[4], len[4], &width) || !parse_u32(field[5], len[5], &height) || width > 65535 ||
      height > 65535) {
    error->add("--sensor ").add(text).add(": WIDTH and HEIGHT must be integers 0 ... 65535");
    return false;
  }
  d.channels = static_cast<std::uint16_t>(channels);
  d.rate_millihertz = rate;
  d.width = static_cast<std::uint16_t>(width);
  d.height = static_cast<std::uint16_t>(height);
  const bool camera_format =
      d.format == SampleFormat::rgb565 || d.format == SampleFormat::yuv422 || d.format == SampleFormat::gray8;
  if (d.kind == SensorKind::camera) {
    if (!camera_format || channels != 1 || width == 0 || height == 0 ||
        (d.format == SampleFormat::yuv422 && width % 2 != 0)) {
      error->add("--sensor ").add(text).add(
          ": a camera needs FORMAT rgb565, yuv422 (even WIDTH) or gray8, 1 channel, WIDTH and HEIGHT > 0");
      return false;
    }
    const std::uint64_t frame = static_cast<std::uint64_t>(width) * height * proto::bytes_per_sample(d.format, 1);
    if (frame > 0x7FFFFFFFull) {
      error->add("--sensor ").add(text).add(": frame too large");
      return false;
    }
    arg.unit_bytes = static_cast<std::uint32_t>(frame);
  } else {
    if (camera_format || width != 0 || height != 0) {
      error->add("--sensor ").add(text).add(": audio and IMU take FORMAT int16 or float32 and WIDTH:HEIGHT 0:0");
      return false;
    }
    arg.unit_bytes = static_cast<std::uint32_t>(proto::bytes_per_sample(d.format, d.channels));
  }
  if (len[6] == 0 || len[6] >= kMaxPath) {
    error->add("--sensor ").add(text).add(": PATH must be 1 ... 255 characters");
    return false;
  }
  for (std::size_t i = 0; i < len[6]; ++i) arg.path[i] = field[6][i];
  arg.path[len[6]] = '\0';
  arg.info.replayed = true;
  *out = arg;
  return true;
}

bool parse_board_args(int argc, char** argv, bool allow_socket, BoardArgs* out, ErrorText* error) {
  BoardArgs args;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (same(a, "--sensor")) {
      if (value == nullptr) {
        error->add("--sensor needs KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH");
        return false;
      }
      if (args.sensor_count == kMaxSensors) {
        error->add("at most 4 --sensor options");
        return false;
      }
      if (!parse_sensor_arg(value, &args.sensors[args.sensor_count], error)) return false;
      ++args.sensor_count;
      ++i;
    } else if (same(a, "--max-payload")) {
      std::uint32_t v = 0;
      if (value == nullptr || !parse_u32(value, &v) || v < kMinPayload || v > proto::kMaxPayload) {
        error->add("--max-payload needs a number of bytes, 64 ... 1024");
        return false;
      }
      args.max_payload = static_cast<std::uint16_t>(v);
      ++i;
    } else if (allow_socket && same(a, "--socket")) {
      std::size_t n = 0;
      while (value != nullptr && value[n] != '\0') ++n;
      if (n == 0 || n >= kMaxPath) {
        error->add("--socket needs a path (1 ... 107 characters)");
        return false;
      }
      for (std::size_t k = 0; k <= n; ++k) args.socket[k] = value[k];
      ++i;
    } else {
      error->add("unknown option '").add(a).add("'");
      return false;
    }
  }
  // Every sample of every sensor must fit a DATA payload.
  for (std::size_t s = 0; s < args.sensor_count; ++s) {
    const proto::SensorDescriptor& d = args.sensors[s].info.descriptor;
    if (proto::bytes_per_sample(d.format, d.channels) + proto::kDataHeaderSize > args.max_payload) {
      error->add("sensor ").add_u32(static_cast<std::uint32_t>(s)).add(": one sample does not fit a payload of ")
          .add_u32(args.max_payload).add(" bytes");
      return false;
    }
  }
  *out = args;
  return true;
}

bool ReplaySensor::open(const FileOps* ops, const SensorArg& arg, ErrorText* error) {
  ops_ = ops;
  std::uint32_t size = 0;
  handle_ = ops->open(arg.path, &size);
  if (handle_ < 0) {
    error->add("cannot open sensor file '").add(arg.path).add("'");
    return false;
  }
  length_ = size - size % arg.unit_bytes;
  if (length_ == 0) {
    error->add("sensor file '").add(arg.path).add("' holds less than one ")
        .add(arg.info.descriptor.kind == proto::SensorKind::camera ? "frame (" : "sample (")
        .add_u32(arg.unit_bytes).add(" bytes)");
    return false;
  }
  pos_ = 0;
  return true;
}

bool ReplaySensor::start() { return handle_ >= 0 && ops_->seek(handle_, pos_); }

bool ReplaySensor::read(std::uint8_t* dst, std::size_t n) {
  if (handle_ < 0) return false;
  while (n > 0) {
    std::size_t k = length_ - pos_;
    if (k > n) k = n;
    if (!ops_->read(handle_, dst, k)) return false;
    dst += k;
    n -= k;
    pos_ += static_cast<std::uint32_t>(k);
    if (pos_ == length_) {
      if (!ops_->seek(handle_, 0)) return false;
      pos_ = 0;
    }
  }
  return true;
}

}  // namespace tml::hal
