// SOFTMAX, LOGISTIC, TANH, QUANTIZE, DEQUANTIZE and int8 requantization (runtime/activations.h),
// the gemmlowp fixed-point functions under them, and their TFLite Prepare parameters.
#include "runtime/activations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "deploy/kernel_params.h"

namespace {

using tml::deploy::TensorQuant;
using tml::rt::Shape;
using tml::rt::Status;
using V = std::vector<std::int8_t>;
namespace gl = tml::rt::gemmlowp;

constexpr double kQ31 = 2147483648.0;
const TensorQuant kSoftmaxOut{1.0f / 256, -128};
const TensorQuant kLogisticOut{1.0f / 256, -128};
const TensorQuant kTanhOut{1.0f / 128, 0};

Shape row(std::int32_t c) { return Shape{1, 1, 1, c}; }

// ---- gemmlowp functions -------------------------------------------------------------------------

TEST(Gemmlowp, ExpOnNegativeValuesMatchesExp) {
  EXPECT_EQ(gl::exp_on_negative_values(0, 5), INT32_MAX);  // exp(0) = One
  // Q5.26 inputs over [-32, 0): a 4th-order Taylor step on [-1/4, 0) bounds the error near 2.5e-7.
  double worst = 0;
  for (std::int64_t raw = -(std::int64_t{1} << 31); raw < 0; raw += 9973 * 31) {
    const double x = static_cast<double>(raw) / (1 << 26);
    const double got = gl::exp_on_negative_values(static_cast<std::int32_t>(raw), 5) / kQ31;
    worst = std::max(worst, std::abs(got - std::exp(x)));
  }
  EXPECT_LT(worst, 3e-7);
  // Q4.27 (logistic/tanh inputs) too.
  for (std::int32_t raw = -(1 << 30); raw < 0; raw += 1000003) {
    const double got = gl::exp_on_negative_values(raw, 4) / kQ31;
    ASSERT_NEAR(got, std::exp(static_cast<double>(raw) / (1 << 27)), 3e-7);
  }
}

TEST(Gemmlowp, ReciprocalsMatchDivision) {
  // The Newton result is Q2.29; scaling it to Q0.31 multiplies its rounding step by 2 (1/(1+x))
  // or 4 ((1-x)/(1+x)), hence the looser bound for the second.
  for (std::int64_t raw = 0; raw < INT32_MAX; raw += 1234567) {
    const double x = static_cast<double>(raw) / kQ31;
    ASSERT_NEAR(gl::one_over_one_plus_x_for_x_in_0_1(static_cast<std::int32_t>(raw)) / kQ31, 1 / (1 + x), 5e-9);
    ASSERT_NEAR(gl::one_minus_x_over_one_plus_x_for_x_in_0_1(static_cast<std::int32_t>(raw)) / kQ31,
                (1 - x) / (1 + x), 1.5e-8);
  }
}

TEST(Gemmlowp, LogisticAndTanh) {
  EXPECT_EQ(gl::logistic(0, 4), 1 << 30);  // exactly 1/2
  EXPECT_EQ(gl::tanh(0, 4), 0);
  for (std::int32_t raw = -(1 << 30) * 2 + 1; raw < (1 << 30); raw += 987651) {  // Q4.27 over [-16, 8)
    const double x = static_cast<double>(raw) / (1 << 27);
    ASSERT_NEAR(gl::logistic(raw, 4) / kQ31, 1 / (1 + std::exp(-x)), 1e-6) << x;
    ASSERT_NEAR(gl::tanh(raw, 4) / kQ31, std::tanh(x), 1e-6) << x;
    ASSERT_EQ(gl::logistic(raw, 4) + gl::logistic(-raw, 4), INT32_MAX) << x;  // 1 - f(x) by construction
    ASSERT_EQ(gl::tanh(-raw, 4), -gl::tanh(raw, 4)) << x;
  }
}

// Goldens from the real gemmlowp fixedpoint.h (Debian libgemmlowp-dev, git 20211220): a few raw
// values and FNV-1a-64 hashes of sweeps with step 65521. An error of one unit in the last place
// anywhere in the sweep changes the hash; the int8 tests above cannot see that.
std::uint64_t fnv_mix(std::uint64_t h, std::int32_t v) {
  for (int i = 0; i < 4; ++i) {
    h ^= (static_cast<std::uint32_t>(v) >> (8 * i)) & 0xffu;
    h *= 1099511628211ull;
  }
  return h;
}
constexpr std::uint64_t kFnvBasis = 1469598103934665603ull;

TEST(Gemmlowp, MatchesUpstreamRawValues) {
  const std::int32_t a[] = {-1,         -(1 << 20),           -(1 << 24), -(1 << 25) - 12345,
                            -(1 << 26), -3 * (1 << 26) + 777, -(1 << 30), INT32_MIN + 5};
  const std::int32_t exp5[] = {2147483124, 2114189749, 1672462419, 1302274797, 790015308, 106918183, 242, 0};
  const std::int32_t exp4[] = {2147483140, 2130771442, 1895147668, 1672307744, 1302515042, 479171279, 720401, 242};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(gl::exp_on_negative_values(a[i], 5), exp5[i]) << a[i];
    EXPECT_EQ(gl::exp_on_negative_values(a[i], 4), exp4[i]) << a[i];
  }
  const std::int32_t x[] = {1, 1 << 20, 1 << 28, 1 << 30, 1500000000, INT32_MAX};
  const std::int32_t inv[] = {2147483647, 2146435584, 1908874352, 1431655762, 1264347280, 1073741820};
  const std::int32_t ratio[] = {2147483647, 2145387520, 1670265056, 715827876, 381210912, -8};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(gl::one_over_one_plus_x_for_x_in_0_1(x[i]), inv[i]) << x[i];
    EXPECT_EQ(gl::one_minus_x_over_one_plus_x_for_x_in_0_1(x[i]), ratio[i]) << x[i];
  }
  const std::int32_t z[] = {1, -1, 1 << 20, -(1 << 26), 3 << 26, -(5 << 26) - 99, INT32_MAX, INT32_MIN + 1};
  const std::int32_t logi[] = {1073741948, 1073741699, 1077936196, 810762557,
                               1755727730, 162904053,  2147483406, 241};
  const std::int32_t th[] = {260, -260, 16776996, -992388804, 1943791024, -2118738124, 2147483647, -2147483647};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(gl::logistic(z[i], 4), logi[i]) << z[i];
    EXPECT_EQ(gl::tanh(z[i], 4), th[i]) << z[i];
  }
}

