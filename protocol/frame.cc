#include "protocol/frame.h"

#include "protocol/cobs.h"
#include "protocol/crc32.h"

namespace tml::proto {

std::size_t encode_frame(std::uint8_t type, std::uint16_t sequence, std::uint32_t timestamp_us,
                         const std::uint8_t* payload, std::size_t payload_length, std::uint8_t* out,
                         std::size_t out_cap) {
  if (payload_length > kMaxPayload || (payload == nullptr && payload_length > 0) || out == nullptr) return 0;
  std::uint8_t frame[kMaxFrame];
  frame[0] = kProtocolVersion;
  frame[1] = type;
  put_u16(frame + 2, sequence);
  put_u32(frame + 4, timestamp_us);
  put_u16(frame + 8, static_cast<std::uint16_t>(payload_length));
  for (std::size_t i = 0; i < payload_length; ++i) frame[kHeaderSize + i] = payload[i];
  const std::size_t body = kHeaderSize + payload_length;
  put_u32(frame + body, crc32_update(0, frame, body));
  const std::size_t frame_len = body + kCrcSize;
  if (out_cap < cobs_max_encoded_size(frame_len) + 1) return 0;
  const std::size_t n = cobs_encode(frame, frame_len, out, out_cap - 1);
  if (n == 0) return 0;
  out[n] = 0;
  return n + 1;
}

const char* frame_error_name(FrameError e) {
  switch (e) {
    case FrameError::none: return "none";
    case FrameError::bad_cobs: return "bad COBS encoding";
    case FrameError::too_long: return "frame too long";
    case FrameError::too_short: return "frame too short";
    case FrameError::bad_length: return "payload length mismatch";
    case FrameError::bad_crc: return "CRC mismatch";
    case FrameError::bad_version: return "unknown protocol version";
  }
  return "?";
}

void FrameDecoder::reset() {
  wire_len_ = 0;
  overflow_ = false;
}

FrameDecoder::Result FrameDecoder::feed(const std::uint8_t* data, std::size_t n) {
  Result r;
  if (data == nullptr) return r;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t b = data[i];
    if (b != 0) {
      if (wire_len_ < sizeof wire_) wire_[wire_len_++] = b;
      else overflow_ = true;
      continue;
    }
    r.consumed = i + 1;
    if (wire_len_ == 0 && !overflow_) continue;  // back-to-back delimiters: nothing to report
    const bool overflowed = overflow_;
    FrameError e = overflowed ? FrameError::too_long : finish_frame();
    reset();
    if (e == FrameError::none) r.frame_ready = true;
    else r.error = e;
    return r;
  }
  r.consumed = n;
  return r;
}

FrameError FrameDecoder::finish_frame() {
  const long len = cobs_decode(wire_, wire_len_, frame_, sizeof frame_);
  if (len < 0) return FrameError::bad_cobs;
  const std::size_t size = static_cast<std::size_t>(len);
  if (size < kHeaderSize + kCrcSize) return FrameError::too_short;
  const std::size_t body = size - kCrcSize;
  if (get_u32(frame_ + body) != crc32_update(0, frame_, body)) return FrameError::bad_crc;
  if (frame_[0] != kProtocolVersion) return FrameError::bad_version;
  const std::uint16_t length = get_u16(frame_ + 8);
  if (length > kMaxPayload || kHeaderSize + length != body) return FrameError::bad_length;
  header_.version = frame_[0];
  header_.type = frame_[1];
  header_.sequence = get_u16(frame_ + 2);
  header_.timestamp_us = get_u32(frame_ + 4);
  header_.payload_length = length;
  return FrameError::none;
}

}  // namespace tml::proto
