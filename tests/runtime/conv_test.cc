// Tests of runtime/conv.h: conv2d_s8, depthwise_conv2d_s8, fully_connected_s8.
//
// Evidence:
//  - conv_requantize.h (the kernels' faster requantization) equals fixed_point.h's, ties included;
//  - hand-computed cases (expected bytes worked out in the comments);
//  - exact comparison with reference loops written in the shape of TFLite's
//    reference_integer_ops::{ConvPerChannel, DepthwiseConvPerChannel, FullyConnected} on many random
//    geometries and quantization parameters (the kernels must give the same bytes);
//  - comparison with a double-precision convolution of the dequantized operands, quantized with the
//    output scale: every output within one step.
// The Cortex-M4 DSP path is not compiled on the host; its bytes are compared on QEMU.
#include "runtime/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "deploy/quantize_multiplier.h"
#include "runtime/conv_requantize.h"
#include "runtime/fixed_point.h"

namespace tml::rt {
namespace {

using std::int32_t;
using std::int64_t;
using std::int8_t;

// Requantization parameters with their storage.
struct Quant {
  std::vector<int32_t> multiplier, shift;
  bool per_tensor = false;
  ChannelQuant view() const { return ChannelQuant{multiplier.data(), shift.data(), per_tensor}; }
};

Quant quant_from_scales(const std::vector<double>& scales, bool per_tensor) {
  Quant q;
  q.per_tensor = per_tensor;
  for (double s : scales) {
    const deploy::QuantizedMultiplier m = deploy::quantize_multiplier(s);
    q.multiplier.push_back(m.multiplier);
    q.shift.push_back(m.shift);
  }
  return q;
}

Quant unit_scale(int channels) { return quant_from_scales(std::vector<double>(channels, 1.0), false); }

int index4(const Shape& s, int n, int y, int x, int c) { return ((n * s.h + y) * s.w + x) * s.c + c; }

// ---------------------------------------------------------------------------------------------
// Reference loops, in the shape of TFLite's reference_integer_ops kernels (int32 accumulator).

int8_t ref_output(int32_t acc, const std::vector<int32_t>& bias, int oc, const Quant& q, const ConvParams& p) {
  if (!bias.empty()) acc += bias[oc];
  const int i = q.per_tensor ? 0 : oc;
  acc = multiply_by_quantized_multiplier(acc, q.multiplier[i], q.shift[i]);
  acc += p.output_offset;
  acc = std::max(acc, p.act_min);
  acc = std::min(acc, p.act_max);
  return static_cast<int8_t>(acc);
}

std::vector<int8_t> ref_conv(const ConvParams& p, const Quant& q, const Shape& in, const std::vector<int8_t>& x,
                             const Shape& f, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                             const Shape& out) {
  std::vector<int8_t> y(out.elements());
  const int groups = in.c / f.c;
  const int per_group = out.c / groups;
  for (int b = 0; b < out.n; ++b)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int oc = 0; oc < out.c; ++oc) {
          const int group = oc / per_group;
          int32_t acc = 0;
          for (int ky = 0; ky < f.h; ++ky)
            for (int kx = 0; kx < f.w; ++kx) {
              const int iy = oy * p.stride_h - p.pad_top + p.dilation_h * ky;
              const int ix = ox * p.stride_w - p.pad_left + p.dilation_w * kx;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
              for (int ic = 0; ic < f.c; ++ic) {
                acc += w[index4(f, oc, ky, kx, ic)] * (x[index4(in, b, iy, ix, ic + group * f.c)] + p.input_offset);
              }
            }
          y[index4(out, b, oy, ox, oc)] = ref_output(acc, bias, oc, q, p);
        }
  return y;
}

std::vector<int8_t> ref_depthwise(const ConvParams& p, const Quant& q, const Shape& in, const std::vector<int8_t>& x,
                                  const Shape& f, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                                  const Shape& out) {
  std::vector<int8_t> y(out.elements());
  for (int b = 0; b < out.n; ++b)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int ic = 0; ic < in.c; ++ic)
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = m + ic * p.depth_multiplier;
            int32_t acc = 0;
            for (int ky = 0; ky < f.h; ++ky)
              for (int kx = 0; kx < f.w; ++kx) {
                const int iy = oy * p.stride_h - p.pad_top + p.dilation_h * ky;
                const int ix = ox * p.stride_w - p.pad_left + p.dilation_w * kx;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                acc += w[index4(f, 0, ky, kx, oc)] * (x[index4(in, b, iy, ix, ic)] + p.input_offset);
              }
            y[index4(out, b, oy, ox, oc)] = ref_output(acc, bias, oc, q, p);
          }
  return y;
}

