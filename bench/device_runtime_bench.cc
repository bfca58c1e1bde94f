// Cortex-M4F cost of the int8 runtime kernels: exact instruction counts in QEMU mps2-an386
// (-icount shift=10 + CMSDK timer0, ticks / 25.6), instructions per multiply-accumulate for layers
// of the DS-CNN (KWS) and MobileNetV1-0.25 (VWW) shapes, with the DSP kernels (SMLAD/SXTB16) and
// the portable ones, side by side. Both builds give the same bytes (tests/runtime). Asserts nothing.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "device/device_identity.h"

namespace fs = std::filesystem;

namespace {

struct Layer {
  const char* name;
  int op, h, w, cin, cout, kh, kw, stride;
};

// "timing layer line=N total=T macs=M" -> line -> {ticks, macs}
std::map<int, std::pair<double, double>> parse(const std::string& out) {
  std::map<int, std::pair<double, double>> r;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    int n = 0;
    unsigned long ticks = 0, macs = 0;
    if (std::sscanf(line.c_str(), "timing layer line=%d total=%lu macs=%lu", &n, &ticks, &macs) == 3)
      r[n] = {static_cast<double>(ticks), static_cast<double>(macs)};
  }
  return r;
}

}  // namespace

int main() {
  const std::vector<Layer> layers = {
      {"DS-CNN conv 10x4 s2 (49x10x1 -> 25x5x64)", 0, 49, 10, 1, 64, 10, 4, 2},
      {"DS-CNN depthwise 3x3 (25x5x64)", 1, 25, 5, 64, 64, 3, 3, 1},
      {"DS-CNN pointwise 1x1 (25x5x64 -> 64)", 0, 25, 5, 64, 64, 1, 1, 1},
      {"DS-CNN fully connected 64 -> 12", 2, 1, 1, 64, 12, 1, 1, 1},
      {"MobileNetV1-0.25 conv 3x3 s2 (96x96x3 -> 48x48x8)", 0, 96, 96, 3, 8, 3, 3, 2},
      {"MobileNetV1-0.25 depthwise 3x3 (48x48x8)", 1, 48, 48, 8, 8, 3, 3, 1},
      {"MobileNetV1-0.25 pointwise (24x24x16 -> 32)", 0, 24, 24, 16, 32, 1, 1, 1},
      {"MobileNetV1-0.25 depthwise 3x3 (6x6x128)", 1, 6, 6, 128, 128, 3, 3, 1},
      {"MobileNetV1-0.25 pointwise (3x3x128 -> 256)", 0, 3, 3, 128, 256, 1, 1, 1},
      {"MobileNetV1-0.25 fully connected 256 -> 2", 2, 1, 1, 256, 2, 1, 1, 1},
  };
  const fs::path dir = fs::temp_directory_path() / ("tml_runtime_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string jobs;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    jobs += "layer /dev/null " + (dir / ("out" + std::to_string(i))).string() + " op=" + std::to_string(l.op) +
            " h=" + std::to_string(l.h) + " w=" + std::to_string(l.w) + " cin=" + std::to_string(l.cin) +
            " cout=" + std::to_string(l.cout) + " kh=" + std::to_string(l.kh) + " kw=" + std::to_string(l.kw) + " stride=" + std::to_string(l.stride) + "\n";
  }
  std::ofstream(dir / "jobs.txt") << jobs;
  const auto dsp = tml::test::run_on_qemu(dir / "jobs.txt", {"-icount", "shift=10"});
  const auto portable = tml::test::run_on_qemu_portable_kernels(dir / "jobs.txt", {"-icount", "shift=10"});
  fs::remove_all(dir);
  if (dsp.exit_code != 0 || portable.exit_code != 0) {
    std::fprintf(stderr, "device_runtime_bench: the runner failed:\n%s\n%s\n", dsp.output.c_str(), portable.output.c_str());
    return 1;
  }
  const auto a = parse(dsp.output), b = parse(portable.output);
  std::printf("Cortex-M4F instructions per MAC (QEMU mps2-an386, -icount shift=10, timer0 ticks / 25.6)\n\n");
  std::printf("%-52s %10s %12s %12s %8s\n", "layer", "MACs", "DSP", "portable", "speed-up");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const int line = static_cast<int>(i) + 1;
    if (!a.count(line) || !b.count(line)) continue;
    const double macs = a.at(line).second;
    const double ia = a.at(line).first / 25.6 / macs, ib = b.at(line).first / 25.6 / macs;
    std::printf("%-52s %10.0f %12.2f %12.2f %7.2fx\n", layers[i].name, macs, ia, ib, ib / ia);
  }
  return 0;
}
