#include "runtime/shape_ops.h"

#include <cstring>
#include <initializer_list>

namespace tml::rt {
namespace {

std::int32_t dim(const Shape& s, std::int32_t axis) {
  switch (axis) {
    case 0:
      return s.n;
    case 1:
      return s.h;
    case 2:
      return s.w;
    default:
      return s.c;
  }
}

// Product of the dimensions in [from, to).
std::int32_t span(const Shape& s, std::int32_t from, std::int32_t to) {
  std::int32_t n = 1;
  for (std::int32_t d = from; d < to; ++d) n *= dim(s, d);
  return n;
}

Status check_concat(std::int32_t axis, const ConcatInput* inputs, std::int32_t count, const Shape& out,
                    const void* output) {
  if (inputs == nullptr || output == nullptr || count < 1 || axis < 0 || axis > 3 || !fits(out))
    return Status::bad_argument;
  std::int64_t axis_total = 0;
  for (std::int32_t i = 0; i < count; ++i) {
    const ConcatInput& in = inputs[i];
    if (in.data == nullptr || !fits(in.shape)) return Status::bad_argument;
    for (std::int32_t d = 0; d < 4; ++d)
      if (d != axis && dim(in.shape, d) != dim(out, d)) return Status::bad_argument;
    if (in.requantize && !valid_requantize(in.requant)) return Status::bad_argument;
    axis_total += dim(in.shape, axis);
  }
  return axis_total == dim(out, axis) ? Status::ok : Status::bad_argument;
}

void copy_block(const ConcatInput& in, const std::int8_t* from, std::int32_t size, std::int8_t* to) {
  if (!in.requantize) {
    std::memcpy(to, from, static_cast<std::size_t>(size));
    return;
  }
  for (std::int32_t j = 0; j < size; ++j) to[j] = requantize_value(in.requant, from[j]);
}

}  // namespace

Status concatenation_s8(std::int32_t axis, const ConcatInput* inputs, std::int32_t input_count,
                        const Shape& output_shape, std::int8_t* output) {
  const Status st = check_concat(axis, inputs, input_count, output_shape, output);
  if (st != Status::ok) return st;
  // As TFLite: for each outer index, each input contributes one contiguous block.
  const std::int32_t outer = span(output_shape, 0, axis);
  const std::int32_t inner = span(output_shape, axis + 1, 4);
  std::int8_t* out = output;
  for (std::int32_t k = 0; k < outer; ++k)
    for (std::int32_t i = 0; i < input_count; ++i) {
      const std::int32_t block = dim(inputs[i].shape, axis) * inner;
      copy_block(inputs[i], inputs[i].data + k * block, block, out);
      out += block;
    }
  return Status::ok;
}

Status pad_s8(const PadParams& p, const Shape& input_shape, const std::int8_t* input, const Shape& output_shape,
              std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(input_shape) || !fits(output_shape))
    return Status::bad_argument;
  for (std::int32_t d = 0; d < 4; ++d) {
    if (p.before[d] < 0 || p.after[d] < 0) return Status::bad_argument;
    if (std::int64_t{dim(input_shape, d)} + p.before[d] + p.after[d] != dim(output_shape, d))
      return Status::bad_argument;
  }
  const Shape& in = input_shape;
  const Shape& out = output_shape;
  const std::int8_t* src = input;
  std::int8_t* dst = output;
  // One output row of C values per (n, h, w): padding, or [before C | input row | after C].
  for (std::int32_t n = 0; n < out.n; ++n)
    for (std::int32_t h = 0; h < out.h; ++h)
      for (std::int32_t w = 0; w < out.w; ++w) {
        const bool inside = n >= p.before[0] && n < p.before[0] + in.n && h >= p.before[1] &&
                            h < p.before[1] + in.h && w >= p.before[2] && w < p.before[2] + in.w;
        if (!inside) {
          std::memset(dst, p.pad_value, static_cast<std::size_t>(out.c));
        } else {
          std::memset(dst, p.pad_value, static_cast<std::size_t>(p.before[3]));
          std::memcpy(dst + p.before[3], src, static_cast<std::size_t>(in.c));
          std::memset(dst + p.before[3] + in.c, p.pad_value, static_cast<std::size_t>(p.after[3]));
          src += in.c;  // input rows are visited in order
        }
        dst += out.c;
      }
  return Status::ok;
}

Status reshape_s8(const Shape& input_shape, const std::int8_t* input, const Shape& output_shape,
                  std::int8_t* output) {
  if (input == nullptr || output == nullptr || !fits(input_shape) || !fits(output_shape))
    return Status::bad_argument;
  if (input_shape.elements() != output_shape.elements()) return Status::bad_argument;
  if (input != output) std::memmove(output, input, static_cast<std::size_t>(input_shape.elements()));
  return Status::ok;
}

}  // namespace tml::rt