std::vector<int8_t> ref_fc(const ConvParams& p, const Quant& q, int batches, int depth, int out_depth,
                           const std::vector<int8_t>& x, const std::vector<int8_t>& w,
                           const std::vector<int32_t>& bias) {
  std::vector<int8_t> y(batches * out_depth);
  for (int b = 0; b < batches; ++b)
    for (int oc = 0; oc < out_depth; ++oc) {
      int32_t acc = 0;
      for (int d = 0; d < depth; ++d) acc += w[oc * depth + d] * (x[b * depth + d] + p.input_offset);
      y[oc + out_depth * b] = ref_output(acc, bias, oc, q, p);
    }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Calling the kernels with vectors

const int32_t* bias_ptr(const std::vector<int32_t>& bias) { return bias.empty() ? nullptr : bias.data(); }

std::vector<int8_t> run_conv(const ConvParams& p, const Quant& q, const Shape& in, const std::vector<int8_t>& x,
                             const Shape& f, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                             const Shape& out) {
  std::vector<int8_t> y(out.elements(), 0x55);
  EXPECT_EQ(conv2d_s8(p, q.view(), in, x.data(), f, w.data(), bias_ptr(bias), out, y.data()), Status::ok);
  return y;
}

std::vector<int8_t> run_depthwise(const ConvParams& p, const Quant& q, const Shape& in, const std::vector<int8_t>& x,
                                  const Shape& f, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                                  const Shape& out) {
  std::vector<int8_t> y(out.elements(), 0x55);
  EXPECT_EQ(depthwise_conv2d_s8(p, q.view(), in, x.data(), f, w.data(), bias_ptr(bias), out, y.data()), Status::ok);
  return y;
}

std::vector<int8_t> run_fc(const ConvParams& p, const Quant& q, const Shape& in, const std::vector<int8_t>& x,
                           const Shape& f, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                           const Shape& out) {
  std::vector<int8_t> y(out.elements(), 0x55);
  EXPECT_EQ(fully_connected_s8(p, q.view(), in, x.data(), f, w.data(), bias_ptr(bias), out, y.data()), Status::ok);
  return y;
}

std::vector<int8_t> bytes(std::initializer_list<int> v) { return std::vector<int8_t>(v.begin(), v.end()); }

// ---------------------------------------------------------------------------------------------
// conv_requantize.h: the kernels' requantization equals fixed_point.h's

TEST(ConvRequantize, EqualsMultiplyByQuantizedMultiplier) {
  std::vector<int32_t> xs = {INT32_MIN, INT32_MIN + 1, -65536, -3, -2, -1, 0, 1, 2, 3, 65535, INT32_MAX - 1, INT32_MAX};
  std::vector<int32_t> multipliers = {0, 1, 3, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1, INT32_MAX};
  std::mt19937 rng(99);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX), nonneg(0, INT32_MAX);
  for (int i = 0; i < 40; ++i) xs.push_back(any(rng));
  for (int i = 0; i < 8; ++i) multipliers.push_back(nonneg(rng));
  long checked = 0;
  for (int32_t shift = -31; shift <= 30; ++shift)
    for (int32_t m : multipliers)
      for (int32_t x : xs) {
        ASSERT_EQ(conv_detail::requantize(x, m, shift), multiply_by_quantized_multiplier(x, m, shift))
            << "x " << x << " multiplier " << m << " shift " << shift;
        ++checked;
      }
  // Random triples, and exact ties of both roundings (multiplier 2^30 halves x): an odd x is a tie
  // of the doubling high multiply; x = (2k + 1) * 2^e halves to a tie of the divide by 2^e.
  for (int i = 0; i < 300000; ++i) {
    const int32_t shift = std::uniform_int_distribution<int32_t>(-31, 30)(rng);
    const int32_t x = any(rng), m = nonneg(rng);
    ASSERT_EQ(conv_detail::requantize(x, m, shift), multiply_by_quantized_multiplier(x, m, shift));
    const int32_t e = std::uniform_int_distribution<int32_t>(1, 20)(rng);
    const int32_t k = std::uniform_int_distribution<int32_t>(-1000, 1000)(rng);
    const int32_t tie = static_cast<int32_t>((2 * k + 1) * (int64_t{1} << e));
    ASSERT_EQ(conv_detail::requantize(tie, 1 << 30, -e), multiply_by_quantized_multiplier(tie, 1 << 30, -e));
    const int32_t odd = x | 1;
    ASSERT_EQ(conv_detail::requantize(odd, 1 << 30, 0), multiply_by_quantized_multiplier(odd, 1 << 30, 0));
    checked += 3;
  }
  EXPECT_GT(checked, 900000);
}

TEST(ConvRequantize, RoundingDivideByPotMatchesFixedPoint) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int32_t e = 0; e <= 31; ++e) {
    for (int32_t x : {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX}) {
      ASSERT_EQ(conv_detail::rounding_divide_by_pot32(x, e), rounding_divide_by_pot(x, e)) << x << " " << e;
    }
    for (int i = 0; i < 5000; ++i) {
      const int32_t x = any(rng);
      ASSERT_EQ(conv_detail::rounding_divide_by_pot32(x, e), rounding_divide_by_pot(x, e)) << x << " " << e;
    }
  }
  // Ties go away from zero: 5 / 2 -> 3, -5 / 2 -> -3, 6 / 4 -> 2, -6 / 4 -> -2.
  EXPECT_EQ(conv_detail::rounding_divide_by_pot32(5, 1), 3);
  EXPECT_EQ(conv_detail::rounding_divide_by_pot32(-5, 1), -3);
  EXPECT_EQ(conv_detail::rounding_divide_by_pot32(6, 2), 2);
  EXPECT_EQ(conv_detail::rounding_divide_by_pot32(-6, 2), -2);
}

// ---------------------------------------------------------------------------------------------
// Hand-computed cases

TEST(Conv2dS8, HandComputedValidWithTiesRoundedAwayFromZero) {
  // Input 3x3 stored with zero point -1 (input_offset 1): real values x + 1 = 1..9.
  // Filter 2x2 {1,2;3,4}, bias 10, scale 0.5, output zero point 5.
  //   (0,0): 1*1+2*2+4*3+5*4 = 37, +10 = 47, *0.5 = 23.5 -> 24 (tie away from zero), +5 = 29
  //   (0,1): 2+6+15+24 = 47 -> 57 -> 28.5 -> 29 -> 34
  //   (1,0): 4+10+21+32 = 67 -> 77 -> 38.5 -> 39 -> 44
  //   (1,1): 5+12+24+36 = 77 -> 87 -> 43.5 -> 44 -> 49
  ConvParams p;
  p.input_offset = 1;
  p.output_offset = 5;
  const Quant q = quant_from_scales({0.5}, true);
  const std::vector<int8_t> x = bytes({0, 1, 2, 3, 4, 5, 6, 7, 8});
  const std::vector<int8_t> w = bytes({1, 2, 3, 4});
  EXPECT_EQ(run_conv(p, q, {1, 3, 3, 1}, x, {1, 2, 2, 1}, w, {10}, {1, 2, 2, 1}), bytes({29, 34, 44, 49}));
}

