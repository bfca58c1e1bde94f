// AVERAGE_POOL_2D, MAX_POOL_2D and MEAN (runtime/pooling.h) against hand-computed TFLite results
// and exact / float references.
#include "runtime/pooling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "deploy/kernel_params.h"

namespace {

using tml::rt::MeanParams;
using tml::rt::PoolParams;
using tml::rt::Shape;
using tml::rt::Status;

std::vector<std::int8_t> avg(const PoolParams& p, const Shape& in, const std::vector<std::int8_t>& x,
                             const Shape& out) {
  std::vector<std::int8_t> y(static_cast<size_t>(out.elements()), 99);
  EXPECT_EQ(tml::rt::average_pool_s8(p, in, x.data(), out, y.data()), Status::ok);
  return y;
}

std::vector<std::int8_t> maxp(const PoolParams& p, const Shape& in, const std::vector<std::int8_t>& x,
                              const Shape& out) {
  std::vector<std::int8_t> y(static_cast<size_t>(out.elements()), 99);
  EXPECT_EQ(tml::rt::max_pool_s8(p, in, x.data(), out, y.data()), Status::ok);
  return y;
}

PoolParams pool(std::int32_t fh, std::int32_t fw, std::int32_t sh, std::int32_t sw, std::int32_t pt = 0,
                std::int32_t pl = 0) {
  PoolParams p;
  p.filter_h = fh;
  p.filter_w = fw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = pt;
  p.pad_left = pl;
  return p;
}

using V = std::vector<std::int8_t>;

TEST(AveragePool, RoundsHalfAwayFromZeroLikeTflite) {
  // 2x2 window, stride 2: sums 10 and -10 over 4 -> 2.5 and -2.5 -> 3 and -3;
  // sums 5 and -5 -> 1.25 / -1.25 -> 1 / -1.
  const Shape in{1, 2, 4, 1}, out{1, 1, 2, 1};
  EXPECT_EQ(avg(pool(2, 2, 2, 2), in, V{1, 2, -1, -2, 3, 4, -3, -4}, out), (V{3, -3}));
  EXPECT_EQ(avg(pool(2, 2, 2, 2), in, V{1, 1, -1, -1, 1, 2, -1, -2}, out), (V{1, -1}));
}

TEST(AveragePool, PaddingAtEveryBorderDividesByInBoundsCount) {
  // 3x3 input 1..9, 3x3 window, stride 1, pad 1 all round. Corners average 4 values, edges 6,
  // the centre 9 (padding is not counted, unlike a zero-padded sum / 9):
  //   (0,0) 1+2+4+5=12/4=3      (0,1) 21/6=3.5->4   (0,2) 2+3+5+6=16/4=4
  //   (1,0) 27/6=4.5->5         (1,1) 45/9=5        (1,2) 33/6=5.5->6
  //   (2,0) 4+5+7+8=24/4=6      (2,1) 39/6=6.5->7   (2,2) 28/4=7
  const Shape s{1, 3, 3, 1};
  EXPECT_EQ(avg(pool(3, 3, 1, 1, 1, 1), s, V{1, 2, 3, 4, 5, 6, 7, 8, 9}, s), (V{3, 4, 4, 5, 5, 6, 6, 7, 7}));
  // Negated input gives exactly the negated output: the rounding is symmetric.
  EXPECT_EQ(avg(pool(3, 3, 1, 1, 1, 1), s, V{-1, -2, -3, -4, -5, -6, -7, -8, -9}, s),
            (V{-3, -4, -4, -5, -5, -6, -6, -7, -7}));
}

TEST(AveragePool, OddWidthSamePaddingLastWindowHalfOutside) {
  // W=5, window 1x2, stride 2, SAME: out 3, padding 0 left / 1 right. The last window holds 50
  // alone. Two channels interleaved (NHWC).
  const Shape in{1, 1, 5, 2}, out{1, 1, 3, 2};
  const V x{10, -10, 20, -20, 30, -30, 41, -41, 50, -50};
  EXPECT_EQ(avg(pool(1, 2, 1, 2), in, x, out), (V{15, -15, 36, -36, 50, -50}));  // 35.5 -> 36
}

TEST(AveragePool, OneByOneInputIsIdentity) {
  const Shape s{1, 1, 1, 3};
  EXPECT_EQ(avg(pool(1, 1, 1, 1), s, V{-128, 0, 127}, s), (V{-128, 0, 127}));
  EXPECT_EQ(avg(pool(3, 3, 1, 1, 1, 1), s, V{-128, 0, 127}, s), (V{-128, 0, 127}));  // only the centre is inside
}

TEST(AveragePool, ExtremeValuesStayInRange) {
  // -128 * 4 = -512 -> (-512 - 2) / 4 = -128 (truncation); 127 * 4 -> (508 + 2) / 4 = 127.
  const Shape in{1, 2, 2, 2}, out{1, 1, 1, 2};
  EXPECT_EQ(avg(pool(2, 2, 1, 1), in, V{-128, 127, -128, 127, -128, 127, -128, 127}, out), (V{-128, 127}));
}

TEST(AveragePool, FusedActivationClamps) {
  PoolParams p = pool(1, 1, 1, 1);
  p.act_min = -5;  // e.g. RELU with zero point -5
  p.act_max = 100;
  const Shape s{1, 1, 4, 1};
  EXPECT_EQ(avg(p, s, V{-128, -6, 50, 127}, s), (V{-5, -5, 50, 100}));
}

TEST(AveragePool, WindowEntirelyInPaddingIsRejectedWithoutWriting) {
  // pad_top 2 with a 1x1 window: output row 0 sees input row -2 only (TFLite returns an error).
  const Shape in{1, 2, 2, 1}, out{1, 2, 2, 1};
  V y(4, 99);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1, 2, 0), in, V{1, 2, 3, 4}.data(), out, y.data()),
            Status::bad_argument);
  EXPECT_EQ(y, V(4, 99));
}

