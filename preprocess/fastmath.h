#pragma once
// The project's own transcendental functions: the same bits on x86-64 and Cortex-M4F, because they
// use only IEEE-754 +, -, *, / and bit manipulation (libm's logf/expf/sinf differ by 1-2 ulp
// between glibc and newlib). Float versions are for per-frame work; double versions (software
// double on Cortex-M4F, still exact IEEE operations) are for tables computed once at init.
#include <cstdint>

namespace tml::pre {

float log_f(float x);    // natural log; x <= 0 returns -inf-like -1e30f
float exp_f(float x);    // e^x, clamped to the float range
double log_d(double x);  // natural log, relative error < 1e-15; x <= 0 returns -1e300
double exp_d(double x);  // e^x
double sin_d(double x);  // |error| < 1e-15 for |x| < 1e6
double cos_d(double x);
float sqrt_f(float x);   // IEEE sqrt (exact in hardware on both targets)

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace tml::pre