TEST(Conv2dS8, HandComputedPaddingIsSkippedNotFilledWithZero) {
  // Input 2x2 {1,2;3,4} stored as {0,1;2,3} with input_offset 1, filter 3x3 {1..9}, pad 1 on all
  // sides (output 2x2), scale 1, output offset -100. Only taps inside the image count:
  //   (0,0): w11*1 + w12*2 + w21*3 + w22*4 = 5+12+24+36 = 77 -> -23
  //   (0,1): w10*1 + w11*2 + w20*3 + w21*4 = 4+10+21+32 = 67 -> -33
  //   (1,0): w01*1 + w02*2 + w11*3 + w12*4 = 2+6+15+24  = 47 -> -53
  //   (1,1): w00*1 + w01*2 + w10*3 + w11*4 = 1+4+12+20  = 37 -> -63
  // (Padding filled with stored 0 would add 1 * the outside weights.)
  ConvParams p;
  p.pad_top = p.pad_left = 1;
  p.input_offset = 1;
  p.output_offset = -100;
  const std::vector<int8_t> w = bytes({1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(run_conv(p, unit_scale(1), {1, 2, 2, 1}, bytes({0, 1, 2, 3}), {1, 3, 3, 1}, w, {}, {1, 2, 2, 1}),
            bytes({-23, -33, -53, -63}));
}

TEST(Conv2dS8, HandComputedTwoChannelsPerChannelScalesAndSaturation) {
  // 1x1 input, two input channels {10, -20} (offset 0), 1x1 filters:
  //   oc0 = {1, 1}:   10 - 20 = -10, bias 0, scale 2    -> -20
  //   oc1 = {3, -2}:  30 + 40 = 70,  bias 5, scale 0.25 -> 18.75 -> 19
  //   oc2 = {127,-127}: 1270 + 2540 = 3810, scale 1      -> 3810 -> clamps to act_max 100
  //   oc3 = {-127,127}: -3810, scale 1                    -> clamps to -128
  ConvParams p;
  p.act_max = 100;
  const Quant q = quant_from_scales({2.0, 0.25, 1.0, 1.0}, false);
  const std::vector<int8_t> w = bytes({1, 1, 3, -2, 127, -127, -127, 127});
  EXPECT_EQ(run_conv(p, q, {1, 1, 1, 2}, bytes({10, -20}), {4, 1, 1, 2}, w, {0, 5, 0, 0}, {1, 1, 1, 4}),
            bytes({-20, 19, 100, -128}));
}

TEST(Conv2dS8, HandComputedStride2Dilation2Batch2) {
  // Input 5x5, value = row * 5 + col (offset 0), 2x2 filter of ones with dilation 2 (taps at
  // +0 and +2), stride 2, no padding: windows start at 0 and 2 -> output 2x2,
  // sum = x[r][c] + x[r][c+2] + x[r+2][c] + x[r+2][c+2] = 4 * (5r + c) + 24.
  //   (0,0) r=0,c=0: 24; (0,1) c=2: 32; (1,0) r=2: 64; (1,1): 72.
  // Batch 1 holds the negated image: -24, -32, -64, -72.
  ConvParams p;
  p.stride_h = p.stride_w = 2;
  p.dilation_h = p.dilation_w = 2;
  std::vector<int8_t> x(50);
  for (int i = 0; i < 25; ++i) {
    x[i] = static_cast<int8_t>(i);
    x[25 + i] = static_cast<int8_t>(-i);
  }
  EXPECT_EQ(run_conv(p, unit_scale(1), {2, 5, 5, 1}, x, {1, 2, 2, 1}, bytes({1, 1, 1, 1}), {}, {2, 2, 2, 1}),
            bytes({24, 32, 64, 72, -24, -32, -64, -72}));
}

TEST(Conv2dS8, HandComputedGroupedConvolution) {
  // Two groups: input channels {a0, a1 | b0, b1} = {1, 2 | 3, 4}, filter depth 2, four output
  // channels, two per group. oc0 = {1, 1}.a = 3, oc1 = {1,-1}.a = -1, oc2 = {1, 1}.b = 7,
  // oc3 = {2, 0}.b = 6.
  ConvParams p;
  const std::vector<int8_t> w = bytes({1, 1, 1, -1, 1, 1, 2, 0});
  EXPECT_EQ(run_conv(p, unit_scale(4), {1, 1, 1, 4}, bytes({1, 2, 3, 4}), {4, 1, 1, 2}, w, {}, {1, 1, 1, 4}),
            bytes({3, -1, 7, 6}));
}

TEST(DepthwiseConv2dS8, HandComputed3x3Stride2PaddingAtEveryBorder) {
  // Input 3x3 = 1..9 (offset 0), 3x3 filter of ones, pad 1, stride 2 -> output 2x2; each window
  // keeps a 2x2 corner of the image: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28.
  // Output offset -30: -18, -14, -6, -2.
  ConvParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = 1;
  p.output_offset = -30;
  const std::vector<int8_t> x = bytes({1, 2, 3, 4, 5, 6, 7, 8, 9});
  const std::vector<int8_t> w(9, 1);
  EXPECT_EQ(run_depthwise(p, unit_scale(1), {1, 3, 3, 1}, x, {1, 3, 3, 1}, w, {}, {1, 2, 2, 1}),
            bytes({-18, -14, -6, -2}));
}

TEST(DepthwiseConv2dS8, HandComputedDepthMultiplier2OnA1x1Input) {
  // Input {3, -2}, depth multiplier 2: oc = ic * 2 + m; weights {1, 2, 3, 4}, bias {0, 1, 2, 3},
  // scales {1, 0.5, 2, 1}: oc0 = 3, oc1 = (6+1)*0.5 = 3.5 -> 4, oc2 = (-6+2)*2 = -8, oc3 = -8+3 = -5.
  ConvParams p;
  p.depth_multiplier = 2;
  const Quant q = quant_from_scales({1.0, 0.5, 2.0, 1.0}, false);
  EXPECT_EQ(run_depthwise(p, q, {1, 1, 1, 2}, bytes({3, -2}), {1, 1, 1, 4}, bytes({1, 2, 3, 4}), {0, 1, 2, 3},
                          {1, 1, 1, 4}),
            bytes({3, 4, -8, -5}));
}

TEST(DepthwiseConv2dS8, HandComputedFiveChannelsKeepChannelsApart) {
  // 1x2 input, five channels (a DSP block of four plus one), 1x2 filter, offset 0:
  // out[c] = w0[c] * x0[c] + w1[c] * x1[c].
  ConvParams p;
  const std::vector<int8_t> x = bytes({1, 2, 3, 4, 5, /**/ 10, 20, 30, 40, 50});
  const std::vector<int8_t> w = bytes({1, -1, 2, 0, 3, /**/ 1, 1, -1, 2, 0});
  // c0: 1 + 10 = 11; c1: -2 + 20 = 18; c2: 6 - 30 = -24; c3: 0 + 80 = 80; c4: 15 + 0 = 15.
  EXPECT_EQ(run_depthwise(p, unit_scale(5), {1, 1, 2, 5}, x, {1, 1, 2, 5}, w, {}, {1, 1, 1, 5}),
            bytes({11, 18, -24, 80, 15}));
}

TEST(FullyConnectedS8, HandComputedTwoBatchesPerTensor) {
  // Real inputs {1, 2, 3} and {0, 4, 1} stored with zero point -128 (input_offset 128).
  // Filter {1, 0, -1; 2, 2, 2}, bias {1, -1}, scale 1:
  //   b0: 1 - 3 + 1 = -1;  2 * 6 - 1 = 11      b1: 0 - 1 + 1 = 0;  2 * 5 - 1 = 9
  ConvParams p;
  p.input_offset = 128;
  const std::vector<int8_t> x = bytes({1 - 128, 2 - 128, 3 - 128, 0 - 128, 4 - 128, 1 - 128});
  const std::vector<int8_t> w = bytes({1, 0, -1, 2, 2, 2});
  const Quant q = quant_from_scales({1.0}, true);
  EXPECT_EQ(run_fc(p, q, {2, 1, 1, 3}, x, {2, 1, 1, 3}, w, {1, -1}, {2, 1, 1, 2}), bytes({-1, 11, 0, 9}));
}

TEST(FullyConnectedS8, HandComputedZeroPoint127AndSaturationBothEnds) {
  // Input zero point 127 (input_offset -127): stored 127 means 0, stored -128 means -255.
  // x = {-128, 127, 0} -> real {-255, 0, -127}. Output zero point 127.
  //   oc0 {1, 1, 1}:   -382 * 1/4 = -95.5 -> -96 (away from zero), +127 = 31
  //   oc1 {-1, 0, 0}:  255 -> +127 = 382 -> 127
  //   oc2 {1, 0, 0}:  -255 -> -128
  ConvParams p;
  p.input_offset = -127;
  p.output_offset = 127;
  const Quant q = quant_from_scales({0.25, 1.0, 1.0}, false);
  const std::vector<int8_t> w = bytes({1, 1, 1, -1, 0, 0, 1, 0, 0});
  EXPECT_EQ(run_fc(p, q, {1, 1, 1, 3}, bytes({-128, 127, 0}), {3, 1, 1, 3}, w, {}, {1, 1, 1, 3}),
            bytes({31, 127, -128}));
}

TEST(FullyConnectedS8, AccumulatorWrapsLikeInt32Hardware) {
  // 70,000 products of 127 * (127 + 128) = 32,385 pass 2^31: the int32 sum wraps, as TFLite's
  // accumulator does on real targets. Expected value computed modulo 2^32 here.
  const int depth = 70000;
  ConvParams p;
  p.input_offset = 128;
  const std::vector<int8_t> x(depth, 127), w(depth, 127);
  const std::uint32_t wrapped = static_cast<std::uint32_t>(depth) * 32385u;
  const int32_t acc = static_cast<int32_t>(wrapped);
  ASSERT_LT(acc, 0);  // the wrap happened
  // Scale 2^-24: the wrapped sum gives -121; an unwrapped (64-bit) sum would give +135 -> 127.
  const Quant q = quant_from_scales({1.0 / 16777216.0}, true);
  const int32_t expected = std::clamp(multiply_by_quantized_multiplier(acc, q.multiplier[0], q.shift[0]), -128, 127);
  ASSERT_EQ(expected, -121);
  EXPECT_EQ(run_fc(p, q, {1, 1, 1, depth}, x, {1, 1, 1, depth}, w, {}, {1, 1, 1, 1}),
            std::vector<int8_t>{static_cast<int8_t>(expected)});
}

// ---------------------------------------------------------------------------------------------
// Random geometries and parameters: exact bytes against the TFLite-shaped reference loops

struct Axis {
  int in, kernel, stride, dilation, pad, out;
};

// SAME, VALID (as TFLite) or explicit ONNX-style pads on one axis.
Axis random_axis(std::mt19937& rng, int max_in) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Axis a{pick(1, max_in), pick(1, 4), pick(1, 3), pick(1, 2), 0, 0};
  const int effective = (a.kernel - 1) * a.dilation + 1;
  int mode = pick(0, 2);
  if (mode == 1 && a.in < effective) mode = 0;
  if (mode == 0) {  // SAME
    a.out = (a.in + a.stride - 1) / a.stride;
    a.pad = std::max(0, (a.out - 1) * a.stride + effective - a.in) / 2;
  } else if (mode == 1) {  // VALID
    a.out = (a.in - effective) / a.stride + 1;
  } else {  // explicit pads before/after, each below the effective kernel
    a.pad = pick(0, effective - 1);
    const int after = std::max(pick(0, effective - 1), effective - a.in - a.pad);
    a.out = (a.in + a.pad + after - effective) / a.stride + 1;
  }
  return a;
}

struct RandomCase {
  ConvParams p;
  Quant q;
  std::vector<int32_t> bias;
};

// Zero points at both extremes or anywhere, clamps full / ReLU-like / random, scales from tiny to
// above one, per-tensor or per-channel, bias present or not.
RandomCase random_quantization(std::mt19937& rng, int channels) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RandomCase rc;
  const int in_kind = pick(0, 3), out_kind = pick(0, 3);
  rc.p.input_offset = in_kind == 0 ? 128 : in_kind == 1 ? -127 : pick(-127, 128);
  rc.p.output_offset = out_kind == 0 ? -128 : out_kind == 1 ? 127 : pick(-128, 127);
  const int act = pick(0, 2);
  if (act == 1) rc.p.act_min = rc.p.output_offset;
  if (act == 2) {
    rc.p.act_min = pick(-128, 0);
    rc.p.act_max = pick(rc.p.act_min, 127);
  }
  rc.q.per_tensor = pick(0, 1) == 1;
  const int n = rc.q.per_tensor ? 1 : channels;
  for (int i = 0; i < n; ++i) {
    rc.q.multiplier.push_back(std::uniform_int_distribution<int32_t>(1 << 30, INT32_MAX)(rng));
    rc.q.shift.push_back(pick(0, 9) == 0 ? pick(1, 3) : pick(-20, -3));
  }
  if (pick(0, 3) != 0) {
    for (int i = 0; i < channels; ++i) rc.bias.push_back(pick(-20000, 20000));
  }
  return rc;
}

