// model_bench: the real .tflite models on the emulated Cortex-M4F (QEMU mps2-an386, -icount
// shift=10: exact instruction counts) through tml's deploy path: instructions per inference and
// per MAC, arena bytes (vs the live-set lower bound and TFLite Micro's greedy plan on the same
// tensors), flash bytes of model + runtime from the link map.
// Peer: TFLite Micro cannot be built here (not packaged in Debian), so its figures are the ones
// measured on the same QEMU board and quoted in issue 8 (CMSIS-NN kernels, one inference); they are
// printed beside ours as ratios, labelled as quoted.
// Usage: model_bench [OUT_DIR]   (builds into OUT_DIR, default a temporary folder)
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "deploy/compiled_model.h"
#include "deploy/model_package.h"
#include "deploy/tflite_import.h"

namespace fs = std::filesystem;
using namespace tml::deploy;

int main(int argc, char** argv) {
  const fs::path data = fs::path(TML_SHARED_DATA) / "models";
  const fs::path out = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "tml-model-bench";
  // name -> TFLM + CMSIS-NN instructions per inference and TFLM's whole arena (issue 8, quoted)
  const std::map<std::string, std::pair<double, long>> tflm = {
      {"person_detect.tflite", {22.93e6, 85232}},
      {"mlperf-tiny/kws_ref_model.tflite", {7.70e6, 24208}},
      {"mlperf-tiny/vww_96_int8.tflite", {24.10e6, 103600}},
      {"mlperf-tiny/pretrainedResnet_quant.tflite", {29.86e6, 55920}},
      {"mlperf-tiny/ad01_int8.tflite", {0.583e6, 3632}},
  };
  const char* models[] = {"hello_world_int8.tflite", "micro_speech_quantized.tflite", "person_detect.tflite",
                          "mlperf-tiny/kws_ref_model.tflite", "mlperf-tiny/vww_96_int8.tflite",
                          "mlperf-tiny/pretrainedResnet_quant.tflite", "mlperf-tiny/ad01_int8.tflite"};
  std::printf("%-42s %12s %8s %9s %9s %9s %10s %9s %11s %12s\n", "model", "instructions", "per MAC", "arena",
              "lower bd", "TFLM grd", "TFLM arena", "flash", "vs CMSIS-NN", "");
  for (const char* name : models) {
    const CompiledModel m = compile_model(import_tflite(data / name));
    const ModelPackage p = package_model(m, {}, Board::qemu_m4, out);
    const Tensor& input = m.graph.tensors[static_cast<std::size_t>(m.graph.inputs[0])];
    std::vector<std::uint8_t> zero(input.bytes(),
                                   static_cast<std::uint8_t>(input.quant.zero_point.empty() ? 0 : input.quant.zero_point[0]));
    const RunnerResult r = run_model_firmware(p.image, {zero});
    const double instr = r.instructions.at(0);
    const auto peer = tflm.find(name);
    char ratio[32] = "-", tflm_arena[32] = "-";
    if (peer != tflm.end()) {
      std::snprintf(ratio, sizeof ratio, "%.2fx", instr / peer->second.first);
      std::snprintf(tflm_arena, sizeof tflm_arena, "%ld", peer->second.second);
    }
    std::printf("%-42s %12.0f %8.2f %9lld %9lld %9lld %10s %9lld %11s\n", name, instr,
                m.macs ? instr / static_cast<double>(m.macs) : 0.0, static_cast<long long>(m.arena_bytes),
                static_cast<long long>(m.plan.lower_bound), static_cast<long long>(m.tflm_greedy_bytes), tflm_arena,
                static_cast<long long>(p.use->model_flash + p.use->runtime_flash), ratio);
  }
  std::printf("\nflash = generated model (weights, parameters, calls) + runtime kernels, from the link map.\n"
              "TFLM arena = TFLite Micro's whole arena on x86-64 incl. persistent data (quoted, issue 8);\n"
              "'vs CMSIS-NN' = our instructions / TFLM+CMSIS-NN's (quoted): below 1.00x means fewer.\n");
  return 0;
}
