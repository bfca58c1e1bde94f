// int8 convolution, depthwise convolution and fully connected kernels (runtime/conv.h).
//
// Arithmetic follows TFLite's reference_integer_ops::{ConvPerChannel, DepthwiseConvPerChannel,
// FullyConnected} step by step: int32 sum of filter * (input + input_offset) over the taps inside
// the image, + bias, MultiplyByQuantizedMultiplier, + output_offset, clamp. Sums are formed modulo
// 2^32 (as TFLite's int32 accumulator does on every real target, and as SMLAD does), so no input can
// make the kernels hit signed-overflow UB, and the order of additions cannot change a result.
//
// Speed without changing a byte:
//  - fully connected, 1x1 convolutions and gathered patches are one matrix-vector product;
//  - a convolution patch of few channels (a first layer) is gathered into a stack buffer;
//  - other patches are walked in place: the taps inside the image are found once per position (no
//    per-tap bounds test), and a filter row is one contiguous run when the layout allows it;
//  - output channels are computed in pairs sharing the input loads, into blocks of accumulators
//    that one out-of-line loop requantizes (conv_requantize.h);
//  - on a Cortex-M4 (__ARM_FEATURE_DSP, unless TML_RUNTIME_PORTABLE) the dot products use
//    SXTAB16/SMLAD, and depthwise with depth multiplier 1 uses SMLABB/SMLATT on four channels.
//
// Stack: 64 bytes of accumulators and, in conv2d_s8, a 256-byte gather buffer.
#include "runtime/conv.h"

#include <cstdint>
#include <cstring>

#include "runtime/conv_requantize.h"

#if defined(__ARM_FEATURE_DSP) && !defined(TML_RUNTIME_PORTABLE)
#define TML_CONV_DSP 1
#include <arm_acle.h>
#else
#define TML_CONV_DSP 0
#endif