std::vector<int8_t> random_bytes(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& b : v) b = static_cast<int8_t>(d(rng));
  return v;
}

// Over a random run, both the clamps and the values in between must have been exercised.
struct Coverage {
  long inside = 0, clamped = 0;
  void add(const std::vector<int8_t>& y, const ConvParams& p) {
    for (int8_t v : y) (v == p.act_min || v == p.act_max ? clamped : inside)++;
  }
};

TEST(Conv2dS8, PerTensorEqualsPerChannelWithEqualEntries) {
  std::mt19937 rng(31);
  const Shape in{2, 4, 5, 3}, f{5, 3, 3, 3}, out{2, 4, 5, 5};
  ConvParams p;
  p.pad_top = p.pad_left = 1;
  p.input_offset = 17;
  p.output_offset = -9;
  const std::vector<int8_t> x = random_bytes(rng, in.elements()), w = random_bytes(rng, f.elements());
  const std::vector<int32_t> bias = {100, -200, 300, -400, 500};
  const Quant per_tensor = quant_from_scales({0.003}, true);
  const Quant per_channel = quant_from_scales(std::vector<double>(5, 0.003), false);
  const std::vector<int8_t> a = run_conv(p, per_tensor, in, x, f, w, bias, out);
  EXPECT_EQ(a, run_conv(p, per_channel, in, x, f, w, bias, out));
  EXPECT_GT(std::count_if(a.begin(), a.end(), [](int8_t v) { return v != -128 && v != 127; }), 150);
}

