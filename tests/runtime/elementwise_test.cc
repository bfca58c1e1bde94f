// ADD and MUL (runtime/elementwise.h) with TFLite's parameters (deploy/kernel_params.h):
// hand-computed cases, broadcasting, in place, saturation and random cases against float.
#include "runtime/elementwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "deploy/kernel_params.h"

namespace {

using tml::deploy::FusedActivation;
using tml::deploy::TensorQuant;
using tml::rt::Shape;
using tml::rt::Status;
using V = std::vector<std::int8_t>;

tml::rt::AddParams add_p(TensorQuant a, TensorQuant b, TensorQuant o,
                         FusedActivation act = FusedActivation::none) {
  const auto p = tml::deploy::add_params(a, b, o, act);
  EXPECT_TRUE(p.has_value());
  return p.value_or(tml::rt::AddParams{});
}

tml::rt::MulParams mul_p(TensorQuant a, TensorQuant b, TensorQuant o,
                         FusedActivation act = FusedActivation::none) {
  const auto p = tml::deploy::mul_params(a, b, o, act);
  EXPECT_TRUE(p.has_value());
  return p.value_or(tml::rt::MulParams{});
}

V add(const tml::rt::AddParams& p, const Shape& s1, const V& a, const Shape& s2, const V& b, const Shape& so) {
  V y(static_cast<size_t>(so.elements()), 99);
  EXPECT_EQ(tml::rt::add_s8(p, s1, a.data(), s2, b.data(), so, y.data()), Status::ok);
  return y;
}

V mul(const tml::rt::MulParams& p, const Shape& s1, const V& a, const Shape& s2, const V& b, const Shape& so) {
  V y(static_cast<size_t>(so.elements()), 99);
  EXPECT_EQ(tml::rt::mul_s8(p, s1, a.data(), s2, b.data(), so, y.data()), Status::ok);
  return y;
}

TEST(KernelParams, AddMultipliersAsTflitePrepare) {
  // Scales 0.5, 0.5 -> 1.0: twice_max = 1.0, input multipliers 0.5 = 2^30 * 2^(0-31), output
  // 1 / 2^20 = 2^30 * 2^(-19-31).
  const auto p = add_p({0.5f, 0}, {0.5f, 0}, {1.0f, 0});
  EXPECT_EQ(p.left_shift, 20);
  EXPECT_EQ(p.input1_multiplier, 1 << 30);
  EXPECT_EQ(p.input1_shift, 0);
  EXPECT_EQ(p.input2_multiplier, 1 << 30);
  EXPECT_EQ(p.output_multiplier, 1 << 30);
  EXPECT_EQ(p.output_shift, -19);
  // Different scales: the smaller input gets the smaller multiplier (0.25 -> shift -1).
  const auto q = add_p({0.25f, 0}, {0.5f, 0}, {1.0f, 0});
  EXPECT_EQ(q.input1_multiplier, 1 << 30);
  EXPECT_EQ(q.input1_shift, -1);
  EXPECT_EQ(q.input2_shift, 0);
}

TEST(KernelParams, ActivationRangeAsTflite) {
  // RELU6 on scale 0.1, zp -128: round(0 / 0.1) = 0 -> -128; 6.0f / 0.1f = 60 -> -68.
  auto r = tml::deploy::activation_range_s8(FusedActivation::relu6, {0.1f, -128});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, -128);
  EXPECT_EQ(r->max, -68);
  r = tml::deploy::activation_range_s8(FusedActivation::relu, {0.05f, 10});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, 10);
  EXPECT_EQ(r->max, 127);
  r = tml::deploy::activation_range_s8(FusedActivation::relu_n1_to_1, {0.25f, 0});  // -1 -> -4, 1 -> 4
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, -4);
  EXPECT_EQ(r->max, 4);
  r = tml::deploy::activation_range_s8(FusedActivation::relu, {0.1f, 127});  // a one-value range
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, 127);
  EXPECT_EQ(r->max, 127);
  EXPECT_FALSE(tml::deploy::activation_range_s8(FusedActivation::relu, {0.1f, 128}).has_value());
  EXPECT_FALSE(tml::deploy::add_params({0.0f, 0}, {1.0f, 0}, {1.0f, 0}, FusedActivation::none).has_value());
  EXPECT_FALSE(tml::deploy::add_params({1.0f, 300}, {1.0f, 0}, {1.0f, 0}, FusedActivation::none).has_value());
}

