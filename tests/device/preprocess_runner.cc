// preprocess_runner: the same source built for x86-64 (tests/CMakeLists.txt, preprocess_runner_host)
// and for the Cortex-M4F under QEMU mps2-an386 (tests/device/CMakeLists.txt, preprocess_runner.elf,
// file I/O through semihosting). tests/preprocess/device_harness_test.cc runs both on the same job
// file and compares every output file byte for byte: that is the proof that the portable core
// (preprocess/) gives identical bytes on host and device.
//
// Usage: preprocess_runner JOB_FILE
// JOB_FILE is text, one job per line: KIND INPUT_PATH OUTPUT_PATH [PARAMS...]
// (blank lines and lines starting with '#' are skipped; tokens are separated by blanks, so paths
// cannot contain spaces). Output files are raw little-endian bytes, whatever the host.
// Exit code: 0 when every job succeeded, 1 when a job failed, 2 on a usage / job-file error.
// Prints one line per failed job and a final "preprocess_runner: N jobs, M failed" line.
//
// Rules (same as the portable core): C++17, only <cstdio>/<cstring>/<cstdint> and preprocess/
// headers, no new/malloc, no exceptions, all memory static. (newlib's stdio mallocs inside fopen on
// the device; that is accepted for this test runner only.)
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "preprocess/fastmath.h"

namespace {

// ---------------------------------------------------------------------------------------------
// Static memory shared by all job kinds (one job runs at a time). RAM on mps2-an386 is 4 MiB;
// these plus newlib's heap (256 KiB) and the stack (64 KiB) must fit (the linker script asserts).
constexpr std::size_t kMaxInputBytes = 1u << 20;  // 1 MiB: the whole input file
constexpr std::size_t kWorkFloats = 1u << 18;     // 256 K floats = 1 MiB of float workspace
constexpr std::size_t kMaxParams = 32;
constexpr std::size_t kMaxLine = 4096;

std::uint8_t g_input[kMaxInputBytes];
float g_work[kWorkFloats];
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

// ADD NEW KINDS HERE: `audio` (preprocess/audio_features.h on a WAV), `image`
// (preprocess/image_ops.h), `imu` (preprocess/imu_features.h on a CSV). Write one function
// `bool run_audio(const Job& job)` that parses job.params[0..param_count), reads job.input with
// read_input() into g_input, uses g_work (kWorkFloats floats) as workspace, writes with Output,
// prints a line and returns false on any error; then add its row to kJobKinds.

struct JobKind {
  const char* name;
  bool (*run)(const Job&);
};

constexpr JobKind kJobKinds[] = {
    {"selftest", run_selftest},
    // {"audio", run_audio},
    // {"image", run_image},
    // {"imu", run_imu},
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
    std::printf("usage: preprocess_runner JOB_FILE (got %d arguments)\n", argc - 1);
    return 2;
  }
  std::FILE* jobs = std::fopen(argv[1], "rb");
  if (jobs == nullptr) {
    std::printf("preprocess_runner: cannot open job file %s\n", argv[1]);
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
  std::printf("preprocess_runner: %u jobs, %u failed\n", total, failed);
  if (rc != 0) return rc;
  return failed == 0 ? 0 : 1;
}
