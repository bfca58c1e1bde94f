#pragma once
// IMU (vibration/motion) features for one window of samples: per-axis mean removal, optional
// low-/high-pass IIR filter (cascaded biquads, Butterworth), RMS, spectral power in bands (Welch
// average of Hann-windowed real FFTs, 50% overlap), and the strongest peak frequencies.
#include <cstddef>
#include <cstdint>

#include "preprocess/status.h"

namespace tml::pre {

enum class ImuFilter : std::uint8_t { none = 0, lowpass = 1, highpass = 2 };
enum class BandSpacing : std::uint8_t { linear = 0, log = 1 };

struct ImuConfig {
  float sample_rate = 100.0f;
  std::uint16_t channels = 3;
  std::uint32_t window_samples = 200;
  bool remove_mean = true;
  ImuFilter filter = ImuFilter::none;
  float filter_cutoff_hz = 0.0f;
  std::uint8_t filter_order = 2;  // 1..8
  std::uint16_t fft_size = 256;   // power of two, 16..1024
  std::uint16_t spectral_bands = 8;
  BandSpacing band_spacing = BandSpacing::linear;
  bool rms = true;
  std::uint8_t spectral_peaks = 3;
};

// Features per window: channels * (rms + spectral_bands + spectral_peaks), axis by axis:
// [rms, band powers (log), peak frequencies in Hz sorted by power].
std::size_t imu_feature_count(const ImuConfig& config);
std::size_t imu_workspace_floats(const ImuConfig& config);
Status imu_validate(const ImuConfig& config);
// samples: window_samples rows of `channels` interleaved floats.
Status imu_features(const ImuConfig& config, const float* samples, std::size_t sample_floats, float* workspace,
                    std::size_t workspace_floats, float* out, std::size_t out_floats);

}  // namespace tml::pre
