#pragma once
// int8 ADD and MUL, bit-identical to TFLite Micro's reference kernels
// (reference_integer_ops::AddFunc / BroadcastAdd6DSlow and MulElementwise / BroadcastMul4DSlow):
//   ADD: a = (x1 + input1_offset) << left_shift, b = (x2 + input2_offset) << left_shift
//        s = MBQMSmallerThanOneExp(a, M1, S1) + MBQMSmallerThanOneExp(b, M2, S2)
//        out = clamp(MBQMSmallerThanOneExp(s, Mo, So) + output_offset, act_min, act_max)
//   MUL: out = clamp(MBQM((x1 + input1_offset) * (x2 + input2_offset), M, S) + output_offset, ...)
// Parameters come from deploy/kernel_params.h (TFLite's Prepare arithmetic).
//
// Broadcasting (NumPy rules on the 4-D NHWC shape): every dimension of each input either equals
// the output's or is 1. That covers same shape, a scalar {1,1,1,1}, a per-channel vector
// {1,1,1,C}, per-row/per-batch operands and both inputs broadcasting at once. Tensors of lower
// rank are right-aligned into NHWC by the importer (a [C] tensor is {1,1,1,C}). Every output element
// is the same function of its two inputs as in TFLite, so the broadcast form never changes a byte.
//
// In place: the output may be the same buffer as an input whose shape equals the output shape
// (element i is read before it is written, nothing after it is read again). An output that is the
// same buffer as a broadcast (smaller) input is rejected with bad_argument.
#include <cstdint>

#include "runtime/shapes.h"
#include "runtime/status.h"

namespace tml::rt {

struct AddParams {
  std::int32_t input1_offset = 0, input2_offset = 0;     // -zero point of each input, in [-127, 128]
  std::int32_t output_offset = 0;                        // +output zero point
  std::int32_t left_shift = 20;                          // TFLite uses 20 for int8, [0, 20] accepted
  std::int32_t input1_multiplier = 0, input1_shift = 0;  // shifts in [-31, 0]
  std::int32_t input2_multiplier = 0, input2_shift = 0;
  std::int32_t output_multiplier = 0, output_shift = 0;
  std::int32_t act_min = -128, act_max = 127;
};

struct MulParams {
  std::int32_t input1_offset = 0, input2_offset = 0;     // -zero point of each input
  std::int32_t output_offset = 0;                        // +output zero point
  std::int32_t output_multiplier = 0, output_shift = 0;  // input1_scale * input2_scale / output_scale
  std::int32_t act_min = -128, act_max = 127;
};

Status add_s8(const AddParams& p, const Shape& input1_shape, const std::int8_t* input1, const Shape& input2_shape,
              const std::int8_t* input2, const Shape& output_shape, std::int8_t* output);

Status mul_s8(const MulParams& p, const Shape& input1_shape, const std::int8_t* input1, const Shape& input2_shape,
              const std::int8_t* input2, const Shape& output_shape, std::int8_t* output);

}  // namespace tml::rt
