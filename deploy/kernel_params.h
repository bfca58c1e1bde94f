#pragma once
// Host-side parameters of the non-convolution int8 kernels (runtime/pooling.h, elementwise.h,
// activations.h, shape_ops.h), computed from real scales and zero points exactly as TFLite Micro's
// Prepare functions do (double arithmetic on the float scales, TFLite's QuantizeMultiplier).
// Each function returns nullopt where TFLite's Prepare would fail (a TF_LITE_ENSURE or
// TFLITE_CHECK), or for a scale that is not finite and positive or a zero point outside int8.
#include <cstdint>
#include <optional>

#include "deploy/quantize_multiplier.h"
#include "runtime/activations.h"
#include "runtime/elementwise.h"
#include "runtime/pooling.h"
#include "runtime/shape_ops.h"

namespace tml::deploy {

// Per-tensor affine quantization of an int8 tensor: real = scale * (q - zero_point).
struct TensorQuant {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

enum class FusedActivation { none, relu, relu_n1_to_1, relu6 };

struct ActivationRange {
  std::int32_t min = -128, max = 127;
};

// TFLite CalculateActivationRangeQuantized for an int8 output: zp + round(f / scale) (float
// division, round half away from zero) clamped to [-128, 127]; nullopt for an empty range.
std::optional<ActivationRange> activation_range_s8(FusedActivation act, TensorQuant output);

// TFLite quantization_util.cc.
std::optional<QuantizedMultiplier> quantize_multiplier_smaller_than_one_exp(double real);  // real in (0, 1)
std::optional<QuantizedMultiplier> quantize_multiplier_greater_than_one(double real);      // real > 1
int calculate_input_radius(int input_integer_bits, int input_left_shift, int total_signed_bits = 31);
// PreprocessSoftmaxScaling: min(beta * input_scale * 2^(31 - bits), 2^31 - 1) as a multiplier > 1.
std::optional<QuantizedMultiplier> preprocess_softmax_scaling(double beta, double input_scale,
                                                              int input_integer_bits);

// ADD (TFLM add_common.cc CalculateOpDataAdd, left_shift 20) and MUL (mul_common.cc).
std::optional<rt::AddParams> add_params(TensorQuant input1, TensorQuant input2, TensorQuant output,
                                        FusedActivation act);
std::optional<rt::MulParams> mul_params(TensorQuant input1, TensorQuant input2, TensorQuant output,
                                        FusedActivation act);

// MEAN over H, W (reduce_common.cc): the plain path when scale and zero point are unchanged.
std::optional<rt::MeanParams> mean_params(TensorQuant input, TensorQuant output);

// SOFTMAX (softmax_common.cc): output must be scale 1/256, zero point -128.
std::optional<rt::SoftmaxParams> softmax_params(TensorQuant input, TensorQuant output, float beta);

// LOGISTIC (logistic_common.cc; output 1/256, -128) and TANH (tanh.cc; output 1/128, 0).
std::optional<rt::LogisticParams> logistic_params(TensorQuant input, TensorQuant output);
std::optional<rt::TanhParams> tanh_params(TensorQuant input, TensorQuant output);

// QUANTIZE float -> int8, DEQUANTIZE int8 -> float (the tensor's own quantization) and
// QUANTIZE int8 -> int8 (quantize_common.cc: QuantizeMultiplier(input_scale / output_scale)).
std::optional<rt::QuantizeParams> quantize_params(TensorQuant q);
std::optional<rt::RequantizeParams> requantize_params(TensorQuant input, TensorQuant output);

// One CONCATENATION input: a plain copy when its quantization equals the output's, else requantized.
std::optional<rt::ConcatInput> concat_input(const rt::Shape& shape, const std::int8_t* data, TensorQuant input,
                                            TensorQuant output);

}  // namespace tml::deploy