TEST(Gemmlowp, MatchesUpstreamSweeps) {
  std::uint64_t h = kFnvBasis;
  for (std::int64_t r = INT32_MIN; r <= 0; r += 65521)
    h = fnv_mix(h, gl::exp_on_negative_values(static_cast<std::int32_t>(r), 5));
  EXPECT_EQ(h, 10997199295048761510ull);
  h = kFnvBasis;
  for (std::int64_t r = INT32_MIN; r <= 0; r += 65521)
    h = fnv_mix(h, gl::exp_on_negative_values(static_cast<std::int32_t>(r), 4));
  EXPECT_EQ(h, 8297461037514322355ull);
  h = kFnvBasis;
  for (std::int64_t r = 0; r <= INT32_MAX; r += 65521) {
    h = fnv_mix(h, gl::one_over_one_plus_x_for_x_in_0_1(static_cast<std::int32_t>(r)));
    h = fnv_mix(h, gl::one_minus_x_over_one_plus_x_for_x_in_0_1(static_cast<std::int32_t>(r)));
  }
  EXPECT_EQ(h, 2100759574333726182ull);
  h = kFnvBasis;
  for (std::int64_t r = INT32_MIN + 1; r <= INT32_MAX; r += 65521) {
    h = fnv_mix(h, gl::logistic(static_cast<std::int32_t>(r), 4));
    h = fnv_mix(h, gl::tanh(static_cast<std::int32_t>(r), 4));
  }
  EXPECT_EQ(h, 17283319065889736915ull);
}

// ---- SOFTMAX ------------------------------------------------------------------------------------

