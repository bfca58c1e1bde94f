#include "preprocess/rfft.h"

#include "preprocess/fastmath.h"

namespace tml::pre {

Status rfft_init(RfftPlan* plan, std::size_t n, float* twiddle, std::size_t twiddle_floats, std::uint16_t* bitrev,
                 std::size_t bitrev_entries) {
  if (!plan || !twiddle || !bitrev || n < 4 || n > 1024 || (n & (n - 1)) != 0) return Status::bad_argument;
  if (twiddle_floats < rfft_twiddle_floats(n) || bitrev_entries < rfft_bitrev_entries(n)) {
    return Status::buffer_too_small;
  }
  for (std::size_t k = 0; k < n / 2; ++k) {
    double angle = 2.0 * kPi * static_cast<double>(k) / static_cast<double>(n);
    twiddle[2 * k] = static_cast<float>(cos_d(angle));
    twiddle[2 * k + 1] = static_cast<float>(-sin_d(angle));
  }
  std::size_t m = n / 2, bits = 0;
  while ((std::size_t{1} << bits) < m) ++bits;
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    bitrev[i] = static_cast<std::uint16_t>(r);
  }
  plan->n = static_cast<std::uint16_t>(n);
  plan->twiddle = twiddle;
  plan->bitrev = bitrev;
  return Status::ok;
}

void rfft(const RfftPlan& plan, float* buf) {
  const std::size_t n = plan.n, m = n / 2;
  const float* tw = plan.twiddle;
  // z[t] = x[2t] + i x[2t+1], already interleaved in buf: bit-reverse it.
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t j = plan.bitrev[i];
    if (j > i) {
      float re = buf[2 * i], im = buf[2 * i + 1];
      buf[2 * i] = buf[2 * j];
      buf[2 * i + 1] = buf[2 * j + 1];
      buf[2 * j] = re;
      buf[2 * j + 1] = im;
    }
  }
  // m-point radix-2 decimation-in-time butterflies; W_len^j = W_n^(j n / len).
  for (std::size_t len = 2; len <= m; len <<= 1) {
    std::size_t half = len / 2, step = n / len;
    for (std::size_t start = 0; start < m; start += len) {
      for (std::size_t j = 0; j < half; ++j) {
        float wr = tw[2 * j * step], wi = tw[2 * j * step + 1];
        float* a = buf + 2 * (start + j);
        float* b = buf + 2 * (start + j + half);
        float vr = b[0] * wr - b[1] * wi;
        float vi = b[0] * wi + b[1] * wr;
        b[0] = a[0] - vr;
        b[1] = a[1] - vi;
        a[0] = a[0] + vr;
        a[1] = a[1] + vi;
      }
    }
  }
  // Split Z into the spectra of the even and odd samples and combine: X[k] = E[k] + W_n^k O[k].
  float z0r = buf[0], z0i = buf[1];
  for (std::size_t k = 1; k <= m / 2; ++k) {
    float ar = buf[2 * k], ai = buf[2 * k + 1];
    float br = buf[2 * (m - k)], bi = buf[2 * (m - k) + 1];
    float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
    float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
    float wr = tw[2 * k], wi = tw[2 * k + 1];
    float wor = wr * orr - wi * oi;
    float woi = wr * oi + wi * orr;
    buf[2 * k] = er + wor;
    buf[2 * k + 1] = ei + woi;
    buf[2 * (m - k)] = er - wor;
    buf[2 * (m - k) + 1] = woi - ei;
  }
  buf[0] = z0r + z0i;
  buf[1] = 0.0f;
  buf[n] = z0r - z0i;
  buf[n + 1] = 0.0f;
}

}  // namespace tml::pre
