#include "runtime/activations.h"

#include <algorithm>
#include <initializer_list>
#include <limits>

#include "runtime/fixed_point.h"

namespace tml::rt {
namespace {

std::int8_t clamp8(std::int32_t v) {
  return static_cast<std::int8_t>(std::min<std::int32_t>(std::max<std::int32_t>(v, -128), 127));
}

// Two's-complement wrapping arithmetic: gemmlowp's plain int32 +, - and << without C++ UB.
std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
std::int32_t wrap_sub(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b));
}
std::int32_t wrap_shl(std::int32_t a, int s) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) << s);
}

std::int32_t srdhm(std::int32_t a, std::int32_t b) { return saturating_rounding_doubling_high_mul(a, b); }

// gemmlowp SaturatingRoundingMultiplyByPOT: saturating x * 2^e for e > 0, rounding for e < 0.
std::int32_t saturating_rounding_multiply_by_pot(std::int32_t x, int e) {
  if (e == 0) return x;
  if (e < 0) return rounding_divide_by_pot(x, -e);
  const std::int32_t threshold = static_cast<std::int32_t>((std::int64_t{1} << (31 - e)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return wrap_shl(x, e);
}

// gemmlowp RoundingHalfSum for int32: (a + b) / 2 rounded half away from zero.
std::int32_t rounding_half_sum(std::int32_t a, std::int32_t b) {
  const std::int64_t sum = std::int64_t{a} + b;
  return static_cast<std::int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

}  // namespace

// ---- gemmlowp fixed-point functions (fixedpoint.h), raw int32 in and out -------------------------
namespace gemmlowp {
namespace {

constexpr std::int32_t kOneQ0 = INT32_MAX;  // FixedPoint<int32_t, 0>::One()
constexpr std::int32_t kOneQ2 = 1 << 29;    // FixedPoint<int32_t, 2>::One()

// exp(a) for a in [-1/4, 0), Q0.31: Taylor expansion around -1/8.
std::int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(std::int32_t a) {
  constexpr std::int32_t kExpMinusOneEighth = 1895147668;  // exp(-1/8)
  constexpr std::int32_t kOneThird = 715827883;
  const std::int32_t x = wrap_add(a, 1 << 28);  // a + 1/8
  const std::int32_t x2 = srdhm(x, x);
  const std::int32_t x3 = srdhm(x2, x);
  const std::int32_t x4 = srdhm(x2, x2);
  const std::int32_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  const std::int32_t poly =  // x^4/24 + x^3/6 + x^2/2
      rounding_divide_by_pot(wrap_add(srdhm(wrap_add(x4_over_4, x3), kOneThird), x2), 1);
  return wrap_add(kExpMinusOneEighth, srdhm(kExpMinusOneEighth, wrap_add(x, poly)));
}

// Newton-Raphson reciprocal of d in [1/2, 1) (Q0.31), result Q2.29 ~ 1/d.
std::int32_t newton_reciprocal(std::int32_t half_denominator) {
  constexpr std::int32_t k48Over17 = 1515870810;
  constexpr std::int32_t kMinus32Over17 = -1010580540;
  std::int32_t x = wrap_add(k48Over17, srdhm(half_denominator, kMinus32Over17));
  for (int i = 0; i < 3; ++i) {
    const std::int32_t one_minus_dx = wrap_sub(kOneQ2, srdhm(half_denominator, x));
    x = wrap_add(x, saturating_rounding_multiply_by_pot(srdhm(x, one_minus_dx), 2));  // Q4 -> Q2
  }
  return x;
}

}  // namespace

std::int32_t exp_on_negative_values(std::int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const std::int32_t one_quarter = std::int32_t{1} << (fractional_bits - 2);
  const std::int32_t a_mod_quarter_minus_one_quarter = wrap_sub(a & (one_quarter - 1), one_quarter);
  std::int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits));  // Rescale<0>
  const std::int32_t remainder = wrap_sub(a_mod_quarter_minus_one_quarter, a);
  // Barrel shifter: multiply by exp(-2^e) for every bit of -a above the quarter.
  constexpr std::int32_t kExpMinusPow2[7] = {1672461947, 1302514674, 790015084, 290630308,
                                             39332535,   720401,     242};  // e = -2 .. 4
  for (int e = -2; e <= 4; ++e) {
    if (integer_bits > e && (remainder & (std::int32_t{1} << (fractional_bits + e))) != 0)
      result = srdhm(result, kExpMinusPow2[e + 2]);
  }
  if (integer_bits > 5 && a < -(std::int32_t{1} << (36 - integer_bits))) result = 0;  // a < -32
  return a == 0 ? kOneQ0 : result;
}

std::int32_t one_over_one_plus_x_for_x_in_0_1(std::int32_t a) {
  const std::int32_t x = newton_reciprocal(rounding_half_sum(a, kOneQ0));
  return saturating_rounding_multiply_by_pot(x, 1);  // Rescale<0>(ExactMulByPot<-1>(x)): Q1 -> Q0
}

std::int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(std::int32_t a) {
  const std::int32_t x = newton_reciprocal(rounding_half_sum(a, kOneQ0));
  return saturating_rounding_multiply_by_pot(wrap_sub(x, kOneQ2), 2);  // Rescale<0>: Q2 -> Q0
}

std::int32_t logistic(std::int32_t a, int integer_bits) {
  const std::int32_t abs_a = a > 0 ? a : wrap_sub(0, a);
  const std::int32_t positive =
      one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap_sub(0, abs_a), integer_bits));
  if (a == 0) return 1 << 30;  // 1/2
  return a > 0 ? positive : wrap_sub(kOneQ0, positive);
}

