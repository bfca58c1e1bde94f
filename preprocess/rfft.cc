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
  // Only the pairs that move, (i, bitrev(i)) with i < bitrev(i): at most m entries in all.
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    if (i < r) {
      bitrev[2 * pairs] = static_cast<std::uint16_t>(i);
      bitrev[2 * pairs + 1] = static_cast<std::uint16_t>(r);
      ++pairs;
    }
  }
  plan->swaps = static_cast<std::uint16_t>(pairs);
  plan->n = static_cast<std::uint16_t>(n);
  plan->twiddle = twiddle;
  plan->bitrev = bitrev;
  return Status::ok;
}

void rfft(const RfftPlan& plan, float* buf) {
  const std::size_t n = plan.n, m = n / 2;
  const float* tw = plan.twiddle;
  // z[t] = x[2t] + i x[2t+1], already interleaved in buf: bit-reverse it.
  const std::uint16_t* pair = plan.bitrev;
  for (std::size_t s = 0; s < plan.swaps; ++s, pair += 2) {
    float* a = buf + 2 * pair[0];
    float* b = buf + 2 * pair[1];
    const float re = a[0], im = a[1];
    a[0] = b[0];
    a[1] = b[1];
    b[0] = re;
    b[1] = im;
  }
  // m-point radix-2 decimation-in-time FFT, its stages taken two at a time (radix-2^2): each group
  // of four points is loaded once, goes through both stages in registers and is stored once. The
  // arithmetic of every butterfly is the plain radix-2 one (v = W b; b = a - v; a = a + v) with the
  // twiddles from the table, so the result does not depend on how stages are grouped. The first
  // two stages have the trivial twiddles 1 and -i and need no multiplications.
  std::size_t len = 2;
  if (m >= 4) {
    for (std::size_t start = 0; start < m; start += 4) {
      float* p = buf + 2 * start;
      const float x0r = p[0], x0i = p[1], x1r = p[2], x1i = p[3];
      const float x2r = p[4], x2i = p[5], x3r = p[6], x3i = p[7];
      const float a0r = x0r + x1r, a0i = x0i + x1i, a1r = x0r - x1r, a1i = x0i - x1i;
      const float a2r = x2r + x3r, a2i = x2i + x3i, a3r = x2r - x3r, a3i = x2i - x3i;
      p[0] = a0r + a2r;
      p[1] = a0i + a2i;
      p[4] = a0r - a2r;
      p[5] = a0i - a2i;
      p[2] = a1r + a3i;  // a1 + (-i) a3
      p[3] = a1i - a3r;
      p[6] = a1r - a3i;
      p[7] = a1i + a3r;
    }
    len = 8;
  }
  for (; 2 * len <= m; len *= 4) {
    // Stage `len` (pairs half apart, twiddle W_len^j) then stage 2*len (pairs len apart,
    // twiddles W_2len^j and W_2len^(j+half)) on the points a, b = a+half, c = a+len, d = c+half.
    const std::size_t half = len / 2, step1 = 2 * (n / len), step2 = n / len;
    for (std::size_t start = 0; start < m; start += 2 * len) {
      const float* w1 = tw;
      const float* w2 = tw;
      const float* w3 = tw + half * step2;  // W_2len^half = -i
      float* a = buf + 2 * start;
      for (std::size_t j = 0; j < half; ++j, a += 2, w1 += step1, w2 += step2, w3 += step2) {
        float* b = a + 2 * half;
        float* c = a + 2 * len;
        float* d = c + 2 * half;
        const float ar = a[0], ai = a[1], br = b[0], bi = b[1], cr = c[0], ci = c[1], dr = d[0], di = d[1];
        const float w1r = w1[0], w1i = w1[1];
        float vr = br * w1r - bi * w1i, vi = br * w1i + bi * w1r;
        const float a1r = ar + vr, a1i = ai + vi, b1r = ar - vr, b1i = ai - vi;
        vr = dr * w1r - di * w1i;
        vi = dr * w1i + di * w1r;
        const float c1r = cr + vr, c1i = ci + vi, d1r = cr - vr, d1i = ci - vi;
        const float w2r = w2[0], w2i = w2[1];
        vr = c1r * w2r - c1i * w2i;
        vi = c1r * w2i + c1i * w2r;
        a[0] = a1r + vr;
        a[1] = a1i + vi;
        c[0] = a1r - vr;
        c[1] = a1i - vi;
        const float w3r = w3[0], w3i = w3[1];
        vr = d1r * w3r - d1i * w3i;
        vi = d1r * w3i + d1i * w3r;
        b[0] = b1r + vr;
        b[1] = b1i + vi;
        d[0] = b1r - vr;
        d[1] = b1i - vi;
      }
    }
  }
  if (len <= m) {  // one stage left over (m = 2, or an odd number of stages after the first two)
    const std::size_t half = len / 2, step = n / len;
    for (std::size_t start = 0; start < m; start += len) {
      for (std::size_t j = 0; j < half; ++j) {
        const float wr = tw[2 * j * step], wi = tw[2 * j * step + 1];
        float* a = buf + 2 * (start + j);
        float* b = a + 2 * half;
        const float ar = a[0], ai = a[1], br = b[0], bi = b[1];
        const float vr = br * wr - bi * wi, vi = br * wi + bi * wr;
        b[0] = ar - vr;
        b[1] = ai - vi;
        a[0] = ar + vr;
        a[1] = ai + vi;
      }
    }
  }
  // Split Z into the spectra of the even and odd samples and combine: X[k] = E[k] + W_n^k O[k].
  float z0r = buf[0], z0i = buf[1];
  for (std::size_t k = 1; k <= m / 2; ++k) {
    const float ar = buf[2 * k], ai = buf[2 * k + 1];
    const float br = buf[2 * (m - k)], bi = buf[2 * (m - k) + 1];
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
