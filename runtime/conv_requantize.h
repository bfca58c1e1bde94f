#pragma once
// TFLite's MultiplyByQuantizedMultiplier (runtime/fixed_point.h) for the conv kernels' hot loop:
// the same result for every accumulator when multiplier >= 0 (which the kernels check), in about a
// third of the Cortex-M4 instructions. tests/runtime/conv_test.cc compares the two.
//
// Why it is the same: gemmlowp's SaturatingRoundingDoublingHighMul computes, for ab = a * b,
//   ab >= 0:  trunc((ab + 2^30) / 2^31)      = floor((ab + 2^30) / 2^31)   (numerator >= 0)
//   ab <  0:  trunc((ab + 1 - 2^30) / 2^31)  = ceil((ab + 1 - 2^30) / 2^31) (numerator < 0)
//                                            = floor((ab + 2^30) / 2^31)   (ceil(n/d) = floor((n+d-1)/d))
// so both signs are one add and an arithmetic shift (one SMLAL on the M4). Its saturation case,
// a == b == INT32_MIN, cannot happen with b >= 0; and |ab + 2^30| / 2^31 < 2^31 keeps the result in int32.
#include <cstdint>

#include "runtime/fixed_point.h"

namespace tml::rt::conv_detail {

inline std::int32_t rounding_doubling_high_mul_nonneg(std::int32_t a, std::int32_t b_nonneg) {
  const std::int64_t ab = static_cast<std::int64_t>(a) * b_nonneg;
  return static_cast<std::int32_t>((ab + (std::int64_t{1} << 30)) >> 31);  // arithmetic shift (GCC, C++20)
}

// gemmlowp's RoundingDivideByPOT (fixed_point.h's rounding_divide_by_pot) in 32-bit arithmetic.
inline std::int32_t rounding_divide_by_pot32(std::int32_t x, std::int32_t exponent) {
  const std::uint32_t mask = (std::uint32_t{1} << exponent) - 1u;
  const std::uint32_t remainder = static_cast<std::uint32_t>(x) & mask;
  const std::uint32_t threshold = (mask >> 1) + (static_cast<std::uint32_t>(x) >> 31);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// multiply_by_quantized_multiplier(x, multiplier, shift) for multiplier >= 0, shift in [-31, 30].
// Branch-free so that the compiler does not duplicate the caller's loop per sign of the shift.
inline std::int32_t requantize(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
  const std::int32_t left_shift = shift & ~(shift >> 31);  // max(shift, 0)
  const std::int32_t right_shift = left_shift - shift;      // max(-shift, 0)
  const auto shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left_shift);
  return rounding_divide_by_pot32(rounding_doubling_high_mul_nonneg(shifted, multiplier), right_shift);
}

}  // namespace tml::rt::conv_detail