namespace tml::rt {
namespace {

using std::int32_t;
using std::int64_t;
using std::int8_t;
using std::uint32_t;

// ---------------------------------------------------------------------------------------------
// Validation

constexpr int64_t kInt32Max = 2147483647;

// Offsets are zero points of int8 tensors: input_offset = -zp in [-127, 128] (so x + offset fits
// an int16 lane of the DSP path), output_offset = zp in [-128, 127]; the clamp lies in int8.
bool params_ok(const ConvParams& p) {
  return p.input_offset >= -127 && p.input_offset <= 128 && p.output_offset >= -128 && p.output_offset <= 127 &&
         p.act_min >= -128 && p.act_max <= 127 && p.act_min <= p.act_max;
}

// Shifts outside [-31, 30] would be undefined shifts in multiply_by_quantized_multiplier; a
// negative multiplier is no scale (TFLite's are in [2^30, 2^31) or 0) and conv_requantize.h needs >= 0.
bool quant_ok(const ChannelQuant& q, int32_t channels) {
  if (q.multiplier == nullptr || q.shift == nullptr) return false;
  const int32_t n = q.per_tensor ? 1 : channels;
  for (int32_t i = 0; i < n; ++i) {
    if (q.multiplier[i] < 0 || q.shift[i] < -31 || q.shift[i] > 30) return false;
  }
  return true;
}

// One spatial axis: `out` windows of `kernel` taps (dilated), `stride` apart, starting `pad` before
// the input. Accepted when every window overlaps the input and the windows reach the last `stride`
// input positions -- true for TFLite SAME/VALID and ONNX explicit pads (pad < effective kernel),
// false for a wrong output size. All coordinates the kernels form then fit int32.
bool axis_ok(int32_t in, int32_t out, int32_t kernel, int32_t stride, int32_t dilation, int32_t pad) {
  if (stride < 1 || dilation < 1 || pad < 0) return false;
  const int64_t effective = int64_t{kernel - 1} * dilation + 1;
  const int64_t last_start = int64_t{out - 1} * stride - pad;
  const int64_t end = last_start + effective;
  return pad < effective && last_start < in && end > int64_t{in} - stride && end <= kInt32Max &&
         int64_t{in} + pad <= kInt32Max;
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

// Accumulators: int32 sums kept as uint32 so that they wrap (modulo 2^32) without UB.
using Acc = uint32_t;
constexpr int32_t kBlock = 16;  // output channels accumulated before one requantization run

// Bias, rescale, output offset, clamp: the tail of every TFLite integer kernel.
struct Requantizer {
  const int32_t* bias;  // may be null
  const int32_t* multiplier;
  const int32_t* shift;
  int32_t quant_step;  // 0 per tensor, 1 per channel
  int32_t output_offset, act_min, act_max;
};

Requantizer make_requantizer(const ConvParams& p, const ChannelQuant& q, const int32_t* bias) {
  return Requantizer{bias, q.multiplier, q.shift, q.per_tensor ? 0 : 1, p.output_offset, p.act_min, p.act_max};
}

// out[j] for channels first + j, j < n. Out of line on purpose: inlined into the MAC loops its
// constants would live on the stack.
[[gnu::noinline]] void requantize_run(const Requantizer& rq, const Acc* acc, int32_t first, int32_t n,
                                      int8_t* out) {
  const int32_t* bias = rq.bias == nullptr ? nullptr : rq.bias + first;
  const int32_t* multiplier = rq.multiplier + first * rq.quant_step;
  const int32_t* shift = rq.shift + first * rq.quant_step;
  const int32_t step = rq.quant_step, offset = rq.output_offset, lo = rq.act_min, hi = rq.act_max;
  for (int32_t j = 0; j < n; ++j) {
    const Acc sum = bias == nullptr ? acc[j] : acc[j] + static_cast<Acc>(bias[j]);
    const int32_t scaled = conv_detail::requantize(static_cast<int32_t>(sum), multiplier[j * step], shift[j * step]);
    int32_t v = static_cast<int32_t>(static_cast<Acc>(scaled) + static_cast<Acc>(offset));
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    out[j] = static_cast<int8_t>(v);
  }
}

#if TML_CONV_DSP

inline uint32_t load32(const int8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);  // one (unaligned) LDR on the M4
  return v;
}

// The input offset in both int16 lanes, for SXTAB16.
inline int32_t offset_pair(int32_t offset) {
  return static_cast<int32_t>((static_cast<uint32_t>(offset) & 0xFFFFu) * 0x10001u);
}

// SXTB16/SXTAB16 of the bytes 1 and 3: the instructions' own ROR #8 operand, which <arm_acle.h>
// does not offer (GCC 12 emits a separate ROR for __sxtb16(ror(x, 8))).
inline int32_t sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
inline int32_t sxtab16_ror8(int32_t a, uint32_t v) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
  return r;
}

// Four int8 inputs as (x0+o, x2+o) and (x1+o, x3+o) int16 pairs; four weights as (w0, w2), (w1, w3).
struct Pairs {
  int32_t even, odd;
};
inline Pairs inputs_plus_offset(uint32_t x, int32_t offset2) {
  return {__sxtab16(offset2, static_cast<int32_t>(x)), sxtab16_ror8(offset2, x)};
}
inline Pairs weights(uint32_t w) { return {__sxtb16(static_cast<int32_t>(w)), sxtb16_ror8(w)}; }

#endif

// acc0 += sum_{i<n} w0[i] * (x[i] + offset), acc1 likewise with w1: two output channels sharing
// the input loads.
inline void dot2(const int8_t* x, const int8_t* w0, const int8_t* w1, int32_t n, int32_t offset, Acc& acc0,
                 Acc& acc1) {
  int32_t i = 0;
  Acc a0 = acc0, a1 = acc1;
#if TML_CONV_DSP
  const int32_t offset2 = offset_pair(offset);
  int32_t s0 = static_cast<int32_t>(a0), s1 = static_cast<int32_t>(a1);
  for (; i + 4 <= n; i += 4) {
    const Pairs xp = inputs_plus_offset(load32(x + i), offset2);
    const Pairs wp0 = weights(load32(w0 + i));
    const Pairs wp1 = weights(load32(w1 + i));
    s0 = __smlad(xp.even, wp0.even, s0);
    s0 = __smlad(xp.odd, wp0.odd, s0);
    s1 = __smlad(xp.even, wp1.even, s1);
    s1 = __smlad(xp.odd, wp1.odd, s1);
  }
  a0 = static_cast<Acc>(s0);
  a1 = static_cast<Acc>(s1);
#endif
  for (; i < n; ++i) {
    const int32_t xi = x[i] + offset;
    a0 += static_cast<Acc>(w0[i] * xi);
    a1 += static_cast<Acc>(w1[i] * xi);
  }
  acc0 = a0;
  acc1 = a1;
}

// ---------------------------------------------------------------------------------------------
// Geometry

// Taps [begin, end) of one axis whose input coordinate origin + tap * dilation lies in [0, size).
// axis_ok() keeps every term in int32.
struct TapRange {
  int32_t begin, end;
};
inline TapRange tap_range(int32_t origin, int32_t size, int32_t taps, int32_t dilation) {
  const int32_t first = origin >= 0 ? 0 : (-origin - 1) / dilation + 1;  // ceil(-origin / dilation)
  const int32_t last_coord = size - 1 - origin;                           // tap * dilation <= last_coord
  int32_t end = last_coord < 0 ? 0 : last_coord / dilation + 1;
  end = end < taps ? end : taps;
  return {first < end ? first : end, end};
}

// Sizes and steps of one call, copied out of the caller's structs so the loops keep them in
// registers (stores through int8_t* may alias anything the compiler cannot see is local).
struct Geometry {
  int32_t in_h, in_w, in_c, k_h, k_w, f_c;
  int32_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t input_offset;
};

Geometry geometry(const ConvParams& p, const Shape& in, const Shape& f) {
  return {in.h,       in.w,       in.c,         f.h,          f.w,       f.c,       p.stride_h,
          p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, p.input_offset};
}

// The taps of one output position that fall inside the image, as a walk over input and filter:
// `rows` rows of `segs` segments of `seg_len` consecutive elements. Filter pointers are relative to
// the start of one output channel's filter (conv) or to filter channel 0 (depthwise).
struct Patch {
  const int8_t* x;  // first input element of the first segment
  int32_t rows, segs, seg_len;
  int32_t x_row_step, x_seg_step;
  int32_t w_first, w_row_step, w_seg_step;
};

// seg_len = channels read per tap; a whole row is one segment when taps and channels are contiguous.
Patch patch(const Geometry& g, const int8_t* image, int32_t out_y, int32_t out_x, int32_t seg_len, bool merge_row) {
  const int32_t in_y = out_y * g.stride_h - g.pad_top;
  const int32_t in_x = out_x * g.stride_w - g.pad_left;
  const TapRange ty = tap_range(in_y, g.in_h, g.k_h, g.dilation_h);
  const TapRange tx = tap_range(in_x, g.in_w, g.k_w, g.dilation_w);
  const int32_t taps = tx.end - tx.begin;
  const int32_t row_size = g.in_w * g.in_c;
  Patch pt;
  pt.rows = taps > 0 ? ty.end - ty.begin : 0;
  pt.x = pt.rows == 0 ? image  // nothing inside the image: only the bias counts
                      : image + (in_y + ty.begin * g.dilation_h) * row_size + (in_x + tx.begin * g.dilation_w) * g.in_c;
  pt.segs = merge_row ? 1 : taps;
  pt.seg_len = merge_row ? taps * seg_len : seg_len;
  pt.x_row_step = g.dilation_h * row_size;
  pt.x_seg_step = g.dilation_w * g.in_c;
  pt.w_first = (ty.begin * g.k_w + tx.begin) * g.f_c;
  pt.w_row_step = g.k_w * g.f_c;
  pt.w_seg_step = g.f_c;
  return pt;
}

// ---------------------------------------------------------------------------------------------
// Convolution

// One input vector of `depth` against out_c filter rows: fully connected, a 1x1 convolution at one
// position, or a gathered patch.
void matvec(const Requantizer& rq, const int8_t* x, const int8_t* filter, int32_t depth, int32_t out_c,
            int32_t offset, int8_t* out) {
  Acc acc[kBlock];
  for (int32_t first = 0; first < out_c; first += kBlock) {
    const int32_t n = out_c - first < kBlock ? out_c - first : kBlock;
    const int8_t* w = filter + first * depth;
    for (int32_t j = 0; j < n; j += 2, w += 2 * depth) {
      const int32_t j1 = j + 1 < n ? j + 1 : j;  // an odd last channel is computed twice
      Acc a0 = 0, a1 = 0;
      dot2(x, w, w + (j1 - j) * depth, depth, offset, a0, a1);
      acc[j] = a0;
      acc[j1] = a1;
    }
    requantize_run(rq, acc, first, n, out + first);
  }
}

// Sums of two output channels (filters w0, w1) over a patch; x is the patch moved to the group.
inline void conv_pair(const Patch& pt, const int8_t* x, const int8_t* w0, const int8_t* w1, int32_t offset,
                      Acc& acc0, Acc& acc1) {
  Acc a0 = 0, a1 = 0;
  w0 += pt.w_first;
  w1 += pt.w_first;
  for (int32_t r = 0; r < pt.rows; ++r) {
    const int8_t* xs = x;
    const int8_t* ws0 = w0;
    const int8_t* ws1 = w1;
    for (int32_t s = 0; s < pt.segs; ++s) {
      dot2(xs, ws0, ws1, pt.seg_len, offset, a0, a1);
      xs += pt.x_seg_step;
      ws0 += pt.w_seg_step;
      ws1 += pt.w_seg_step;
    }
    x += pt.x_row_step;
    w0 += pt.w_row_step;
    w1 += pt.w_row_step;
  }
  acc0 = a0;
  acc1 = a1;
}

// All output channels of one position; groups as TFLite (filter depth f_c, channels per group).
void conv_position(const Geometry& g, const Requantizer& rq, const Patch& pt, const int8_t* filter,
                   int32_t out_c, int8_t* out) {
  const int32_t groups = g.in_c / g.f_c;
  const int32_t per_group = out_c / groups;
  const int32_t filter_size = g.k_h * g.k_w * g.f_c;
  Acc acc[kBlock];
  for (int32_t group = 0; group < groups; ++group) {
    const int8_t* x = pt.x + group * g.f_c;
    const int32_t group_end = (group + 1) * per_group;
    for (int32_t first = group * per_group; first < group_end; first += kBlock) {
      const int32_t n = group_end - first < kBlock ? group_end - first : kBlock;
      for (int32_t j = 0; j < n; j += 2) {
        const int32_t j1 = j + 1 < n ? j + 1 : j;  // an odd last channel is computed twice
        conv_pair(pt, x, filter + (first + j) * filter_size, filter + (first + j1) * filter_size, g.input_offset,
                  acc[j], acc[j1]);
      }
      requantize_run(rq, acc, first, n, out + first);
    }
  }
}

// Few input channels (a first layer on 1-3 channel data) make a patch of many short runs, slow to
// walk. Such patches are gathered into a stack buffer, padding included: a padded tap holds
// -input_offset, so it adds w * 0 -- exactly what skipping it adds. Each output channel is then one
// long dot product over the buffer.
constexpr int32_t kGatherBytes = 256;
constexpr int32_t kGatherMaxDepth = 8;

bool gather_pays(const Geometry& g) {
  const int32_t taps = g.k_h * g.k_w;
  return g.f_c == g.in_c && g.f_c <= kGatherMaxDepth && taps > 1 && taps * g.f_c <= kGatherBytes;
}

void gather(const Geometry& g, const int8_t* image, int32_t out_y, int32_t out_x, int8_t* buf) {
  const int8_t padding = static_cast<int8_t>(-g.input_offset);  // in [-128, 127] by params_ok()
  const int32_t in_y = out_y * g.stride_h - g.pad_top;
  const int32_t in_x = out_x * g.stride_w - g.pad_left;
  for (int32_t ky = 0; ky < g.k_h; ++ky) {
    const int32_t iy = in_y + ky * g.dilation_h;
    const bool row_inside = iy >= 0 && iy < g.in_h;
    for (int32_t kx = 0; kx < g.k_w; ++kx, buf += g.f_c) {
      const int32_t ix = in_x + kx * g.dilation_w;
      if (row_inside && ix >= 0 && ix < g.in_w) {
        const int8_t* src = image + (iy * g.in_w + ix) * g.in_c;
        for (int32_t c = 0; c < g.f_c; ++c) buf[c] = src[c];
      } else {
        for (int32_t c = 0; c < g.f_c; ++c) buf[c] = padding;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Depthwise convolution

#if TML_CONV_DSP
// Output channels [c, c + 4) of one position, depth multiplier 1 (SMLABB/SMLATT per channel).
inline void depthwise_quad(const Patch& pt, const int8_t* filter, int32_t c, int32_t offset, Acc* acc) {
  const int32_t offset2 = offset_pair(offset);
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const int8_t* x = pt.x + c;
  const int8_t* w = filter + pt.w_first + c;
  for (int32_t r = 0; r < pt.rows; ++r) {
    const int8_t* xs = x;
    const int8_t* ws = w;
    for (int32_t s = 0; s < pt.segs; ++s) {
      const Pairs xp = inputs_plus_offset(load32(xs), offset2);
      const Pairs wp = weights(load32(ws));
      a0 = __smlabb(xp.even, wp.even, a0);
      a2 = __smlatt(xp.even, wp.even, a2);
      a1 = __smlabb(xp.odd, wp.odd, a1);
      a3 = __smlatt(xp.odd, wp.odd, a3);
      xs += pt.x_seg_step;
      ws += pt.w_seg_step;
    }
    x += pt.x_row_step;
    w += pt.w_row_step;
  }
  acc[0] = static_cast<Acc>(a0);
  acc[1] = static_cast<Acc>(a1);
  acc[2] = static_cast<Acc>(a2);
  acc[3] = static_cast<Acc>(a3);
}
#endif

// Output channels [first, first + n) of one position, any depth multiplier, accumulated tap by tap
// so the inner loop runs along contiguous filter channels.
inline void depthwise_channels(const Patch& pt, const int8_t* filter, int32_t first, int32_t n, int32_t multiplier,
                               int32_t offset, Acc* acc) {
  for (int32_t j = 0; j < n; ++j) acc[j] = 0;
  const int8_t* x = pt.x;
  const int8_t* w = filter + pt.w_first + first;
  for (int32_t r = 0; r < pt.rows; ++r) {
    const int8_t* xs = x;
    const int8_t* ws = w;
    for (int32_t s = 0; s < pt.segs; ++s) {
      if (multiplier == 1) {
        const int8_t* xc = xs + first;
        for (int32_t j = 0; j < n; ++j) acc[j] += static_cast<Acc>(ws[j] * (xc[j] + offset));
      } else {
        for (int32_t j = 0; j < n; ++j) acc[j] += static_cast<Acc>(ws[j] * (xs[(first + j) / multiplier] + offset));
      }
      xs += pt.x_seg_step;
      ws += pt.w_seg_step;
    }
    x += pt.x_row_step;
    w += pt.w_row_step;
  }
}

void depthwise_position(const Geometry& g, const Requantizer& rq, const Patch& pt, const int8_t* filter,
                        int32_t multiplier, int8_t* out) {
  const int32_t channels = g.f_c;
  Acc acc[kBlock];
  for (int32_t first = 0; first < channels; first += kBlock) {
    const int32_t n = channels - first < kBlock ? channels - first : kBlock;
    int32_t j = 0;
#if TML_CONV_DSP
    if (multiplier == 1) {
      for (; j + 4 <= n; j += 4) depthwise_quad(pt, filter, first + j, g.input_offset, acc + j);
    }
#endif
    if (j < n) depthwise_channels(pt, filter, first + j, n - j, multiplier, g.input_offset, acc + j);
    requantize_run(rq, acc, first, n, out + first);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry points

Status conv2d_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape, const std::int8_t* input,
                 const Shape& filter_shape, const std::int8_t* filter, const std::int32_t* bias,
                 const Shape& output_shape, std::int8_t* output) {
  const Shape& in = input_shape;
  const Shape& f = filter_shape;
  const Shape& out = output_shape;
  if (input == nullptr || filter == nullptr || output == nullptr) return Status::bad_argument;
  if (!fits(in) || !fits(f) || !fits(out) || !params_ok(p)) return Status::bad_argument;
  // Grouped convolution as TFLite: filter depth divides the input depth, groups divide Cout.
  if (out.n != in.n || out.c != f.n || in.c % f.c != 0 || out.c % (in.c / f.c) != 0) return Status::bad_argument;
  if (!axis_ok(in.h, out.h, f.h, p.stride_h, p.dilation_h, p.pad_top) ||
      !axis_ok(in.w, out.w, f.w, p.stride_w, p.dilation_w, p.pad_left) || !quant_ok(q, out.c)) {
    return Status::bad_argument;
  }

  const Geometry g = geometry(p, in, f);
  const Requantizer rq = make_requantizer(p, q, bias);
  // Three ways through a position, all giving the same sums: a 1x1 filter (no padding possible)
  // sees one input pixel; a small patch of few channels is gathered; others are walked in place.
  const bool pointwise = f.h == 1 && f.w == 1 && in.c == f.c;
  const bool gathered = !pointwise && gather_pays(g);
  const bool merge_rows = in.c == f.c && p.dilation_w == 1;  // a filter row is one run of input
  const int32_t filter_size = f.h * f.w * f.c;
  int8_t buf[kGatherBytes];
  const int32_t image_size = in.h * in.w * in.c;
  int8_t* o = output;
  for (int32_t b = 0; b < in.n; ++b) {
    const int8_t* image = input + b * image_size;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox, o += out.c) {
        if (pointwise) {
          const int8_t* x = image + (oy * p.stride_h * in.w + ox * p.stride_w) * in.c;
          matvec(rq, x, filter, filter_size, out.c, p.input_offset, o);
        } else if (gathered) {
          gather(g, image, oy, ox, buf);
          matvec(rq, buf, filter, filter_size, out.c, p.input_offset, o);
        } else {
          conv_position(g, rq, patch(g, image, oy, ox, f.c, merge_rows), filter, out.c, o);
        }
      }
    }
  }
  return Status::ok;
}

Status depthwise_conv2d_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape,
                           const std::int8_t* input, const Shape& filter_shape, const std::int8_t* filter,
                           const std::int32_t* bias, const Shape& output_shape, std::int8_t* output) {
  const Shape& in = input_shape;
  const Shape& f = filter_shape;
  const Shape& out = output_shape;
  if (input == nullptr || filter == nullptr || output == nullptr) return Status::bad_argument;
  if (!fits(in) || !fits(f) || !fits(out) || !params_ok(p) || p.depth_multiplier < 1) {
    return Status::bad_argument;
  }
  if (f.n != 1 || out.n != in.n || out.c != f.c || int64_t{in.c} * p.depth_multiplier != f.c) {
    return Status::bad_argument;
  }
  if (!axis_ok(in.h, out.h, f.h, p.stride_h, p.dilation_h, p.pad_top) ||
      !axis_ok(in.w, out.w, f.w, p.stride_w, p.dilation_w, p.pad_left) || !quant_ok(q, out.c)) {
    return Status::bad_argument;
  }

  const Geometry g = geometry(p, in, f);
  const Requantizer rq = make_requantizer(p, q, bias);
  const int32_t image_size = in.h * in.w * in.c;
  int8_t* o = output;
  for (int32_t b = 0; b < in.n; ++b) {
    const int8_t* image = input + b * image_size;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox, o += out.c) {
        depthwise_position(g, rq, patch(g, image, oy, ox, 1, false), filter, p.depth_multiplier, o);
      }
    }
  }
  return Status::ok;
}

Status fully_connected_s8(const ConvParams& p, const ChannelQuant& q, const Shape& input_shape,
                          const std::int8_t* input, const Shape& filter_shape, const std::int8_t* filter,
                          const std::int32_t* bias, const Shape& output_shape, std::int8_t* output) {
  const Shape& f = filter_shape;
  const Shape& out = output_shape;
  if (input == nullptr || filter == nullptr || output == nullptr) return Status::bad_argument;
  if (!fits(input_shape) || !fits(f) || !fits(out) || !params_ok(p)) return Status::bad_argument;
  // Output {batches, 1, 1, Cout} (or any n*h*w rows of Cout, as TFLite's keep_num_dims).
  const int32_t depth = f.c;
  const int32_t batches = out.n * out.h * out.w;
  if (f.h != 1 || f.w != 1 || out.c != f.n || int64_t{batches} * depth != input_shape.elements()) {
    return Status::bad_argument;
  }
  if (!quant_ok(q, out.c)) return Status::bad_argument;

  const Requantizer rq = make_requantizer(p, q, bias);
  for (int32_t b = 0; b < batches; ++b) {
    matvec(rq, input + b * depth, filter, depth, out.c, p.input_offset, output + b * out.c);
  }
  return Status::ok;
}

}  // namespace tml::rt
