// model_runner: runs a generated model (model.h/model.cc from deploy/codegen) once per input file.
// The same source is built for the Cortex-M4F under QEMU (file I/O through semihosting) and for the
// host board, so `tml run`, `tml deploy` and the tests compare the two outputs byte for byte.
//
// Usage: model_runner INPUT OUTPUT | model_runner @LIST
//   INPUT: the raw input tensor (kInputElements values of InputType, little-endian)
//   OUTPUT: written with the raw output tensor
//   LIST: a text file with one "INPUT OUTPUT" pair per line (paths without blanks); QEMU's
//         semihosting command line holds only 1 KiB
// Prints, on the Cortex-M4F (timer0 ticks, 25.6 per instruction under -icount shift=10):
//   op INDEX NAME TICKS        for every op of the first input
//   inference TICKS            for every input
// and finally "model_runner: N inputs, M failed". Exit code 0 when every input ran, 1 otherwise,
// 2 on a usage error.
//
// Test harness, not product firmware: newlib's stdio (semihosting) mallocs inside fopen; the model
// and the kernels use the static arena only.
#include <cstdio>
#include <cstring>

#include "firmware_template/hal/instruction_timer.h"
#include "model.h"

namespace {

using tml::hal::ticks_since;
using tml::hal::timer_now;

constexpr std::size_t kInputBytes = tml_model::kInputElements * sizeof(tml_model::InputType);
constexpr std::size_t kOutputBytes = tml_model::kOutputElements * sizeof(tml_model::OutputType);

bool read_input(const char* path) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::printf("cannot open input %s\n", path);
    return false;
  }
  const std::size_t n = std::fread(tml_model::input(), 1, kInputBytes, f);
  unsigned char extra = 0;
  const bool longer = std::fread(&extra, 1, 1, f) == 1;
  std::fclose(f);
  if (n != kInputBytes || longer) {
    std::printf("input %s: expected exactly %u bytes\n", path, static_cast<unsigned>(kInputBytes));
    return false;
  }
  return true;
}

bool write_output(const char* path) {
  std::FILE* f = std::fopen(path, "wb");
  if (f == nullptr) {
    std::printf("cannot create output %s\n", path);
    return false;
  }
  const bool ok = std::fwrite(tml_model::output(), 1, kOutputBytes, f) == kOutputBytes;
  return std::fclose(f) == 0 && ok;
}

// Runs every op; times each one when `per_op`. Returns false (and says which op) on a kernel error.
bool run(bool per_op) {
  const std::uint32_t start = timer_now();
  for (int i = 0; i < tml_model::kOpCount; ++i) {
    const std::uint32_t t0 = timer_now();
    const tml::rt::Status status = tml_model::run_op(i);
    const std::uint32_t ticks = ticks_since(t0);
    if (status != tml::rt::Status::ok) {
      std::printf("op %d %s failed with status %d\n", i, tml_model::op_name(i), static_cast<int>(status));
      return false;
    }
    if (per_op && tml::hal::kTimed) std::printf("op %d %s %lu\n", i, tml_model::op_name(i), static_cast<unsigned long>(ticks));
  }
  if (tml::hal::kTimed) std::printf("inference %lu\n", static_cast<unsigned long>(ticks_since(start)));
  return true;
}

}  // namespace

bool run_one(const char* input, const char* output, bool first) {
  return read_input(input) && run(first) && write_output(output);
}

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 2 && argv[1][0] == '@')) {
    std::printf("usage: model_runner INPUT OUTPUT | model_runner @LIST\n");
    return 2;
  }
  tml::hal::timer_start();
  int count = 0, failed = 0;
  if (argc == 3) {
    count = 1;
    failed = run_one(argv[1], argv[2], true) ? 0 : 1;
  } else {
    std::FILE* list = std::fopen(argv[1] + 1, "r");
    if (list == nullptr) {
      std::printf("cannot open list %s\n", argv[1] + 1);
      return 2;
    }
    static char line[1024], input[512], output[512];
    while (std::fgets(line, sizeof line, list) != nullptr) {
      if (std::sscanf(line, "%511s %511s", input, output) != 2) continue;
      if (!run_one(input, output, count == 0)) ++failed;
      ++count;
    }
    std::fclose(list);
  }
  std::printf("model_runner: %d inputs, %d failed\n", count, failed);
  return failed == 0 && count > 0 ? 0 : 1;
}