TEST(Conv2dS8, RandomCasesMatchReferenceExactly) {
  std::mt19937 rng(20240611);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Coverage cov;
  for (int t = 0; t < 600; ++t) {
    const Axis ay = random_axis(rng, 9), ax = random_axis(rng, 9);
    const int groups = pick(0, 4) == 0 ? pick(2, 3) : 1;
    // Depth 1..8 takes the gathered path, deeper ones the in-place walk, 1x1 kernels the pointwise one.
    const int filter_depth = pick(0, 2) == 0 ? pick(9, 20) : pick(1, 8);
    const int out_c = groups * pick(1, 5);
    const Shape in{pick(1, 2), ay.in, ax.in, groups * filter_depth};
    const Shape f{out_c, ay.kernel, ax.kernel, filter_depth};
    const Shape out{in.n, ay.out, ax.out, out_c};
    RandomCase rc = random_quantization(rng, out_c);
    rc.p.stride_h = ay.stride;
    rc.p.stride_w = ax.stride;
    rc.p.dilation_h = ay.dilation;
    rc.p.dilation_w = ax.dilation;
    rc.p.pad_top = ay.pad;
    rc.p.pad_left = ax.pad;
    const std::vector<int8_t> x = random_bytes(rng, in.elements()), w = random_bytes(rng, f.elements());
    const std::vector<int8_t> got = run_conv(rc.p, rc.q, in, x, f, w, rc.bias, out);
    ASSERT_EQ(got, ref_conv(rc.p, rc.q, in, x, f, w, rc.bias, out)) << "case " << t;
    cov.add(got, rc.p);
  }
  EXPECT_GT(cov.inside, 5000);
  EXPECT_GT(cov.clamped, 500);
}

TEST(DepthwiseConv2dS8, RandomCasesMatchReferenceExactly) {
  std::mt19937 rng(777);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Coverage cov;
  for (int t = 0; t < 600; ++t) {
    const Axis ay = random_axis(rng, 9), ax = random_axis(rng, 9);
    const int multiplier = pick(0, 2) == 0 ? pick(2, 3) : 1;
    // Up to 40 channels: several DSP blocks of four plus a tail, and more than one portable block.
    const int channels = pick(0, 3) == 0 ? pick(20, 40) : pick(1, 9);
    const Shape in{pick(1, 2), ay.in, ax.in, channels};
    const Shape f{1, ay.kernel, ax.kernel, channels * multiplier};
    const Shape out{in.n, ay.out, ax.out, f.c};
    RandomCase rc = random_quantization(rng, f.c);
    rc.p.depth_multiplier = multiplier;
    rc.p.stride_h = ay.stride;
    rc.p.stride_w = ax.stride;
    rc.p.dilation_h = ay.dilation;
    rc.p.dilation_w = ax.dilation;
    rc.p.pad_top = ay.pad;
    rc.p.pad_left = ax.pad;
    const std::vector<int8_t> x = random_bytes(rng, in.elements()), w = random_bytes(rng, f.elements());
    const std::vector<int8_t> got = run_depthwise(rc.p, rc.q, in, x, f, w, rc.bias, out);
    ASSERT_EQ(got, ref_depthwise(rc.p, rc.q, in, x, f, w, rc.bias, out)) << "case " << t;
    cov.add(got, rc.p);
  }
  EXPECT_GT(cov.inside, 5000);
  EXPECT_GT(cov.clamped, 500);
}

