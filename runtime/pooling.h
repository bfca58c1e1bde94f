#pragma once
// int8 pooling, bit-identical to TFLite Micro's reference kernels:
//   AVERAGE_POOL_2D  reference_integer_ops::AveragePool
//   MAX_POOL_2D      reference_integer_ops::MaxPool
//   MEAN over H, W   reference_ops::Mean / QuantizedMeanOrSum (TFLM reduce_common.cc EvalIntegerMean)
// Padding is explicit (SAME/VALID resolved when the graph is planned). Filter taps outside the
// image are skipped: the average divides by the number of in-bounds taps, the maximum ignores them.
// Pooling keeps the input's scale and zero point (TFLite requires input == output quantization).
//
// In place: none of these kernels may run with output == input (windows overlap).
#include <cstdint>

#include "runtime/shapes.h"
#include "runtime/status.h"

namespace tml::rt {

struct PoolParams {
  std::int32_t filter_h = 1, filter_w = 1;
  std::int32_t stride_h = 1, stride_w = 1;
  std::int32_t pad_top = 0, pad_left = 0;  // rows/columns of virtual padding before the input
  std::int32_t act_min = -128, act_max = 127;
};

// input {N,H,W,C}, output {N,OH,OW,C}. Output = clamp(round(sum / count)) with TFLite's rounding
// (ties away from zero: (acc + count/2)/count for acc > 0, else (acc - count/2)/count).
// bad_argument (and nothing written) when a window holds no input element, as TFLite fails then.
Status average_pool_s8(const PoolParams& p, const Shape& input_shape, const std::int8_t* input,
                       const Shape& output_shape, std::int8_t* output);

// input {N,H,W,C}, output {N,OH,OW,C}. A window with no input element gives clamp(-128), as TFLite.
Status max_pool_s8(const PoolParams& p, const Shape& input_shape, const std::int8_t* input,
                   const Shape& output_shape, std::int8_t* output);

// MEAN over axes {1, 2} (global average pool), int8, keep_dims or not (the bytes are the same).
// Two TFLM paths (deploy::mean_params chooses):
//   same_quantization (input and output scale and zero point equal):
//       out = sum(q) / (H*W)  — C integer division, truncating toward zero (reference_ops::Mean);
//   otherwise (QuantizedMeanOrSum): 1/(H*W) is folded into the multiplier at run time,
//       out = clamp(MBQM(sum(q) - in_zp*H*W, M', S') + out_zp, -128, 127).
struct MeanParams {
  bool same_quantization = true;
  std::int32_t input_zero_point = 0, output_zero_point = 0;
  std::int32_t multiplier = 0, shift = 0;  // quantize_multiplier(input_scale / output_scale)
};

// input {N,H,W,C}, output {N,1,1,C}. No in place.
Status mean_hw_s8(const MeanParams& p, const Shape& input_shape, const std::int8_t* input,
                  const Shape& output_shape, std::int8_t* output);

}  // namespace tml::rt
