#include "deploy/kernel_params.h"

#include <algorithm>
#include <cmath>

namespace tml::deploy {
namespace {

bool valid(TensorQuant q) {
  return std::isfinite(q.scale) && q.scale > 0.0f && q.zero_point >= -128 && q.zero_point <= 127;
}

// TFLite's quantize lambda: zero_point + (int32)TfLiteRound(f / scale), all in float (bounded
// before the cast, which TFLite leaves undefined for huge values).
std::int32_t quantize_real(TensorQuant q, float f) {
  const float r = std::round(f / q.scale);
  return q.zero_point + static_cast<std::int32_t>(std::min(std::max(r, -1024.0f), 1024.0f));
}

}  // namespace

std::optional<ActivationRange> activation_range_s8(FusedActivation act, TensorQuant output) {
  if (!valid(output)) return std::nullopt;
  ActivationRange r;
  switch (act) {
    case FusedActivation::none:
      break;
    case FusedActivation::relu:
      r.min = std::max(r.min, quantize_real(output, 0.0f));
      break;
    case FusedActivation::relu6:
      r.min = std::max(r.min, quantize_real(output, 0.0f));
      r.max = std::min(r.max, quantize_real(output, 6.0f));
      break;
    case FusedActivation::relu_n1_to_1:
      r.min = std::max(r.min, quantize_real(output, -1.0f));
      r.max = std::min(r.max, quantize_real(output, 1.0f));
      break;
  }
  if (r.min > r.max) return std::nullopt;
  return r;
}

std::optional<QuantizedMultiplier> quantize_multiplier_smaller_than_one_exp(double real) {
  if (!(real > 0.0 && real < 1.0)) return std::nullopt;
  const QuantizedMultiplier q = quantize_multiplier(real);
  if (q.shift > 0) return std::nullopt;
  return q;
}

std::optional<QuantizedMultiplier> quantize_multiplier_greater_than_one(double real) {
  if (!(real > 1.0) || !std::isfinite(real)) return std::nullopt;
  const QuantizedMultiplier q = quantize_multiplier(real);
  if (q.shift < 0) return std::nullopt;
  return q;
}

int calculate_input_radius(int input_integer_bits, int input_left_shift, int total_signed_bits) {
  // ((2^bits - 1) * 2^(total - bits)) / 2^left_shift, floored; ldexp also covers a negative shift.
  const double max_input_rescaled = std::ldexp(static_cast<double>((1 << input_integer_bits) - 1),
                                               total_signed_bits - input_integer_bits - input_left_shift);
  return static_cast<int>(std::min(std::floor(max_input_rescaled), static_cast<double>(INT32_MAX)));
}

std::optional<QuantizedMultiplier> preprocess_softmax_scaling(double beta, double input_scale,
                                                              int input_integer_bits) {
  const double max_real_multiplier = static_cast<double>((std::int64_t{1} << 31) - 1);
  const double real =
      std::min(beta * input_scale * static_cast<double>(1 << (31 - input_integer_bits)), max_real_multiplier);
  return quantize_multiplier_greater_than_one(real);
}

std::optional<rt::AddParams> add_params(TensorQuant input1, TensorQuant input2, TensorQuant output,
                                        FusedActivation act) {
  if (!valid(input1) || !valid(input2) || !valid(output)) return std::nullopt;
  rt::AddParams p;
  p.input1_offset = -input1.zero_point;
  p.input2_offset = -input2.zero_point;
  p.output_offset = output.zero_point;
  p.left_shift = 20;
  const double twice_max_input_scale = 2 * static_cast<double>(std::max(input1.scale, input2.scale));
  const double real_input1 = static_cast<double>(input1.scale) / twice_max_input_scale;
  const double real_input2 = static_cast<double>(input2.scale) / twice_max_input_scale;
  const double real_output =
      twice_max_input_scale / (static_cast<double>(1 << p.left_shift) * static_cast<double>(output.scale));
  const auto m1 = quantize_multiplier_smaller_than_one_exp(real_input1);
  const auto m2 = quantize_multiplier_smaller_than_one_exp(real_input2);
  const auto mo = quantize_multiplier_smaller_than_one_exp(real_output);
  if (!m1 || !m2 || !mo) return std::nullopt;
  p.input1_multiplier = m1->multiplier;
  p.input1_shift = m1->shift;
  p.input2_multiplier = m2->multiplier;
  p.input2_shift = m2->shift;
  p.output_multiplier = mo->multiplier;
  p.output_shift = mo->shift;
  const auto r = activation_range_s8(act, output);
  if (!r) return std::nullopt;
  p.act_min = r->min;
  p.act_max = r->max;
  return p;
}

std::optional<rt::MulParams> mul_params(TensorQuant input1, TensorQuant input2, TensorQuant output,
                                        FusedActivation act) {
  if (!valid(input1) || !valid(input2) || !valid(output)) return std::nullopt;
  rt::MulParams p;
  p.input1_offset = -input1.zero_point;
  p.input2_offset = -input2.zero_point;
  p.output_offset = output.zero_point;
  const double real =
      static_cast<double>(input1.scale) * static_cast<double>(input2.scale) / static_cast<double>(output.scale);
  const QuantizedMultiplier q = quantize_multiplier(real);
  if (q.shift > 30) return std::nullopt;
  p.output_multiplier = q.multiplier;
  p.output_shift = q.shift;
  const auto r = activation_range_s8(act, output);
  if (!r) return std::nullopt;
  p.act_min = r->min;
  p.act_max = r->max;
  return p;
}

std::optional<rt::MeanParams> mean_params(TensorQuant input, TensorQuant output) {
  if (!valid(input) || !valid(output)) return std::nullopt;
  rt::MeanParams p;
  p.same_quantization = input.zero_point == output.zero_point && input.scale == output.scale;
  p.input_zero_point = input.zero_point;
  p.output_zero_point = output.zero_point;
  const QuantizedMultiplier q =
      quantize_multiplier(static_cast<double>(input.scale) / static_cast<double>(output.scale));
  if (q.shift > 30) return std::nullopt;
  p.multiplier = q.multiplier;
  p.shift = q.shift;
  return p;
}

std::optional<rt::SoftmaxParams> softmax_params(TensorQuant input, TensorQuant output, float beta) {
  constexpr int kScaledDiffIntegerBits = 5;
  if (!valid(input) || !valid(output)) return std::nullopt;
  if (output.zero_point != -128 || output.scale != 1.0f / 256) return std::nullopt;
  const auto q = preprocess_softmax_scaling(static_cast<double>(beta), static_cast<double>(input.scale),
                                            kScaledDiffIntegerBits);
  if (!q) return std::nullopt;
  rt::SoftmaxParams p;
  p.input_beta_multiplier = q->multiplier;
  p.input_beta_left_shift = q->shift;
  p.diff_min = -calculate_input_radius(kScaledDiffIntegerBits, q->shift);
  return p;
}

namespace {

// logistic_common.cc / tanh.cc: frexp of input_scale * 2^27 rounded directly to Q0.31
// (not QuantizeMultiplier: there is no rounding carry into the exponent).
std::optional<rt::LogisticParams> sigmoid_params(TensorQuant input) {
  constexpr int kInputIntegerBits = 4;
  const double real = static_cast<double>(input.scale) * static_cast<double>(1 << (31 - kInputIntegerBits));
  rt::LogisticParams p;
  p.input_zero_point = input.zero_point;
  int shift = 0;
  const double mantissa = std::frexp(real, &shift);
  // A mantissa rounding up to 2^31 would overflow TFLite's int32 cast; saturate instead.
  p.input_multiplier = static_cast<std::int32_t>(std::min(std::round(mantissa * 2147483648.0), 2147483647.0));
  p.input_left_shift = shift;
  if (shift < -31 || shift > 30) return std::nullopt;
  p.input_range_radius = calculate_input_radius(kInputIntegerBits, shift, 31);
  return p;
}

}  // namespace

std::optional<rt::LogisticParams> logistic_params(TensorQuant input, TensorQuant output) {
  if (!valid(input) || !valid(output)) return std::nullopt;
  if (output.zero_point != -128 || output.scale != 1.0f / 256) return std::nullopt;
  return sigmoid_params(input);
}

std::optional<rt::TanhParams> tanh_params(TensorQuant input, TensorQuant output) {
  if (!valid(input) || !valid(output)) return std::nullopt;
  if (output.zero_point != 0 || output.scale != 1.0f / 128) return std::nullopt;
  return sigmoid_params(input);
}

std::optional<rt::QuantizeParams> quantize_params(TensorQuant q) {
  if (!valid(q)) return std::nullopt;
  return rt::QuantizeParams{q.scale, q.zero_point};
}

std::optional<rt::RequantizeParams> requantize_params(TensorQuant input, TensorQuant output) {
  if (!valid(input) || !valid(output)) return std::nullopt;
  const QuantizedMultiplier q =
      quantize_multiplier(static_cast<double>(input.scale) / static_cast<double>(output.scale));
  if (q.shift > 30) return std::nullopt;
  return rt::RequantizeParams{input.zero_point, output.zero_point, q.multiplier, q.shift};
}

std::optional<rt::ConcatInput> concat_input(const rt::Shape& shape, const std::int8_t* data, TensorQuant input,
                                            TensorQuant output) {
  const auto requant = requantize_params(input, output);
  if (!requant) return std::nullopt;
  rt::ConcatInput in;
  in.shape = shape;
  in.data = data;
  in.requantize = !(input.scale == output.scale && input.zero_point == output.zero_point);
  in.requant = *requant;
  return in;
}

}  // namespace tml::deploy
