#pragma once
// int8 activations and (de)quantization, bit-identical to TFLite Micro's reference kernels:
//   SOFTMAX     reference_ops::Softmax<int8_t, int8_t> (gemmlowp fixed-point exp and reciprocal)
//   LOGISTIC    reference_integer_ops::Logistic (int8)
//   TANH        reference_integer_ops::Tanh (int8)
//   QUANTIZE    reference_ops::AffineQuantize (float -> int8) and reference_ops::Requantize (int8 -> int8)
//   DEQUANTIZE  reference_ops::Dequantize (int8 -> float)
// Parameters come from deploy/kernel_params.h (TFLite's Prepare arithmetic). The gemmlowp
// functions are re-implemented here in plain integer C++17 (namespace gemmlowp below).
//
// In place (output buffer == input buffer):
//   softmax_s8, logistic_s8, tanh_s8, requantize_s8: yes (each element is read before it is
//     written and never read again; softmax's row max and sum are taken before any write).
//   quantize_f32_s8: yes, output at the same address as the input (byte i overwrites part of
//     float i/4, which was already read).
//   dequantize_s8_f32: yes, output at the same address as the input (it walks backwards: float i
//     overwrites int8 elements 4i..4i+3, all already read). The buffer must hold 4 bytes/element.
#include <cstdint>

#include "runtime/shapes.h"
#include "runtime/status.h"

namespace tml::rt {

// Softmax over the innermost dimension (C) of {N,H,W,C}, beta folded into the multiplier.
// Output quantization is fixed by TFLite: scale 1/256, zero point -128.
struct SoftmaxParams {
  std::int32_t input_beta_multiplier = 0;  // PreprocessSoftmaxScaling(beta, input_scale, 5)
  std::int32_t input_beta_left_shift = 0;  // in [0, 31]
  std::int32_t diff_min = 0;               // -CalculateInputRadius(5, left_shift), <= 0
};

// bad_argument for C > 4095 (the int32 sum of exps could wrap) and for a row whose sum of exps
// reaches 512 (TFLite's TFLITE_CHECK(exponent <= 31) aborts there); rows before it are written.
Status softmax_s8(const SoftmaxParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output);

// LOGISTIC (output scale 1/256, zero point -128) and TANH (output scale 1/128, zero point 0).
struct LogisticParams {
  std::int32_t input_zero_point = 0;
  std::int32_t input_range_radius = 0;  // CalculateInputRadius(4, input_left_shift, 31)
  std::int32_t input_multiplier = 0;    // round(frexp(input_scale * 2^27) * 2^31)
  std::int32_t input_left_shift = 0;    // frexp exponent, in [-31, 30]
};
using TanhParams = LogisticParams;

Status logistic_s8(const LogisticParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output);
Status tanh_s8(const TanhParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output);

// float <-> int8 affine quantization: q = clamp(round(x / scale) + zero_point), x = scale * (q - zp).
// Rounding is TFLite's TfLiteRound (std::round: half away from zero) in single precision, done
// without libm. A NaN input quantizes to the zero point (a defined stand-in for TFLite's UB cast).
struct QuantizeParams {
  float scale = 1.0f;  // finite, > 0
  std::int32_t zero_point = 0;
};

Status quantize_f32_s8(const QuantizeParams& p, const Shape& shape, const float* input, std::int8_t* output);
Status dequantize_s8_f32(const QuantizeParams& p, const Shape& shape, const std::int8_t* input, float* output);

// int8 -> int8 requantization: q_out = clamp(MBQM(q_in - in_zp, M, S) + out_zp, -128, 127),
// M, S = quantize_multiplier(input_scale / output_scale).
struct RequantizeParams {
  std::int32_t input_zero_point = 0, output_zero_point = 0;
  std::int32_t multiplier = 0, shift = 0;
};

Status requantize_s8(const RequantizeParams& p, const Shape& shape, const std::int8_t* input, std::int8_t* output);

// One requantized value (used by concatenation too); p must be valid.
std::int8_t requantize_value(const RequantizeParams& p, std::int8_t q);
bool valid_requantize(const RequantizeParams& p);

// gemmlowp's fixed-point functions on raw int32 values. A value with k integer bits is
// raw / 2^(31 - k); results are Q0.31 (k = 0). integer_bits must be in [0, 24].
namespace gemmlowp {
std::int32_t exp_on_negative_values(std::int32_t a, int integer_bits);  // exp(a), a <= 0
std::int32_t one_over_one_plus_x_for_x_in_0_1(std::int32_t a);          // 1 / (1 + a)
std::int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(std::int32_t a);  // (1 - a) / (1 + a)
std::int32_t logistic(std::int32_t a, int integer_bits);
std::int32_t tanh(std::int32_t a, int integer_bits);
}  // namespace gemmlowp

}  // namespace tml::rt
