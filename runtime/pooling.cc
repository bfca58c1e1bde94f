#include "runtime/pooling.h"

#include <algorithm>
#include <initializer_list>

#include "runtime/fixed_point.h"

namespace tml::rt {
namespace {

constexpr std::int32_t kMaxDim = 1 << 29;  // keeps every index computation far from int32 overflow

// All dimensions positive and the element count representable in int32.
bool valid_act(std::int32_t lo, std::int32_t hi) { return lo >= -128 && hi <= 127 && lo <= hi; }

// Input rows (or columns) [begin, end) under one output position's window: TFLite's filter
// bounds max(0, -origin) .. min(filter, size - origin), shifted by origin.
struct Window {
  std::int32_t begin, end;
  std::int32_t count() const { return end > begin ? end - begin : 0; }
};

Window window(std::int32_t out_pos, std::int32_t stride, std::int32_t pad, std::int32_t filter,
              std::int32_t size) {
  const std::int32_t origin = out_pos * stride - pad;
  return {std::max<std::int32_t>(origin, 0), std::min<std::int32_t>(origin + filter, size)};
}

// Geometry stays within int32 for every output position (checked in 64 bits).
bool valid_axis(std::int32_t out, std::int32_t stride, std::int32_t pad, std::int32_t filter) {
  if (stride < 1 || filter < 1 || pad < 0 || pad > kMaxDim || filter > kMaxDim) return false;
  return std::int64_t{out} * stride <= kMaxDim;
}

Status check_pool(const PoolParams& p, const Shape& in, const void* input, const Shape& out, const void* output) {
  if (input == nullptr || output == nullptr) return Status::bad_argument;
  if (!fits(in) || !fits(out) || in.n != out.n || in.c != out.c) return Status::bad_argument;
  if (!valid_axis(out.h, p.stride_h, p.pad_top, p.filter_h) ||
      !valid_axis(out.w, p.stride_w, p.pad_left, p.filter_w))
    return Status::bad_argument;
  // int32 sums of up to filter_h * filter_w int8 values cannot overflow below 2^23 taps.
  if (std::int64_t{p.filter_h} * p.filter_w > (1 << 23)) return Status::bad_argument;
  if (!valid_act(p.act_min, p.act_max)) return Status::bad_argument;
  return Status::ok;
}

bool every_window_hits_input(const PoolParams& p, const Shape& in, const Shape& out) {
  for (std::int32_t y = 0; y < out.h; ++y)
    if (window(y, p.stride_h, p.pad_top, p.filter_h, in.h).count() == 0) return false;
  for (std::int32_t x = 0; x < out.w; ++x)
    if (window(x, p.stride_w, p.pad_left, p.filter_w, in.w).count() == 0) return false;
  return true;
}

std::int32_t offset(const Shape& s, std::int32_t n, std::int32_t h, std::int32_t w, std::int32_t c) {
  return ((n * s.h + h) * s.w + w) * s.c + c;
}

// TFLite's average: round half away from zero with C's truncating division.
std::int32_t rounded_average(std::int32_t acc, std::int32_t count) {
  return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
}

std::int8_t clamp8(std::int32_t v, std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int8_t>(std::min(std::max(v, lo), hi));
}

// Visits every output element with its input windows; op(n, c, wy, wx) returns the value.
template <typename Op>
void for_each_output(const PoolParams& p, const Shape& in, const Shape& out, std::int8_t* output, Op op) {
  std::int8_t* o = output;
  for (std::int32_t n = 0; n < out.n; ++n)
    for (std::int32_t y = 0; y < out.h; ++y) {
      const Window wy = window(y, p.stride_h, p.pad_top, p.filter_h, in.h);
      for (std::int32_t x = 0; x < out.w; ++x) {
        const Window wx = window(x, p.stride_w, p.pad_left, p.filter_w, in.w);
        for (std::int32_t c = 0; c < out.c; ++c) *o++ = clamp8(op(n, c, wy, wx), p.act_min, p.act_max);
      }
    }
}

}  // namespace

Status average_pool_s8(const PoolParams& p, const Shape& input_shape, const std::int8_t* input,
                       const Shape& output_shape, std::int8_t* output) {
  const Status st = check_pool(p, input_shape, input, output_shape, output);
  if (st != Status::ok) return st;
  if (!every_window_hits_input(p, input_shape, output_shape)) return Status::bad_argument;
  const Shape& in = input_shape;
  for_each_output(p, in, output_shape, output, [&](std::int32_t n, std::int32_t c, Window wy, Window wx) {
    std::int32_t acc = 0;
    for (std::int32_t y = wy.begin; y < wy.end; ++y)
      for (std::int32_t x = wx.begin; x < wx.end; ++x) acc += input[offset(in, n, y, x, c)];
    return rounded_average(acc, wy.count() * wx.count());
  });
  return Status::ok;
}

Status max_pool_s8(const PoolParams& p, const Shape& input_shape, const std::int8_t* input,
                   const Shape& output_shape, std::int8_t* output) {
  const Status st = check_pool(p, input_shape, input, output_shape, output);
  if (st != Status::ok) return st;
  const Shape& in = input_shape;
  for_each_output(p, in, output_shape, output, [&](std::int32_t n, std::int32_t c, Window wy, Window wx) {
    std::int32_t m = -128;
    for (std::int32_t y = wy.begin; y < wy.end; ++y)
      for (std::int32_t x = wx.begin; x < wx.end; ++x)
        m = std::max<std::int32_t>(m, input[offset(in, n, y, x, c)]);
    return m;
  });
  return Status::ok;
}

namespace {

// TFLM QuantizedMeanOrSum: folds 1/count into the multiplier, keeping the shift within range.
std::int32_t requantized_mean(const MeanParams& p, std::int32_t sum, std::int32_t count) {
  std::int32_t shift = 0;  // floor(log2(count))
  while ((count >> (shift + 1)) != 0) ++shift;
  shift = std::min<std::int32_t>(shift, 32);
  shift = std::min<std::int32_t>(shift, 31 + p.shift);
  shift = std::max<std::int32_t>(shift, 0);
  const auto multiplier = static_cast<std::int32_t>((static_cast<std::int64_t>(p.multiplier) << shift) / count);
  const auto shifted_sum = static_cast<std::int32_t>(sum - static_cast<std::int64_t>(p.input_zero_point) * count);
  return multiply_by_quantized_multiplier(shifted_sum, multiplier, p.shift - shift) + p.output_zero_point;
}

}  // namespace

Status mean_hw_s8(const MeanParams& p, const Shape& input_shape, const std::int8_t* input,
                  const Shape& output_shape, std::int8_t* output) {
  if (input == nullptr || output == nullptr) return Status::bad_argument;
  const Shape& in = input_shape;
  if (!fits(in) || !fits(output_shape)) return Status::bad_argument;
  if (output_shape.n != in.n || output_shape.h != 1 || output_shape.w != 1 || output_shape.c != in.c)
    return Status::bad_argument;
  const std::int32_t count = in.h * in.w;
  if (count > (1 << 23)) return Status::bad_argument;  // int32 sums of int8 values
  if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.output_zero_point < -128 ||
      p.output_zero_point > 127 || p.multiplier < 0 || p.shift < -31 || p.shift > 30)
    return Status::bad_argument;
  for (std::int32_t n = 0; n < in.n; ++n)
    for (std::int32_t c = 0; c < in.c; ++c) {
      std::int32_t sum = 0;
      for (std::int32_t y = 0; y < in.h; ++y)
        for (std::int32_t x = 0; x < in.w; ++x) sum += input[offset(in, n, y, x, c)];
      const std::int32_t v = p.same_quantization ? sum / count : requantized_mean(p, sum, count);
      output[n * in.c + c] = clamp8(v, -128, 127);
    }
  return Status::ok;
}

}  // namespace tml::rt
