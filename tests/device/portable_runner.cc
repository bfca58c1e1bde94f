// portable_runner: the same source built for x86-64 (tests/CMakeLists.txt, portable_runner_host)
// and for the Cortex-M4F under QEMU mps2-an386 (tests/device/CMakeLists.txt, portable_runner.elf,
// file I/O through semihosting). tests/preprocess/device_harness_test.cc runs both on the same job
// file and compares every output file byte for byte: that is the proof that the portable core
// (preprocess/) gives identical bytes on host and device.
//
// Usage: portable_runner JOB_FILE
// JOB_FILE is text, one job per line: KIND INPUT_PATH OUTPUT_PATH [KEY=VALUE...]
// Values are unsigned decimal integers (enums as their numeric value, bools 0/1) or, for floats,
// the IEEE-754 bits as 0xXXXXXXXX, so no decimal conversion can differ between the two C libraries.
// Kinds: selftest; audio (raw int16 LE PCM -> features, streamed hop by hop as the firmware does);
// image (raw camera frame -> model input); imu (raw float32 LE interleaved window -> features);
// frames (input bytes -> the wire bytes of DATA frames carrying them, decoded back and checked);
// model (a 49x10 int8 input -> every activation of a small DS-CNN-shaped int8 network).
// On the Cortex-M4F each preprocessing job also prints "timing KIND ..." lines in CMSDK timer0 ticks
// (bench/device_preprocess_bench.cc runs QEMU with -icount shift=10, where 25.6 ticks = 1 instruction).
// (blank lines and lines starting with '#' are skipped; tokens are separated by blanks, so paths
// cannot contain spaces). Output files are raw little-endian bytes, whatever the host.
// Exit code: 0 when every job succeeded, 1 when a job failed, 2 on a usage / job-file error.
// Prints one line per failed job and a final "portable_runner: N jobs, M failed" line.
//
// Rules (same as the portable core): C++17, only <cstdio>/<cstring>/<cstdint> and preprocess/
// headers, no new/malloc, no exceptions, all memory static. (newlib's stdio mallocs inside fopen on
// the device; that is accepted for this test runner only.)
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "preprocess/audio_features.h"
#include "preprocess/fastmath.h"
#include "preprocess/image_ops.h"
#include "preprocess/imu_features.h"
#include "protocol/frame.h"
#include "runtime/activations.h"
#include "runtime/conv.h"
#include "runtime/elementwise.h"
#include "runtime/pooling.h"
#include "protocol/messages.h"
#include "firmware_template/hal/instruction_timer.h"

namespace {

// ---------------------------------------------------------------------------------------------
// Static memory shared by all job kinds (one job runs at a time). RAM on mps2-an386 is 4 MiB;
// these plus newlib's heap (256 KiB) and the stack (64 KiB) must fit (the linker script asserts).
constexpr std::size_t kMaxInputBytes = 1u << 20;  // 1 MiB: the whole input file
constexpr std::size_t kWorkFloats = 1u << 18;     // 256 K floats = 1 MiB of float workspace
constexpr std::size_t kMaxParams = 32;
constexpr std::size_t kMaxLine = 4096;

constexpr std::size_t kMaxOutputBytes = 1u << 19;  // 512 KiB: one job's features

std::uint8_t g_input[kMaxInputBytes];
float g_work[kWorkFloats];
float g_output[kMaxOutputBytes / 4];
char g_line[kMaxLine];

struct Job {
  const char* kind;
  const char* input;
  const char* output;
  const char* params[kMaxParams];
  std::size_t param_count;
  std::size_t line_number;
};

// ---------------------------------------------------------------------------------------------
// Helpers for job functions.

// Reads the whole file into g_input. Returns false (and prints why) when it cannot or it is too big.
bool read_input(const Job& job, std::size_t* size) {
  std::FILE* f = std::fopen(job.input, "rb");
  if (f == nullptr) {
    std::printf("line %u: cannot open input %s\n", static_cast<unsigned>(job.line_number), job.input);
    return false;
  }
  std::size_t total = 0;
  for (;;) {
    if (total == kMaxInputBytes) {
      // Full buffer: fine only if the file ends exactly here.
      std::uint8_t probe;
      if (std::fread(&probe, 1, 1, f) != 0) {
        std::printf("line %u: input %s is larger than %u bytes\n", static_cast<unsigned>(job.line_number), job.input,
                    static_cast<unsigned>(kMaxInputBytes));
        std::fclose(f);
        return false;
      }
      break;
    }
    std::size_t n = std::fread(g_input + total, 1, kMaxInputBytes - total, f);
    if (n == 0) break;
    total += n;
  }
  std::fclose(f);
  *size = total;
  return true;
}

// Writes output files; all multi-byte values little-endian regardless of the machine.
class Output {
 public:
  explicit Output(const Job& job) : job_(job), file_(std::fopen(job.output, "wb")) {
    if (file_ == nullptr)
      std::printf("line %u: cannot create output %s\n", static_cast<unsigned>(job.line_number), job.output);
  }
  ~Output() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  bool ok() const { return file_ != nullptr && ok_; }

