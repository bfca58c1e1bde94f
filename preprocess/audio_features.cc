#include "preprocess/audio_features.h"

#include <cmath>

#include "preprocess/fastmath.h"

namespace tml::pre {

namespace {

std::size_t bins_of(const AudioConfig& c) { return c.fft_size / 2u + 1u; }

// Mel scales as torchaudio.functional.melscale_fbanks defines them, in double.
double hz_to_mel(double hz, MelScale scale) {
  if (scale == MelScale::htk) return 2595.0 / log_d(10.0) * log_d(1.0 + hz / 700.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = log_d(6.4) / 27.0;
  return hz >= min_log_hz ? min_log_mel + log_d(hz / min_log_hz) / logstep : hz / f_sp;
}

double mel_to_hz(double mel, MelScale scale) {
  if (scale == MelScale::htk) return 700.0 * (exp_d(mel * log_d(10.0) / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = log_d(6.4) / 27.0;
  return mel >= min_log_mel ? min_log_hz * exp_d(logstep * (mel - min_log_mel)) : f_sp * mel;
}

void init_mel(AudioState* s) {
  const AudioConfig& c = s->config;
  const std::size_t bands = c.mel_bands, bins = bins_of(c);
  double lo = hz_to_mel(c.fmin, c.mel_scale), hi = hz_to_mel(c.fmax, c.mel_scale);
  // f_pts[0..bands+1]: band b rises over [f_pts[b], f_pts[b+1]] and falls over [f_pts[b+1], f_pts[b+2]].
  auto f_pt = [&](std::size_t i) { return mel_to_hz(lo + (hi - lo) * static_cast<double>(i) / (bands + 1), c.mel_scale); };
  // Per bin: the segment j with f_pts[j] <= f < f_pts[j+1] (-1 outside) and the weight on band j's
  // rising edge (band j-1's falling edge gets 1 - it). Kept in the spectrum and FFT buffers, which
  // are free during set-up.
  float* segment = s->spectrum;
  float* rise = s->fft_buffer;
  for (std::size_t k = 0; k < bins; ++k) {
    double f = static_cast<double>(k) * c.sample_rate / c.fft_size;
    segment[k] = -1.0f;
    rise[k] = 0.0f;
    for (std::size_t j = 0; j <= bands; ++j) {
      double a = f_pt(j), b = f_pt(j + 1);
      if (f >= a && f < b) {
        segment[k] = static_cast<float>(j);
        rise[k] = static_cast<float>((f - a) / (b - a));
        break;
      }
    }
  }
  // Band b's weights, bin by bin (its bins are contiguous: segment grows with k): rising where
  // segment == b, falling where segment == b + 1. Each bin is in at most two bands.
  std::size_t w = 0;
  s->mel_bin_lo = bins;
  s->mel_bin_hi = 0;
  for (std::size_t b = 0; b < bands; ++b) {
    std::size_t first = 0, count = 0;
    for (std::size_t k = 0; k < bins; ++k) {
      float weight;
      if (segment[k] == static_cast<float>(b)) weight = rise[k];
      else if (segment[k] == static_cast<float>(b + 1)) weight = 1.0f - rise[k];
      else continue;
      if (count++ == 0) first = k;
      s->mel_weights[w++] = weight;
    }
    s->mel_first[b] = static_cast<std::uint16_t>(first);
    s->mel_count[b] = static_cast<std::uint16_t>(count);
    if (count > 0 && first < s->mel_bin_lo) s->mel_bin_lo = first;
    if (count > 0 && first + count > s->mel_bin_hi) s->mel_bin_hi = first + count;
  }
  if (s->mel_bin_hi == 0) s->mel_bin_lo = 0;
  for (std::size_t b = 0; b < bands; ++b) {
    s->mel_norm[b] = c.mel_scale == MelScale::slaney ? static_cast<float>(2.0 / (f_pt(b + 2) - f_pt(b))) : 1.0f;
  }
}

void init_tables(AudioState* s) {
  const AudioConfig& c = s->config;
  const std::size_t L = c.frame_length;
  const double denom = c.window_periodic ? static_cast<double>(L) : static_cast<double>(L - 1);
  const double a0 = c.window == WindowKind::hann ? 0.5 : 0.54;
  for (std::size_t i = 0; i < L; ++i) {
    s->window[i] = static_cast<float>(a0 - (1.0 - a0) * cos_d(2.0 * kPi * static_cast<double>(i) / denom));
  }
  init_mel(s);
  const std::size_t N = c.mel_bands;
  for (std::size_t k = 0; k < c.mfcc_coeffs; ++k) {
    double scale = std::sqrt(2.0 / static_cast<double>(N)) * (k == 0 ? std::sqrt(0.5) : 1.0);
    for (std::size_t n = 0; n < N; ++n) {
      s->dct[k * N + n] = static_cast<float>(scale * cos_d(kPi / static_cast<double>(N) * (n + 0.5) * k));
    }
    s->lifter[k] = c.lifter == 0 ? 1.0f
                                 : static_cast<float>(1.0 + 0.5 * c.lifter * sin_d(kPi * static_cast<double>(k) / c.lifter));
  }
}

void compute_frame(AudioState* s, float* out) {
  const AudioConfig& c = s->config;
  const std::size_t L = c.frame_length, n = c.fft_size, bins = bins_of(c);
  float* buf = s->fft_buffer;
  // Oldest sample first: the ring from ring_pos to its end, then from its start (no modulo per sample).
  const std::size_t tail = L - s->ring_pos;
  for (std::size_t i = 0; i < tail; ++i) buf[i] = s->ring[s->ring_pos + i] * s->window[i];
  for (std::size_t i = tail; i < L; ++i) buf[i] = s->ring[i - tail] * s->window[i];
  for (std::size_t i = L; i < n + 2; ++i) buf[i] = 0.0f;
  rfft(s->fft, buf);
  // Mel features need only the bins their filters cover.
  const bool all_bins = c.kind == AudioFeatureKind::spectrogram;
  const std::size_t k_lo = all_bins ? 0 : s->mel_bin_lo, k_hi = all_bins ? bins : s->mel_bin_hi;
  for (std::size_t k = k_lo; k < k_hi; ++k) {
    const float re = buf[2 * k], im = buf[2 * k + 1];
    const float p = re * re + im * im;
    s->spectrum[k] = c.spectrum == SpectrumKind::power ? p : sqrt_f(p);
  }
  if (c.kind == AudioFeatureKind::spectrogram) {
    for (std::size_t k = 0; k < bins; ++k) out[k] = log_f(s->spectrum[k] + c.log_floor);
    return;
  }
  const std::size_t bands = c.mel_bands;
  const float* weight = s->mel_weights;
  for (std::size_t b = 0; b < bands; ++b) {
    const float* spectrum = s->spectrum + s->mel_first[b];
    const std::size_t count = s->mel_count[b];
    float acc = 0.0f;
    for (std::size_t i = 0; i < count; ++i) acc += weight[i] * spectrum[i];
    s->mel[b] = acc;
    weight += count;
  }
  float* logmel = c.kind == AudioFeatureKind::logmel ? out : s->mel;
  for (std::size_t b = 0; b < bands; ++b) logmel[b] = log_f(s->mel[b] * s->mel_norm[b] + c.log_floor);
  if (c.kind == AudioFeatureKind::logmel) return;
  for (std::size_t k = 0; k < c.mfcc_coeffs; ++k) {
    const float* row = s->dct + k * bands;
    float acc = 0.0f;
    for (std::size_t b = 0; b < bands; ++b) acc += row[b] * logmel[b];
    out[k] = acc * s->lifter[k];
  }
}

// Per-clip mean normalisation: each coefficient minus its mean over the frames.
void subtract_means(float* out, std::size_t frames, std::size_t width) {
  if (frames == 0) return;
  for (std::size_t k = 0; k < width; ++k) {
    float sum = 0.0f;
    for (std::size_t t = 0; t < frames; ++t) sum += out[t * width + k];
    float mean = sum / static_cast<float>(frames);
    for (std::size_t t = 0; t < frames; ++t) out[t * width + k] -= mean;
  }
}

}  // namespace

std::size_t audio_feature_width(const AudioConfig& c) {
  switch (c.kind) {
    case AudioFeatureKind::mfcc: return c.mfcc_coeffs;
    case AudioFeatureKind::logmel: return c.mel_bands;
    default: return bins_of(c);
  }
}

std::size_t audio_frame_count(const AudioConfig& c, std::size_t samples) {
  if (c.frame_length == 0 || c.hop_length == 0 || samples < c.frame_length) return 0;
  return 1 + (samples - c.frame_length) / c.hop_length;
}

Status audio_validate(const AudioConfig& c) {
  const std::size_t n = c.fft_size;
  if (n < 64 || n > 1024 || (n & (n - 1)) != 0) return Status::bad_argument;
  if (c.frame_length == 0 || c.frame_length > n || c.hop_length == 0 || c.hop_length > c.frame_length) {
    return Status::bad_argument;
  }
  if (c.sample_rate == 0 || !(c.fmin >= 0.0f) || !(c.fmax > c.fmin) || c.fmax > c.sample_rate / 2.0f) {
    return Status::bad_argument;
  }
  if (c.mel_bands == 0 || c.mel_bands > kMaxMelBands || c.mfcc_coeffs == 0 || c.mfcc_coeffs > c.mel_bands) {
    return Status::bad_argument;
  }
  if (!(c.log_floor > 0.0f) || !(c.pre_emphasis >= 0.0f) || !(c.pre_emphasis < 1.0f)) return Status::bad_argument;
  return Status::ok;
}

std::size_t audio_workspace_floats(const AudioConfig& c) {
  const std::size_t n = c.fft_size, bins = bins_of(c);
  return rfft_twiddle_floats(n)                                     // FFT twiddles
         + c.frame_length                                           // window
         + n + 2                                                    // fft buffer
         + 3 * bins                                                 // spectrum, mel_weights (2 per bin)
         + 2 * c.mel_bands                                          // mel_norm, mel
         + static_cast<std::size_t>(c.mfcc_coeffs) * c.mel_bands    // dct
         + c.mfcc_coeffs                                            // lifter
         + c.frame_length;                                          // ring
}

Status audio_init(AudioState* s, const AudioConfig& c, float* workspace, std::size_t workspace_floats) {
  if (!s || !workspace) return Status::bad_argument;
  Status v = audio_validate(c);
  if (v != Status::ok) return v;
  if (workspace_floats < audio_workspace_floats(c)) return Status::buffer_too_small;
  s->config = c;
  const std::size_t n = c.fft_size, bins = bins_of(c);
  float* p = workspace;
  float* twiddle = p;
  p += rfft_twiddle_floats(n);
  Status f = rfft_init(&s->fft, n, twiddle, rfft_twiddle_floats(n), s->bitrev, kMaxAudioFft / 2);
  if (f != Status::ok) return f;
  s->window = p, p += c.frame_length;
  s->fft_buffer = p, p += n + 2;
  s->spectrum = p, p += bins;
  s->mel_weights = p, p += 2 * bins;
  s->mel_norm = p, p += c.mel_bands;
  s->mel = p, p += c.mel_bands;
  s->dct = p, p += static_cast<std::size_t>(c.mfcc_coeffs) * c.mel_bands;
  s->lifter = p, p += c.mfcc_coeffs;
  s->ring = p, p += c.frame_length;
  init_tables(s);
  audio_reset(s);
  return Status::ok;
}

void audio_reset(AudioState* s) {
  for (std::size_t i = 0; i < s->config.frame_length; ++i) s->ring[i] = 0.0f;
  s->ring_pos = 0;
  s->ring_fill = 0;
  s->since_frame = 0;
  s->emitted = false;
  s->last_sample = 0.0f;
}

Status audio_push(AudioState* s, const float* samples, std::size_t count, float* out, std::size_t* consumed,
                  bool* frame_ready) {
  if (!s || (!samples && count) || !out || !consumed || !frame_ready) return Status::bad_argument;
  const AudioConfig& c = s->config;
  const std::size_t L = c.frame_length;
  *frame_ready = false;
  std::size_t i = 0;
  while (i < count) {
    // Samples until the next frame is due: the ring's first fill, then one hop each.
    const std::size_t due = !s->emitted ? L - s->ring_fill : c.hop_length - s->since_frame;
    std::size_t run = count - i < due ? count - i : due;
    s->since_frame += run;
    s->ring_fill = s->ring_fill + run < L ? s->ring_fill + run : L;
    float prev = s->last_sample;
    std::size_t pos = s->ring_pos;
    const float pre = c.pre_emphasis;
    if (pre > 0.0f) {
      for (; run > 0; --run) {
        const float x = samples[i++];
        s->ring[pos] = x - pre * prev;
        prev = x;
        if (++pos == L) pos = 0;
      }
    } else {
      for (; run > 0; --run) {
        prev = samples[i++];
        s->ring[pos] = prev;
        if (++pos == L) pos = 0;
      }
    }
    s->last_sample = prev;
    s->ring_pos = pos;
    if (s->ring_fill == L && (!s->emitted || s->since_frame == c.hop_length)) {
      compute_frame(s, out);
      s->emitted = true;
      s->since_frame = 0;
      *frame_ready = true;
      break;
    }
  }
  *consumed = i;
  return Status::ok;
}

Status audio_features(AudioState* s, const float* samples, std::size_t count, float* out, std::size_t out_floats) {
  if (!s || (!samples && count) || (!out && out_floats)) return Status::bad_argument;
  const AudioConfig& c = s->config;
  const std::size_t width = audio_feature_width(c), frames = audio_frame_count(c, count);
  if (out_floats < frames * width) return Status::buffer_too_small;
  audio_reset(s);
  std::size_t done = 0, frame = 0;
  while (done < count && frame < frames) {
    std::size_t used = 0;
    bool ready = false;
    audio_push(s, samples + done, count - done, out + frame * width, &used, &ready);
    done += used;
    if (ready) ++frame;
  }
  if (c.mean_normalize) subtract_means(out, frames, width);
  return Status::ok;
}

Status audio_features_pcm16(AudioState* s, const std::int16_t* samples, std::size_t count, float* out,
                            std::size_t out_floats) {
  if (!s || (!samples && count)) return Status::bad_argument;
  // Converted to float in small chunks on the stack, then streamed like audio_features.
  const AudioConfig& c = s->config;
  const std::size_t width = audio_feature_width(c), frames = audio_frame_count(c, count);
  if (!out || out_floats < frames * width) return Status::buffer_too_small;
  audio_reset(s);
  float chunk[64];
  std::size_t done = 0, frame = 0;
  while (done < count && frame < frames) {
    std::size_t n = count - done < 64 ? count - done : 64;
    for (std::size_t i = 0; i < n; ++i) chunk[i] = static_cast<float>(samples[done + i]) * (1.0f / 32768.0f);
    std::size_t pos = 0;
    while (pos < n && frame < frames) {
      std::size_t used = 0;
      bool ready = false;
      audio_push(s, chunk + pos, n - pos, out + frame * width, &used, &ready);
      pos += used;
      if (ready) ++frame;
    }
    done += n;
  }
  if (c.mean_normalize) subtract_means(out, frames, width);
  return Status::ok;
}

}  // namespace tml::pre