tml::rt::SoftmaxParams softmax_p(float input_scale, float beta = 1.0f) {
  const auto p = tml::deploy::softmax_params({input_scale, 0}, kSoftmaxOut, beta);
  EXPECT_TRUE(p.has_value());
  return p.value_or(tml::rt::SoftmaxParams{});
}

V softmax(const tml::rt::SoftmaxParams& p, const Shape& s, const V& x) {
  V y(x.size(), 99);
  EXPECT_EQ(tml::rt::softmax_s8(p, s, x.data(), y.data()), Status::ok);
  return y;
}

TEST(KernelParams, SoftmaxScalingAsTflite) {
  // scale 1.0: 1.0 * 2^26 = 0.5 * 2^27 -> M = 2^30, left shift 27; diff_min = -floor(31 * 2^26 / 2^27) = -15.
  auto p = softmax_p(1.0f);
  EXPECT_EQ(p.input_beta_multiplier, 1 << 30);
  EXPECT_EQ(p.input_beta_left_shift, 27);
  EXPECT_EQ(p.diff_min, -15);
  // scale 0.1: 0.1f * 2^26 ~ 6.7e6 in [2^22, 2^23) -> shift 23, diff_min = -floor(31 * 2^3) = -248.
  p = softmax_p(0.1f);
  EXPECT_EQ(p.input_beta_left_shift, 23);
  EXPECT_EQ(p.diff_min, -248);
  EXPECT_GE(p.input_beta_multiplier, 1 << 30);
  // TFLite insists on the 1/256, -128 output.
  EXPECT_FALSE(tml::deploy::softmax_params({0.1f, 0}, {1.0f / 256, 0}, 1.0f).has_value());
  EXPECT_FALSE(tml::deploy::softmax_params({0.1f, 0}, {1.0f / 128, -128}, 1.0f).has_value());
}

TEST(Softmax, UniformRowsGiveExactFractions) {
  const auto p = softmax_p(0.1f);
  // 1 element: 1.0 -> 256 - 128 = 128 -> 127. 2: 0.5 -> 0. 3: 1/3 * 256 = 85.3 -> -43. 4: 0.25 -> -64.
  EXPECT_EQ(softmax(p, row(1), V{17}), (V{127}));
  EXPECT_EQ(softmax(p, row(2), V{-128, -128}), (V{0, 0}));
  EXPECT_EQ(softmax(p, row(3), V{127, 127, 127}), (V{-43, -43, -43}));
  EXPECT_EQ(softmax(p, row(4), V{5, 5, 5, 5}), (V{-64, -64, -64, -64}));
}

TEST(Softmax, TflmGoldenWithinOneStep) {
  // TFLM softmax_test.cc: inputs 1..5 at scale 0.1 (q = 10..50), and the negated row.
  const double golden[5] = {0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647};
  const auto p = softmax_p(0.1f);
  const V y = softmax(p, Shape{2, 1, 1, 5}, V{10, 20, 30, 40, 50, -10, -20, -30, -40, -50});
  for (int i = 0; i < 5; ++i) {
    const double want = std::round(golden[i] * 256) - 128;
    EXPECT_NEAR(y[static_cast<size_t>(i)], want, 1.0) << i;
    EXPECT_NEAR(y[static_cast<size_t>(9 - i)], want, 1.0) << i;
  }
}

TEST(Softmax, BelowDiffMinIsExactlyMinimum) {
  const auto p = softmax_p(1.0f);                        // diff_min -15
  const V y = softmax(p, row(4), V{100, 85, 84, -128});  // diffs 0, -15, -16, -228
  EXPECT_EQ(y[0], 127);                                  // ~1.0
  EXPECT_EQ(y[2], -128);
  EXPECT_EQ(y[3], -128);
}