TEST(FullyConnectedS8, RandomCasesMatchReferenceExactly) {
  std::mt19937 rng(4242);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Coverage cov;
  for (int t = 0; t < 400; ++t) {
    const int batches = pick(1, 3), depth = pick(1, 70), out_depth = pick(1, 9);
    RandomCase rc = random_quantization(rng, out_depth);
    const std::vector<int8_t> x = random_bytes(rng, batches * depth), w = random_bytes(rng, out_depth * depth);
    const std::vector<int8_t> got =
        run_fc(rc.p, rc.q, {batches, 1, 1, depth}, x, {out_depth, 1, 1, depth}, w, rc.bias, {batches, 1, 1, out_depth});
    ASSERT_EQ(got, ref_fc(rc.p, rc.q, batches, depth, out_depth, x, w, rc.bias)) << "case " << t;
    cov.add(got, rc.p);
  }
  EXPECT_GT(cov.inside, 1000);
  EXPECT_GT(cov.clamped, 100);
}

TEST(FullyConnectedS8, InputMayHaveAnyShapeWithTheRightElementCount) {
  // TFLite flattens the input: {2, 3, 4, 1} is 2 batches of 12 (output rows = output n*h*w).
  std::mt19937 rng(5);
  RandomCase rc = random_quantization(rng, 3);
  const std::vector<int8_t> x = random_bytes(rng, 24), w = random_bytes(rng, 36);
  EXPECT_EQ(run_fc(rc.p, rc.q, {2, 3, 4, 1}, x, {3, 1, 1, 12}, w, rc.bias, {2, 1, 1, 3}),
            ref_fc(rc.p, rc.q, 2, 12, 3, x, w, rc.bias));
  EXPECT_EQ(run_fc(rc.p, rc.q, {1, 1, 1, 24}, x, {3, 1, 1, 12}, w, rc.bias, {1, 2, 1, 3}),
            ref_fc(rc.p, rc.q, 2, 12, 3, x, w, rc.bias));
}

// ---------------------------------------------------------------------------------------------
// Against a float convolution of the dequantized operands

enum class Op { conv, depthwise, fully_connected };

struct FloatCase {
  Shape in, filter, out;
  ConvParams p;
  bool per_tensor = false;
};

// Runs the int8 kernel on quantized random data and checks every output against the double
// convolution of the dequantized operands, quantized with the output scale: within one step, and
// exact for nearly all (only near-ties and TFLite's double rounding may differ).
void check_against_float(Op op, FloatCase fc, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Shape &in = fc.in, &f = fc.filter, &out = fc.out;
  ConvParams& p = fc.p;
  const int channels = out.c;

  // Input: real values in [-1, 2], asymmetric int8 (scale 3/255, zero point -43).
  const double in_scale = 3.0 / 255.0;
  const int in_zp = -128 + static_cast<int>(std::lround(1.0 / in_scale));
  p.input_offset = -in_zp;
  std::vector<int8_t> x(in.elements());
  std::vector<double> xr(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const long q = std::clamp(std::lround((-1.0 + 3.0 * unit(rng)) / in_scale) + in_zp, -128L, 127L);
    x[i] = static_cast<int8_t>(q);
    xr[i] = (q - in_zp) * in_scale;
  }

  // Weights symmetric per output channel (range -127..127) with channel amplitudes 0.05..1.
  const int per_channel_weights = f.elements() / channels;
  std::vector<double> w_scale(channels);
  std::vector<double> amp(channels);
  for (int c = 0; c < channels; ++c) amp[c] = fc.per_tensor ? 0.5 : 0.05 + 0.95 * unit(rng);
  std::vector<double> wreal(f.elements());
  for (size_t i = 0; i < wreal.size(); ++i) {
    const int c = op == Op::depthwise ? static_cast<int>(i % channels) : static_cast<int>(i) / per_channel_weights;
    wreal[i] = amp[c] * (2.0 * unit(rng) - 1.0);
  }
  for (int c = 0; c < channels; ++c) w_scale[c] = amp[c] / 127.0;
  std::vector<int8_t> w(f.elements());
  std::vector<double> wr(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const int c = op == Op::depthwise ? static_cast<int>(i % channels) : static_cast<int>(i) / per_channel_weights;
    const long q = std::clamp(std::lround(wreal[i] / w_scale[c]), -127L, 127L);
    w[i] = static_cast<int8_t>(q);
    wr[i] = q * w_scale[c];
  }

  // Bias int32 with scale in_scale * w_scale.
  std::vector<int32_t> bias(channels);
  std::vector<double> br(channels);
  for (int c = 0; c < channels; ++c) {
    bias[c] = static_cast<int32_t>(std::lround((unit(rng) - 0.5) / (in_scale * w_scale[c])));
    br[c] = bias[c] * in_scale * w_scale[c];
  }

  // The double convolution of the dequantized operands (padding taps skipped).
  std::vector<double> yr(out.elements());
  const int groups = op == Op::depthwise ? in.c : in.c / f.c;
  const int depth_per_group = op == Op::depthwise ? 1 : f.c;
  const int per_group = channels / groups;
  for (int b = 0; b < out.n; ++b)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int oc = 0; oc < channels; ++oc) {
          double acc = br[oc];
          const int group = oc / per_group;
          for (int ky = 0; ky < f.h; ++ky)
            for (int kx = 0; kx < f.w; ++kx) {
              const int iy = oy * p.stride_h - p.pad_top + p.dilation_h * ky;
              const int ix = ox * p.stride_w - p.pad_left + p.dilation_w * kx;
              if (op == Op::fully_connected) {
                for (int d = 0; d < f.c; ++d) acc += wr[oc * f.c + d] * xr[b * f.c + d];
                continue;
              }
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
              for (int d = 0; d < depth_per_group; ++d) {
                const double wv = op == Op::conv ? wr[index4(f, oc, ky, kx, d)] : wr[index4(f, 0, ky, kx, oc)];
                acc += wv * xr[index4(in, b, iy, ix, group * depth_per_group + d)];
              }
            }
          yr[index4(out, b, oy, ox, oc)] = acc;
        }

  // Output quantization from the observed range.
  const auto [lo, hi] = std::minmax_element(yr.begin(), yr.end());
  const double out_lo = std::min(*lo, 0.0), out_hi = std::max(*hi, 0.0);
  const double out_scale = (out_hi - out_lo) / 255.0;
  const int out_zp = std::clamp(-128 + static_cast<int>(std::lround(-out_lo / out_scale)), -128, 127);
  p.output_offset = out_zp;
  std::vector<double> scales;
  for (int c = 0; c < (fc.per_tensor ? 1 : channels); ++c) scales.push_back(in_scale * w_scale[c] / out_scale);
  const Quant q = quant_from_scales(scales, fc.per_tensor);

  std::vector<int8_t> got;
  if (op == Op::conv) got = run_conv(p, q, in, x, f, w, bias, out);
  if (op == Op::depthwise) got = run_depthwise(p, q, in, x, f, w, bias, out);
  if (op == Op::fully_connected) got = run_fc(p, q, in, x, f, w, bias, out);
  ASSERT_EQ(got.size(), yr.size());
  size_t exact = 0;
  for (size_t i = 0; i < yr.size(); ++i) {
    const long expected = std::clamp(std::lround(yr[i] / out_scale) + out_zp, -128L, 127L);
    ASSERT_LE(std::abs(got[i] - expected), 1) << "output " << i << " real " << yr[i];
    exact += got[i] == expected ? 1 : 0;
  }
  EXPECT_GE(exact, yr.size() * 98 / 100) << exact << " of " << yr.size() << " exact";
}