  void bytes(const void* data, std::size_t n) {
    if (!ok()) return;
    if (std::fwrite(data, 1, n, file_) != n) fail();
  }
  void u32(std::uint32_t v) {
    std::uint8_t b[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                         static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
    bytes(b, 4);
  }
  void floats(const float* v, std::size_t n) {
    // Converted in chunks through a small stack buffer so no float array is reinterpreted.
    std::uint8_t chunk[256 * 4];
    while (n > 0) {
      std::size_t m = n < 256 ? n : 256;
      for (std::size_t i = 0; i < m; ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, &v[i], 4);
        chunk[4 * i + 0] = static_cast<std::uint8_t>(bits);
        chunk[4 * i + 1] = static_cast<std::uint8_t>(bits >> 8);
        chunk[4 * i + 2] = static_cast<std::uint8_t>(bits >> 16);
        chunk[4 * i + 3] = static_cast<std::uint8_t>(bits >> 24);
      }
      bytes(chunk, 4 * m);
      v += m;
      n -= m;
    }
  }
  // Closes the file; false if anything failed.
  bool finish() {
    if (file_ == nullptr) return false;
    bool good = ok_ && std::fclose(file_) == 0;
    file_ = nullptr;
    if (!good) fail();
    return good;
  }

 private:
  void fail() {
    if (ok_)
      std::printf("line %u: cannot write output %s\n", static_cast<unsigned>(job_.line_number), job_.output);
    ok_ = false;
  }
  const Job& job_;
  std::FILE* file_;
  bool ok_ = true;
};


// Finds KEY=VALUE among the job's parameters. Returns nullptr when absent.
const char* param(const Job& job, const char* key) {
  const std::size_t n = std::strlen(key);
  for (std::size_t i = 0; i < job.param_count; ++i)
    if (std::strncmp(job.params[i], key, n) == 0 && job.params[i][n] == '=') return job.params[i] + n + 1;
  return nullptr;
}

bool parse_unsigned(const char* text, int base, std::uint32_t* value) {
  if (text == nullptr || *text == '\0') return false;
  std::uint64_t v = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    unsigned d;
    if (*p >= '0' && *p <= '9') d = static_cast<unsigned>(*p - '0');
    else if (base == 16 && *p >= 'a' && *p <= 'f') d = static_cast<unsigned>(*p - 'a' + 10);
    else if (base == 16 && *p >= 'A' && *p <= 'F') d = static_cast<unsigned>(*p - 'A' + 10);
    else return false;
    v = v * static_cast<unsigned>(base) + d;
    if (v > 0xFFFFFFFFu) return false;
  }
  *value = static_cast<std::uint32_t>(v);
  return true;
}

// Reads a required unsigned parameter no larger than max; prints why and returns false otherwise.
bool get_u32(const Job& job, const char* key, std::uint32_t max, std::uint32_t* value) {
  const char* text = param(job, key);
  if (!parse_unsigned(text, 10, value) || *value > max) {
    std::printf("line %u: parameter %s must be an integer 0..%u\n", static_cast<unsigned>(job.line_number), key,
                static_cast<unsigned>(max));
    return false;
  }
  return true;
}

template <typename T>
bool get_int(const Job& job, const char* key, std::uint32_t max, T* value) {
  std::uint32_t v = 0;
  if (!get_u32(job, key, max, &v)) return false;
  *value = static_cast<T>(v);
  return true;
}

// A float given as its bits: 0x3f800000 is 1.0f.
bool get_f32(const Job& job, const char* key, float* value) {
  const char* text = param(job, key);
  std::uint32_t bits = 0;
  if (text == nullptr || text[0] != '0' || text[1] != 'x' || !parse_unsigned(text + 2, 16, &bits)) {
    std::printf("line %u: parameter %s must be float bits 0xXXXXXXXX\n", static_cast<unsigned>(job.line_number), key);
    return false;
  }
  std::memcpy(value, &bits, 4);
  return true;
}

bool check_status(const Job& job, tml::rt::Status status, const char* what) {
  if (status == tml::rt::Status::ok) return true;
  std::printf("line %u: %s failed with runtime status %d\n", static_cast<unsigned>(job.line_number), what,
              static_cast<int>(status));
  return false;
}

