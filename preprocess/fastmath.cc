#include "preprocess/fastmath.h"

#include <cmath>
#include <cstring>

// Only IEEE-754 basic operations and bit manipulation below: no libm transcendental call.

namespace tml::pre {

namespace {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // upper bits of ln 2 (exact in k * hi)
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrt2 = 1.41421356237309504880;

std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
double double_of(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
std::uint32_t bits_of(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
float float_of(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// Nearest integer of x (ties away from zero), for |x| < 2^62.
long long round_to_ll(double x) { return static_cast<long long>(x < 0 ? x - 0.5 : x + 0.5); }
int round_to_int(float x) { return static_cast<int>(x < 0 ? x - 0.5f : x + 0.5f); }

}  // namespace

double log_d(double x) {
  if (!(x > 0)) return -1e300;
  if (x == HUGE_VAL) return x;
  int e = 0;
  if (x < 2.2250738585072014e-308) {  // subnormal: scale into the normal range
    x *= 18014398509481984.0;         // 2^54
    e -= 54;
  }
  std::uint64_t b = bits_of(x);
  e += static_cast<int>((b >> 52) & 0x7ff) - 1023;
  double m = double_of((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  if (m > kSqrt2) {
    m *= 0.5;
    ++e;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double p = 1.0 / 21;
  p = p * s2 + 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  double series = 2.0 * s + 2.0 * s * s2 * p;
  return e * kLn2Hi + (e * kLn2Lo + series);
}

double exp_d(double x) {
  if (x > 709.0) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  long long k = round_to_ll(x * kInvLn2);
  double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2 / 2
  double p = 1.0 / 6227020800.0;              // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // Scale by 2^k in two steps so that k near the range ends does not overflow the exponent.
  long long k1 = k / 2, k2 = k - k1;
  return p * double_of(static_cast<std::uint64_t>(k1 + 1023) << 52) *
         double_of(static_cast<std::uint64_t>(k2 + 1023) << 52);
}

namespace {

// sin and cos of r for |r| <= pi/4 (Taylor series; the last term is below 1e-19).
double sin_poly(double r) {
  double r2 = r * r;
  double p = -1.0 / 355687428096000.0;  // -1/17!
  p = p * r2 + 1.0 / 1307674368000.0;
  p = p * r2 - 1.0 / 6227020800.0;
  p = p * r2 + 1.0 / 39916800.0;
  p = p * r2 - 1.0 / 362880.0;
  p = p * r2 + 1.0 / 5040.0;
  p = p * r2 - 1.0 / 120.0;
  p = p * r2 + 1.0 / 6.0;
  return r - r * r2 * p;
}
double cos_poly(double r) {
  double r2 = r * r;
  double p = 1.0 / 6402373705728000.0;  // 1/18!
  p = p * r2 - 1.0 / 20922789888000.0;
  p = p * r2 + 1.0 / 87178291200.0;
  p = p * r2 - 1.0 / 479001600.0;
  p = p * r2 + 1.0 / 3628800.0;
  p = p * r2 - 1.0 / 40320.0;
  p = p * r2 + 1.0 / 720.0;
  p = p * r2 - 1.0 / 24.0;
  p = p * r2 + 0.5;
  return 1.0 - r2 * p;
}

// r = x - k pi/2 with pi/2 split in three parts (Cody-Waite), quadrant = k mod 4.
double reduce(double x, int* quadrant) {
  constexpr double kPio2_1 = 1.57079632673412561417e+00;
  constexpr double kPio2_2 = 6.07710050650619224932e-11;
  constexpr double kPio2_3 = 2.02226624879595063154e-21;
  long long k = round_to_ll(x * 6.36619772367581382433e-01);  // 2/pi
  *quadrant = static_cast<int>(k & 3);
  return ((x - k * kPio2_1) - k * kPio2_2) - k * kPio2_3;
}

}  // namespace

double sin_d(double x) {
  int q = 0;
  double r = reduce(x, &q);
  switch (q) {
    case 0: return sin_poly(r);
    case 1: return cos_poly(r);
    case 2: return -sin_poly(r);
    default: return -cos_poly(r);
  }
}

double cos_d(double x) {
  int q = 0;
  double r = reduce(x, &q);
  switch (q) {
    case 0: return cos_poly(r);
    case 1: return -sin_poly(r);
    case 2: return -cos_poly(r);
    default: return sin_poly(r);
  }
}

float log_f(float x) {
  if (!(x > 0.0f)) return -1e30f;
  int e = 0;
  if (x < 1.17549435e-38f) {  // subnormal
    x *= 16777216.0f;         // 2^24
    e -= 24;
  }
  std::uint32_t b = bits_of(x);
  if ((b >> 23) == 0xff) return x;  // inf or nan
  e += static_cast<int>((b >> 23) & 0xff) - 127;
  float m = float_of((b & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  if (m > 1.41421356f) {
    m *= 0.5f;
    ++e;
  }
  float s = (m - 1.0f) / (m + 1.0f);
  float s2 = s * s;
  float p = 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  float series = 2.0f * s + 2.0f * s * s2 * p;
  return static_cast<float>(e) * 0.693145752f + (static_cast<float>(e) * 1.42860677e-06f + series);
}

float exp_f(float x) {
  if (x > 88.7f) return 3.40282347e+38f;
  if (x < -103.9f) return 0.0f;
  int k = round_to_int(x * 1.44269504f);
  float r = (x - static_cast<float>(k) * 0.693145752f) - static_cast<float>(k) * 1.42860677e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int k1 = k / 2, k2 = k - k1;
  return p * float_of(static_cast<std::uint32_t>(k1 + 127) << 23) * float_of(static_cast<std::uint32_t>(k2 + 127) << 23);
}

float sqrt_f(float x) { return std::sqrt(x); }

}  // namespace tml::pre
