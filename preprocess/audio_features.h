#pragma once
// Audio features: pre-emphasis, framing, window, real FFT, power/magnitude spectrum, mel
// filterbank (HTK or Slaney), log with a floor, orthonormal DCT-II, liftering. Outputs MFCC,
// log-mel or log-spectrogram frames. Streaming: push one hop of samples, get one frame of
// features, with a ring buffer of the last frame — the whole-clip functions run the same stream.
#include <cstddef>
#include <cstdint>

#include "preprocess/rfft.h"
#include "preprocess/status.h"

namespace tml::pre {

enum class AudioFeatureKind : std::uint8_t { mfcc = 0, logmel = 1, spectrogram = 2 };
enum class WindowKind : std::uint8_t { hann = 0, hamming = 1 };
enum class MelScale : std::uint8_t { htk = 0, slaney = 1 };
enum class SpectrumKind : std::uint8_t { power = 0, magnitude = 1 };

struct AudioConfig {
  std::uint32_t sample_rate = 16000;
  AudioFeatureKind kind = AudioFeatureKind::mfcc;
  std::uint16_t frame_length = 480;  // samples
  std::uint16_t hop_length = 320;    // samples
  std::uint16_t fft_size = 512;      // power of two, 64..1024, >= frame_length
  WindowKind window = WindowKind::hann;
  bool window_periodic = true;
  float pre_emphasis = 0.0f;
  SpectrumKind spectrum = SpectrumKind::power;
  std::uint16_t mel_bands = 40;
  MelScale mel_scale = MelScale::htk;
  float fmin = 20.0f;
  float fmax = 4000.0f;
  float log_floor = 1e-6f;  // features use log(x + log_floor)
  std::uint16_t mfcc_coeffs = 10;
  std::uint16_t lifter = 0;
  bool mean_normalize = false;  // whole-clip only
};

// Values per output frame: mfcc_coeffs, mel_bands, or fft_size / 2 + 1.
std::size_t audio_feature_width(const AudioConfig& config);
// Frames for a clip of N samples: 1 + (N - frame_length) / hop_length, or 0 when N < frame_length.
std::size_t audio_frame_count(const AudioConfig& config, std::size_t samples);
// Floats of workspace that audio_init needs for this config.
std::size_t audio_workspace_floats(const AudioConfig& config);
Status audio_validate(const AudioConfig& config);

// The streaming extractor. All arrays live in the caller's workspace (audio_workspace_floats).
inline constexpr std::size_t kMaxAudioFft = 1024;
inline constexpr std::size_t kMaxMelBands = 128;

struct AudioState {
  AudioConfig config;
  RfftPlan fft;
  std::uint16_t bitrev[kMaxAudioFft / 2];  // FFT bit-reversal table
  float* window;       // frame_length
  float* fft_buffer;   // fft_size + 2
  float* spectrum;     // fft_size / 2 + 1
  float* mel_weights;  // band by band, the filter weights of its bins mel_first[b] .. + mel_count[b]
  std::uint16_t mel_first[kMaxMelBands];
  std::uint16_t mel_count[kMaxMelBands];
  float* mel_norm;     // mel_bands: Slaney area normalisation, or 1
  float* mel;          // mel_bands
  float* dct;          // mfcc_coeffs x mel_bands, orthonormal DCT-II
  float* lifter;       // mfcc_coeffs
  float* ring;         // frame_length: the last samples, oldest at ring_pos once full
  std::size_t mel_bin_lo, mel_bin_hi;  // the FFT bins some mel filter covers: [lo, hi)
  std::size_t ring_pos;
  std::size_t ring_fill;
  std::size_t since_frame;  // samples since the last frame
  bool emitted;             // a frame was produced since reset
  float last_sample;        // previous raw sample, for pre-emphasis across pushes
};

Status audio_init(AudioState* state, const AudioConfig& config, float* workspace, std::size_t workspace_floats);
void audio_reset(AudioState* state);
// Pushes samples (full scale ±1) until a frame completes or they run out. *consumed tells how many
// were taken; when a frame completed, *frame_ready is true and out holds audio_feature_width floats.
// The first frame needs frame_length samples, every later one hop_length more.
Status audio_push(AudioState* state, const float* samples, std::size_t count, float* out, std::size_t* consumed,
                  bool* frame_ready);
// Features of a whole clip: audio_frame_count * audio_feature_width floats, row-major by frame.
Status audio_features(AudioState* state, const float* samples, std::size_t count, float* out,
                      std::size_t out_floats);
// int16 PCM convenience: samples / 32768.
Status audio_features_pcm16(AudioState* state, const std::int16_t* samples, std::size_t count, float* out,
                            std::size_t out_floats);

}  // namespace tml::pre