bool check_status(const Job& job, tml::pre::Status status, const char* what) {
  if (status == tml::pre::Status::ok) return true;
  std::printf("line %u: %s failed with status %d\n", static_cast<unsigned>(job.line_number), what,
              static_cast<int>(status));
  return false;
}

// Timing: hal/instruction_timer.h (timer0 on the Cortex-M4F; nothing on the host).
using tml::hal::kTimed;
using tml::hal::ticks_since;
using tml::hal::timer_now;
using tml::hal::timer_start;

// ---------------------------------------------------------------------------------------------
// Job kinds. Each is one function `bool run_KIND(const Job&)` plus one line in kJobKinds below.

// selftest: proves the harness end to end. Output: for every input byte b at index i, one float
// computed with +, -, *, /, sqrt and the project's own log_f (no libm): 4 * input-size bytes.
bool run_selftest(const Job& job) {
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  Output out(job);
  std::size_t done = 0;
  float carry = 0.0f;
  while (done < size) {
    std::size_t n = size - done < kWorkFloats ? size - done : kWorkFloats;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = done + k;
      float x = static_cast<float>(g_input[i]);
      float y = x * 0.731f + 1.0f;
      y = y / static_cast<float>(i % 7u + 3u);
      y = y * y - x / 3.0f + carry * 0.125f;
      float z = tml::pre::sqrt_f(y * y + 1.0f) * 1.0001f;
      z = z + tml::pre::log_f(z + 1.0f) / 7.0f;
      carry = z - static_cast<float>(static_cast<std::int32_t>(z));
      g_work[k] = z;
    }
    out.floats(g_work, n);
    done += n;
  }
  return out.finish();
}

// audio: raw int16 LE PCM (full scale 32768) -> float32 features, frame by frame. Parameters: rate,
// kind, frame, hop, fft, window, periodic, preemph (bits), spectrum, mels, scale, fmin, fmax, floor
// (bits), coeffs, lifter, meannorm, and chunk (samples per push, default hop: the firmware's
// DMA block). Without meannorm the samples are pushed chunk by chunk through audio_push, as the
// device streams them; meannorm needs the whole clip (audio_features).
bool run_audio(const Job& job) {
  using namespace tml::pre;
  AudioConfig c;
  std::uint32_t chunk = 0;
  bool ok = get_int(job, "rate", 192000, &c.sample_rate) && get_int(job, "kind", 2, &c.kind) &&
            get_int(job, "frame", 65535, &c.frame_length) && get_int(job, "hop", 65535, &c.hop_length) &&
            get_int(job, "fft", 65535, &c.fft_size) && get_int(job, "window", 1, &c.window) &&
            get_int(job, "periodic", 1, &c.window_periodic) && get_f32(job, "preemph", &c.pre_emphasis) &&
            get_int(job, "spectrum", 1, &c.spectrum) && get_int(job, "mels", 65535, &c.mel_bands) &&
            get_int(job, "scale", 1, &c.mel_scale) && get_f32(job, "fmin", &c.fmin) && get_f32(job, "fmax", &c.fmax) &&
            get_f32(job, "floor", &c.log_floor) && get_int(job, "coeffs", 65535, &c.mfcc_coeffs) &&
            get_int(job, "lifter", 65535, &c.lifter) && get_int(job, "meannorm", 1, &c.mean_normalize);
  if (!ok) return false;
  if (param(job, "chunk") != nullptr) {
    if (!get_u32(job, "chunk", 65535, &chunk) || chunk == 0) return false;
  } else {
    chunk = c.hop_length;
  }
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  if (size % 2 != 0) {
    std::printf("line %u: odd byte count %u for int16 PCM\n", static_cast<unsigned>(job.line_number),
                static_cast<unsigned>(size));
    return false;
  }
  const std::size_t samples = size / 2;
  const std::size_t width = audio_feature_width(c);
  const std::size_t frames = audio_frame_count(c, samples);
  const std::size_t work = audio_workspace_floats(c);
  if (!check_status(job, audio_validate(c), "audio_validate")) return false;
  if (work + samples > kWorkFloats || frames * width * 4 > kMaxOutputBytes) {
    std::printf("line %u: clip too long for the runner's buffers\n", static_cast<unsigned>(job.line_number));
    return false;
  }
  float* pcm = g_work + work;
  for (std::size_t i = 0; i < samples; ++i) {
    const std::int16_t v = static_cast<std::int16_t>(g_input[2 * i] | (g_input[2 * i + 1] << 8));
    pcm[i] = static_cast<float>(v) * (1.0f / 32768.0f);
  }
  float* out = g_output;
  static AudioState state;
  if (!check_status(job, audio_init(&state, c, g_work, work), "audio_init")) return false;
  timer_start();
  const std::uint32_t clip_start = timer_now();
  std::uint32_t first_frame = 0, hop_max = 0, steady = 0;
  if (c.mean_normalize) {
    if (!check_status(job, audio_features(&state, pcm, samples, out, frames * width), "audio_features")) return false;
  } else {
    std::size_t pos = 0, frame = 0;
    while (pos < samples) {
      const std::size_t n = samples - pos < chunk ? samples - pos : chunk;
      std::size_t offset = 0;
      while (offset < n) {
        std::size_t consumed = 0;
        bool ready = false;
        const std::uint32_t t0 = timer_now();
        Status st = audio_push(&state, pcm + pos + offset, n - offset, out + frame * width, &consumed, &ready);
        const std::uint32_t ticks = ticks_since(t0);
        if (!check_status(job, st, "audio_push")) return false;
        offset += consumed;
        if (frame > 0) steady += ticks;  // every push after the first frame: the per-hop cost
        if (ready) {
          if (frame == 0) first_frame = ticks;
          else hop_max = ticks > hop_max ? ticks : hop_max;
          ++frame;
        }
        if (consumed == 0 && !ready) break;
      }
      pos += n;
    }
    if (frame != frames) {
      std::printf("line %u: streamed %u frames, expected %u\n", static_cast<unsigned>(job.line_number),
                  static_cast<unsigned>(frame), static_cast<unsigned>(frames));
      return false;
    }
  }
  const std::uint32_t total = ticks_since(clip_start);
  if (kTimed)
    std::printf("timing audio line=%u samples=%u frames=%u total=%lu first_frame=%lu hop_max=%lu steady=%lu\n",
                static_cast<unsigned>(job.line_number), static_cast<unsigned>(samples), static_cast<unsigned>(frames),
                static_cast<unsigned long>(total), static_cast<unsigned long>(first_frame),
                static_cast<unsigned long>(hop_max), static_cast<unsigned long>(steady));
  Output o(job);
  o.floats(out, frames * width);
  return o.finish();
}

