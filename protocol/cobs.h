#pragma once
// Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): removes every 0x00 from a frame so that
// 0x00 can delimit frames on the wire. Encoded size <= n + n / 254 + 1.
#include <cstddef>
#include <cstdint>

namespace tml::proto {

inline constexpr std::size_t cobs_max_encoded_size(std::size_t n) { return n + n / 254 + 1; }

// Encodes src[0..n) into dst (capacity dst_cap, no delimiter written). Returns the encoded length,
// or 0 when dst is too small.
std::size_t cobs_encode(const std::uint8_t* src, std::size_t n, std::uint8_t* dst, std::size_t dst_cap);

// Decodes src[0..n) (no delimiter) into dst. Returns the decoded length, or -1 when the input is
// not valid COBS (a zero byte, a code running past the end) or dst is too small.
long cobs_decode(const std::uint8_t* src, std::size_t n, std::uint8_t* dst, std::size_t dst_cap);

}  // namespace tml::proto
