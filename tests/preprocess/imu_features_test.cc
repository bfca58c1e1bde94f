#include "preprocess/imu_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace tml {
namespace {

using namespace tml::pre;

constexpr double kRate = 952.0;  // LSM9DS1 accelerometer top rate on the Nano 33 BLE Sense
constexpr std::size_t kWindow = 1904;  // 2 s

ImuConfig base_config() {
  ImuConfig c;
  c.sample_rate = static_cast<float>(kRate);
  c.channels = 3;
  c.window_samples = kWindow;
  c.remove_mean = true;
  c.filter = ImuFilter::none;
  c.fft_size = 256;
  c.spectral_bands = 8;
  c.band_spacing = BandSpacing::linear;
  c.rms = true;
  c.spectral_peaks = 3;
  return c;
}

struct Result {
  Status status;
  std::vector<float> out;
};

Result run(const ImuConfig& c, const std::vector<float>& samples) {
  std::vector<float> work(imu_workspace_floats(c));
  Result r{Status::ok, std::vector<float>(imu_feature_count(c), -999.0f)};
  r.status = imu_features(c, samples.data(), samples.size(), work.data(), work.size(), r.out.data(), r.out.size());
  return r;
}

// Features of axis `ch`: [rms?, bands..., peaks...].
struct Axis {
  float rms = 0;
  std::vector<float> bands, peaks;
};
Axis axis_of(const ImuConfig& c, const std::vector<float>& out, std::size_t ch) {
  const std::size_t per = (c.rms ? 1 : 0) + c.spectral_bands + c.spectral_peaks;
  const float* p = out.data() + ch * per;
  Axis a;
  if (c.rms) a.rms = *p++;
  a.bands.assign(p, p + c.spectral_bands);
  p += c.spectral_bands;
  a.peaks.assign(p, p + c.spectral_peaks);
  return a;
}

std::size_t band_of(const ImuConfig& c, double hz) {
  std::vector<float> edges(c.spectral_bands + 1);
  EXPECT_EQ(imu_band_edges_hz(c, edges.data(), edges.size()), Status::ok);
  for (std::size_t b = 0; b < c.spectral_bands; ++b) {
    if (hz >= edges[b] && hz < edges[b + 1]) return b;
  }
  return c.spectral_bands - 1;
}

std::size_t argmax(const std::vector<float>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// A machine on a rigid mount, accelerometer in g: shaft imbalance at the shaft rate (1x) with
// misalignment harmonics (2x, 3x); an outer-race bearing defect hits once per ball pass
// (BPFO = 3.58 x shaft) and every hit rings the bearing housing's 300 Hz resonance (damping 4%);
// gravity on z; sensor noise (fixed seed). Axes see the sources with different gains.
std::vector<float> machine(double shaft_hz, double fault_g, std::uint32_t seed, double noise_g = 0.02) {
  const double bpfo = 3.58 * shaft_hz, f_res = 300.0, zeta = 0.04;
  const double gain[3][2] = {{1.0, 1.0}, {0.7, 0.6}, {0.4, 0.8}};  // per axis: shaft, bearing
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_g);
  std::vector<float> s(kWindow * 3);
  for (std::size_t t = 0; t < kWindow; ++t) {
    const double time = static_cast<double>(t) / kRate;
    const double w = 2 * M_PI * shaft_hz * time;
    const double shaft = 0.5 * std::sin(w + 0.3) + 0.15 * std::sin(2 * w + 1.1) + 0.07 * std::sin(3 * w + 2.0);
    // Sum of decaying rings from every impact so far (only the last few matter).
    double ring = 0;
    const double since_last = std::fmod(time, 1.0 / bpfo);
    for (int back = 0; back < 6; ++back) {
      const double age = since_last + back / bpfo;
      if (age > time) break;
      ring += std::exp(-zeta * 2 * M_PI * f_res * age) * std::sin(2 * M_PI * f_res * age);
    }
    ring *= fault_g;
    for (std::size_t ch = 0; ch < 3; ++ch) {
      double v = gain[ch][0] * shaft + gain[ch][1] * ring + noise(rng) + (ch == 2 ? 1.0 : 0.0);
      s[t * 3 + ch] = static_cast<float>(v);
    }
  }
  return s;
}

std::vector<float> tones(std::size_t channels, std::size_t n, const std::vector<std::pair<double, double>>& hz_amp,
                         double offset = 0.0, double tilt = 0.0) {
  std::vector<float> s(n * channels);
  for (std::size_t t = 0; t < n; ++t) {
    const double time = static_cast<double>(t) / kRate;
    double v = offset + tilt * time;
    for (auto [hz, amp] : hz_amp) v += amp * std::sin(2 * M_PI * hz * time + 0.2);
    for (std::size_t ch = 0; ch < channels; ++ch) s[t * channels + ch] = static_cast<float>(v);
  }
  return s;
}

TEST(ImuFeatures, CountsAndWorkspace) {
  ImuConfig c = base_config();
  EXPECT_EQ(imu_feature_count(c), 3u * (1 + 8 + 3));
  EXPECT_EQ(imu_workspace_floats(c), 3u * 256 + 128 + 8 + kWindow + 4);
  c.rms = false;
  c.spectral_peaks = 0;
  EXPECT_EQ(imu_feature_count(c), 3u * 8);
}

bool has_peak_near(const std::vector<float>& peaks, double hz, double tolerance) {
  return std::any_of(peaks.begin(), peaks.end(), [&](float p) { return std::abs(p - hz) <= tolerance; });
}

TEST(ImuFeatures, VibrationModelPeakAtShaftRateAndBandPower) {
  const double shaft = 25.0, bin_hz = kRate / 256;
  std::vector<float> s = machine(shaft, 0.3, 42);
  for (std::uint16_t bands : {8, 32}) {
    ImuConfig c = base_config();
    c.spectral_bands = bands;
    Result r = run(c, s);
    ASSERT_EQ(r.status, Status::ok);
    for (std::size_t ch = 0; ch < 3; ++ch) {
      Axis a = axis_of(c, r.out, ch);
      SCOPED_TRACE("bands " + std::to_string(bands) + " axis " + std::to_string(ch));
      EXPECT_NEAR(a.peaks[0], shaft, bin_hz) << "strongest peak on the shaft-rate bin";
      EXPECT_TRUE(has_peak_near(a.peaks, 2 * shaft, bin_hz)) << "the 2x harmonic is among the top 3";
      EXPECT_GT(a.peaks[0], 0.0f);
      EXPECT_EQ(argmax(a.bands), band_of(c, shaft)) << "band holding the shaft tone has the most power";
    }
  }
}

TEST(ImuFeatures, BearingFaultRaisesResonanceBand) {
  // The defect's impacts ring the 300 Hz housing resonance once per ball pass, so the power
  // appears on the BPFO harmonics next to the resonance: 3 x 89.5 = 268.5 Hz and 4 x = 358 Hz.
  const double bpfo = 3.58 * 25.0;
  ImuConfig c = base_config();
  c.spectral_bands = 16;
  Result healthy = run(c, machine(25.0, 0.0, 7));
  Result faulty = run(c, machine(25.0, 0.3, 7));
  ASSERT_EQ(healthy.status, Status::ok);
  ASSERT_EQ(faulty.status, Status::ok);
  const std::size_t b = band_of(c, 3 * bpfo);
  for (std::size_t ch = 0; ch < 3; ++ch) {
    Axis h = axis_of(c, healthy.out, ch), f = axis_of(c, faulty.out, ch);
    const float rise_db = 10.0f * (f.bands[b] - h.bands[b]) / std::log(10.0f);
    EXPECT_GT(rise_db, 10.0f) << "axis " << ch << ": band of 3 x BPFO";
    std::printf("bearing fault, axis %zu: band %.0f-%.0f Hz rises %.1f dB; peaks %.1f %.1f %.1f Hz\n", ch,
                b * kRate / 32, (b + 1) * kRate / 32, rise_db, f.peaks[0], f.peaks[1], f.peaks[2]);
    EXPECT_TRUE(has_peak_near(f.peaks, 3 * bpfo, kRate / 256)) << "axis " << ch << ": a peak on 3 x BPFO";
    EXPECT_GT(f.rms, h.rms);
  }
}

TEST(ImuFeatures, RmsOfSineAndBandsSumToMeanSquare) {
  const double A = 0.8;
  ImuConfig c = base_config();
  for (double hz : {25.0, 31.0, 120.5}) {
    Result r = run(c, tones(3, kWindow, {{hz, A}}, 0.5));
    ASSERT_EQ(r.status, Status::ok);
    for (std::size_t ch = 0; ch < 3; ++ch) {
      Axis a = axis_of(c, r.out, ch);
      EXPECT_NEAR(a.rms, A / std::sqrt(2.0), 1e-3) << hz << " Hz";
      double total = 0;
      for (float b : a.bands) total += std::exp(static_cast<double>(b)) - 1e-12;
      EXPECT_NEAR(total, A * A / 2, 0.01 * A * A / 2) << "bands sum to the mean square (Parseval)";
      EXPECT_NEAR(a.peaks[0], hz, kRate / 256);
      EXPECT_EQ(argmax(a.bands), band_of(c, hz));
    }
  }
}

TEST(ImuFeatures, MeanRemoval) {
  const double A = 0.3, g = 9.81;
  ImuConfig c = base_config();
  c.channels = 1;
  std::vector<float> s = tones(1, kWindow, {{50.0, A}}, g);
  Result on = run(c, s);
  c.remove_mean = false;
  Result off = run(c, s);
  ASSERT_EQ(on.status, Status::ok);
  ASSERT_EQ(off.status, Status::ok);
  c.remove_mean = true;
  Axis a_on = axis_of(c, on.out, 0), a_off = axis_of(c, off.out, 0);
  EXPECT_NEAR(a_on.rms, A / std::sqrt(2.0), 1e-3);
  EXPECT_NEAR(a_off.rms, std::sqrt(g * g + A * A / 2), 1e-3);
  // Without mean removal the DC (gravity) dominates band 0; with it, band 0 holds only the tone.
  EXPECT_GT(a_off.bands[0] - a_on.bands[0], std::log(100.0f));
  EXPECT_NEAR(std::exp(a_on.bands[0]), A * A / 2, 0.02 * A * A / 2);
  EXPECT_NEAR(a_on.peaks[0], 50.0, kRate / 256);
}

TEST(ImuFeatures, HighPassRemovesDcAndSlowTilt) {
  // Gravity plus a slow tilt (0.4 g over the window) plus a 25 Hz vibration of 0.2 g.
  const double A = 0.2;
  std::vector<float> s = tones(1, kWindow, {{25.0, A}}, 9.81, 0.2);
  ImuConfig c = base_config();
  c.channels = 1;
  c.spectral_bands = 32;  // 14.9 Hz bands: the tilt in band 0, the tone in band 1
  Result plain = run(c, s);
  c.filter = ImuFilter::highpass;
  c.filter_cutoff_hz = 5.0f;
  c.filter_order = 2;
  Result hp = run(c, s);
  ASSERT_EQ(plain.status, Status::ok);
  ASSERT_EQ(hp.status, Status::ok);
  Axis a_plain = axis_of(c, plain.out, 0), a_hp = axis_of(c, hp.out, 0);
  ASSERT_EQ(band_of(c, 25.0), 1u);
  EXPECT_GT(a_plain.bands[0] - a_hp.bands[0], std::log(100.0f)) << "tilt below 5 Hz attenuated > 20 dB";
  EXPECT_NEAR(a_hp.bands[1], a_plain.bands[1], 0.05) << "the 25 Hz tone passes";
  EXPECT_NEAR(a_hp.rms, A / std::sqrt(2.0), 0.01) << "RMS is the vibration's (zero-state transient included)";
  EXPECT_NEAR(a_hp.peaks[0], 25.0, kRate / 256);

  // Without mean removal gravity is a 9.81 g step at the first sample: the zero-state high-pass
  // still removes it, but the start transient is visible in the RMS (documented behaviour).
  c.remove_mean = false;
  Result step = run(c, s);
  ASSERT_EQ(step.status, Status::ok);
  EXPECT_GT(axis_of(c, step.out, 0).rms, a_hp.rms);
}

TEST(ImuFeatures, LowPassOrder4AttenuatesToneAboveCutoff) {
  std::vector<float> s = tones(1, kWindow, {{20.0, 0.5}, {200.0, 0.5}});
  ImuConfig c = base_config();
  c.channels = 1;
  Result plain = run(c, s);
  c.filter = ImuFilter::lowpass;
  c.filter_cutoff_hz = 50.0f;
  c.filter_order = 4;
  Result lp = run(c, s);
  ASSERT_EQ(plain.status, Status::ok);
  ASSERT_EQ(lp.status, Status::ok);
  const std::size_t hi = band_of(c, 200.0), lo = band_of(c, 20.0);
  ASSERT_NE(hi, lo);
  Axis a_plain = axis_of(c, plain.out, 0), a_lp = axis_of(c, lp.out, 0);
  const double drop_db = 10.0 * (a_plain.bands[hi] - a_lp.bands[hi]) / std::log(10.0);
  EXPECT_GT(drop_db, 20.0);
  RecordProperty("lowpass_200hz_drop_db", std::to_string(drop_db));
  std::printf("low-pass order 4 at 50 Hz: 200 Hz band drops %.1f dB\n", drop_db);
  EXPECT_NEAR(a_lp.bands[lo], a_plain.bands[lo], 0.05) << "20 Hz passes";

  // A pure tone far above cut-off: RMS falls > 20 dB too.
  std::vector<float> t = tones(1, kWindow, {{200.0, 1.0}});
  Result rt = run(c, t);
  ASSERT_EQ(rt.status, Status::ok);
  EXPECT_LT(axis_of(c, rt.out, 0).rms, 0.1 * (1.0 / std::sqrt(2.0)));
}

// |H(e^{j 2 pi f / fs})| of the designed cascade, evaluated in double from its coefficients.
double response(const ImuFilterDesign& d, double f, double fs) {
  const std::complex<double> z1 = std::polar(1.0, -2 * M_PI * f / fs), z2 = z1 * z1;
  std::complex<double> h = 1.0;
  for (std::size_t i = 0; i < d.sections; ++i) {
    const ImuBiquad& q = d.section[i];
    const double b0 = q.b0, b1 = q.b1, b2 = q.b2, a1 = q.a1, a2 = q.a2;
    h *= (b0 + b1 * z1 + b2 * z2) / (1.0 + a1 * z1 + a2 * z2);
  }
  return std::abs(h);
}

TEST(ImuFeatures, FilterMatchesButterworthReference) {
  const double fs = kRate;
  double worst_warped = 0, worst_analog = 0, worst_run = 0;
  for (ImuFilter kind : {ImuFilter::lowpass, ImuFilter::highpass}) {
    for (double fc : {5.0, 50.0, 200.0}) {
      for (int order = 1; order <= 8; ++order) {
        ImuConfig c = base_config();
        c.filter = kind;
        c.filter_cutoff_hz = static_cast<float>(fc);
        c.filter_order = static_cast<std::uint8_t>(order);
        ImuFilterDesign d;
        ASSERT_EQ(imu_filter_design(c, &d), Status::ok);
        ASSERT_EQ(d.sections, order / 2 + order % 2);
        const double wc = std::tan(M_PI * fc / fs);
        for (double ratio : {0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0}) {
          const double f = fc * ratio;
          if (f >= fs / 2) continue;
          // Bilinear Butterworth with pre-warping, exactly: |H| = 1 / sqrt(1 + (tan(pi f/fs)/tan(pi fc/fs))^(2n)).
          double r = std::tan(M_PI * f / fs) / wc;
          if (kind == ImuFilter::highpass) r = 1 / r;
          const double warped = 1 / std::sqrt(1 + std::pow(r, 2 * order));
          // The analogue prototype: 1 / sqrt(1 + (f/fc)^(2n)).
          double ra = kind == ImuFilter::lowpass ? ratio : 1 / ratio;
          const double analog = 1 / std::sqrt(1 + std::pow(ra, 2 * order));
          const double h = response(d, f, fs);
          worst_warped = std::max(worst_warped, std::abs(h - warped));
          EXPECT_NEAR(h, warped, 2e-4) << "order " << order << " fc " << fc << " f " << f;
          if (ratio >= 0.8 && ratio <= 1.25 && fc <= 50) {
            worst_analog = std::max(worst_analog, std::abs(h - analog));
            EXPECT_NEAR(h, analog, 0.01) << "order " << order << " fc " << fc << " f " << f;
          }
        }
        // Run the float filter on a tone at the cut-off and at 0.7 / 1.4 x: the steady-state
        // amplitude (least-squares sine fit after the transient) matches the double response.
        for (double ratio : {0.7, 1.0, 1.4}) {
          const double f = fc * ratio;
          if (f >= fs / 2) continue;
          const std::size_t n = 20000, start = n / 2;
          std::vector<float> x(n);
          for (std::size_t t = 0; t < n; ++t) x[t] = static_cast<float>(std::sin(2 * M_PI * f * t / fs));
          imu_filter_apply(d, x.data(), n);
          double cc = 0, cs = 0, ss = 0, xc = 0, xs = 0;
          for (std::size_t t = start; t < n; ++t) {
            const double co = std::cos(2 * M_PI * f * t / fs), si = std::sin(2 * M_PI * f * t / fs);
            cc += co * co, cs += co * si, ss += si * si, xc += x[t] * co, xs += x[t] * si;
          }
          const double det = cc * ss - cs * cs;
          const double a = (xc * ss - xs * cs) / det, b = (xs * cc - xc * cs) / det;
          const double amp = std::hypot(a, b), expect = response(d, f, fs);
          worst_run = std::max(worst_run, std::abs(amp - expect));
          EXPECT_NEAR(amp, expect, 1e-3) << "run: order " << order << " fc " << fc << " f " << f;
        }
      }
    }
  }
  std::printf("filter |H| error: vs warped formula %.2e, vs analogue near cut-off %.2e, float run %.2e\n",
              worst_warped, worst_analog, worst_run);
}

TEST(ImuFeatures, ShortWindowIsOneZeroPaddedFrame) {
  ImuConfig c = base_config();
  c.channels = 2;
  c.window_samples = 150;  // < fft_size 256
  const double A = 0.6, hz = 95.2;
  Result r = run(c, tones(2, 150, {{hz, A}}));
  ASSERT_EQ(r.status, Status::ok);
  for (std::size_t ch = 0; ch < 2; ++ch) {
    Axis a = axis_of(c, r.out, ch);
    EXPECT_NEAR(a.peaks[0], hz, kRate / 256);
    double total = 0;
    for (float b : a.bands) total += std::exp(static_cast<double>(b));
    EXPECT_NEAR(total, A * A / 2, 0.05 * A * A / 2);
    EXPECT_NEAR(a.rms, A / std::sqrt(2.0), 0.02);
  }
}

TEST(ImuFeatures, LogBandsAndSilence) {
  ImuConfig c = base_config();
  c.band_spacing = BandSpacing::log;
  c.spectral_bands = 8;
  std::vector<float> e(9);
  ASSERT_EQ(imu_band_edges_hz(c, e.data(), e.size()), Status::ok);
  EXPECT_EQ(e[0], 0.0f);
  EXPECT_FLOAT_EQ(e[1], static_cast<float>(kRate / 256));
  EXPECT_FLOAT_EQ(e[8], static_cast<float>(kRate / 2));
  for (std::size_t b = 2; b < 8; ++b) EXPECT_NEAR(e[b + 1] / e[b], e[2] / e[1], 1e-4);
  EXPECT_EQ(imu_band_edges_hz(c, e.data(), 8), Status::buffer_too_small);

  Result r = run(c, tones(3, kWindow, {{60.0, 0.4}}));
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_EQ(argmax(axis_of(c, r.out, 1).bands), band_of(c, 60.0));

  // Silence: rms 0, bands at log(1e-12), no peaks (all padded with 0).
  Result z = run(c, std::vector<float>(kWindow * 3, 0.0f));
  ASSERT_EQ(z.status, Status::ok);
  Axis a = axis_of(c, z.out, 2);
  EXPECT_EQ(a.rms, 0.0f);
  for (float b : a.bands) EXPECT_NEAR(b, std::log(1e-12f), 1e-4);
  for (float p : a.peaks) EXPECT_EQ(p, 0.0f);

  // A lone tone on a non-integer bin: its Hann side lobes are local maxima too, but the tone
  // ranks first; with spectral_peaks > the local maxima present, the tail is padded with 0.
  ImuConfig one = base_config();
  one.channels = 1;
  one.spectral_peaks = 16;
  one.window_samples = 256;  // one frame
  Result t = run(one, tones(1, 256, {{3.0 * kRate / 256, 1.0}}));  // exactly on bin 3: one lobe
  ASSERT_EQ(t.status, Status::ok);
  Axis at = axis_of(one, t.out, 0);
  EXPECT_FLOAT_EQ(at.peaks[0], static_cast<float>(3 * kRate / 256));
  EXPECT_EQ(at.peaks[15], 0.0f);
}

TEST(ImuFeatures, RejectsBadConfigsAndBuffers) {
  std::vector<float> s(kWindow * 3, 0.0f);
  auto status = [&](const ImuConfig& c) { return imu_validate(c); };
  ImuConfig c = base_config();
  EXPECT_EQ(status(c), Status::ok);
  for (std::uint16_t bad_fft : {0, 8, 100, 255, 2048}) {
    c = base_config();
    c.fft_size = bad_fft;
    EXPECT_EQ(status(c), Status::bad_argument) << bad_fft;
    EXPECT_EQ(run(c, s).status, Status::bad_argument) << bad_fft;
  }
  c = base_config();
  c.filter = ImuFilter::lowpass;
  c.filter_cutoff_hz = static_cast<float>(kRate / 2);
  EXPECT_EQ(status(c), Status::bad_argument) << "cut-off at Nyquist";
  c.filter_cutoff_hz = 600.0f;
  EXPECT_EQ(status(c), Status::bad_argument) << "cut-off above Nyquist";
  c.filter = ImuFilter::highpass;
  EXPECT_EQ(status(c), Status::bad_argument);
  c.filter_cutoff_hz = 0.0f;
  EXPECT_EQ(status(c), Status::bad_argument) << "filter without cut-off";
  c.filter = ImuFilter::none;
  EXPECT_EQ(status(c), Status::ok) << "cut-off ignored without a filter";
  c.filter = ImuFilter::lowpass;
  c.filter_cutoff_hz = 40.0f;
  EXPECT_EQ(status(c), Status::ok);
  c.filter_order = 0;
  EXPECT_EQ(status(c), Status::bad_argument);
  c.filter_order = 9;
  EXPECT_EQ(status(c), Status::bad_argument);
  c = base_config();
  c.spectral_bands = 65;
  EXPECT_EQ(status(c), Status::bad_argument);
  c = base_config();
  c.spectral_peaks = 17;
  EXPECT_EQ(status(c), Status::bad_argument);
  c = base_config();
  c.rms = false, c.spectral_bands = 0, c.spectral_peaks = 0;
  EXPECT_EQ(status(c), Status::bad_argument) << "no features";
  c = base_config();
  c.channels = 0;
  EXPECT_EQ(status(c), Status::bad_argument);
  c = base_config();
  c.sample_rate = 0.0f;
  EXPECT_EQ(status(c), Status::bad_argument);
  c = base_config();
  c.window_samples = 3;
  EXPECT_EQ(status(c), Status::bad_argument);

  c = base_config();
  std::vector<float> work(imu_workspace_floats(c)), out(imu_feature_count(c));
  EXPECT_EQ(imu_features(c, s.data(), s.size(), work.data(), work.size(), out.data(), out.size()), Status::ok);
  EXPECT_EQ(imu_features(c, s.data(), s.size(), work.data(), work.size() - 1, out.data(), out.size()),
            Status::buffer_too_small);
  EXPECT_EQ(imu_features(c, s.data(), s.size(), work.data(), work.size(), out.data(), out.size() - 1),
            Status::buffer_too_small);
  EXPECT_EQ(imu_features(c, s.data(), s.size() - 1, work.data(), work.size(), out.data(), out.size()),
            Status::buffer_too_small);
  EXPECT_EQ(imu_features(c, nullptr, s.size(), work.data(), work.size(), out.data(), out.size()),
            Status::bad_argument);
  EXPECT_EQ(imu_features(c, s.data(), s.size(), nullptr, work.size(), out.data(), out.size()), Status::bad_argument);
  ImuFilterDesign d;
  EXPECT_EQ(imu_filter_design(c, nullptr), Status::bad_argument);
  c.fft_size = 100;
  EXPECT_EQ(imu_filter_design(c, &d), Status::bad_argument);
}

TEST(ImuFeatures, DeterministicAndWorkspaceIndependent) {
  // Same input, dirty vs clean workspace: identical bits (no uninitialised reads).
  ImuConfig c = base_config();
  c.filter = ImuFilter::highpass;
  c.filter_cutoff_hz = 3.0f;
  c.filter_order = 5;
  std::vector<float> s = machine(29.0, 0.2, 1);
  std::vector<float> w1(imu_workspace_floats(c), 0.0f), w2(w1.size(), 1e30f);
  std::vector<float> o1(imu_feature_count(c)), o2(o1.size());
  ASSERT_EQ(imu_features(c, s.data(), s.size(), w1.data(), w1.size(), o1.data(), o1.size()), Status::ok);
  ASSERT_EQ(imu_features(c, s.data(), s.size(), w2.data(), w2.size(), o2.data(), o2.size()), Status::ok);
  EXPECT_EQ(0, std::memcmp(o1.data(), o2.data(), o1.size() * sizeof(float)));
}

}  // namespace
}  // namespace tml