// image: one raw camera frame -> the model input bytes (float32 little-endian when normalize=2).
// Parameters: format, iw, ih, w, h, crop, interp, color, norm (PixelFormat, CropMode, ... values).
bool run_image(const Job& job) {
  using namespace tml::pre;
  ImageConfig c;
  bool ok = get_int(job, "format", 3, &c.input_format) && get_int(job, "iw", kMaxImageDim, &c.input_width) &&
            get_int(job, "ih", kMaxImageDim, &c.input_height) && get_int(job, "w", kMaxImageDim, &c.width) &&
            get_int(job, "h", kMaxImageDim, &c.height) && get_int(job, "crop", 2, &c.crop) &&
            get_int(job, "interp", 1, &c.interpolation) && get_int(job, "color", 1, &c.color) &&
            get_int(job, "norm", 2, &c.normalize);
  if (!ok) return false;
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  const std::size_t work = image_workspace_bytes(c);
  const std::size_t out_bytes = image_output_bytes(c);
  if (work == 0 || out_bytes == 0) {
    std::printf("line %u: invalid image configuration\n", static_cast<unsigned>(job.line_number));
    return false;
  }
  if (work > sizeof g_work || out_bytes > kMaxOutputBytes) {
    std::printf("line %u: image too large for the runner's buffers\n", static_cast<unsigned>(job.line_number));
    return false;
  }
  timer_start();
  const std::uint32_t t0 = timer_now();
  Status st = image_preprocess(c, g_input, size, reinterpret_cast<std::uint8_t*>(g_work), work, g_output, out_bytes);
  const std::uint32_t ticks = ticks_since(t0);
  if (!check_status(job, st, "image_preprocess")) return false;
  if (kTimed)
    std::printf("timing image line=%u format=%u in=%ux%u out=%ux%u total=%lu\n", static_cast<unsigned>(job.line_number),
                static_cast<unsigned>(c.input_format), static_cast<unsigned>(c.input_width),
                static_cast<unsigned>(c.input_height), static_cast<unsigned>(c.width), static_cast<unsigned>(c.height),
                static_cast<unsigned long>(ticks));
  Output o(job);
  o.bytes(g_output, out_bytes);  // uint8/int8 bytes; float32 is stored little-endian on both targets
  return o.finish();
}