TEST(AveragePool, RejectsBadArguments) {
  const Shape s{1, 2, 2, 1};
  V x(4, 0), y(4, 0);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1), s, nullptr, s, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1), s, x.data(), s, nullptr), Status::bad_argument);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(0, 1, 1, 1), s, x.data(), s, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 0, 1), s, x.data(), s, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1, -1), s, x.data(), s, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1), s, x.data(), Shape{1, 2, 2, 2}, y.data()),
            Status::bad_argument);  // channel mismatch
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1), s, x.data(), Shape{2, 2, 2, 1}, y.data()),
            Status::bad_argument);  // batch mismatch
  EXPECT_EQ(tml::rt::average_pool_s8(pool(1, 1, 1, 1), Shape{1, 0, 2, 1}, x.data(), s, y.data()),
            Status::bad_argument);
  PoolParams p = pool(1, 1, 1, 1);
  p.act_min = 10;
  p.act_max = 9;
  EXPECT_EQ(tml::rt::average_pool_s8(p, s, x.data(), s, y.data()), Status::bad_argument);
  p.act_min = -129;
  p.act_max = 0;
  EXPECT_EQ(tml::rt::max_pool_s8(p, s, x.data(), s, y.data()), Status::bad_argument);
}

TEST(MaxPool, PaddingNeverWins) {
  // All-negative 3x3 input, 3x3 window, pad 1: padded taps are skipped, so the result is the
  // largest input in each window, never 0 or a zero point.
  //   -1 -2 -3
  //   -4 -5 -6
  //   -7 -8 -9
  const Shape s{1, 3, 3, 1};
  EXPECT_EQ(maxp(pool(3, 3, 1, 1, 1, 1), s, V{-1, -2, -3, -4, -5, -6, -7, -8, -9}, s),
            (V{-1, -1, -2, -1, -1, -2, -4, -4, -5}));
}

