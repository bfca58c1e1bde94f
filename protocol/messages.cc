#include "protocol/messages.h"

#include "protocol/frame.h"

namespace tml::proto {

namespace {

bool valid_kind(std::uint8_t v) { return v >= 1 && v <= 3; }
bool valid_format(std::uint8_t v) { return v >= 1 && v <= 5; }

}  // namespace

std::size_t bytes_per_sample(SampleFormat format, std::uint16_t channels) {
  switch (format) {
    case SampleFormat::int16: return 2u * channels;
    case SampleFormat::float32: return 4u * channels;
    case SampleFormat::rgb565:
    case SampleFormat::yuv422: return 2;
    case SampleFormat::gray8: return 1;
  }
  return 0;
}

std::size_t encode_hello(const Hello& m, std::uint8_t* out, std::size_t cap) {
  if (m.sensor_count > kMaxSensors) return 0;
  const std::size_t n = kHelloFixedSize + kSensorDescriptorSize * m.sensor_count;
  if (out == nullptr || cap < n) return 0;
  for (std::size_t i = 0; i < kBoardIdSize; ++i) out[i] = 0;
  for (std::size_t i = 0; i < kBoardIdSize && m.board[i] != '\0'; ++i) out[i] = static_cast<std::uint8_t>(m.board[i]);
  out[16] = m.board_revision;
  out[17] = m.firmware_major;
  out[18] = m.firmware_minor;
  out[19] = m.firmware_patch;
  for (int i = 0; i < 8; ++i) out[20 + i] = m.config_hash[i];
  put_u16(out + 28, m.max_payload);
  out[30] = m.sensor_count;
  for (std::size_t s = 0; s < m.sensor_count; ++s) {
    std::uint8_t* d = out + kHelloFixedSize + kSensorDescriptorSize * s;
    const SensorDescriptor& sd = m.sensors[s];
    d[0] = static_cast<std::uint8_t>(sd.kind);
    d[1] = static_cast<std::uint8_t>(sd.format);
    put_u16(d + 2, sd.channels);
    put_u32(d + 4, sd.rate_millihertz);
    put_u16(d + 8, sd.width);
    put_u16(d + 10, sd.height);
    put_u32(d + 12, 0);
  }
  return n;
}

bool decode_hello(const std::uint8_t* p, std::size_t n, Hello* m) {
  if (p == nullptr || m == nullptr || n < kHelloFixedSize) return false;
  const std::uint8_t count = p[30];
  if (count > kMaxSensors || n != kHelloFixedSize + kSensorDescriptorSize * count) return false;
  Hello h;
  for (std::size_t i = 0; i < kBoardIdSize; ++i) {
    const std::uint8_t c = p[i];
    if (c != 0 && (c < 0x20 || c > 0x7E)) return false;  // printable ASCII only
    h.board[i] = static_cast<char>(c);
  }
  h.board[kBoardIdSize] = '\0';
  h.board_revision = p[16];
  h.firmware_major = p[17];
  h.firmware_minor = p[18];
  h.firmware_patch = p[19];
  for (int i = 0; i < 8; ++i) h.config_hash[i] = p[20 + i];
  h.max_payload = get_u16(p + 28);
  if (h.max_payload > kMaxPayload) return false;
  h.sensor_count = count;
  for (std::size_t s = 0; s < count; ++s) {
    const std::uint8_t* d = p + kHelloFixedSize + kSensorDescriptorSize * s;
    if (!valid_kind(d[0]) || !valid_format(d[1])) return false;
    SensorDescriptor& sd = h.sensors[s];
    sd.kind = static_cast<SensorKind>(d[0]);
    sd.format = static_cast<SampleFormat>(d[1]);
    sd.channels = get_u16(d + 2);
    sd.rate_millihertz = get_u32(d + 4);
    sd.width = get_u16(d + 8);
    sd.height = get_u16(d + 10);
    if (sd.channels == 0 || sd.channels > 64 || sd.rate_millihertz == 0) return false;
  }
  *m = h;
  return true;
}

std::size_t encode_start(const Start& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < 8) return 0;
  out[0] = m.sensor;
  out[1] = m.flags;
  put_u16(out + 2, m.take);
  put_u32(out + 4, m.length);
  return 8;
}

bool decode_start(const std::uint8_t* p, std::size_t n, Start* m) {
  if (p == nullptr || m == nullptr || n != 8) return false;
  m->sensor = p[0];
  m->flags = p[1];
  m->take = get_u16(p + 2);
  m->length = get_u32(p + 4);
  return true;
}

std::size_t encode_data_header(const DataHeader& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < kDataHeaderSize) return 0;
  out[0] = m.sensor;
  out[1] = 0;
  put_u16(out + 2, m.take);
  put_u32(out + 4, m.offset);
  return kDataHeaderSize;
}

