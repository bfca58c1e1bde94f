// CONCATENATION, PAD and RESHAPE (runtime/shape_ops.h).
#include "runtime/shape_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "deploy/kernel_params.h"

namespace {

using tml::rt::ConcatInput;
using tml::rt::PadParams;
using tml::rt::Shape;
using tml::rt::Status;
using V = std::vector<std::int8_t>;

ConcatInput plain(const Shape& s, const V& v) {
  ConcatInput in;
  in.shape = s;
  in.data = v.data();
  return in;
}

V concat(std::int32_t axis, const std::vector<ConcatInput>& ins, const Shape& out) {
  V y(static_cast<size_t>(out.elements()), 99);
  EXPECT_EQ(tml::rt::concatenation_s8(axis, ins.data(), static_cast<std::int32_t>(ins.size()), out, y.data()),
            Status::ok);
  return y;
}

TEST(Concatenation, EveryAxis) {
  // a = {1,1,2,2} [1 2 | 3 4], b = {1,1,2,1} / {1,1,1,2} / ... chosen per axis.
  const V a{1, 2, 3, 4};
  // C: [1 2 | 3 4] ++ [5 | 6] -> [1 2 5 | 3 4 6]
  EXPECT_EQ(concat(3, {plain({1, 1, 2, 2}, a), plain({1, 1, 2, 1}, V{5, 6})}, {1, 1, 2, 3}),
            (V{1, 2, 5, 3, 4, 6}));
  // W: rows of width 2 and 1 -> width 3.
  EXPECT_EQ(concat(2, {plain({1, 1, 2, 2}, a), plain({1, 1, 1, 2}, V{5, 6})}, {1, 1, 3, 2}),
            (V{1, 2, 3, 4, 5, 6}));
  // H with two rows each, W=1, C=2 -> H stacks.
  EXPECT_EQ(concat(1, {plain({1, 2, 1, 2}, a), plain({1, 1, 1, 2}, V{5, 6})}, {1, 3, 1, 2}),
            (V{1, 2, 3, 4, 5, 6}));
  // H with an outer dimension: N=2, H 1 + 1.
  EXPECT_EQ(concat(1, {plain({2, 1, 1, 2}, a), plain({2, 1, 1, 2}, V{5, 6, 7, 8})}, {2, 2, 1, 2}),
            (V{1, 2, 5, 6, 3, 4, 7, 8}));
  // N.
  EXPECT_EQ(concat(0, {plain({1, 1, 1, 4}, a), plain({2, 1, 1, 4}, V{5, 6, 7, 8, 9, 10, 11, 12})}, {3, 1, 1, 4}),
            (V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  // Three inputs along C with odd widths.
  EXPECT_EQ(concat(3,
                   {plain({1, 1, 2, 1}, V{1, 2}), plain({1, 1, 2, 3}, V{3, 4, 5, 6, 7, 8}),
                    plain({1, 1, 2, 1}, V{9, 10})},
                   {1, 1, 2, 5}),
            (V{1, 3, 4, 5, 9, 2, 6, 7, 8, 10}));
}

TEST(Concatenation, SameQuantizationCopiesDifferentQuantizationRequantizes) {
  const tml::deploy::TensorQuant out{0.1f, 0};
  const V a{-128, 0, 127}, b{-128, 0, 127};
  const auto ia = tml::deploy::concat_input({1, 1, 1, 3}, a.data(), {0.1f, 0}, out);
  // b: scale 0.05, zp 10 -> real 0.05 * (q - 10) / 0.1 = (q - 10) / 2 (M = 2^30, S = 0):
  //   -128 -> -69, 0 -> -5, 127 -> 58.5 -> 59 (ties away from zero).
  const auto ib = tml::deploy::concat_input({1, 1, 1, 3}, b.data(), {0.05f, 10}, out);
  ASSERT_TRUE(ia && ib);
  EXPECT_FALSE(ia->requantize);
  EXPECT_TRUE(ib->requantize);
  EXPECT_EQ(concat(3, {*ia, *ib}, {1, 1, 1, 6}), (V{-128, 0, 127, -69, -5, 59}));
  // Saturation when the input's range is wider than the output's.
  const auto ic = tml::deploy::concat_input({1, 1, 1, 3}, b.data(), {0.2f, 0}, out);
  ASSERT_TRUE(ic);
  EXPECT_EQ(concat(3, {*ic}, {1, 1, 1, 3}), (V{-128, 0, 127}));
}

TEST(Concatenation, RejectsMismatchedShapes) {
  const V a(4, 0), b(4, 0);
  V y(8, 0);
  const ConcatInput ins[2] = {plain({1, 1, 2, 2}, a), plain({1, 1, 2, 2}, b)};
  EXPECT_EQ(tml::rt::concatenation_s8(3, ins, 2, {1, 1, 2, 4}, y.data()), Status::ok);
  EXPECT_EQ(tml::rt::concatenation_s8(3, ins, 2, {1, 1, 2, 3}, y.data()), Status::bad_argument);  // sum
  EXPECT_EQ(tml::rt::concatenation_s8(3, ins, 2, {1, 1, 4, 2}, y.data()), Status::bad_argument);  // other dim
  EXPECT_EQ(tml::rt::concatenation_s8(4, ins, 2, {1, 1, 2, 4}, y.data()), Status::bad_argument);  // axis
  EXPECT_EQ(tml::rt::concatenation_s8(3, ins, 0, {1, 1, 2, 4}, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::concatenation_s8(3, nullptr, 2, {1, 1, 2, 4}, y.data()), Status::bad_argument);
  ConcatInput bad[2] = {ins[0], ins[1]};
  bad[1].data = nullptr;
  EXPECT_EQ(tml::rt::concatenation_s8(3, bad, 2, {1, 1, 2, 4}, y.data()), Status::bad_argument);
  bad[1] = ins[1];
  bad[1].requantize = true;
  bad[1].requant.shift = 31;
  EXPECT_EQ(tml::rt::concatenation_s8(3, bad, 2, {1, 1, 2, 4}, y.data()), Status::bad_argument);
}

TEST(Concatenation, RandomMatchesIndexReference) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> dim(1, 4), q(-128, 127), axis_d(0, 3), count_d(1, 4);
  for (int trial = 0; trial < 100; ++trial) {
    const int axis = axis_d(rng), count = count_d(rng);
    Shape base{dim(rng), dim(rng), dim(rng), dim(rng)};
    std::vector<V> data;
    std::vector<ConcatInput> ins;
    std::vector<int> extents;
    int total = 0;
    for (int i = 0; i < count; ++i) {
      Shape s = base;
      const int e = dim(rng);
      (axis == 0 ? s.n : axis == 1 ? s.h : axis == 2 ? s.w : s.c) = e;
      extents.push_back(e);
      total += e;
      data.emplace_back(static_cast<size_t>(s.elements()));
      for (auto& v : data.back()) v = static_cast<std::int8_t>(q(rng));
      ins.push_back(plain(s, data.back()));
    }
    Shape out = base;
    (axis == 0 ? out.n : axis == 1 ? out.h : axis == 2 ? out.w : out.c) = total;
    const V y = concat(axis, ins, out);
    // Reference: walk the output by 4-D index and find the input holding it.
    size_t k = 0;
    for (int n = 0; n < out.n; ++n)
      for (int h = 0; h < out.h; ++h)
        for (int w = 0; w < out.w; ++w)
          for (int c = 0; c < out.c; ++c, ++k) {
            int idx[4] = {n, h, w, c};
            int i = 0;
            while (idx[axis] >= extents[static_cast<size_t>(i)]) idx[axis] -= extents[static_cast<size_t>(i++)];
            const Shape& s = ins[static_cast<size_t>(i)].shape;
            const int at = ((idx[0] * s.h + idx[1]) * s.w + idx[2]) * s.c + idx[3];
            ASSERT_EQ(y[k], data[static_cast<size_t>(i)][static_cast<size_t>(at)]) << "trial " << trial;
          }
  }
}

V pad(const PadParams& p, const Shape& in, const V& x, const Shape& out) {
  V y(static_cast<size_t>(out.elements()), 99);
  EXPECT_EQ(tml::rt::pad_s8(p, in, x.data(), out, y.data()), Status::ok);
  return y;
}

TEST(Pad, EachDimensionWithZeroPointValue) {
  PadParams p;
  p.pad_value = -128;  // the output zero point
  // C: 1 before, 2 after.
  p.before[3] = 1;
  p.after[3] = 2;
  EXPECT_EQ(pad(p, {1, 1, 2, 1}, V{5, 6}, {1, 1, 2, 4}), (V{-128, 5, -128, -128, -128, 6, -128, -128}));
  // W: 1 before, 0 after, C = 2.
  p = PadParams{};
  p.pad_value = 3;
  p.before[2] = 1;
  EXPECT_EQ(pad(p, {1, 1, 1, 2}, V{7, 8}, {1, 1, 2, 2}), (V{3, 3, 7, 8}));
  // H: 0 before, 1 after.
  p = PadParams{};
  p.pad_value = 127;
  p.after[1] = 1;
  EXPECT_EQ(pad(p, {1, 1, 2, 1}, V{1, 2}, {1, 2, 2, 1}), (V{1, 2, 127, 127}));
  // N: 1 before, 1 after.
  p = PadParams{};
  p.pad_value = 0;
  p.before[0] = 1;
  p.after[0] = 1;
  EXPECT_EQ(pad(p, {1, 1, 1, 2}, V{9, -9}, {3, 1, 1, 2}), (V{0, 0, 9, -9, 0, 0}));
}

TEST(Pad, AllBordersAtOnce) {
  // 2x2 image, one row/column of padding all round and one extra channel after.
  PadParams p;
  p.pad_value = -1;
  p.before[1] = p.after[1] = p.before[2] = p.after[2] = 1;
  p.after[3] = 1;
  const V y = pad(p, {1, 2, 2, 1}, V{1, 2, 3, 4}, {1, 4, 4, 2});
  V want(32, -1);
  want[(1 * 4 + 1) * 2] = 1;
  want[(1 * 4 + 2) * 2] = 2;
  want[(2 * 4 + 1) * 2] = 3;
  want[(2 * 4 + 2) * 2] = 4;
  EXPECT_EQ(y, want);
}

TEST(Pad, RejectsInconsistentShapes) {
  PadParams p;
  p.before[1] = 1;
  V x(4, 0), y(12, 0);
  EXPECT_EQ(tml::rt::pad_s8(p, {1, 2, 2, 1}, x.data(), {1, 2, 2, 1}, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::pad_s8(p, {1, 2, 2, 1}, x.data(), {1, 3, 2, 1}, y.data()), Status::ok);
  p.before[1] = -1;
  EXPECT_EQ(tml::rt::pad_s8(p, {1, 2, 2, 1}, x.data(), {1, 1, 2, 1}, y.data()), Status::bad_argument);
  p.before[1] = 0;
  EXPECT_EQ(tml::rt::pad_s8(p, {1, 2, 2, 1}, nullptr, {1, 2, 2, 1}, y.data()), Status::bad_argument);
}

TEST(Reshape, CopiesOrDoesNothingInPlace) {
  V x(24);
  std::iota(x.begin(), x.end(), -12);
  V y(24, 0);
  ASSERT_EQ(tml::rt::reshape_s8({1, 2, 3, 4}, x.data(), {1, 1, 1, 24}, y.data()), Status::ok);
  EXPECT_EQ(y, x);
  V z = x;
  ASSERT_EQ(tml::rt::reshape_s8({1, 2, 3, 4}, z.data(), {2, 12, 1, 1}, z.data()), Status::ok);
  EXPECT_EQ(z, x);
  EXPECT_EQ(tml::rt::reshape_s8({1, 2, 3, 4}, x.data(), {1, 1, 1, 23}, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::reshape_s8({1, 2, 3, 4}, nullptr, {1, 1, 1, 24}, y.data()), Status::bad_argument);
}

}  // namespace