TEST(MaxPool, OddWidthStrideTwoAndClamp) {
  const Shape in{1, 1, 5, 1}, out{1, 1, 3, 1};
  EXPECT_EQ(maxp(pool(1, 2, 1, 2), in, V{-128, 7, 127, 3, -100}, out), (V{7, 127, -100}));
  PoolParams p = pool(1, 2, 1, 2);
  p.act_min = 0;
  p.act_max = 100;
  EXPECT_EQ(maxp(p, in, V{-128, 7, 127, 3, -100}, out), (V{7, 100, 0}));
}

TEST(MaxPool, EmptyWindowGivesClampedMinimumAsTflite) {
  PoolParams p = pool(1, 1, 1, 1, 1, 0);  // output row 0 lies in the padding
  p.act_min = -3;
  const Shape in{1, 1, 2, 1}, out{1, 2, 2, 1};
  EXPECT_EQ(maxp(p, in, V{5, 6}, out), (V{-3, -3, 5, 6}));
}

// Exact reference: the average of the in-bounds values rounded half away from zero.
TEST(Pooling, RandomCasesMatchExactReference) {
  std::mt19937 rng(1234);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    const Shape in{pick(1, 2), pick(1, 9), pick(1, 9), pick(1, 5)};
    PoolParams p = pool(pick(1, 4), pick(1, 4), pick(1, 3), pick(1, 3));
    p.pad_top = pick(0, p.filter_h - 1);
    p.pad_left = pick(0, p.filter_w - 1);
    p.act_min = pick(-128, 0);
    p.act_max = pick(0, 127);
    // SAME-style output size: every window keeps at least one input element.
    const Shape out{in.n, (in.h + p.pad_top - 1) / p.stride_h + 1, (in.w + p.pad_left - 1) / p.stride_w + 1, in.c};
    V x(static_cast<size_t>(in.elements()));
    for (auto& v : x) v = static_cast<std::int8_t>(pick(-128, 127));
    const V a = avg(p, in, x, out);
    const V m = maxp(p, in, x, out);
    size_t i = 0;
    for (int n = 0; n < out.n; ++n)
      for (int oy = 0; oy < out.h; ++oy)
        for (int ox = 0; ox < out.w; ++ox)
          for (int c = 0; c < out.c; ++c, ++i) {
            long sum = 0;
            int count = 0, best = -128;
            for (int fy = 0; fy < p.filter_h; ++fy)
              for (int fx = 0; fx < p.filter_w; ++fx) {
                const int y = oy * p.stride_h - p.pad_top + fy, xx = ox * p.stride_w - p.pad_left + fx;
                if (y < 0 || y >= in.h || xx < 0 || xx >= in.w) continue;
                const int v = x[static_cast<size_t>(((n * in.h + y) * in.w + xx) * in.c + c)];
                sum += v;
                ++count;
                best = std::max(best, v);
              }
            ASSERT_GT(count, 0);
            const int mean = static_cast<int>(std::round(static_cast<double>(sum) / count));
            ASSERT_EQ(a[i], std::clamp(mean, p.act_min, p.act_max)) << "trial " << trial;
            ASSERT_EQ(m[i], std::clamp(best, p.act_min, p.act_max)) << "trial " << trial;
          }
  }
}

// ---- MEAN over H, W ----------------------------------------------------------------------------

V mean(const MeanParams& p, const Shape& in, const V& x) {
  const Shape out{in.n, 1, 1, in.c};
  V y(static_cast<size_t>(out.elements()), 99);
  EXPECT_EQ(tml::rt::mean_hw_s8(p, in, x.data(), out, y.data()), Status::ok);
  return y;
}

TEST(Mean, SameQuantizationTruncatesLikeTflm) {
  // reference_ops::Mean: sum / count in C integer division: 10/4 -> 2, -10/4 -> -2, 7/2 -> 3.
  const auto p = tml::deploy::mean_params({0.5f, 3}, {0.5f, 3});
  ASSERT_TRUE(p && p->same_quantization);
  EXPECT_EQ(mean(*p, Shape{1, 2, 2, 2}, V{1, -1, 2, -2, 3, -3, 4, -4}), (V{2, -2}));
  EXPECT_EQ(mean(*p, Shape{2, 1, 2, 1}, V{3, 4, -128, -128}), (V{3, -128}));
}