// imu: one window of raw float32 LE samples, interleaved by channel -> float32 features.
// Parameters: rate (bits), channels, window, mean, filter, cutoff (bits), order, fft, bands,
// spacing, rms, peaks.
bool run_imu(const Job& job) {
  using namespace tml::pre;
  ImuConfig c;
  bool ok = get_f32(job, "rate", &c.sample_rate) && get_int(job, "channels", 64, &c.channels) &&
            get_int(job, "window", 1u << 22, &c.window_samples) && get_int(job, "mean", 1, &c.remove_mean) &&
            get_int(job, "filter", 2, &c.filter) && get_f32(job, "cutoff", &c.filter_cutoff_hz) &&
            get_int(job, "order", 8, &c.filter_order) && get_int(job, "fft", 65535, &c.fft_size) &&
            get_int(job, "bands", 65535, &c.spectral_bands) && get_int(job, "spacing", 1, &c.band_spacing) &&
            get_int(job, "rms", 1, &c.rms) && get_int(job, "peaks", 255, &c.spectral_peaks);
  if (!ok) return false;
  if (!check_status(job, imu_validate(c), "imu_validate")) return false;
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  const std::size_t floats = size / 4;
  const std::size_t work = imu_workspace_floats(c);
  const std::size_t count = imu_feature_count(c);
  if (size % 4 != 0 || work + floats > kWorkFloats || count * 4 > kMaxOutputBytes) {
    std::printf("line %u: input is not whole floats or too large for the runner's buffers\n",
                static_cast<unsigned>(job.line_number));
    return false;
  }
  float* samples = g_work + work;
  std::memcpy(samples, g_input, floats * 4);
  float* out = g_output;
  timer_start();
  const std::uint32_t t0 = timer_now();
  Status st = imu_features(c, samples, floats, g_work, work, out, count);
  const std::uint32_t ticks = ticks_since(t0);
  if (!check_status(job, st, "imu_features")) return false;
  if (kTimed)
    std::printf("timing imu line=%u channels=%u window=%u total=%lu\n", static_cast<unsigned>(job.line_number),
                static_cast<unsigned>(c.channels), static_cast<unsigned>(c.window_samples),
                static_cast<unsigned long>(ticks));
  Output o(job);
  o.floats(out, count);
  return o.finish();
}


// frames: the input bytes as a take on the wire: DATA frames of `chunk` sample bytes each
// (sequence i, timestamp 1000 i µs), then the wire bytes are decoded again on the same target and
// must give back every chunk. Output: the wire bytes. Parameter: chunk (1..kMaxPayload - 8).
bool run_frames(const Job& job) {
  using namespace tml::proto;
  std::uint32_t chunk = 0;
  if (!get_u32(job, "chunk", kMaxPayload - kDataHeaderSize, &chunk) || chunk == 0) return false;
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  Output o(job);
  static std::uint8_t payload[kMaxPayload];
  static std::uint8_t wire[kMaxWireFrame];
  static FrameDecoder decoder;
  decoder.reset();
  std::uint16_t sequence = 0;
  for (std::size_t offset = 0; offset < size; offset += chunk, ++sequence) {
    const std::size_t n = size - offset < chunk ? size - offset : chunk;
    const DataHeader header{0, 7, static_cast<std::uint32_t>(offset)};
    const std::size_t h = encode_data_header(header, payload, sizeof payload);
    std::memcpy(payload + h, g_input + offset, n);
    const std::size_t w = encode_frame(static_cast<std::uint8_t>(MessageType::data), sequence, 1000u * sequence,
                                       payload, h + n, wire, sizeof wire);
    const FrameDecoder::Result r = decoder.feed(wire, w);
    DataHeader back;
    if (w == 0 || !r.frame_ready || r.consumed != w || decoder.header().sequence != sequence ||
        !decode_data_header(decoder.payload(), decoder.header().payload_length, &back) || back.offset != offset ||
        decoder.header().payload_length != h + n || std::memcmp(decoder.payload() + h, g_input + offset, n) != 0) {
      std::printf("line %u: frame %u did not survive encode/decode\n", static_cast<unsigned>(job.line_number),
                  static_cast<unsigned>(sequence));
      return false;
    }
    o.bytes(wire, w);
  }
  return o.finish();
}


