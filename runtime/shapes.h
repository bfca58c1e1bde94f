#pragma once
// Tensor shapes of the int8 runtime: NHWC (TFLite's layout). A vector of C values is {1, 1, 1, C}.
#include <cstdint>
#include <initializer_list>

namespace tml::rt {

struct Shape {
  std::int32_t n = 1, h = 1, w = 1, c = 1;
  std::int32_t elements() const { return n * h * w * c; }
};

inline bool operator==(const Shape& a, const Shape& b) { return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c; }
inline bool valid(const Shape& s) { return s.n > 0 && s.h > 0 && s.w > 0 && s.c > 0; }

// Valid and at most INT32_MAX elements, so int32 index arithmetic over it cannot overflow.
inline bool fits(const Shape& s) {
  if (!valid(s)) return false;
  std::int64_t n = 1;
  for (const std::int32_t d : {s.n, s.h, s.w, s.c}) {
    n *= d;
    if (n > INT32_MAX) return false;
  }
  return true;
}

inline bool in_range(std::int32_t v, std::int32_t lo, std::int32_t hi) { return v >= lo && v <= hi; }

// Requantization of one output channel (or the whole tensor): real scale
// input_scale * weight_scale / output_scale = multiplier * 2^(shift - 31).
struct ChannelQuant {
  const std::int32_t* multiplier;  // per output channel, or one value when per_tensor
  const std::int32_t* shift;
  bool per_tensor = false;
};

}  // namespace tml::rt