TEST(Add, HandComputedWithTiesRoundingAwayFromZero) {
  // 0.5 * 3 + 0.5 * 4 = 3.5 -> 4 at scale 1; the negative case -3.5 -> -4:
  // a = 3 << 20, a' = SRDHM(a, 2^30) = 1.5 * 2^20; b' = 2 * 2^20; sum = 3.5 * 2^20;
  // SRDHM(sum, 2^30) = 1835008, RoundingDivideByPOT(1835008, 19) = 3.5 -> 4.
  const auto p = add_p({0.5f, 0}, {0.5f, 0}, {1.0f, 0});
  const Shape s{1, 1, 1, 4};
  EXPECT_EQ(add(p, s, V{3, -3, 1, 0}, s, V{4, -4, 0, 0}, s), (V{4, -4, 1, 0}));  // 0.5 -> 1
}

TEST(Add, ZeroPointsAndSaturationAtBothEnds) {
  // Inputs zp -128 (scale 1/255) and 127; output scale 1/128 zp 0 saturates at both ends.
  const auto p = add_p({1.0f / 255, -128}, {1.0f / 255, 127}, {1.0f / 128, 0});
  const Shape s{1, 1, 1, 3};
  // real: (127+128)/255 + (127-127)/255 = 1 -> 128 -> 127; (-128+128) + (-128-127)/255 = -1 -> -128;
  //       (0+128)/255 + (0-127)/255 = 1/255 -> 0.502 -> 1.
  EXPECT_EQ(add(p, s, V{127, -128, 0}, s, V{127, -128, 0}, s), (V{127, -128, 1}));
}

TEST(Add, FusedRelu6Clamps) {
  const auto p = add_p({0.1f, 0}, {0.1f, 0}, {0.1f, -128}, FusedActivation::relu6);  // [-128, -68]
  const Shape s{1, 1, 1, 3};
  EXPECT_EQ(add(p, s, V{-50, 20, 60}, s, V{-50, 20, 60}, s), (V{-128, -88, -68}));  // -10, 4, 12 -> [0, 6]
}

