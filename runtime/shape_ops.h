#pragma once
// int8 data-movement ops: CONCATENATION, PAD, RESHAPE, on 4-D NHWC shapes (lower-rank tensors are
// right-aligned into NHWC by the importer, which also maps the axis).
//
// CONCATENATION: TFLite (and TFLM) require every int8 input to carry the output's scale and zero
// point (TFLM's reference kernel then copies bytes; TFLite's Prepare rejects anything else). For
// such inputs this kernel copies too, so it is bit-identical. Inputs whose quantization differs
// (possible in graphs we quantize ourselves) are requantized with TFLite's integer REQUANTIZE
// arithmetic (activations.h requantize_value); TFLite has no int8 counterpart for that case.
// PAD: the pad value is the output zero point for PAD (TFLM pad.cc), or the constant for PADV2.
// RESHAPE: a copy of the bytes.
//
// In place: concatenation_s8 and pad_s8 must not write over any input. reshape_s8 may run with
// output == input (then it does nothing); other overlaps are handled as by memmove.
#include <cstdint>

#include "runtime/activations.h"
#include "runtime/shapes.h"
#include "runtime/status.h"

namespace tml::rt {

struct ConcatInput {
  Shape shape;
  const std::int8_t* data = nullptr;
  bool requantize = false;   // false: the input has the output's scale and zero point (plain copy)
  RequantizeParams requant;  // deploy::concat_input fills it when the quantization differs
};

// axis in [0, 3] (N, H, W, C); every input matches the output outside the axis and the axis
// extents add up to the output's.
Status concatenation_s8(std::int32_t axis, const ConcatInput* inputs, std::int32_t input_count,
                        const Shape& output_shape, std::int8_t* output);

struct PadParams {
  std::int32_t before[4] = {0, 0, 0, 0};  // N, H, W, C; all >= 0
  std::int32_t after[4] = {0, 0, 0, 0};
  std::int8_t pad_value = 0;  // output zero point (PAD) or the constant value (PADV2)
};

// output dimension d = input dimension d + before[d] + after[d].
Status pad_s8(const PadParams& p, const Shape& input_shape, const std::int8_t* input, const Shape& output_shape,
              std::int8_t* output);

// The element counts must match.
Status reshape_s8(const Shape& input_shape, const std::int8_t* input, const Shape& output_shape,
                  std::int8_t* output);

}  // namespace tml::rt