// model: a small keyword-spotting network in the shape of MLPerf Tiny's DS-CNN, with fixed
// pseudo-random int8 weights (an integer LCG, so both targets make the same ones): conv 10x4
// stride 2 + ReLU -> depthwise 3x3 + ReLU -> pointwise 1x1 + ReLU -> ADD (residual) -> average
// pool -> fully connected -> softmax. Input: 490 int8 values (49x10x1). Output: every
// activation, layer after layer (the bytes the device computes at each stage).
namespace model {

using namespace tml::rt;
constexpr int kC = 16, kClasses = 4;
std::int8_t conv_w[kC * 10 * 4], dw_w[9 * kC], pw_w[kC * kC], fc_w[kClasses * kC];
std::int32_t conv_b[kC], dw_b[kC], pw_b[kC], fc_b[kClasses];
std::int32_t conv_m[kC], conv_s[kC], dw_m[kC], dw_s[kC], pw_m[kC], pw_s[kC], fc_m[1], fc_s[1];
std::int8_t a1[25 * 5 * kC], a2[25 * 5 * kC], a3[25 * 5 * kC], a4[25 * 5 * kC], a5[kC], a6[kClasses], a7[kClasses];
bool ready = false;

std::uint32_t lcg = 12345u;
std::uint32_t next() { return lcg = lcg * 1664525u + 1013904223u; }
void fill(std::int8_t* w, int n) {
  for (int i = 0; i < n; ++i) w[i] = static_cast<std::int8_t>(static_cast<int>(next() >> 24) - 128);
}
void fill_quant(std::int32_t* b, std::int32_t* m, std::int32_t* sh, int n, int shift, std::int32_t bias_range) {
  for (int i = 0; i < n; ++i) {
    b[i] = static_cast<std::int32_t>(next() % static_cast<std::uint32_t>(2 * bias_range)) - bias_range;
    m[i] = static_cast<std::int32_t>((1u << 30) + (next() >> 2));  // [2^30, 2^31)
    sh[i] = shift - static_cast<std::int32_t>(next() % 2u);
  }
}
void init() {
  if (ready) return;
  fill(conv_w, sizeof conv_w);
  fill(dw_w, sizeof dw_w);
  fill(pw_w, sizeof pw_w);
  fill(fc_w, sizeof fc_w);
  fill_quant(conv_b, conv_m, conv_s, kC, -9, 2000);
  fill_quant(dw_b, dw_m, dw_s, kC, -8, 1000);
  fill_quant(pw_b, pw_m, pw_s, kC, -9, 1000);
  fill_quant(fc_b, fc_m, fc_s, 1, -8, 500);
  ready = true;
}

}  // namespace model

bool run_model(const Job& job) {
  using namespace tml::rt;
  using namespace model;
  init();
  std::size_t size = 0;
  if (!read_input(job, &size)) return false;
  if (size != 490) {
    std::printf("line %u: model input must be 490 int8 values, got %u bytes\n", static_cast<unsigned>(job.line_number),
                static_cast<unsigned>(size));
    return false;
  }
  const auto* x = reinterpret_cast<const std::int8_t*>(g_input);
  const Shape in{1, 49, 10, 1}, act{1, 25, 5, kC}, pooled{1, 1, 1, kC}, logits{1, 1, 1, kClasses};
  ConvParams conv;
  conv.stride_h = conv.stride_w = 2;
  conv.pad_top = 4;  // SAME for a 10x4 kernel, stride 2: 49x10 -> 25x5
  conv.pad_left = 1;
  conv.input_offset = 3;  // input zero point -3
  conv.output_offset = -128;
  conv.act_min = -128;  // ReLU: zero point -128
  ConvParams dw;
  dw.pad_top = dw.pad_left = 1;
  dw.input_offset = 128;
  dw.output_offset = -128;
  ConvParams pw;
  pw.input_offset = 128;
  pw.output_offset = -128;
  ConvParams fc;
  fc.input_offset = 128;
  fc.output_offset = 5;
  PoolParams pool;
  pool.filter_h = 25;
  pool.filter_w = 5;
  AddParams add{};
  add.input1_offset = 128;
  add.input2_offset = 128;
  add.left_shift = 20;
  add.input1_multiplier = 1073741824;
  add.input1_shift = -1;
  add.input2_multiplier = 1431655765;
  add.input2_shift = -1;
  add.output_multiplier = 1518500250;
  add.output_shift = -19;
  add.output_offset = -128;
  add.act_min = -128;
  add.act_max = 127;
  const SoftmaxParams softmax{1073741824, 23, -248};
  timer_start();
  const std::uint32_t t0 = timer_now();
  bool ok = conv2d_s8(conv, {conv_m, conv_s}, in, x, {kC, 10, 4, 1}, conv_w, conv_b, act, a1) == Status::ok &&
            depthwise_conv2d_s8(dw, {dw_m, dw_s}, act, a1, {1, 3, 3, kC}, dw_w, dw_b, act, a2) == Status::ok &&
            conv2d_s8(pw, {pw_m, pw_s}, act, a2, {kC, 1, 1, kC}, pw_w, pw_b, act, a3) == Status::ok &&
            add_s8(add, act, a1, act, a3, act, a4) == Status::ok &&
            average_pool_s8(pool, act, a4, pooled, a5) == Status::ok &&
            fully_connected_s8(fc, {fc_m, fc_s, true}, pooled, a5, {kClasses, 1, 1, kC}, fc_w, fc_b, logits, a6) ==
                Status::ok &&
            softmax_s8(softmax, logits, a6, a7) == Status::ok;
  const std::uint32_t ticks = ticks_since(t0);
  if (!ok) {
    std::printf("line %u: a kernel refused its arguments\n", static_cast<unsigned>(job.line_number));
    return false;
  }
  if (kTimed) std::printf("timing model line=%u total=%lu\n", static_cast<unsigned>(job.line_number), static_cast<unsigned long>(ticks));
  Output o(job);
  o.bytes(a1, sizeof a1);
  o.bytes(a2, sizeof a2);
  o.bytes(a3, sizeof a3);
  o.bytes(a4, sizeof a4);
  o.bytes(a5, sizeof a5);
  o.bytes(a6, sizeof a6);
  o.bytes(a7, sizeof a7);
  return o.finish();
}