TEST(Mean, RequantizedPathFoldsCountIntoMultiplier) {
  // Input scale 0.5 -> output scale 0.25, zp -10: M = 2^30, S = 2 (real 2.0).
  const auto p = tml::deploy::mean_params({0.5f, 0}, {0.25f, -10});
  ASSERT_TRUE(p && !p->same_quantization);
  EXPECT_EQ(p->multiplier, 1 << 30);
  EXPECT_EQ(p->shift, 2);
  // count 4: shift' = 2, M' = (2^30 << 2) / 4 = 2^30, S' = 0; sum 10 -> 10 * 2^30 / 2^31 = 5 -> -5.
  EXPECT_EQ(mean(*p, Shape{1, 2, 2, 1}, V{1, 2, 3, 4}), (V{-5}));
  // count 3: shift' = 1, M' = 2^31 / 3 = 715827882, S' = 1; sum 4: SRDHM(8, M') = 3.17 -> 3 -> -7
  // (real: mean 0.667 / 0.25 = 2.67 -> 3).
  EXPECT_EQ(mean(*p, Shape{1, 1, 3, 1}, V{1, 1, 2}), (V{-7}));
  // Saturation at both ends.
  EXPECT_EQ(mean(*p, Shape{1, 1, 2, 2}, V{127, -128, 127, -128}), (V{127, -128}));
}

TEST(Mean, RandomCasesWithinOneStepOfFloat) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> scale(0.01f, 0.2f);
  std::uniform_int_distribution<int> zp(-128, 127), dim(1, 12), q(-128, 127);
  for (int trial = 0; trial < 200; ++trial) {
    const tml::deploy::TensorQuant iq{scale(rng), zp(rng)};
    const tml::deploy::TensorQuant oq = trial % 4 == 0 ? iq : tml::deploy::TensorQuant{scale(rng), zp(rng)};
    const auto p = tml::deploy::mean_params(iq, oq);
    ASSERT_TRUE(p);
    const Shape in{dim(rng) % 2 + 1, dim(rng), dim(rng), dim(rng) % 4 + 1};
    V x(static_cast<size_t>(in.elements()));
    for (auto& v : x) v = static_cast<std::int8_t>(q(rng));
    const V y = mean(*p, in, x);
    for (int n = 0; n < in.n; ++n)
      for (int c = 0; c < in.c; ++c) {
        double sum = 0;
        for (int i = 0; i < in.h * in.w; ++i)
          sum += iq.scale * (x[static_cast<size_t>((n * in.h * in.w + i) * in.c + c)] - iq.zero_point);
        const double expected =
            std::clamp(std::round(sum / (in.h * in.w) / oq.scale) + oq.zero_point, -128.0, 127.0);
        ASSERT_NEAR(y[static_cast<size_t>(n * in.c + c)], expected, 1.0) << "trial " << trial;
      }
  }
}

TEST(Mean, RejectsBadArguments) {
  MeanParams p;
  V x(4, 0), y(2, 0);
  EXPECT_EQ(tml::rt::mean_hw_s8(p, Shape{1, 2, 2, 1}, nullptr, Shape{1, 1, 1, 1}, y.data()), Status::bad_argument);
  EXPECT_EQ(tml::rt::mean_hw_s8(p, Shape{1, 2, 2, 1}, x.data(), Shape{1, 2, 1, 1}, y.data()),
            Status::bad_argument);
  EXPECT_EQ(tml::rt::mean_hw_s8(p, Shape{1, 2, 2, 1}, x.data(), Shape{1, 1, 1, 2}, y.data()),
            Status::bad_argument);
  p.input_zero_point = 200;
  EXPECT_EQ(tml::rt::mean_hw_s8(p, Shape{1, 2, 2, 1}, x.data(), Shape{1, 1, 1, 1}, y.data()),
            Status::bad_argument);
}

}  // namespace