TEST(Softmax, RandomWithinOneStepOfFloat) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> scale(0.005f, 0.3f), beta(0.5f, 2.0f);
  std::uniform_int_distribution<int> q(-128, 127), depth(1, 40), zp(-128, 127);
  for (int trial = 0; trial < 300; ++trial) {
    const TensorQuant in{scale(rng), zp(rng)};
    const float b = beta(rng);
    const auto p = tml::deploy::softmax_params(in, kSoftmaxOut, b);
    ASSERT_TRUE(p);
    const Shape s{1, 2, 1, depth(rng)};
    V x(static_cast<size_t>(s.elements()));
    for (auto& v : x) v = static_cast<std::int8_t>(q(rng));
    V y(x.size());
    ASSERT_EQ(tml::rt::softmax_s8(*p, s, x.data(), y.data()), Status::ok);
    for (int r = 0; r < 2; ++r) {
      const std::int8_t* xr = x.data() + r * s.c;
      const int mx = *std::max_element(xr, xr + s.c);
      double sum = 0;
      for (int c = 0; c < s.c; ++c) sum += std::exp(b * in.scale * (xr[c] - mx));
      for (int c = 0; c < s.c; ++c) {
        const double want =
            std::clamp(std::round(std::exp(b * in.scale * (xr[c] - mx)) / sum * 256) - 128, -128.0, 127.0);
        ASSERT_NEAR(y[static_cast<size_t>(r * s.c + c)], want, 1.0) << "trial " << trial;
      }
    }
  }
}

// Goldens from TFLite's reference_ops::Softmax<int8_t, int8_t> and reference_integer_ops::Logistic /
// Tanh, transcribed onto the real gemmlowp fixedpoint.h and fed the parameters of kernel_params.h.
constexpr float kGoldenScales[4] = {0.1f, 0.0123f, 0.25f, 0.0625f};

TEST(Softmax, MatchesTfliteReferenceGolden) {
  std::uint32_t lcg = 12345;
  auto next = [&lcg] {
    lcg = lcg * 1664525u + 1013904223u;
    return static_cast<std::int8_t>(lcg >> 24);
  };
  std::uint64_t h = kFnvBasis;
  for (int k = 0; k < 4; ++k) {
    const auto p = softmax_p(kGoldenScales[k], k == 3 ? 0.5f : 1.0f);
    for (int r = 0; r < 25; ++r) {
      V x(static_cast<size_t>(1 + r * 3));
      for (auto& v : x) v = next();
      for (const std::int8_t v : softmax(p, row(static_cast<std::int32_t>(x.size())), x)) h = fnv_mix(h, v);
    }
  }
  EXPECT_EQ(h, 9122021544870001052ull);
}

TEST(Softmax, InPlaceGivesSameBytes) {
  const auto p = softmax_p(0.05f);
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> q(-128, 127);
  V x(3 * 17);
  for (auto& v : x) v = static_cast<std::int8_t>(q(rng));
  const V ref = softmax(p, Shape{1, 3, 1, 17}, x);
  ASSERT_EQ(tml::rt::softmax_s8(p, Shape{1, 3, 1, 17}, x.data(), x.data()), Status::ok);
  EXPECT_EQ(x, ref);
}

TEST(Softmax, RejectsWhatTfliteCannotRepresent) {
  const auto p = softmax_p(0.001f);
  // 600 equal values: the sum of exps reaches 600 >= 512, where TFLite's exponent check fails.
  V x(600, 0), y(600, 99);
  EXPECT_EQ(tml::rt::softmax_s8(p, row(600), x.data(), y.data()), Status::bad_argument);
  EXPECT_EQ(y, V(600, 99));  // the failing row is not written
  x.resize(511);
  y.resize(511);
  EXPECT_EQ(tml::rt::softmax_s8(p, row(511), x.data(), y.data()), Status::ok);
  V big(4096, 0), out(4096, 0);
  EXPECT_EQ(tml::rt::softmax_s8(p, row(4096), big.data(), out.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::softmax_s8(p, row(4), nullptr, out.data()), Status::bad_argument);
  auto bad = p;
  bad.diff_min = 1;
  EXPECT_EQ(tml::rt::softmax_s8(bad, row(4), big.data(), out.data()), Status::bad_argument);
}

// ---- LOGISTIC, TANH -----------------------------------------------------------------------------

TEST(KernelParams, LogisticAsTflitePrepare) {
  // 0.1f * 2^27 = 13421773 * 2^-27 * 2^27 = 13421773 in [2^23, 2^24): left shift 24, multiplier
  // 13421773 * 2^7 = 1717986944, radius floor(15 * 2^27 / 2^24) = 120.
  const auto p = tml::deploy::logistic_params({0.1f, 3}, kLogisticOut);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->input_zero_point, 3);
  EXPECT_EQ(p->input_left_shift, 24);
  EXPECT_EQ(p->input_multiplier, 1717986944);
  EXPECT_EQ(p->input_range_radius, 120);
  EXPECT_FALSE(tml::deploy::logistic_params({0.1f, 3}, {1.0f / 256, 0}).has_value());
  EXPECT_FALSE(tml::deploy::tanh_params({0.1f, 3}, kLogisticOut).has_value());
  EXPECT_TRUE(tml::deploy::tanh_params({0.1f, 3}, kTanhOut).has_value());
}