TEST(Conv2dS8, FloatReferenceWithinOneStep) {
  FloatCase same3x3;  // 12x10x5 -> 3x3 SAME stride 1, 8 filters, batch 2
  same3x3.in = {2, 12, 10, 5};
  same3x3.filter = {8, 3, 3, 5};
  same3x3.out = {2, 12, 10, 8};
  same3x3.p.pad_top = same3x3.p.pad_left = 1;
  check_against_float(Op::conv, same3x3, 1);
  same3x3.per_tensor = true;
  check_against_float(Op::conv, same3x3, 2);

  FloatCase deep;  // 3x3 SAME on 12 channels: walked in place rather than gathered
  deep.in = {1, 6, 7, 12};
  deep.filter = {6, 3, 3, 12};
  deep.out = {1, 6, 7, 6};
  deep.p.pad_top = deep.p.pad_left = 1;
  check_against_float(Op::conv, deep, 6);

  FloatCase strided;  // 10x4 kernel, stride 2, SAME (DS-CNN's first layer shape), 1 input channel
  strided.in = {1, 49, 10, 1};
  strided.filter = {16, 10, 4, 1};
  strided.out = {1, 25, 5, 16};
  strided.p.stride_h = strided.p.stride_w = 2;
  strided.p.pad_top = 4;
  strided.p.pad_left = 1;
  check_against_float(Op::conv, strided, 3);

  FloatCase pointwise;  // 1x1, 24 -> 12 channels
  pointwise.in = {1, 7, 7, 24};
  pointwise.filter = {12, 1, 1, 24};
  pointwise.out = {1, 7, 7, 12};
  check_against_float(Op::conv, pointwise, 4);

  FloatCase dilated;  // 3x3 dilation 2, VALID
  dilated.in = {1, 9, 8, 3};
  dilated.filter = {4, 3, 3, 3};
  dilated.out = {1, 5, 4, 4};
  dilated.p.dilation_h = dilated.p.dilation_w = 2;
  check_against_float(Op::conv, dilated, 5);
}

TEST(DepthwiseConv2dS8, FloatReferenceWithinOneStep) {
  FloatCase dw;  // 3x3 SAME stride 1, 13 channels
  dw.in = {1, 11, 9, 13};
  dw.filter = {1, 3, 3, 13};
  dw.out = {1, 11, 9, 13};
  dw.p.pad_top = dw.p.pad_left = 1;
  check_against_float(Op::depthwise, dw, 11);
  dw.per_tensor = true;
  check_against_float(Op::depthwise, dw, 12);

  FloatCase strided = dw;  // stride 2 SAME, odd sizes
  strided.per_tensor = false;
  strided.p.stride_h = strided.p.stride_w = 2;
  strided.p.pad_top = strided.p.pad_left = 1;
  strided.out = {1, 6, 5, 13};
  check_against_float(Op::depthwise, strided, 13);

  FloatCase mult3;  // depth multiplier 3, 2 input channels, batch 2
  mult3.in = {2, 6, 7, 2};
  mult3.filter = {1, 3, 3, 6};
  mult3.out = {2, 6, 7, 6};
  mult3.p.pad_top = mult3.p.pad_left = 1;
  mult3.p.depth_multiplier = 3;
  check_against_float(Op::depthwise, mult3, 14);
}

TEST(FullyConnectedS8, FloatReferenceWithinOneStep) {
  FloatCase fc;
  fc.in = {3, 1, 1, 150};
  fc.filter = {11, 1, 1, 150};
  fc.out = {3, 1, 1, 11};
  check_against_float(Op::fully_connected, fc, 21);
  fc.per_tensor = true;
  check_against_float(Op::fully_connected, fc, 22);
}

// ---------------------------------------------------------------------------------------------
// Invalid arguments: bad_argument, output untouched

using Kernel = Status (*)(const ConvParams&, const ChannelQuant&, const Shape&, const int8_t*, const Shape&,
                          const int8_t*, const int32_t*, const Shape&, int8_t*);

// A valid call (3x3 SAME conv, 5x5x2 -> 5x5x4) that each check then breaks in one way.
struct Call {
  ConvParams p;
  Quant q = unit_scale(4);
  Shape in{1, 5, 5, 2}, filter{4, 3, 3, 2}, out{1, 5, 5, 4};
  std::vector<int8_t> x = std::vector<int8_t>(50, 1), w = std::vector<int8_t>(72, 1);
  std::vector<int32_t> bias = std::vector<int32_t>(4, 0);
  bool null_input = false, null_filter = false, null_output = false, null_multiplier = false;
  Call() { p.pad_top = p.pad_left = 1; }