// layer: times one conv / depthwise / fully connected layer of a given shape on pseudo-random
// data (bench/device_runtime_bench.cc). Parameters: op (0 conv, 1 depthwise, 2 fully connected),
// h, w, cin, cout, kh, kw (kernel), stride; SAME padding. The input file is not read. Output: the layer's
// output bytes. Prints "timing layer ... total=TICKS macs=N".
bool run_layer(const Job& job) {
  using namespace tml::rt;
  std::uint32_t op = 0, h = 0, w = 0, cin = 0, cout = 0, kh = 0, kw = 0, stride = 0;
  if (!get_u32(job, "op", 2, &op) || !get_u32(job, "h", 1024, &h) || !get_u32(job, "w", 1024, &w) ||
      !get_u32(job, "cin", 4096, &cin) || !get_u32(job, "cout", 4096, &cout) || !get_u32(job, "kh", 15, &kh) ||
      !get_u32(job, "kw", 15, &kw) || !get_u32(job, "stride", 4, &stride) || h == 0 || w == 0 || cin == 0 ||
      cout == 0 || kh == 0 || kw == 0 || stride == 0)
    return false;
  const std::uint32_t oh = op == 2 ? 1 : (h + stride - 1) / stride, ow = op == 2 ? 1 : (w + stride - 1) / stride;
  const std::uint32_t in_bytes = h * w * cin, out_bytes = oh * ow * cout;
  const std::uint32_t filter_bytes = op == 0 ? cout * kh * kw * cin : op == 1 ? kh * kw * cout : cout * h * w * cin;
  if (in_bytes + out_bytes + filter_bytes > kMaxInputBytes || 3 * cout > kWorkFloats) {
    std::printf("line %u: layer too large for the runner's buffers\n", static_cast<unsigned>(job.line_number));
    return false;
  }
  auto* input = reinterpret_cast<std::int8_t*>(g_input);
  std::int8_t* output = input + in_bytes;
  std::int8_t* filter = output + out_bytes;
  std::uint32_t lcg = 7u;
  for (std::uint32_t i = 0; i < in_bytes + filter_bytes + out_bytes; ++i)
    input[i] = static_cast<std::int8_t>((lcg = lcg * 1664525u + 1013904223u) >> 24);
  auto* bias = reinterpret_cast<std::int32_t*>(g_work);
  std::int32_t* mult = bias + cout;
  std::int32_t* shift = mult + cout;
  for (std::uint32_t c = 0; c < cout; ++c) {
    bias[c] = static_cast<std::int32_t>(c * 37u) - 500;
    mult[c] = 1518500250;
    shift[c] = -9;
  }
  ConvParams p;
  p.stride_h = p.stride_w = static_cast<std::int32_t>(op == 2 ? 1 : stride);
  // SAME: total padding = (out - 1) * stride + k - in, the smaller half before.
  auto same_pad = [&](std::uint32_t in, std::uint32_t out, std::uint32_t k) {
    const std::int32_t total = static_cast<std::int32_t>((out - 1) * stride + k) - static_cast<std::int32_t>(in);
    return total > 0 ? total / 2 : 0;
  };
  p.pad_top = op == 2 ? 0 : same_pad(h, oh, kh);
  p.pad_left = op == 2 ? 0 : same_pad(w, ow, kw);
  p.input_offset = 128;
  p.output_offset = -128;
  p.depth_multiplier = op == 1 ? static_cast<std::int32_t>(cout / cin) : 1;
  const ChannelQuant q{mult, shift, false};
  const Shape in_shape{1, static_cast<std::int32_t>(h), static_cast<std::int32_t>(w), static_cast<std::int32_t>(cin)};
  const Shape out_shape{1, static_cast<std::int32_t>(oh), static_cast<std::int32_t>(ow), static_cast<std::int32_t>(cout)};
  const std::int32_t kkh = static_cast<std::int32_t>(kh), kkw = static_cast<std::int32_t>(kw);
  timer_start();
  const std::uint32_t t0 = timer_now();
  Status st;
  std::uint64_t macs;
  if (op == 0) {
    st = conv2d_s8(p, q, in_shape, input, {out_shape.c, kkh, kkw, in_shape.c}, filter, bias, out_shape, output);
    macs = std::uint64_t{oh} * ow * cout * kh * kw * cin;
  } else if (op == 1) {
    st = depthwise_conv2d_s8(p, q, in_shape, input, {1, kkh, kkw, out_shape.c}, filter, bias, out_shape, output);
    macs = std::uint64_t{oh} * ow * cout * kh * kw;
  } else {
    st = fully_connected_s8(p, q, in_shape, input, {out_shape.c, 1, 1, static_cast<std::int32_t>(h * w * cin)}, filter,
                            bias, out_shape, output);
    macs = std::uint64_t{cout} * h * w * cin;
  }
  const std::uint32_t ticks = ticks_since(t0);
  if (!check_status(job, st, "layer")) return false;
  if (kTimed)
    std::printf("timing layer line=%u total=%lu macs=%lu\n", static_cast<unsigned>(job.line_number),
                static_cast<unsigned long>(ticks), static_cast<unsigned long>(macs));
  Output o(job);
  o.bytes(output, out_bytes);
  return o.finish();
}