V run(Status (*f)(const tml::rt::LogisticParams&, const Shape&, const std::int8_t*, std::int8_t*),
      const tml::rt::LogisticParams& p, const V& x) {
  V y(x.size(), 99);
  EXPECT_EQ(f(p, row(static_cast<std::int32_t>(x.size())), x.data(), y.data()), Status::ok);
  return y;
}

TEST(Logistic, HandComputedAndSaturation) {
  const auto p = *tml::deploy::logistic_params({0.1f, 3}, kLogisticOut);
  // q = zp -> exactly 1/2 -> 0. q - zp = 1: sigmoid(0.1) * 256 = 134.39 -> 6; -1 -> 121.6 -> -6.
  // |q - zp| >= radius 120 saturates: 123 -> 127, -117 -> -128.
  EXPECT_EQ(run(tml::rt::logistic_s8, p, V{3, 4, 2, 123, -117, 127, -128}), (V{0, 6, -6, 127, -128, 127, -128}));
}

TEST(Tanh, HandComputedAndSaturation) {
  const auto p = *tml::deploy::tanh_params({0.1f, -5}, kTanhOut);
  // tanh(0.1) * 128 = 12.76 -> 13; radius 120 saturates to 127 / -128.
  EXPECT_EQ(run(tml::rt::tanh_s8, p, V{-5, -4, -6, 115, -125, 127, -128}), (V{0, 13, -13, 127, -128, 127, -128}));
}

void random_sigmoid(bool is_tanh) {
  std::mt19937 rng(is_tanh ? 31 : 32);
  std::uniform_real_distribution<float> scale(0.004f, 0.25f);
  std::uniform_int_distribution<int> zp(-128, 127), q(-128, 127);
  for (int trial = 0; trial < 200; ++trial) {
    const TensorQuant in{scale(rng), zp(rng)};
    const auto p =
        is_tanh ? tml::deploy::tanh_params(in, kTanhOut) : tml::deploy::logistic_params(in, kLogisticOut);
    ASSERT_TRUE(p);
    V x(256);
    for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<std::int8_t>(i - 128);
    const V y = run(is_tanh ? tml::rt::tanh_s8 : tml::rt::logistic_s8, *p, x);
    for (int i = 0; i < 256; ++i) {
      const double r = static_cast<double>(in.scale) * (x[static_cast<size_t>(i)] - in.zero_point);
      const double want = is_tanh ? std::round(std::tanh(r) * 128) : std::round(256 / (1 + std::exp(-r))) - 128;
      ASSERT_NEAR(y[static_cast<size_t>(i)], std::clamp(want, -128.0, 127.0), 1.0)
          << "trial " << trial << " r " << r;
    }
    (void)q;
  }
}

TEST(Logistic, RandomWithinOneStepOfFloat) { random_sigmoid(false); }
TEST(Tanh, RandomWithinOneStepOfFloat) { random_sigmoid(true); }

TEST(LogisticTanh, MatchTfliteReferenceGolden) {
  constexpr std::int32_t kZeroPoints[4] = {3, -128, 127, 0};
  V x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<std::int8_t>(i - 128);
  std::uint64_t h = kFnvBasis;
  for (int k = 0; k < 4; ++k) {
    const auto lp = tml::deploy::logistic_params({kGoldenScales[k], kZeroPoints[k]}, kLogisticOut);
    const auto tp = tml::deploy::tanh_params({kGoldenScales[k], kZeroPoints[k]}, kTanhOut);
    ASSERT_TRUE(lp && tp);
    const V yl = run(tml::rt::logistic_s8, *lp, x), yt = run(tml::rt::tanh_s8, *tp, x);
    for (size_t i = 0; i < 256; ++i) h = fnv_mix(fnv_mix(h, yl[i]), yt[i]);
  }
  EXPECT_EQ(h, 6126632598498903698ull);
}

