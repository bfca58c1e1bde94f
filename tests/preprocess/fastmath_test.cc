#include "preprocess/fastmath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tml {
namespace {

using namespace tml::pre;

TEST(FastMath, DoubleFunctionsMatchLibm) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> wide(-300, 300), angle(-1000, 1000), pos(1e-300, 1e300);
  for (int i = 0; i < 20000; ++i) {
    double x = std::exp(wide(rng));
    EXPECT_NEAR(log_d(x), std::log(x), 2e-15 * std::max(1.0, std::fabs(std::log(x)))) << x;
    double e = wide(rng) * 2.3;
    EXPECT_NEAR(exp_d(e) / std::exp(e), 1.0, 4e-15) << e;
    double a = angle(rng);
    EXPECT_NEAR(sin_d(a), std::sin(a), 3e-14) << a;
    EXPECT_NEAR(cos_d(a), std::cos(a), 3e-14) << a;
  }
  EXPECT_EQ(sin_d(0.0), 0.0);
  EXPECT_EQ(cos_d(0.0), 1.0);
  EXPECT_NEAR(log_d(4.9e-324), std::log(4.9e-324), 1e-12);
}

TEST(FastMath, FloatFunctionsWithinTwoUlp) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> expo(-80.0f, 80.0f);
  float worst_log = 0, worst_exp = 0;
  for (int i = 0; i < 100000; ++i) {
    float x = std::exp(expo(rng));
    double ref = std::log(static_cast<double>(x));
    float ulp = std::nextafter(static_cast<float>(std::fabs(ref)), INFINITY) - static_cast<float>(std::fabs(ref));
    worst_log = std::max(worst_log, static_cast<float>(std::fabs(log_f(x) - ref) / std::max(ulp, 1e-30f)));
    float e = expo(rng);
    double eref = std::exp(static_cast<double>(e));
    worst_exp = std::max(worst_exp, static_cast<float>(std::fabs(exp_f(e) - eref) / eref / 5.96e-8));
  }
  std::printf("[          ] log_f worst %.2f ulp, exp_f worst %.2f ulp\n", worst_log, worst_exp);
  EXPECT_LT(worst_log, 4.0f);
  EXPECT_LT(worst_exp, 4.0f);
  EXPECT_LT(log_f(0.0f), -1e29f);
  EXPECT_EQ(exp_f(-200.0f), 0.0f);
}

}  // namespace
}  // namespace tml
