// The Nano 33 BLE export: the sketch folder holds the model and the runtime with flattened includes,
// and every source file compiles for the Cortex-M4F with arm-none-eabi-g++ (the Arduino core itself
// is not installed here; the .ino is compiled only by arduino-cli on a user's machine).
#include <gtest/gtest.h>

#include "deploy/arduino_export.h"
#include "deploy/codegen.h"
#include "deploy/compiled_model.h"
#include "deploy/tflite_import.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

namespace fs = std::filesystem;

TEST(ArduinoExport, SketchSourcesCompileForTheCortexM4) {
  test::TempDir dir;
  const CompiledModel m = compile_model(import_tflite(test::shared_data("models/mlperf-tiny/kws_ref_model.tflite")));
  const GeneratedModel code = generate_model(m);
  test::write_text(dir / "model/model.h", code.header);
  test::write_text(dir / "model/model.cc", code.source);
  const ArduinoExport e = export_arduino_sketch(dir / "model", dir / "out");
  ASSERT_TRUE(fs::exists(e.sketch / "tml_model.ino"));
  ASSERT_TRUE(fs::exists(e.sketch / "src" / "model.cpp"));
  ASSERT_TRUE(fs::exists(e.sketch / "src" / "runtime_conv.cpp"));
  EXPECT_EQ(test::read_text(e.sketch / "src" / "model.cpp").find("#include \"runtime/"), std::string::npos);
  int compiled = 0;
  for (const auto& f : fs::directory_iterator(e.sketch / "src")) {
    if (f.path().extension() != ".cpp") continue;
    const ProcessResult r = run_process({"arm-none-eabi-g++", "-std=gnu++17", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                                         "-mfpu=fpv4-sp-d16", "-O2", "-fno-exceptions", "-fno-rtti", "-ffp-contract=off",
                                         "-c", f.path().string(), "-o", (dir / (f.path().stem().string() + ".o")).string()});
    EXPECT_EQ(r.exit_code, 0) << f.path() << "\n" << r.err;
    ++compiled;
  }
  EXPECT_GE(compiled, 7);
}

// A project build (a tml_features.h beside the model) exports the whole board app: protocol app +
// classification + preprocessing + runtime + the Nano's HAL. Every source but the HAL (which needs
// the Arduino core) compiles for the Cortex-M4F, the .ino's includes exist, and nothing is left
// including a folder path.
TEST(ArduinoExport, ProjectBuildExportsTheBoardApp) {
  test::TempDir dir;
  const CompiledModel m = compile_model(import_tflite(test::shared_data("models/mlperf-tiny/kws_ref_model.tflite")));
  CodegenOptions options;
  options.config_hash = "0123456789abcdef";
  const GeneratedModel code = generate_model(m, options);
  test::write_text(dir / "model/model.h", code.header);
  test::write_text(dir / "model/model.cc", code.source);
  // KWS's input is 49 x 10 MFCCs of one second at 16 kHz.
  test::write_text(dir / "model/tml_features.h",
                   "#pragma once\n#include <cstddef>\n#include \"preprocess/audio_features.h\"\nnamespace tml_features {\n"
                   "constexpr int kKind = 0;\nconstexpr std::size_t kWindowBytes = 32000;\nconstexpr std::size_t kWorkFloats = 4096;\n"
                   "inline tml::pre::AudioConfig config() {\n  tml::pre::AudioConfig c;\n  c.sample_rate = 16000u;\n"
                   "  c.frame_length = 640;\n  c.hop_length = 320;\n  c.fft_size = 1024;\n  c.mel_bands = 40;\n"
                   "  c.mfcc_coeffs = 10;\n  return c;\n}\n}  // namespace tml_features\n");
  const ArduinoExport e = export_arduino_sketch(dir / "model", dir / "out");
  ASSERT_EQ(e.sketch.filename(), "tml_app");
  const std::string ino = test::read_text(e.sketch / "tml_app.ino");
  for (const char* include : {"app_collect_app.h", "app_model_classifier.h", "hal_hal.h"}) {
    EXPECT_NE(ino.find(include), std::string::npos) << include;
    EXPECT_TRUE(fs::exists(e.sketch / "src" / include)) << include;
  }
  EXPECT_TRUE(fs::exists(e.sketch / "src" / "hal_nano33ble.cpp"));
  EXPECT_TRUE(fs::exists(e.sketch / "src" / "runtime_status.h"));
  EXPECT_TRUE(fs::exists(e.sketch / "src" / "preprocess_status.h"));
  int compiled = 0;
  for (const auto& f : fs::directory_iterator(e.sketch / "src")) {
    const std::string text = test::read_text(f.path());
    for (const char* folder : {"runtime/", "preprocess/", "protocol/", "app/", "hal/"})
      EXPECT_EQ(text.find(std::string("#include \"") + folder), std::string::npos) << f.path() << " " << folder;
    if (f.path().extension() != ".cpp" || f.path().filename() == "hal_nano33ble.cpp") continue;
    const ProcessResult r = run_process({"arm-none-eabi-g++", "-std=gnu++17", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                                         "-mfpu=fpv4-sp-d16", "-O2", "-fno-exceptions", "-fno-rtti", "-ffp-contract=off",
                                         "-c", f.path().string(), "-o", (dir / (f.path().stem().string() + ".o")).string()});
    EXPECT_EQ(r.exit_code, 0) << f.path() << "\n" << r.err;
    ++compiled;
  }
  // model.cpp, the app's three sources and every .cc of the portable core: nothing left out.
  int expected = 4;
  for (const char* folder : {"runtime", "preprocess", "protocol"})
    for (const auto& f : fs::directory_iterator(test::source_dir() / folder)) expected += f.path().extension() == ".cc";
  EXPECT_EQ(compiled, expected);
}

}  // namespace
}  // namespace tml::deploy
