#pragma once
// Real-input FFT of a power-of-two length n (4..1024): an n/2-point complex radix-2 FFT on the
// packed even/odd samples (stages paired, radix-2^2) plus one post-processing pass — not a complex FFT on zero imaginaries.
#include <cstddef>
#include <cstdint>

#include "preprocess/status.h"

namespace tml::pre {

struct RfftPlan {
  std::uint16_t n = 0;
  const float* twiddle = nullptr;         // n floats: cos, -sin of 2*pi*k/n for k < n/2
  const std::uint16_t* bitrev = nullptr;  // `swaps` pairs (i, j): the bit-reversal permutation
  std::uint16_t swaps = 0;
};

inline constexpr std::size_t rfft_twiddle_floats(std::size_t n) { return n; }
inline constexpr std::size_t rfft_bitrev_entries(std::size_t n) { return n / 2; }

// Fills the caller's tables. bad_argument unless n is a power of two in [4, 1024].
Status rfft_init(RfftPlan* plan, std::size_t n, float* twiddle, std::size_t twiddle_floats, std::uint16_t* bitrev,
                 std::size_t bitrev_entries);

// In place: buf holds n real samples and has room for n + 2 floats; on return it holds n/2 + 1
// complex bins (re, im interleaved), bin k = sum x[t] e^{-2 pi i k t / n}.
void rfft(const RfftPlan& plan, float* buf);

}  // namespace tml::pre
