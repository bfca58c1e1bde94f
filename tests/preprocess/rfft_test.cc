#include "preprocess/rfft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

namespace tml {
namespace {

using namespace tml::pre;

TEST(Rfft, MatchesDoublePrecisionDft) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (std::size_t n = 4; n <= 1024; n *= 2) {
    std::vector<float> tw(n);
    std::vector<std::uint16_t> br(n / 2);
    RfftPlan plan;
    ASSERT_EQ(rfft_init(&plan, n, tw.data(), tw.size(), br.data(), br.size()), Status::ok);
    std::vector<float> x(n), buf(n + 2);
    for (auto& v : x) v = noise(rng);
    std::copy(x.begin(), x.end(), buf.begin());
    rfft(plan, buf.data());
    double worst = 0, scale = std::sqrt(static_cast<double>(n));
    for (std::size_t k = 0; k <= n / 2; ++k) {
      std::complex<double> ref = 0;
      for (std::size_t t = 0; t < n; ++t) ref += static_cast<double>(x[t]) * std::polar(1.0, -2 * M_PI * k * t / n);
      worst = std::max(worst, std::abs(ref - std::complex<double>(buf[2 * k], buf[2 * k + 1])) / scale);
    }
    EXPECT_LT(worst, 2e-6 * std::log2(static_cast<double>(n))) << "n=" << n;
  }
}

TEST(Rfft, RejectsBadSizes) {
  float tw[64];
  std::uint16_t br[32];
  RfftPlan plan;
  EXPECT_EQ(rfft_init(&plan, 48, tw, 64, br, 32), Status::bad_argument);
  EXPECT_EQ(rfft_init(&plan, 2048, tw, 64, br, 32), Status::bad_argument);
  EXPECT_EQ(rfft_init(&plan, 64, tw, 32, br, 32), Status::buffer_too_small);
}

}  // namespace
}  // namespace tml
