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
  ASSERT_TRUE(fs::exists(e.sketch / "src" / "conv.cpp"));
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

}  // namespace
}  // namespace tml::deploy