TEST(Add, BroadcastScalarPerChannelAndBothSides) {
  const auto p = add_p({1.0f, 0}, {1.0f, 0}, {1.0f, 0});  // exact integer addition
  const Shape full{1, 2, 2, 3};
  const V a{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
  // Scalar.
  EXPECT_EQ(add(p, full, a, Shape{1, 1, 1, 1}, V{100}, full),
            (V{100, 101, 102, 110, 111, 112, 120, 121, 122, 127, 127, 127}));
  // Per channel {1,1,1,3}, on either side.
  const V per_c{-1, -2, -3};
  const V want{-1, -1, -1, 9, 9, 9, 19, 19, 19, 29, 29, 29};
  EXPECT_EQ(add(p, full, a, Shape{1, 1, 1, 3}, per_c, full), want);
  EXPECT_EQ(add(p, Shape{1, 1, 1, 3}, per_c, full, a, full), want);
  // Per row {1,2,1,1}: rows get +0 and +50.
  EXPECT_EQ(add(p, full, a, Shape{1, 2, 1, 1}, V{0, 50}, full), (V{0, 1, 2, 10, 11, 12, 70, 71, 72, 80, 81, 82}));
  // Both broadcast: {1,2,1,1} + {1,1,1,3} -> {1,2,1,3}.
  EXPECT_EQ(add(p, Shape{1, 2, 1, 1}, V{0, 10}, Shape{1, 1, 1, 3}, V{1, 2, 3}, Shape{1, 2, 1, 3}),
            (V{1, 2, 3, 11, 12, 13}));
  // Batch broadcast {2,1,1,2} + {1,1,1,2}.
  EXPECT_EQ(add(p, Shape{2, 1, 1, 2}, V{1, 2, 3, 4}, Shape{1, 1, 1, 2}, V{10, 20}, Shape{2, 1, 1, 2}),
            (V{11, 22, 13, 24}));
}

TEST(Add, RejectsBadShapesAndParams) {
  const auto p = add_p({1.0f, 0}, {1.0f, 0}, {1.0f, 0});
  V a(6, 0), b(6, 0), y(6, 0);
  EXPECT_EQ(
      tml::rt::add_s8(p, Shape{1, 1, 2, 3}, a.data(), Shape{1, 1, 3, 2}, b.data(), Shape{1, 1, 2, 3}, y.data()),
      Status::bad_argument);
  EXPECT_EQ(
      tml::rt::add_s8(p, Shape{1, 1, 2, 3}, a.data(), Shape{1, 1, 1, 2}, b.data(), Shape{1, 1, 2, 3}, y.data()),
      Status::bad_argument);
  EXPECT_EQ(
      tml::rt::add_s8(p, Shape{1, 1, 2, 3}, nullptr, Shape{1, 1, 2, 3}, b.data(), Shape{1, 1, 2, 3}, y.data()),
      Status::bad_argument);
  // The output may not alias a broadcast input.
  EXPECT_EQ(
      tml::rt::add_s8(p, Shape{1, 1, 2, 3}, a.data(), Shape{1, 1, 1, 3}, b.data(), Shape{1, 1, 2, 3}, b.data()),
      Status::bad_argument);
  auto bad = p;
  bad.left_shift = 25;
  EXPECT_EQ(
      tml::rt::add_s8(bad, Shape{1, 1, 2, 3}, a.data(), Shape{1, 1, 2, 3}, b.data(), Shape{1, 1, 2, 3}, y.data()),
      Status::bad_argument);
  bad = p;
  bad.input1_shift = 1;
  EXPECT_EQ(
      tml::rt::add_s8(bad, Shape{1, 1, 2, 3}, a.data(), Shape{1, 1, 2, 3}, b.data(), Shape{1, 1, 2, 3}, y.data()),
      Status::bad_argument);
}

TEST(Add, InPlaceGivesSameBytes) {
  const auto p = add_p({0.07f, 5}, {0.11f, -20}, {0.13f, 3});
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> q(-128, 127);
  const Shape s{1, 3, 4, 5}, c{1, 1, 1, 5};
  V a(60), b(60), bc(5);
  for (auto& v : a) v = static_cast<std::int8_t>(q(rng));
  for (auto& v : b) v = static_cast<std::int8_t>(q(rng));
  for (auto& v : bc) v = static_cast<std::int8_t>(q(rng));
  const V ref = add(p, s, a, s, b, s);
  V x = a;
  ASSERT_EQ(tml::rt::add_s8(p, s, x.data(), s, b.data(), s, x.data()), Status::ok);
  EXPECT_EQ(x, ref);
  x = b;
  ASSERT_EQ(tml::rt::add_s8(p, s, a.data(), s, x.data(), s, x.data()), Status::ok);
  EXPECT_EQ(x, ref);
  const V ref_c = add(p, s, a, c, bc, s);
  x = a;
  ASSERT_EQ(tml::rt::add_s8(p, s, x.data(), c, bc.data(), s, x.data()), Status::ok);
  EXPECT_EQ(x, ref_c);
  // x + x in place.
  const V ref_xx = add(p, s, a, s, a, s);
  x = a;
  ASSERT_EQ(tml::rt::add_s8(p, s, x.data(), s, x.data(), s, x.data()), Status::ok);
  EXPECT_EQ(x, ref_xx);
}

double real(TensorQuant q, std::int8_t v) { return static_cast<double>(q.scale) * (v - q.zero_point); }

int quantize_ref(TensorQuant q, double r, int lo, int hi) {
  return std::clamp(static_cast<int>(std::lround(r / q.scale)) + q.zero_point, lo, hi);
}

template <typename Op, typename Params>
void random_binary(bool is_add, Op op, Params make) {
  std::mt19937 rng(is_add ? 11 : 12);
  std::uniform_real_distribution<float> scale(0.005f, 0.1f);
  std::uniform_int_distribution<int> zp(-128, 127), q(-128, 127), act(0, 3);
  for (int trial = 0; trial < 300; ++trial) {
    const TensorQuant a{scale(rng), zp(rng)}, b{scale(rng), zp(rng)};
    // Output scale wide enough for the result most of the time (saturation is checked too).
    const TensorQuant o{is_add ? scale(rng) * 2 : a.scale * b.scale * 255 * scale(rng) * 10, zp(rng)};
    const auto fa = static_cast<FusedActivation>(act(rng));
    const auto range = tml::deploy::activation_range_s8(fa, o);
    if (!range) continue;
    const auto p = make(a, b, o, fa);
    const Shape s{1, 2, 3, 7};
    V x(42), y(42), out(42);
    for (auto& v : x) v = static_cast<std::int8_t>(q(rng));
    for (auto& v : y) v = static_cast<std::int8_t>(q(rng));
    ASSERT_EQ(op(p, s, x.data(), s, y.data(), s, out.data()), Status::ok);
    for (size_t i = 0; i < 42; ++i) {
      const double r = is_add ? real(a, x[i]) + real(b, y[i]) : real(a, x[i]) * real(b, y[i]);
      ASSERT_NEAR(out[i], quantize_ref(o, r, range->min, range->max), 1.0) << "trial " << trial << " i " << i;
    }
  }
}

TEST(Add, RandomWithinOneStepOfFloat) {
  random_binary(true, tml::rt::add_s8,
                [](TensorQuant a, TensorQuant b, TensorQuant o, FusedActivation f) { return add_p(a, b, o, f); });
}

TEST(Mul, HandComputed) {
  // 0.5 * 0.25 / 0.125 = 1.0: M = 2^30, S = 1; 3 * 5 = 15 -> 15 (1.5 * 1.25 = 1.875 = 15 * 0.125).
  const auto p = mul_p({0.5f, 0}, {0.25f, 0}, {0.125f, 0});
  EXPECT_EQ(p.output_multiplier, 1 << 30);
  EXPECT_EQ(p.output_shift, 1);
  const Shape s{1, 1, 1, 4};
  EXPECT_EQ(mul(p, s, V{3, -3, 127, -128}, s, V{5, 5, 127, -128}, s), (V{15, -15, 127, 127}));
  // Real multiplier 0.25 (M = 2^30, S = -1): product 2 -> SRDHM = 1, then 1/2 -> 1 (0.5 away from
  // zero); product -2 -> -1; product 3 -> 0.75 -> 1.
  const auto h = mul_p({0.5f, 0}, {0.5f, 0}, {1.0f, 0});
  EXPECT_EQ(mul(h, s, V{2, -2, 3, 0}, s, V{1, 1, 1, 9}, s), (V{1, -1, 1, 0}));
}

TEST(Mul, ZeroPointsBroadcastAndInPlace) {
  // zp -128 input times a per-channel vector with zp 127; unit scales make it exact.
  const auto p = mul_p({1.0f, -128}, {1.0f, 127}, {1.0f, 0});
  const Shape s{1, 1, 2, 2}, c{1, 1, 1, 2};
  // (q1 + 128) * (q2 - 127): row 0 (-128, -127) * (126, 128) -> 0 * -1, 1 * 1; row 1 (-126, -125) -> -2, 3.
  const V y = mul(p, s, V{-128, -127, -126, -125}, c, V{126, 127}, s);
  EXPECT_EQ(y, (V{0, 0, -2, 0}));  // (0)(-1), (1)(0), (2)(-1), (3)(0)
  V x{-128, -127, -126, -125};
  ASSERT_EQ(tml::rt::mul_s8(p, s, x.data(), c, V{126, 127}.data(), s, x.data()), Status::ok);
  EXPECT_EQ(x, y);
}

TEST(Mul, RandomWithinOneStepOfFloat) {
  random_binary(false, tml::rt::mul_s8,
                [](TensorQuant a, TensorQuant b, TensorQuant o, FusedActivation f) { return mul_p(a, b, o, f); });
}

}  // namespace