std::int32_t tanh(std::int32_t a, int integer_bits) {
  const std::int32_t n = a < 0 ? a : wrap_sub(0, a);  // -|a|
  // -tanh(n) = (1 - exp(2n)) / (1 + exp(2n)); 2n is n read with one more integer bit.
  const std::int32_t t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1));
  if (a == 0) return 0;
  return a < 0 ? wrap_sub(0, t) : t;
}

}  // namespace gemmlowp

// ---- SOFTMAX -----------------------------------------------------------------------------------
namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

// exp(beta * input_scale * diff) in Q0.31 for diff >= diff_min.
std::int32_t softmax_exp(const SoftmaxParams& p, std::int32_t diff) {
  // MultiplyByQuantizedMultiplierGreaterThanOne: the radius keeps diff << left_shift in range.
  const std::int32_t rescaled = srdhm(wrap_shl(diff, p.input_beta_left_shift), p.input_beta_multiplier);
  return gemmlowp::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
}

// TFLite GetReciprocal: 1/x for x in Q12, as a Q0.31 value and a power-of-two exponent.
std::int32_t reciprocal(std::int32_t x, int* num_bits_over_unit) {
  int headroom_plus_one = 0;
  while (headroom_plus_one < 31 && (static_cast<std::uint32_t>(x) << headroom_plus_one) < (1u << 31))
    ++headroom_plus_one;
  *num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
  const auto shifted_sum_minus_one =
      static_cast<std::int32_t>((static_cast<std::uint32_t>(x) << headroom_plus_one) - (1u << 31));
  return gemmlowp::one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

// One row of C values; false (row untouched) when TFLite's exponent check would fail.
bool softmax_row(const SoftmaxParams& p, const std::int8_t* in, std::int8_t* out, std::int32_t depth) {
  std::int32_t max_in_row = -128;
  for (std::int32_t c = 0; c < depth; ++c) max_in_row = std::max<std::int32_t>(max_in_row, in[c]);
  std::int32_t sum_of_exps = 0;  // Q12
  for (std::int32_t c = 0; c < depth; ++c) {
    const std::int32_t diff = in[c] - max_in_row;
    if (diff >= p.diff_min)
      sum_of_exps += rounding_divide_by_pot(softmax_exp(p, diff), kAccumulationIntegerBits);  // Q0 -> Q12
  }
  int num_bits_over_unit = 0;
  const std::int32_t shifted_scale = reciprocal(sum_of_exps, &num_bits_over_unit);
  const int exponent = num_bits_over_unit + 31 - 8;
  if (exponent < 0 || exponent > 31) return false;
  for (std::int32_t c = 0; c < depth; ++c) {
    const std::int32_t diff = in[c] - max_in_row;
    if (diff >= p.diff_min) {
      const std::int32_t unsat = rounding_divide_by_pot(srdhm(shifted_scale, softmax_exp(p, diff)), exponent);
      out[c] = clamp8(unsat - 128);
    } else {
      out[c] = -128;
    }
  }
  return true;
}

}  // namespace

Status softmax_s8(const SoftmaxParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(shape)) return Status::bad_argument;
  if (shape.c > 4095 || p.input_beta_multiplier < 0 || !in_range(p.input_beta_left_shift, 0, 31) || p.diff_min > 0)
    return Status::bad_argument;
  const std::int32_t rows = shape.n * shape.h * shape.w;
  for (std::int32_t r = 0; r < rows; ++r) {
    const std::int32_t at = r * shape.c;
    if (!softmax_row(p, input + at, output + at, shape.c)) return Status::bad_argument;
  }
  return Status::ok;
}

