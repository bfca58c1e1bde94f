#pragma once
// int8 convolutions and fully connected, bit-identical to TFLite's reference integer kernels
// (reference_integer_ops::ConvPerChannel, DepthwiseConvPerChannel, FullyConnected):
//   acc = bias[oc] + sum (input + input_offset) * filter     (int32; filter zero point is 0)
//   out = clamp(multiply_by_quantized_multiplier(acc, M[oc], S[oc]) + output_offset, act_min, act_max)
// Padding is explicit (SAME/VALID resolved when the graph is planned); input positions outside the
// image contribute nothing (TFLite skips them, which equals padding with the input zero point).
//
// Cortex-M4 with the DSP extension: the MAC loops use SMLAD/SXTB16 (__ARM_FEATURE_DSP), giving the
// same int32 sums; define TML_RUNTIME_PORTABLE to force the portable loops (tests compare both).
//
// Every function returns Status::bad_argument, writing nothing, unless:
//  - input, filter, output, q.multiplier and q.shift are non-null (bias may be null: no bias);
//  - all shape dims are positive and each tensor has at most INT32_MAX elements;
//  - input_offset is in [-127, 128] and output_offset in [-128, 127] (int8 zero points),
//    -128 <= act_min <= act_max <= 127;
//  - every multiplier used (1 when per_tensor, else Cout) is >= 0 and every shift in [-31, 30];
//  - conv/depthwise: stride and dilation >= 1, pads >= 0, and on each axis the output size fits the
//    padding: pad < effective kernel (first window overlaps the input), the last window starts
//    inside the input, and fewer than `stride` input rows/columns are left unused at the end.
//    TFLite SAME/VALID and ONNX explicit pads (each below the effective kernel) always pass.
// The accumulator wraps modulo 2^32 (as TFLite's int32 on real targets) instead of overflowing.
#include <cstddef>
#include <cstdint>

#include "runtime/shapes.h"
#include "runtime/status.h"

namespace tml::rt {

struct ConvParams {
  std::int32_t stride_h = 1, stride_w = 1;
  std::int32_t dilation_h = 1, dilation_w = 1;
  std::int32_t pad_top = 0, pad_left = 0;  // rows/columns of virtual padding before the input
  std::int32_t input_offset = 0;           // -input zero point
  std::int32_t output_offset = 0;          // +output zero point
  std::int32_t act_min = -128, act_max = 127;
  std::int32_t depth_multiplier = 1;       // depthwise only
};

// input {N,H,W,Cin}, filter {Cout,KH,KW,Cin}, bias Cout (may be null), output {N,OH,OW,Cout}.
// Grouped as TFLite when the filter depth divides Cin: groups = Cin / filter depth, which must also
// divide Cout (output channel oc reads input channels of group oc / (Cout / groups)).
Status conv2d_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape, const std::int8_t* input,
                 const Shape& filter_shape, const std::int8_t* filter, const std::int32_t* bias,
                 const Shape& output_shape, std::int8_t* output);

// input {N,H,W,Cin}, filter {1,KH,KW,Cin*depth_multiplier}, output {N,OH,OW,Cin*depth_multiplier}.
Status depthwise_conv2d_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape,
                           const std::int8_t* input, const Shape& filter_shape, const std::int8_t* filter,
                           const std::int32_t* bias, const Shape& output_shape, std::int8_t* output);

// input: batches x depth (any shape whose elements() = batches * depth), filter {Cout,1,1,depth}
// (TFLite's [Cout, depth]), output {batches,1,1,Cout} (batches = output n*h*w). Only
// stride/dilation/padding/depth_multiplier are ignored.
Status fully_connected_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape,
                          const std::int8_t* input, const Shape& filter_shape, const std::int8_t* filter,
                          const std::int32_t* bias, const Shape& output_shape, std::int8_t* output);

}  // namespace tml::rt

namespace tml::rt {

// Depthwise convolution in place (TinyEngine's scheme): the output overwrites the input buffer,
// so the planner needs one activation buffer instead of two. Channel by channel, the input plane
// is gathered into scratch, convolved by depthwise_conv2d_s8 (the same arithmetic, so the same
// bytes) and the output plane scattered back: output slots of channel c only ever hold channel c.
// Needs depth_multiplier 1 (Cout == Cin), an output no larger than the input and, with more than one
// batch, an output image of the input's size.
std::size_t depthwise_in_place_scratch_bytes(const Shape& input_shape, const Shape& output_shape);
Status depthwise_conv2d_s8_in_place(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape,
                                    std::int8_t* buffer, const Shape& filter_shape, const std::int8_t* filter,
                                    const std::int32_t* bias, const Shape& output_shape, std::int8_t* scratch,
                                    std::size_t scratch_bytes);

}  // namespace tml::rt
