#include "protocol/cobs.h"

namespace tml::proto {

std::size_t cobs_encode(const std::uint8_t* src, std::size_t n, std::uint8_t* dst, std::size_t dst_cap) {
  if (dst == nullptr || (src == nullptr && n > 0) || dst_cap < cobs_max_encoded_size(n)) return 0;
  std::size_t out = 1, code_at = 0;
  std::uint8_t code = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (src[i] == 0) {
      dst[code_at] = code;
      code_at = out++;
      code = 1;
      continue;
    }
    dst[out++] = src[i];
    if (++code == 0xFF) {  // a full block of 254 non-zero bytes: start a new block
      dst[code_at] = code;
      code_at = out++;
      code = 1;
    }
  }
  dst[code_at] = code;
  return out;
}

long cobs_decode(const std::uint8_t* src, std::size_t n, std::uint8_t* dst, std::size_t dst_cap) {
  if (dst == nullptr || (src == nullptr && n > 0)) return -1;
  std::size_t in = 0, out = 0;
  while (in < n) {
    const std::uint8_t code = src[in++];
    if (code == 0) return -1;
    const std::size_t run = static_cast<std::size_t>(code) - 1;
    if (run > n - in) return -1;
    if (run > dst_cap - out) return -1;
    for (std::size_t k = 0; k < run; ++k) {
      if (src[in] == 0) return -1;
      dst[out++] = src[in++];
    }
    // A code below 0xFF stands for a zero after its run, except at the very end of the frame.
    if (code != 0xFF && in < n) {
      if (out == dst_cap) return -1;
      dst[out++] = 0;
    }
  }
  return static_cast<long>(out);
}

}  // namespace tml::proto