  Status run(Kernel kernel) const {
    std::vector<int8_t> y(200, 0x33);
    ChannelQuant cq = q.view();
    if (null_multiplier) cq.multiplier = nullptr;
    const Status s = kernel(p, cq, in, null_input ? nullptr : x.data(), filter, null_filter ? nullptr : w.data(),
                            bias.data(), out, null_output ? nullptr : y.data());
    if (s != Status::ok) {
      EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](int8_t v) { return v == 0x33; })) << "output written";
    }
    return s;
  }
};

Call depthwise_call() {  // 5x5x2, depth multiplier 2 -> 5x5x4
  Call c;
  c.filter = {1, 3, 3, 4};
  c.p.depth_multiplier = 2;
  c.w.resize(36);
  return c;
}

Call fully_connected_call() {  // 2 batches of 25 -> 4
  Call c;
  c.in = {2, 1, 1, 25};
  c.filter = {4, 1, 1, 25};
  c.out = {2, 1, 1, 4};
  c.w.resize(100);
  return c;
}

template <typename Mutate>
void expect_rejects(const char* what, Call call, Kernel kernel, Mutate mutate) {
  SCOPED_TRACE(what);
  ASSERT_EQ(call.run(kernel), Status::ok);  // the unmodified call is valid
  mutate(call);
  EXPECT_EQ(call.run(kernel), Status::bad_argument);
}

#define EXPECT_REJECTS(base, kernel, ...) expect_rejects(#__VA_ARGS__, base, kernel, [](Call& c) { __VA_ARGS__; })
#define CONV_REJECTS(...) EXPECT_REJECTS(Call(), conv2d_s8, __VA_ARGS__)
#define DEPTHWISE_REJECTS(...) EXPECT_REJECTS(depthwise_call(), depthwise_conv2d_s8, __VA_ARGS__)
#define FC_REJECTS(...) EXPECT_REJECTS(fully_connected_call(), fully_connected_s8, __VA_ARGS__)

TEST(Conv2dS8, RejectsBadArguments) {
  CONV_REJECTS(c.null_input = true);
  CONV_REJECTS(c.null_filter = true);
  CONV_REJECTS(c.null_output = true);
  CONV_REJECTS(c.null_multiplier = true);
  CONV_REJECTS(c.in.c = 3);     // not a multiple of the filter depth
  CONV_REJECTS(c.filter.c = 4);  // deeper than the input
  CONV_REJECTS(c.in.c = 6);     // 3 groups of 2 do not divide 4 filters
  CONV_REJECTS(c.out.c = 3);    // filter count != output depth
  CONV_REJECTS(c.out.n = 2);    // batches differ
  CONV_REJECTS(c.in.h = 0);
  CONV_REJECTS(c.filter.w = -1);
  CONV_REJECTS(c.in = {70000, 200, 200, 2});  // more elements than int32 holds
  CONV_REJECTS(c.out.h = 7);                  // last window starts below the image
  CONV_REJECTS(c.out.w = 3);                  // last input column never reached
  CONV_REJECTS(c.p.stride_h = 0);
  CONV_REJECTS(c.p.dilation_w = 0);
  CONV_REJECTS(c.p.pad_left = -1);
  CONV_REJECTS(c.p.pad_top = 3);  // first window entirely in the padding
  CONV_REJECTS(c.p.act_min = 10, c.p.act_max = 9);
  CONV_REJECTS(c.p.act_max = 128);
  CONV_REJECTS(c.p.input_offset = 129);
  CONV_REJECTS(c.p.input_offset = -128);
  CONV_REJECTS(c.p.output_offset = -129);
  CONV_REJECTS(c.q.shift[3] = 31);  // would shift past 32 bits
  CONV_REJECTS(c.q.shift[0] = -32);
}

TEST(DepthwiseConv2dS8, RejectsBadArguments) {
  DEPTHWISE_REJECTS(c.p.depth_multiplier = 1);  // 2 * 1 != 4
  DEPTHWISE_REJECTS(c.p.depth_multiplier = 0);
  DEPTHWISE_REJECTS(c.filter.n = 2);
  DEPTHWISE_REJECTS(c.out.c = 2);
  DEPTHWISE_REJECTS(c.out.n = 2);
  DEPTHWISE_REJECTS(c.out.h = 7);
  DEPTHWISE_REJECTS(c.p.stride_w = -2);
  DEPTHWISE_REJECTS(c.p.dilation_h = 0);
  DEPTHWISE_REJECTS(c.null_filter = true);
  DEPTHWISE_REJECTS(c.null_output = true);
  DEPTHWISE_REJECTS(c.q.shift.assign(4, 40));
  DEPTHWISE_REJECTS(c.p.act_min = -129);
}

TEST(FullyConnectedS8, RejectsBadArguments) {
  FC_REJECTS(c.in.c = 24);  // 48 inputs for 2 x 25
  FC_REJECTS(c.out.n = 3);
  FC_REJECTS(c.out.c = 5);
  FC_REJECTS(c.filter.h = 5, c.filter.c = 5);  // the filter must be {Cout, 1, 1, depth}
  FC_REJECTS(c.null_input = true);
  FC_REJECTS(c.null_multiplier = true);
  FC_REJECTS(c.p.input_offset = -128);
  FC_REJECTS(c.p.output_offset = 128);
  FC_REJECTS(c.q.shift[2] = 31);
}

TEST(Conv2dS8, PerTensorReadsOnlyTheFirstMultiplier) {
  // per_tensor: channel 1 must use entry 0 (scale 1), not entry 1 (scale 2^-32, which gives 0).
  const int32_t multiplier[2] = {1 << 30, 1 << 30};
  const int32_t shift[2] = {1, -31};
  const ChannelQuant q{multiplier, shift, true};
  ConvParams p;
  std::vector<int8_t> y(2, 0);
  ASSERT_EQ(conv2d_s8(p, q, {1, 1, 1, 1}, bytes({7}).data(), {2, 1, 1, 1}, bytes({1, 2}).data(), nullptr,
                      {1, 1, 1, 2}, y.data()),
            Status::ok);
  EXPECT_EQ(y, bytes({7, 14}));
}

}  // namespace
}  // namespace tml::rt
