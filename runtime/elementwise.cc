#include "runtime/elementwise.h"

#include <algorithm>
#include <initializer_list>

#include "runtime/fixed_point.h"

namespace tml::rt {
namespace {

bool valid_act(std::int32_t lo, std::int32_t hi) { return lo >= -128 && hi <= 127 && lo <= hi; }

// Element strides of an input inside the output's index space: 0 along broadcast dimensions.
struct Strides {
  std::int32_t n, h, w, c;
};

bool broadcastable(std::int32_t in, std::int32_t out) { return in == out || in == 1; }

bool broadcast_strides(const Shape& in, const Shape& out, Strides* s) {
  if (!broadcastable(in.n, out.n) || !broadcastable(in.h, out.h) || !broadcastable(in.w, out.w) ||
      !broadcastable(in.c, out.c))
    return false;
  s->c = in.c == out.c ? 1 : 0;
  s->w = in.w == out.w ? in.c : 0;
  s->h = in.h == out.h ? in.w * in.c : 0;
  s->n = in.n == out.n ? in.h * in.w * in.c : 0;
  return true;
}

// Shape checks shared by ADD and MUL, including the in-place rule of elementwise.h.
Status check_binary(const Shape& s1, const void* in1, const Shape& s2, const void* in2, const Shape& so,
                    const void* out, Strides* st1, Strides* st2) {
  if (in1 == nullptr || in2 == nullptr || out == nullptr) return Status::bad_argument;
  if (!fits(s1) || !fits(s2) || !fits(so)) return Status::bad_argument;
  if (!broadcast_strides(s1, so, st1) || !broadcast_strides(s2, so, st2)) return Status::bad_argument;
  if ((out == in1 && !(s1 == so)) || (out == in2 && !(s2 == so))) return Status::bad_argument;
  return Status::ok;
}

// Applies f to every output element; the flat loop when no input broadcasts.
template <typename F>
void binary_loop(const Shape& s1, const std::int8_t* in1, const Strides& st1, const Shape& s2,
                 const std::int8_t* in2, const Strides& st2, const Shape& so, std::int8_t* out, F f) {
  if (s1 == so && s2 == so) {
    const std::int32_t size = so.elements();
    for (std::int32_t i = 0; i < size; ++i) out[i] = f(in1[i], in2[i]);
    return;
  }
  for (std::int32_t n = 0; n < so.n; ++n)
    for (std::int32_t h = 0; h < so.h; ++h)
      for (std::int32_t w = 0; w < so.w; ++w) {
        const std::int8_t* a = in1 + n * st1.n + h * st1.h + w * st1.w;
        const std::int8_t* b = in2 + n * st2.n + h * st2.h + w * st2.w;
        for (std::int32_t c = 0; c < so.c; ++c) *out++ = f(a[c * st1.c], b[c * st2.c]);
      }
}

// TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0).
std::int32_t mul_smaller_than_one(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift);
}

std::int8_t clamp8(std::int32_t v, std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int8_t>(std::min(std::max(v, lo), hi));
}

bool valid_add(const AddParams& p) {
  return in_range(p.input1_offset, -127, 128) && in_range(p.input2_offset, -127, 128) &&
         in_range(p.output_offset, -128, 127) && in_range(p.left_shift, 0, 20) && p.input1_multiplier >= 0 &&
         p.input2_multiplier >= 0 && p.output_multiplier >= 0 && in_range(p.input1_shift, -31, 0) &&
         in_range(p.input2_shift, -31, 0) && in_range(p.output_shift, -31, 0) && valid_act(p.act_min, p.act_max);
}

bool valid_mul(const MulParams& p) {
  return in_range(p.input1_offset, -127, 128) && in_range(p.input2_offset, -127, 128) &&
         in_range(p.output_offset, -128, 127) && p.output_multiplier >= 0 && in_range(p.output_shift, -31, 30) &&
         valid_act(p.act_min, p.act_max);
}

}  // namespace

Status add_s8(const AddParams& p, const Shape& input1_shape, const std::int8_t* input1, const Shape& input2_shape,
              const std::int8_t* input2, const Shape& output_shape, std::int8_t* output) {
  Strides st1{}, st2{};
  const Status st = check_binary(input1_shape, input1, input2_shape, input2, output_shape, output, &st1, &st2);
  if (st != Status::ok) return st;
  if (!valid_add(p)) return Status::bad_argument;
  // |x + offset| <= 255, so the shifted values stay below 2^28 and their sum cannot overflow.
  const std::int32_t scale = std::int32_t{1} << p.left_shift;
  binary_loop(input1_shape, input1, st1, input2_shape, input2, st2, output_shape, output,
              [&p, scale](std::int8_t x, std::int8_t y) {
                const std::int32_t a =
                    mul_smaller_than_one((p.input1_offset + x) * scale, p.input1_multiplier, p.input1_shift);
                const std::int32_t b =
                    mul_smaller_than_one((p.input2_offset + y) * scale, p.input2_multiplier, p.input2_shift);
                const std::int32_t sum = mul_smaller_than_one(a + b, p.output_multiplier, p.output_shift);
                return clamp8(sum + p.output_offset, p.act_min, p.act_max);
              });
  return Status::ok;
}

Status mul_s8(const MulParams& p, const Shape& input1_shape, const std::int8_t* input1, const Shape& input2_shape,
              const std::int8_t* input2, const Shape& output_shape, std::int8_t* output) {
  Strides st1{}, st2{};
  const Status st = check_binary(input1_shape, input1, input2_shape, input2, output_shape, output, &st1, &st2);
  if (st != Status::ok) return st;
  if (!valid_mul(p)) return Status::bad_argument;
  binary_loop(input1_shape, input1, st1, input2_shape, input2, st2, output_shape, output,
              [&p](std::int8_t x, std::int8_t y) {
                const std::int32_t product = (p.input1_offset + x) * (p.input2_offset + y);
                const std::int32_t v =
                    multiply_by_quantized_multiplier(product, p.output_multiplier, p.output_shift);
                return clamp8(v + p.output_offset, p.act_min, p.act_max);
              });
  return Status::ok;
}

}  // namespace tml::rt
