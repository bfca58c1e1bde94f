// The real .tflite models (../shared/data/models, MLPerf Tiny references) through the whole deploy
// path: import, compile (plan), generate code, build for qemu-m4, run; the Cortex-M4F output bytes
// must equal the host runtime's on every input. Also what the models are for: person_detect tells a
// person from no person, hello_world computes sin(x).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "deploy/compiled_model.h"
#include "deploy/dequantized_graph.h"
#include "deploy/float_executor.h"
#include "deploy/int8_executor.h"
#include "deploy/model_package.h"
#include "deploy/tflite_import.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

namespace fs = std::filesystem;

const char* const kModels[] = {"hello_world_int8.tflite",          "micro_speech_quantized.tflite",
                               "person_detect.tflite",             "mlperf-tiny/kws_ref_model.tflite",
                               "mlperf-tiny/vww_96_int8.tflite",   "mlperf-tiny/pretrainedResnet_quant.tflite",
                               "mlperf-tiny/ad01_int8.tflite"};

CompiledModel load(const std::string& name) { return compile_model(import_tflite(test::shared_data("models/" + name))); }

const Tensor& input_of(const CompiledModel& m) { return m.graph.tensors[static_cast<std::size_t>(m.graph.inputs[0])]; }
const Tensor& output_of(const CompiledModel& m) { return m.graph.tensors[static_cast<std::size_t>(m.graph.outputs[0])]; }

std::vector<std::vector<std::uint8_t>> random_inputs(const Tensor& input, std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::vector<std::uint8_t>> inputs(count, std::vector<std::uint8_t>(input.bytes()));
  for (auto& in : inputs)
    for (auto& b : in) b = static_cast<std::uint8_t>(byte(rng));
  return inputs;
}

// TFLite Micro's person_detection test feeds the BMP's 8-bit pixels reinterpreted as int8; so does this.
std::vector<std::uint8_t> bmp_pixels(const std::string& name) {
  const fs::path file = test::shared_data("images/" + name);
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 54u + 96 * 96);
  std::uint32_t offset = 0;
  std::memcpy(&offset, bytes.data() + 10, 4);  // BITMAPFILEHEADER: offset of the pixel array
  std::int32_t height = 0;
  std::memcpy(&height, bytes.data() + 22, 4);
  std::vector<std::uint8_t> pixels(96 * 96);
  for (int row = 0; row < 96; ++row) {  // bottom-up unless the height is negative; rows are 96 bytes (4-aligned)
    const int src = height > 0 ? 95 - row : row;
    std::memcpy(pixels.data() + row * 96, bytes.data() + offset + src * 96, 96);
  }
  return pixels;
}

TEST(TfliteModels, ArenaIsWithinFivePercentOfTheLowerBound) {
  for (const char* name : kModels) {
    const CompiledModel m = load(name);
    EXPECT_LE(m.arena_bytes, m.plan.lower_bound * 105 / 100) << name;
    EXPECT_LE(m.arena_bytes, m.tflm_greedy_bytes) << name;
    EXPECT_GT(m.macs, 0) << name;
  }
}

TEST(TfliteModels, PersonDetectTellsPersonFromNoPerson) {
  const CompiledModel m = load("person_detect.tflite");
  const auto score = [&](const char* image) {
    const auto out = run_compiled(m, {bmp_pixels(image)}).outputs[0];
    return std::pair<int, int>(static_cast<std::int8_t>(out[0]), static_cast<std::int8_t>(out[1]));  // {no person, person}
  };
  const auto person = score("person.bmp");
  const auto nobody = score("no_person.bmp");
  EXPECT_GT(person.second, person.first);
  EXPECT_GT(nobody.first, nobody.second);
}

TEST(TfliteModels, HelloWorldComputesSine) {
  const CompiledModel m = load("hello_world_int8.tflite");
  const Tensor& in = input_of(m);
  const Tensor& out = output_of(m);
  const Graph twin = dequantized_graph(m.graph);  // the same weights in float: its difference is quantization error
  double worst = 0, worst_steps = 0;
  for (int i = 0; i <= 200; ++i) {
    const float x = static_cast<float>(2 * M_PI * i / 200);
    const long q = std::lround(x / in.quant.scale[0]) + in.quant.zero_point[0];
    const std::vector<std::uint8_t> input{static_cast<std::uint8_t>(static_cast<std::int8_t>(std::clamp(q, -128L, 127L)))};
    const auto y = static_cast<std::int8_t>(run_compiled(m, {input}).outputs[0][0]);
    const double value = out.quant.scale[0] * (y - out.quant.zero_point[0]);
    worst = std::max(worst, std::abs(value - std::sin(x)));
    const float xq = in.quant.scale[0] * static_cast<float>(static_cast<std::int8_t>(input[0]) - in.quant.zero_point[0]);
    const float reference = run_float(twin, {{xq}})[0][0];
    worst_steps = std::max(worst_steps, std::abs(value - reference) / out.quant.scale[0]);
  }
  // Against its float twin the int8 model is off by its quantization error: rounding in each of the
  // three layers adds up to ~5 output steps (0.044); a wrong kernel or import is off by far more.
  EXPECT_LT(worst_steps, 8.0) << "worst |int8 - float| in output steps = " << worst_steps;
  std::printf("hello_world: worst |y - sin x| %.4f, worst |int8 - float twin| %.2f output steps\n", worst, worst_steps);
  // The model is a small regressor trained on noisy samples: TFLM's own test accepts it within
  // ~0.1 of sin(x) over [0, 2pi]; a broken kernel or import is off by far more.
  EXPECT_LT(worst, 0.15) << "worst |y - sin x| = " << worst;
  RecordProperty("hello_world_worst_error", std::to_string(worst));
}

TEST(TfliteModels, CortexM4OutputBytesEqualTheHostOnTwentyInputs) {
  test::TempDir dir;
  for (const char* name : kModels) {
    SCOPED_TRACE(name);
    const CompiledModel m = load(name);
    auto inputs = random_inputs(input_of(m), 20, 3);
    if (std::string(name) == "person_detect.tflite") {
      inputs[0] = bmp_pixels("person.bmp");
      inputs[1] = bmp_pixels("no_person.bmp");
    }
    // One build folder for all models: the runtime is compiled once, only model.cc changes.
    const ModelPackage p = package_model(m, {}, Board::qemu_m4, dir.path());
    const RunnerResult device = run_model_firmware(p.image, inputs);
    ASSERT_EQ(device.outputs.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i)
      ASSERT_EQ(device.outputs[i], run_compiled(m, {inputs[i]}).outputs[0]) << "input " << i;
    ASSERT_EQ(device.instructions.size(), inputs.size());
    ASSERT_TRUE(p.use.has_value());
    EXPECT_GE(p.use->model_ram, m.arena_bytes);
  }
}

}  // namespace
}  // namespace tml::deploy
