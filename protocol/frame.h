#pragma once
// Wire frames (docs/protocol.md): a header, a payload and a CRC-32, COBS-encoded and ended by one
// 0x00 byte. One implementation for the board and for tml.
//
//   offset  size  field
//   0       1     version          kProtocolVersion
//   1       1     type             MessageType
//   2       2     sequence         per direction, +1 per frame, wraps at 65536 (little-endian)
//   4       4     timestamp_us     device clock in µs when the frame was made (wraps)
//   8       2     payload_length   0..kMaxPayload
//   10      n     payload
//   10+n    4     crc32            of bytes 0 .. 10+n-1 (protocol/crc32.h)
#include <cstddef>
#include <cstdint>

namespace tml::proto {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kHeaderSize = 10;
inline constexpr std::size_t kCrcSize = 4;
inline constexpr std::size_t kMaxPayload = 1024;
inline constexpr std::size_t kMaxFrame = kHeaderSize + kMaxPayload + kCrcSize;
// Largest encoded frame on the wire, delimiter included.
inline constexpr std::size_t kMaxWireFrame = kMaxFrame + kMaxFrame / 254 + 1 + 1;

struct FrameHeader {
  std::uint8_t version = kProtocolVersion;
  std::uint8_t type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp_us = 0;
  std::uint16_t payload_length = 0;
};

// Header + payload + CRC, COBS-encoded, plus the 0x00 delimiter, into out (capacity out_cap; at
// least kMaxWireFrame always suffices). Returns the bytes written, or 0 when the payload is longer
// than kMaxPayload or out is too small.
std::size_t encode_frame(std::uint8_t type, std::uint16_t sequence, std::uint32_t timestamp_us,
                         const std::uint8_t* payload, std::size_t payload_length, std::uint8_t* out,
                         std::size_t out_cap);

enum class FrameError : std::uint8_t {
  none = 0,
  bad_cobs,        // not valid COBS (noise, a lost byte)
  too_long,        // more bytes than the largest frame before a delimiter
  too_short,       // fewer bytes than a header and a CRC
  bad_length,      // payload_length disagrees with the frame's size
  bad_crc,         // CRC mismatch: corrupted in transit
  bad_version,     // another protocol version
};
const char* frame_error_name(FrameError e);

// Streaming decoder: feed it bytes as they arrive; it returns each whole, checked frame. All
// buffers are members (no heap): ~2.1 KB. Nothing from the wire is trusted: every length is bounded.
class FrameDecoder {
 public:
  struct Result {
    bool frame_ready = false;    // header/payload() hold a checked frame
    FrameError error = FrameError::none;  // a frame was dropped for this reason
    std::size_t consumed = 0;    // bytes of the input used by this call
  };
  // Reads from data[0..n) up to the end of one frame (delimiter). Call again with the rest.
  Result feed(const std::uint8_t* data, std::size_t n);
  void reset();

  const FrameHeader& header() const { return header_; }
  const std::uint8_t* payload() const { return frame_ + kHeaderSize; }

 private:
  FrameError finish_frame();
  std::uint8_t wire_[kMaxWireFrame];
  std::uint8_t frame_[kMaxFrame];
  std::size_t wire_len_ = 0;
  bool overflow_ = false;
  FrameHeader header_;
};

// Little-endian field helpers for payload codecs.
inline void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace tml::proto