struct JobKind {
  const char* name;
  bool (*run)(const Job&);
};

constexpr JobKind kJobKinds[] = {
    {"selftest", run_selftest},
    {"audio", run_audio},
    {"image", run_image},
    {"imu", run_imu},
    {"frames", run_frames},
    {"model", run_model},
    {"layer", run_layer},
};

// ---------------------------------------------------------------------------------------------

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits g_line in place. Returns false when the line has no job (blank / comment).
bool parse_line(char* line, std::size_t line_number, Job* job, const char** tokens, std::size_t* count) {
  *count = 0;
  char* p = line;
  while (*p != '\0') {
    while (is_blank(*p)) *p++ = '\0';
    if (*p == '\0') break;
    if (*count == kMaxParams + 3) return false;
    tokens[(*count)++] = p;
    while (*p != '\0' && !is_blank(*p)) ++p;
  }
  if (*count == 0 || tokens[0][0] == '#') return false;
  job->line_number = line_number;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::printf("usage: portable_runner JOB_FILE (got %d arguments)\n", argc - 1);
    return 2;
  }
  std::FILE* jobs = std::fopen(argv[1], "rb");
  if (jobs == nullptr) {
    std::printf("portable_runner: cannot open job file %s\n", argv[1]);
    return 2;
  }
  unsigned total = 0, failed = 0;
  std::size_t line_number = 0;
  int rc = 0;
  while (std::fgets(g_line, sizeof g_line, jobs) != nullptr) {
    ++line_number;
    std::size_t len = std::strlen(g_line);
    if (len == sizeof g_line - 1 && g_line[len - 1] != '\n') {
      std::printf("line %u: longer than %u characters\n", static_cast<unsigned>(line_number),
                  static_cast<unsigned>(kMaxLine - 2));
      rc = 2;
      break;
    }
    static Job job;
    const char* tokens[kMaxParams + 3];
    std::size_t count = 0;
    if (!parse_line(g_line, line_number, &job, tokens, &count)) {
      if (count > kMaxParams + 2) {
        std::printf("line %u: too many parameters\n", static_cast<unsigned>(line_number));
        rc = 2;
        break;
      }
      continue;
    }
    if (count < 3) {
      std::printf("line %u: expected KIND INPUT OUTPUT [PARAMS...]\n", static_cast<unsigned>(line_number));
      rc = 2;
      break;
    }
    job.kind = tokens[0];
    job.input = tokens[1];
    job.output = tokens[2];
    job.param_count = count - 3;
    for (std::size_t i = 0; i < job.param_count; ++i) job.params[i] = tokens[3 + i];
    ++total;
    const JobKind* kind = nullptr;
    for (const JobKind& k : kJobKinds)
      if (std::strcmp(k.name, job.kind) == 0) kind = &k;
    if (kind == nullptr) {
      std::printf("line %u: unknown job kind '%s'\n", static_cast<unsigned>(line_number), job.kind);
      ++failed;
      continue;
    }
    if (!kind->run(job)) ++failed;
  }
  std::fclose(jobs);
  std::printf("portable_runner: %u jobs, %u failed\n", total, failed);
  if (rc != 0) return rc;
  return failed == 0 ? 0 : 1;
}