TEST(LogisticTanh, InPlaceGivesSameBytes) {
  V x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<std::int8_t>(i - 128);
  const auto lp = *tml::deploy::logistic_params({0.06f, 7}, kLogisticOut);
  const auto tp = *tml::deploy::tanh_params({0.03f, -7}, kTanhOut);
  for (auto f : {tml::rt::logistic_s8, tml::rt::tanh_s8}) {
    const auto& p = f == tml::rt::logistic_s8 ? lp : tp;
    const V ref = run(f, p, x);
    V y = x;
    ASSERT_EQ(f(p, row(256), y.data(), y.data()), Status::ok);
    EXPECT_EQ(y, ref);
  }
}

TEST(LogisticTanh, RejectsBadArguments) {
  tml::rt::LogisticParams p;
  V x(4, 0), y(4, 0);
  EXPECT_EQ(tml::rt::logistic_s8(p, row(4), nullptr, y.data()), Status::bad_argument);
  p.input_left_shift = 31;
  EXPECT_EQ(tml::rt::tanh_s8(p, row(4), x.data(), y.data()), Status::bad_argument);
  p.input_left_shift = 0;
  p.input_range_radius = -1;
  EXPECT_EQ(tml::rt::logistic_s8(p, row(4), x.data(), y.data()), Status::bad_argument);
}

// ---- QUANTIZE, DEQUANTIZE, REQUANTIZE -------------------------------------------------------------

V quantize(tml::rt::QuantizeParams p, const std::vector<float>& x) {
  V y(x.size(), 99);
  EXPECT_EQ(tml::rt::quantize_f32_s8(p, row(static_cast<std::int32_t>(x.size())), x.data(), y.data()), Status::ok);
  return y;
}

TEST(Quantize, RoundsHalfAwayFromZero) {
  const float below_half = std::nextafter(0.5f, 0.0f);
  EXPECT_EQ(quantize({1.0f, 0}, {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, below_half, -below_half, 0.0f, -0.0f}),
            (V{1, -1, 2, -2, 3, -3, 0, 0, 0, 0}));
}

TEST(Quantize, SaturatesAtZeroPointExtremes) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(quantize({1.0f, 127}, {0.0f, 1.0f, -255.0f, -256.0f, 1e30f, -inf, nan}),
            (V{127, 127, -128, -128, 127, -128, 127}));
  EXPECT_EQ(quantize({1.0f, -128}, {0.0f, -1.0f, 255.0f, 256.0f, inf, -1e30f, nan}),
            (V{-128, -128, 127, 127, 127, -128, -128}));
  EXPECT_EQ(quantize({0.5f, 0}, {1e38f, -1e38f, 63.4f, 63.6f}), (V{127, -128, 127, 127}));
}

TEST(Quantize, MatchesStdRoundInFloatBitForBit) {
  // TfLiteRound(x / scale) in float; near-ties (k + 0.5) * scale are where a sloppy rounding differs.
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> scale_d(1e-3f, 1.0f), x_d(-200.0f, 200.0f);
  std::uniform_int_distribution<int> zp_d(-128, 127), k_d(-300, 300);
  for (int trial = 0; trial < 200; ++trial) {
    const tml::rt::QuantizeParams p{scale_d(rng), zp_d(rng)};
    std::vector<float> x;
    for (int i = 0; i < 64; ++i)
      x.push_back(i % 2 ? x_d(rng) * p.scale : (static_cast<float>(k_d(rng)) + 0.5f) * p.scale);
    const V y = quantize(p, x);
    for (size_t i = 0; i < x.size(); ++i) {
      const float r = std::round(x[i] / p.scale);
      const int want = static_cast<int>(std::clamp(r, -1000.0f, 1000.0f)) + p.zero_point;
      ASSERT_EQ(y[i], std::clamp(want, -128, 127)) << x[i] << " / " << p.scale;
    }
  }
}

