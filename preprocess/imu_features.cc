#include "preprocess/imu_features.h"

#include "preprocess/fastmath.h"
#include "preprocess/rfft.h"

// Portable core (DESIGN.md §2): no heap, no exceptions, no libm transcendental calls; every
// float operation is an IEEE +, -, *, / or sqrt, so x86-64 and Cortex-M4F give the same bits with
// -ffp-contract=off. Definitions of every step are in imu_features.h.

namespace tml::pre {
namespace {

constexpr float kPowerFloor = 1e-12f;
constexpr float kPeakDynamicRange = 1e-10f;  // 100 dB

bool valid_fft(std::uint16_t n) { return n >= 16 && n <= kImuMaxFft && (n & (n - 1)) == 0; }

std::size_t per_axis(const ImuConfig& c) {
  return (c.rms ? 1u : 0u) + static_cast<std::size_t>(c.spectral_bands) + c.spectral_peaks;
}

// Band edges in FFT-bin units (bin k is at k * rate / fft_size Hz): spectral_bands + 1 values
// from 0 to fft_size / 2, computed in double with fastmath and rounded once to float.
void band_edges_bins(const ImuConfig& c, float* edges) {
  const std::size_t bands = c.spectral_bands;
  const double half = static_cast<double>(c.fft_size / 2);
  edges[0] = 0.0f;
  if (bands == 0) return;
  if (c.band_spacing == BandSpacing::linear || bands == 1) {
    for (std::size_t b = 1; b <= bands; ++b) {
      edges[b] = static_cast<float>(static_cast<double>(b) * half / static_cast<double>(bands));
    }
  } else {
    // Band 0 is [0, 1 bin); edges 1..bands are log-spaced from 1 bin to fft_size / 2.
    const double log_half = log_d(half);
    for (std::size_t b = 1; b <= bands; ++b) {
      double t = static_cast<double>(b - 1) / static_cast<double>(bands - 1);
      edges[b] = static_cast<float>(exp_d(log_half * t));
    }
    edges[1] = 1.0f;
  }
  edges[bands] = static_cast<float>(half);
}

float min_f(float a, float b) { return a < b ? a : b; }
float max_f(float a, float b) { return a > b ? a : b; }

}  // namespace

std::size_t imu_feature_count(const ImuConfig& c) { return static_cast<std::size_t>(c.channels) * per_axis(c); }

std::size_t imu_workspace_floats(const ImuConfig& c) {
  const std::size_t n = c.fft_size;
  return rfft_twiddle_floats(n)              // FFT twiddles
         + (n + 2)                           // FFT buffer
         + n                                 // Hann window
         + (n / 2 + 1)                       // power spectrum
         + (c.spectral_bands + 1u)           // band edges
         + c.window_samples;                 // one axis, processed
}

Status imu_validate(const ImuConfig& c) {
  if (!(c.sample_rate > 0.0f && c.sample_rate <= 1e6f)) return Status::bad_argument;
  if (c.channels < 1 || c.channels > 64) return Status::bad_argument;
  if (c.window_samples < 4 || c.window_samples > (1u << 22)) return Status::bad_argument;
  if (!valid_fft(c.fft_size)) return Status::bad_argument;
  if (c.spectral_bands > kImuMaxBands || c.spectral_peaks > kImuMaxPeaks) return Status::bad_argument;
  if (c.band_spacing != BandSpacing::linear && c.band_spacing != BandSpacing::log) return Status::bad_argument;
  if (per_axis(c) == 0) return Status::bad_argument;
  switch (c.filter) {
    case ImuFilter::none:
      break;
    case ImuFilter::lowpass:
    case ImuFilter::highpass:
      if (c.filter_order < 1 || c.filter_order > kImuMaxFilterOrder) return Status::bad_argument;
      if (!(c.filter_cutoff_hz > 0.0f && c.filter_cutoff_hz < 0.5f * c.sample_rate)) return Status::bad_argument;
      break;
    default:
      return Status::bad_argument;
  }
  return Status::ok;
}

Status imu_filter_design(const ImuConfig& c, ImuFilterDesign* d) {
  if (!d) return Status::bad_argument;
  Status v = imu_validate(c);
  if (v != Status::ok) return v;
  d->sections = 0;
  if (c.filter == ImuFilter::none) return Status::ok;
  const bool low = c.filter == ImuFilter::lowpass;
  const std::size_t order = c.filter_order;
  // Pre-warped analogue cut-off: the bilinear transform s = (z - 1) / (z + 1) maps the analogue
  // frequency K = tan(pi fc / fs) onto fc.
  const double w = kPi * static_cast<double>(c.filter_cutoff_hz) / static_cast<double>(c.sample_rate);
  const double K = sin_d(w) / cos_d(w);
  const double K2 = K * K;
  if (order % 2 == 1) {  // the real pole s = -1: H(s) = 1 / (s + 1) or s / (s + 1)
    const double norm = 1.0 / (1.0 + K);
    ImuBiquad& s = d->section[d->sections++];
    s.b0 = static_cast<float>(low ? K * norm : norm);
    s.b1 = static_cast<float>(low ? K * norm : -norm);
    s.b2 = 0.0f;
    s.a1 = static_cast<float>((K - 1.0) * norm);
    s.a2 = 0.0f;
  }
  // Conjugate pole pairs at angles phi_k = pi (2k - 1) / (2 order) from the imaginary axis:
  // s^2 + 2 sin(phi_k) s + 1. k = order/2 has the lowest Q and runs first.
  for (std::size_t k = order / 2; k >= 1; --k) {
    const double phi = kPi * static_cast<double>(2 * k - 1) / static_cast<double>(2 * order);
    const double inv_q = 2.0 * sin_d(phi);
    const double norm = 1.0 / (1.0 + K * inv_q + K2);
    ImuBiquad& s = d->section[d->sections++];
    const double b0 = low ? K2 * norm : norm;
    s.b0 = static_cast<float>(b0);
    s.b1 = static_cast<float>(low ? 2.0 * b0 : -2.0 * b0);
    s.b2 = static_cast<float>(b0);
    s.a1 = static_cast<float>(2.0 * (K2 - 1.0) * norm);
    s.a2 = static_cast<float>((1.0 - K * inv_q + K2) * norm);
  }
  return Status::ok;
}

void imu_filter_apply(const ImuFilterDesign& d, float* x, std::size_t n) {
  for (std::size_t s = 0; s < d.sections; ++s) {
    const ImuBiquad q = d.section[s];
    float z1 = 0.0f, z2 = 0.0f;  // transposed direct form II, zero initial state
    for (std::size_t t = 0; t < n; ++t) {
      const float in = x[t];
      const float y = q.b0 * in + z1;
      z1 = q.b1 * in - q.a1 * y + z2;
      z2 = q.b2 * in - q.a2 * y;
      x[t] = y;
    }
  }
}

Status imu_band_edges_hz(const ImuConfig& c, float* edges, std::size_t edge_count) {
  if (!edges) return Status::bad_argument;
  Status v = imu_validate(c);
  if (v != Status::ok) return v;
  if (edge_count < static_cast<std::size_t>(c.spectral_bands) + 1u) return Status::buffer_too_small;
  band_edges_bins(c, edges);
  const double hz_per_bin = static_cast<double>(c.sample_rate) / static_cast<double>(c.fft_size);
  for (std::size_t b = 0; b <= c.spectral_bands; ++b) {
    edges[b] = static_cast<float>(static_cast<double>(edges[b]) * hz_per_bin);
  }
  return Status::ok;
}

Status imu_features(const ImuConfig& c, const float* samples, std::size_t sample_floats, float* workspace,
                    std::size_t workspace_floats, float* out, std::size_t out_floats) {
  if (!samples || !workspace || !out) return Status::bad_argument;
  Status v = imu_validate(c);
  if (v != Status::ok) return v;
  const std::size_t channels = c.channels, N = c.window_samples, n = c.fft_size, half = n / 2;
  if (sample_floats < N * channels) return Status::buffer_too_small;
  if (workspace_floats < imu_workspace_floats(c)) return Status::buffer_too_small;
  if (out_floats < imu_feature_count(c)) return Status::buffer_too_small;

  ImuFilterDesign filter;
  v = imu_filter_design(c, &filter);
  if (v != Status::ok) return v;

  // Workspace layout (imu_workspace_floats).
  float* p = workspace;
  float* twiddle = p;
  p += rfft_twiddle_floats(n);
  float* buf = p;
  p += n + 2;
  float* window = p;
  p += n;
  float* power = p;
  p += half + 1;
  float* edges = p;
  p += c.spectral_bands + 1u;
  float* x = p;

  const bool spectrum = c.spectral_bands > 0 || c.spectral_peaks > 0;
  RfftPlan plan;
  std::uint16_t bitrev[kImuMaxFft / 2];
  // Welch frames: length L (fft_size, or the whole shorter window zero-padded), hop fft_size / 2.
  const std::size_t L = N >= n ? n : N;
  const std::size_t hop = half;
  const std::size_t frames = N >= n ? 1 + (N - n) / hop : 1;
  float bin_scale = 0.0f;  // 1 / (frames * n * sum w^2)
  if (spectrum) {
    v = rfft_init(&plan, n, twiddle, rfft_twiddle_floats(n), bitrev, kImuMaxFft / 2);
    if (v != Status::ok) return v;
    // Periodic Hann, w[i] = 0.5 - 0.5 cos(2 pi i / L). For L = n the cosines are the FFT's own
    // twiddles (cos(2 pi i / n) for i < n/2, and its negation shifted by n/2 above).
    double sum_w2 = 0.0;
    for (std::size_t i = 0; i < L; ++i) {
      float cosine;
      if (L == n) {
        cosine = i < half ? twiddle[2 * i] : -twiddle[2 * (i - half)];
      } else {
        cosine = static_cast<float>(cos_d(2.0 * kPi * static_cast<double>(i) / static_cast<double>(L)));
      }
      window[i] = 0.5f - 0.5f * cosine;
      sum_w2 += static_cast<double>(window[i]) * static_cast<double>(window[i]);
    }
    bin_scale = static_cast<float>(1.0 / (static_cast<double>(frames) * static_cast<double>(n) * sum_w2));
    band_edges_bins(c, edges);
  }

  float* o = out;
  for (std::size_t ch = 0; ch < channels; ++ch) {
    for (std::size_t t = 0; t < N; ++t) x[t] = samples[t * channels + ch];

    if (c.remove_mean) {
      double sum = 0.0;
      for (std::size_t t = 0; t < N; ++t) sum += static_cast<double>(x[t]);
      const float mean = static_cast<float>(sum / static_cast<double>(N));
      for (std::size_t t = 0; t < N; ++t) x[t] -= mean;
    }
    imu_filter_apply(filter, x, N);

    if (c.rms) {
      double sum_sq = 0.0;
      for (std::size_t t = 0; t < N; ++t) sum_sq += static_cast<double>(x[t]) * static_cast<double>(x[t]);
      *o++ = sqrt_f(static_cast<float>(sum_sq / static_cast<double>(N)));
    }
    if (!spectrum) continue;

    // Welch average of |X_k|^2, then scaled to one-sided power per bin.
    for (std::size_t k = 0; k <= half; ++k) power[k] = 0.0f;
    for (std::size_t f = 0; f < frames; ++f) {
      const float* frame = x + f * hop;
      for (std::size_t i = 0; i < L; ++i) buf[i] = frame[i] * window[i];
      for (std::size_t i = L; i < n + 2; ++i) buf[i] = 0.0f;
      rfft(plan, buf);
      for (std::size_t k = 0; k <= half; ++k) {
        const float re = buf[2 * k], im = buf[2 * k + 1];
        power[k] += re * re + im * im;
      }
    }
    for (std::size_t k = 0; k <= half; ++k) {
      const float one_sided = (k == 0 || k == half) ? 1.0f : 2.0f;
      power[k] = power[k] * bin_scale * one_sided;
    }

    // Bands: bin k covers [k - 1/2, k + 1/2) bins, clipped to [0, n/2]; its power is split by overlap.
    const std::size_t bands = c.spectral_bands;
    float* band = o;
    for (std::size_t b = 0; b < bands; ++b) band[b] = 0.0f;
    std::size_t first = 0;
    const float top = static_cast<float>(half);
    for (std::size_t k = 0; k <= half && bands > 0; ++k) {
      const float centre = static_cast<float>(k);
      const float lo = k == 0 ? 0.0f : centre - 0.5f;
      const float hi = k == half ? top : centre + 0.5f;
      const float span = hi - lo;
      while (first + 1 < bands && edges[first + 1] <= lo) ++first;
      for (std::size_t b = first; b < bands && edges[b] < hi; ++b) {
        const float a = max_f(lo, edges[b]), z = min_f(hi, edges[b + 1]);
        if (z > a) band[b] += power[k] * ((z - a) / span);
      }
    }
    for (std::size_t b = 0; b < bands; ++b) band[b] = log_f(band[b] + kPowerFloor);
    o += bands;

    // Peaks: strict local maxima (plateaus count once, at their first bin), strongest first.
    const std::size_t want = c.spectral_peaks;
    if (want > 0) {
      std::size_t bin[kImuMaxPeaks];
      float level[kImuMaxPeaks];
      std::size_t have = 0;
      // Maxima more than 100 dB below the strongest bin (or below the band floor) are rounding
      // noise and side lobes, not peaks.
      float strongest = 0.0f;
      for (std::size_t k = 0; k <= half; ++k) strongest = max_f(strongest, power[k]);
      const float floor = max_f(kPowerFloor, strongest * kPeakDynamicRange);
      for (std::size_t k = 1; k < half; ++k) {
        const float pk = power[k];
        if (!(pk > floor && pk > power[k - 1] && pk >= power[k + 1])) continue;
        if (have == want && !(pk > level[want - 1])) continue;
        std::size_t i = have < want ? have++ : want - 1;
        while (i > 0 && pk > level[i - 1]) {
          level[i] = level[i - 1];
          bin[i] = bin[i - 1];
          --i;
        }
        level[i] = pk;
        bin[i] = k;
      }
      const float fs = c.sample_rate, fn = static_cast<float>(n);
      for (std::size_t i = 0; i < want; ++i) {
        o[i] = i < have ? static_cast<float>(bin[i]) * fs / fn : 0.0f;
      }
      o += want;
    }
  }
  return Status::ok;
}

}  // namespace tml::pre
