#pragma once
// TFLite's integer quantization arithmetic (DESIGN.md §3), written from the spec: gemmlowp's
// saturating rounding doubling high multiply and rounding right shift, and TFLite's
// MultiplyByQuantizedMultiplier. A real multiplier M in (0, 1) (or larger) is represented as
// M = multiplier * 2^(shift - 31) with multiplier in [2^30, 2^31) (Q0.31) and shift in [-31, 30].
#include <cstdint>

namespace tml::rt {

// (a * b * 2) >> 32, rounded to nearest as gemmlowp does (ties away from zero for positive
// products, toward +infinity for negative ones: -0.5 -> 0), saturating a == b == INT32_MIN.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT);
// exponent in [0, 31].
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31), TFLite's rounding.
inline std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left_shift),
                                            multiplier),
      right_shift);
}

}  // namespace tml::rt
