#include "runtime/conv.h"

namespace tml::rt {

namespace {
constexpr std::int32_t kMaxTaps = 15 * 15;  // the largest kernel window handled in place
}  // namespace

std::size_t depthwise_in_place_scratch_bytes(const Shape& in, const Shape& out) {
  return static_cast<std::size_t>(in.h) * static_cast<std::size_t>(in.w) +
         static_cast<std::size_t>(out.h) * static_cast<std::size_t>(out.w);
}

Status depthwise_conv2d_s8_in_place(const ConvParams& p, const ChannelQuant& q, const Shape& in,
                                    std::int8_t* buffer, const Shape& f, const std::int8_t* filter,
                                    const std::int32_t* bias, const Shape& out, std::int8_t* scratch,
                                    std::size_t scratch_bytes) {
  if (buffer == nullptr || filter == nullptr || scratch == nullptr) return Status::bad_argument;
  if (!valid(in) || !valid(out) || !valid(f) || p.depth_multiplier != 1 || out.c != in.c || f.c != in.c ||
      out.n != in.n || f.h * f.w > kMaxTaps || out.h * out.w > in.h * in.w ||
      // With several batches a smaller output image would start inside the next batch's input.
      (in.n > 1 && out.h * out.w != in.h * in.w)) {
    return Status::bad_argument;
  }
  if (scratch_bytes < depthwise_in_place_scratch_bytes(in, out)) return Status::buffer_too_small;
  std::int8_t* plane_in = scratch;
  std::int8_t* plane_out = scratch + in.h * in.w;
  const Shape one_in{1, in.h, in.w, 1}, one_out{1, out.h, out.w, 1}, one_filter{1, f.h, f.w, 1};
  std::int8_t taps[kMaxTaps];
  for (std::int32_t b = 0; b < in.n; ++b) {
    std::int8_t* image = buffer + static_cast<std::ptrdiff_t>(b) * in.h * in.w * in.c;  // = output batch b
    for (std::int32_t c = 0; c < in.c; ++c) {
      for (std::int32_t i = 0; i < in.h * in.w; ++i) plane_in[i] = image[i * in.c + c];
      for (std::int32_t t = 0; t < f.h * f.w; ++t) taps[t] = filter[t * f.c + c];
      const ChannelQuant qc{q.multiplier + (q.per_tensor ? 0 : c), q.shift + (q.per_tensor ? 0 : c), true};
      const Status s = depthwise_conv2d_s8(p, qc, one_in, plane_in, one_filter, taps, bias ? bias + c : nullptr,
                                           one_out, plane_out);
      if (s != Status::ok) return s;
      for (std::int32_t i = 0; i < out.h * out.w; ++i) image[i * out.c + c] = plane_out[i];
    }
  }
  return Status::ok;
}

}  // namespace tml::rt
