#pragma once
// Build-time half of TFLite's quantization arithmetic (DESIGN.md §3): turns a real scale into the
// (multiplier, shift) pair the runtime kernels use (runtime/fixed_point.h). Host only (uses <cmath>).
#include <cstdint>

namespace tml::deploy {

struct QuantizedMultiplier {
  std::int32_t multiplier = 0;  // Q0.31 in [2^30, 2^31), or 0 for a zero scale
  std::int32_t shift = 0;       // scale = multiplier * 2^(shift - 31)
};

// TFLite QuantizeMultiplier: frexp, round the mantissa to Q0.31 (a mantissa that rounds to 2^31
// becomes 2^30 with shift + 1), and shifts below -31 flush to zero.
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// TFLite QuantizeMultiplierSmallerThanOneExp / PreprocessSoftmaxScaling helpers build on the above;
// kernels that need more (softmax, logistic, tanh, add) compute their parameters in deploy/ too.

}  // namespace tml::deploy
