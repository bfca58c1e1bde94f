#include "deploy/quantize_multiplier.h"

#include <cmath>

namespace tml::deploy {

QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  QuantizedMultiplier q;
  if (real_multiplier == 0.0) return q;
  int shift = 0;
  const double mantissa = std::frexp(real_multiplier, &shift);  // real = mantissa * 2^shift, mantissa in [0.5, 1)
  std::int64_t m = static_cast<std::int64_t>(std::round(mantissa * static_cast<double>(std::int64_t{1} << 31)));
  if (m == (std::int64_t{1} << 31)) {
    m /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    m = 0;
  }
  q.multiplier = static_cast<std::int32_t>(m);
  q.shift = shift;
  return q;
}

}  // namespace tml::deploy