// ---- LOGISTIC, TANH ------------------------------------------------------------------------------
namespace {

constexpr int kInputIntegerBits = 4;

bool valid_sigmoid(const LogisticParams& p) {
  return in_range(p.input_zero_point, -128, 127) && p.input_range_radius >= 0 && p.input_multiplier >= 0 &&
         in_range(p.input_left_shift, -31, 30);
}

// Shared loop: saturate outside the radius, else f(input rescaled to Q4.27).
template <typename F>
void sigmoid_like(const LogisticParams& p, std::int32_t size, const std::int8_t* input, std::int8_t* output, F f) {
  for (std::int32_t i = 0; i < size; ++i) {
    const std::int32_t x = input[i] - p.input_zero_point;
    if (x <= -p.input_range_radius) {
      output[i] = -128;
    } else if (x >= p.input_range_radius) {
      output[i] = 127;
    } else {
      output[i] = clamp8(f(multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift)));
    }
  }
}

}  // namespace

Status logistic_s8(const LogisticParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(shape) || !valid_sigmoid(p)) return Status::bad_argument;
  sigmoid_like(p, shape.elements(), input, output, [](std::int32_t q4) {
    // Q0.31 -> 1/256 steps (Q23 rescale), then the output zero point -128.
    return rounding_divide_by_pot(gemmlowp::logistic(q4, kInputIntegerBits), 31 - 8) - 128;
  });
  return Status::ok;
}

Status tanh_s8(const TanhParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(shape) || !valid_sigmoid(p)) return Status::bad_argument;
  sigmoid_like(p, shape.elements(), input, output, [](std::int32_t q4) {
    return rounding_divide_by_pot(gemmlowp::tanh(q4, kInputIntegerBits), 31 - 7);  // 1/128 steps
  });
  return Status::ok;
}

// ---- QUANTIZE, DEQUANTIZE, REQUANTIZE ------------------------------------------------------------
namespace {

bool valid_quantize(const QuantizeParams& p) {
  return p.scale > 0.0f && p.scale <= std::numeric_limits<float>::max() && in_range(p.zero_point, -128, 127);
}

// std::round for float without libm: half away from zero. |x| >= 2^23 is already integral.
float round_half_away(float x) {
  if (!(x > -8388608.0f && x < 8388608.0f)) return x;
  const auto t = static_cast<float>(static_cast<std::int32_t>(x));  // truncated toward zero
  const float frac = x - t;                                         // exact
  if (frac >= 0.5f) return t + 1.0f;
  if (frac <= -0.5f) return t - 1.0f;
  return t;
}

std::int8_t quantize_value(const QuantizeParams& p, float x) {
  const float r = round_half_away(x / p.scale);
  if (r != r) return static_cast<std::int8_t>(p.zero_point);       // NaN
  const float bounded = std::min(std::max(r, -1024.0f), 1024.0f);  // beyond the int8 range either way
  return clamp8(static_cast<std::int32_t>(bounded) + p.zero_point);
}

}  // namespace

Status quantize_f32_s8(const QuantizeParams& p, const Shape& shape, const float* input, std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(shape) || !valid_quantize(p)) return Status::bad_argument;
  const std::int32_t size = shape.elements();
  for (std::int32_t i = 0; i < size; ++i) output[i] = quantize_value(p, input[i]);
  return Status::ok;
}

Status dequantize_s8_f32(const QuantizeParams& p, const Shape& shape, const std::int8_t* input, float* output) {
  if (input == nullptr || output == nullptr || !fits(shape) || !valid_quantize(p)) return Status::bad_argument;
  // Backwards, so that output == input (4 bytes per element) works in place.
  for (std::int32_t i = shape.elements() - 1; i >= 0; --i)
    output[i] = p.scale * static_cast<float>(input[i] - p.zero_point);
  return Status::ok;
}

bool valid_requantize(const RequantizeParams& p) {
  return in_range(p.input_zero_point, -128, 127) && in_range(p.output_zero_point, -128, 127) &&
         p.multiplier >= 0 && in_range(p.shift, -31, 30);
}

std::int8_t requantize_value(const RequantizeParams& p, std::int8_t q) {
  return clamp8(multiply_by_quantized_multiplier(q - p.input_zero_point, p.multiplier, p.shift) +
                p.output_zero_point);
}

Status requantize_s8(const RequantizeParams& p, const Shape& shape, const std::int8_t* input,
                     std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(shape) || !valid_requantize(p)) return Status::bad_argument;
  const std::int32_t size = shape.elements();
  for (std::int32_t i = 0; i < size; ++i) output[i] = requantize_value(p, input[i]);
  return Status::ok;
}

}  // namespace tml::rt