bool decode_data_header(const std::uint8_t* p, std::size_t n, DataHeader* m) {
  if (p == nullptr || m == nullptr || n < kDataHeaderSize || p[1] != 0) return false;
  m->sensor = p[0];
  m->take = get_u16(p + 2);
  m->offset = get_u32(p + 4);
  return true;
}

std::size_t encode_take_end(const TakeEnd& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < 12) return 0;
  out[0] = m.sensor;
  out[1] = 0;
  put_u16(out + 2, m.take);
  put_u32(out + 4, m.total_bytes);
  put_u32(out + 8, m.dropped_bytes);
  return 12;
}

bool decode_take_end(const std::uint8_t* p, std::size_t n, TakeEnd* m) {
  if (p == nullptr || m == nullptr || n != 12 || p[1] != 0) return false;
  m->sensor = p[0];
  m->take = get_u16(p + 2);
  m->total_bytes = get_u32(p + 4);
  m->dropped_bytes = get_u32(p + 8);
  return true;
}

std::size_t encode_classify(const Classify& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < kClassifySize) return 0;
  out[0] = m.sensor;
  out[1] = m.flags;
  put_u16(out + 2, m.take);
  put_u32(out + 4, m.windows);
  put_u32(out + 8, m.hop_bytes);
  return kClassifySize;
}

bool decode_classify(const std::uint8_t* p, std::size_t n, Classify* m) {
  if (p == nullptr || m == nullptr || n != kClassifySize) return false;
  m->sensor = p[0];
  m->flags = p[1];
  m->take = get_u16(p + 2);
  m->windows = get_u32(p + 4);
  m->hop_bytes = get_u32(p + 8);
  return m->hop_bytes != 0;
}

std::size_t encode_features_header(const FeaturesHeader& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < kFeaturesHeaderSize) return 0;
  put_u16(out, m.take);
  put_u16(out + 2, 0);
  put_u32(out + 4, m.window);
  put_u32(out + 8, m.offset);
  return kFeaturesHeaderSize;
}

bool decode_features_header(const std::uint8_t* p, std::size_t n, FeaturesHeader* m) {
  if (p == nullptr || m == nullptr || n < kFeaturesHeaderSize || get_u16(p + 2) != 0) return false;
  m->take = get_u16(p);
  m->window = get_u32(p + 4);
  m->offset = get_u32(p + 8);
  return true;
}

std::size_t encode_result_header(const Result& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < kResultFixedSize + m.count) return 0;
  put_u16(out, m.take);
  put_u16(out + 2, m.count);
  put_u32(out + 4, m.window);
  put_u32(out + 8, m.stream_offset);
  put_u32(out + 12, m.features_ticks);
  put_u32(out + 16, m.inference_ticks);
  put_u32(out + 20, m.tick_hz);
  return kResultFixedSize;
}

bool decode_result_header(const std::uint8_t* p, std::size_t n, Result* m) {
  if (p == nullptr || m == nullptr || n < kResultFixedSize) return false;
  const std::uint16_t count = get_u16(p + 2);
  if (n != kResultFixedSize + count) return false;
  m->take = get_u16(p);
  m->count = count;
  m->window = get_u32(p + 4);
  m->stream_offset = get_u32(p + 8);
  m->features_ticks = get_u32(p + 12);
  m->inference_ticks = get_u32(p + 16);
  m->tick_hz = get_u32(p + 20);
  return true;
}

std::size_t encode_stats(const Stats& m, std::uint8_t* out, std::size_t cap) {
  if (out == nullptr || cap < 12) return 0;
  put_u32(out, m.frames_sent);
  put_u32(out + 4, m.frames_dropped);
  put_u32(out + 8, m.uptime_ms);
  return 12;
}

bool decode_stats(const std::uint8_t* p, std::size_t n, Stats* m) {
  if (p == nullptr || m == nullptr || n != 12) return false;
  m->frames_sent = get_u32(p);
  m->frames_dropped = get_u32(p + 4);
  m->uptime_ms = get_u32(p + 8);
  return true;
}

std::size_t encode_error(const ErrorMessage& m, std::uint8_t* out, std::size_t cap) {
  std::size_t len = 0;
  while (len < kMaxErrorText && m.text[len] != '\0') ++len;
  if (out == nullptr || cap < 1 + len) return 0;
  out[0] = static_cast<std::uint8_t>(m.code);
  for (std::size_t i = 0; i < len; ++i) out[1 + i] = static_cast<std::uint8_t>(m.text[i]);
  return 1 + len;
}

bool decode_error(const std::uint8_t* p, std::size_t n, ErrorMessage* m) {
  if (p == nullptr || m == nullptr || n < 1 || n > 1 + kMaxErrorText) return false;
  m->code = static_cast<ErrorCode>(p[0]);
  for (std::size_t i = 1; i < n; ++i) {
    const std::uint8_t c = p[i];
    m->text[i - 1] = (c >= 0x20 && c <= 0x7E) ? static_cast<char>(c) : '?';
  }
  m->text[n - 1] = '\0';
  return true;
}

}  // namespace tml::proto
