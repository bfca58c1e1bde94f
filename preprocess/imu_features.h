#pragma once
// IMU (vibration/motion) features for one window of samples: per-axis mean removal, optional
// low-/high-pass IIR filter (cascaded biquads, Butterworth), RMS, spectral power in bands (Welch
// average of Hann-windowed real FFTs, 50% overlap), and the strongest peak frequencies.
//
// Per axis, in this order (see imu_features.cc for the exact definitions):
//  1. remove_mean: subtract the axis' mean over the window (accumulated in double).
//  2. filter: Butterworth of filter_order (1..8) at filter_cutoff_hz, designed by the bilinear
//     transform with the cut-off pre-warped (|H(cutoff)| = 1/sqrt(2) exactly), realised as
//     order/2 biquads (+ one first-order section for odd orders), run in float, transposed
//     direct form II, from ZERO initial state on every window. A high-pass therefore starts with
//     a transient when the window does not start near zero: keep remove_mean on with a high-pass.
//  3. rms = sqrt(mean(x^2)) of the signal after steps 1-2.
//  4. Power spectrum: Welch average of frames of fft_size samples, hop fft_size/2, periodic Hann
//     window; frames that do not fit whole are dropped (like scipy.signal.welch); a window
//     shorter than fft_size gives one frame, Hann of window_samples, zero-padded to fft_size.
//     Scaled so that the one-sided bins sum to the (window-weighted) mean square of the signal:
//     P[k] = c_k |X_k|^2 / (fft_size * sum w^2), c_k = 2 except DC and Nyquist (1).
//  5. Bands: spectral_bands bands covering 0..sample_rate/2. Linear: equal width. Log: band 0 is
//     [0, sample_rate/fft_size) (DC and the lowest half bin), the others are log-spaced from
//     sample_rate/fft_size to sample_rate/2. Bin k stands for [k-1/2, k+1/2) * rate/fft_size
//     (clipped to 0..rate/2) and its power is shared between bands in proportion to overlap, so
//     the bands sum to the whole spectrum and a band narrower than a bin is never empty.
//     Reported value: log_f(band power + 1e-12f).
//  6. Peaks: bins 1..fft_size/2-1 with P[k] > P[k-1] and P[k] >= P[k+1] and P[k] above both
//     1e-12 and 1e-10 x the strongest bin (100 dB: rounding noise is no peak), the spectral_peaks
//     strongest (ties: lower frequency first), reported as k * sample_rate / fft_size in Hz,
//     strongest first; 0 pads when there are fewer.
#include <cstddef>
#include <cstdint>

#include "preprocess/status.h"

namespace tml::pre {

enum class ImuFilter : std::uint8_t { none = 0, lowpass = 1, highpass = 2 };
enum class BandSpacing : std::uint8_t { linear = 0, log = 1 };

struct ImuConfig {
  float sample_rate = 100.0f;          // Hz, (0, 1e6]
  std::uint16_t channels = 3;          // 1..64, interleaved
  std::uint32_t window_samples = 200;  // 4..(1 << 22)
  bool remove_mean = true;
  ImuFilter filter = ImuFilter::none;
  float filter_cutoff_hz = 0.0f;  // (0, sample_rate / 2) when filter != none
  std::uint8_t filter_order = 2;  // 1..8 (ignored when filter == none)
  std::uint16_t fft_size = 256;   // power of two, 16..1024
  std::uint16_t spectral_bands = 8;  // 0..64 (0: none)
  BandSpacing band_spacing = BandSpacing::linear;
  bool rms = true;
  std::uint8_t spectral_peaks = 3;  // 0..16 (0: none)
};

inline constexpr std::size_t kImuMaxFft = 1024;
inline constexpr std::size_t kImuMaxBands = 64;
inline constexpr std::size_t kImuMaxPeaks = 16;
inline constexpr std::size_t kImuMaxFilterOrder = 8;
inline constexpr std::size_t kImuMaxFilterSections = kImuMaxFilterOrder / 2 + 1;

// Features per window: channels * (rms + spectral_bands + spectral_peaks), axis by axis:
// [rms, band powers (log), peak frequencies in Hz sorted by power].
std::size_t imu_feature_count(const ImuConfig& config);
// Floats of workspace imu_features needs: 3 * fft_size + fft_size / 2 + spectral_bands +
// window_samples + 4. (imu_features also uses about 1.2 KB of stack for the FFT bit-reversal table.)
std::size_t imu_workspace_floats(const ImuConfig& config);
// ok, or bad_argument naming no field (see the ranges above; at least one feature per axis).
Status imu_validate(const ImuConfig& config);
// samples: window_samples rows of `channels` interleaved floats (sample_floats may be larger).
// bad_argument for an invalid config or a null pointer, buffer_too_small when samples, workspace
// or out are shorter than needed.
Status imu_features(const ImuConfig& config, const float* samples, std::size_t sample_floats, float* workspace,
                    std::size_t workspace_floats, float* out, std::size_t out_floats);

// --- Building blocks, exposed for tests, plots and streaming use -------------------------------

// One section y = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2); first-order sections have
// b2 = a2 = 0.
struct ImuBiquad {
  float b0, b1, b2, a1, a2;
};
struct ImuFilterDesign {
  std::uint8_t sections = 0;  // 0 when config.filter == none
  ImuBiquad section[kImuMaxFilterSections];
};
// The filter imu_features runs (coefficients designed in double with fastmath, stored as float).
// Sections run first-order first, then biquads from the lowest to the highest Q.
Status imu_filter_design(const ImuConfig& config, ImuFilterDesign* design);
// Runs the cascade over x[0..n) in place, from zero state, exactly as imu_features does.
void imu_filter_apply(const ImuFilterDesign& design, float* x, std::size_t n);
// The spectral_bands + 1 band edges in Hz (edges[0] = 0, edges[bands] = sample_rate / 2).
Status imu_band_edges_hz(const ImuConfig& config, float* edges, std::size_t edge_count);

}  // namespace tml::pre