TEST(Quantize, InPlaceOverTheFloatBuffer) {
  const tml::rt::QuantizeParams p{0.03f, -7};
  std::vector<float> x{-3.0f, -1.5f, 0.0f, 0.01f, 0.5f, 1.0f, 2.0f, 3.9f, -0.2f};
  const V ref = quantize(p, x);
  std::vector<float> buf = x;
  auto* bytes = reinterpret_cast<std::int8_t*>(buf.data());
  ASSERT_EQ(tml::rt::quantize_f32_s8(p, row(9), buf.data(), bytes), Status::ok);
  EXPECT_EQ(V(bytes, bytes + 9), ref);
}

TEST(Dequantize, ExactAndInPlace) {
  const tml::rt::QuantizeParams p{0.25f, -3};
  const V x{-128, -3, 0, 127};
  std::vector<float> y(4);
  ASSERT_EQ(tml::rt::dequantize_s8_f32(p, row(4), x.data(), y.data()), Status::ok);
  EXPECT_EQ(y, (std::vector<float>{-31.25f, 0.0f, 0.75f, 32.5f}));
  // In place: the int8 values at the start of a buffer with room for the floats.
  std::vector<float> buf(4, 0.0f);
  std::memcpy(buf.data(), x.data(), 4);
  ASSERT_EQ(tml::rt::dequantize_s8_f32(p, row(4), reinterpret_cast<std::int8_t*>(buf.data()), buf.data()),
            Status::ok);
  EXPECT_EQ(buf, y);
}

TEST(Quantize, RejectsBadScale) {
  std::vector<float> x(2, 0.0f);
  V y(2, 0);
  EXPECT_EQ(tml::rt::quantize_f32_s8({0.0f, 0}, row(2), x.data(), y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::quantize_f32_s8({std::numeric_limits<float>::infinity(), 0}, row(2), x.data(), y.data()),
            Status::bad_argument);
  EXPECT_EQ(tml::rt::dequantize_s8_f32({-1.0f, 0}, row(2), y.data(), x.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::quantize_f32_s8({1.0f, 128}, row(2), x.data(), y.data()), Status::bad_argument);
}

TEST(Requantize, HandComputedSaturationAndInPlace) {
  // 0.5 zp 10 -> 0.25 zp -5: real multiplier 2 (M = 2^30, S = 2). q = 11 -> 1 * 2 - 5 = -3;
  // q = 12 -> -1; 127 -> 234 - 5 -> 127; -128 -> -276 - 5 -> -128.
  const auto p = tml::deploy::requantize_params({0.5f, 10}, {0.25f, -5});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->multiplier, 1 << 30);
  EXPECT_EQ(p->shift, 2);
  V x{11, 12, 127, -128, 10};
  V y(5);
  ASSERT_EQ(tml::rt::requantize_s8(*p, row(5), x.data(), y.data()), Status::ok);
  EXPECT_EQ(y, (V{-3, -1, 127, -128, -5}));
  ASSERT_EQ(tml::rt::requantize_s8(*p, row(5), x.data(), x.data()), Status::ok);
  EXPECT_EQ(x, y);
}

TEST(Requantize, RandomWithinOneStepOfFloat) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> scale(0.001f, 1.0f);
  std::uniform_int_distribution<int> zp(-128, 127);
  V x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<std::int8_t>(i - 128);
  for (int trial = 0; trial < 200; ++trial) {
    const TensorQuant in{scale(rng), zp(rng)}, out{scale(rng), zp(rng)};
    const auto p = tml::deploy::requantize_params(in, out);
    ASSERT_TRUE(p);
    V y(256);
    ASSERT_EQ(tml::rt::requantize_s8(*p, row(256), x.data(), y.data()), Status::ok);
    for (size_t i = 0; i < 256; ++i) {
      const double r = static_cast<double>(in.scale) * (x[i] - in.zero_point) / out.scale;
      ASSERT_NEAR(y[i], std::clamp(std::round(r) + out.zero_point, -128.0, 127.0), 1.0);
    }
  }
}

}  // namespace
