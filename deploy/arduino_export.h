#pragma once
// The Nano 33 BLE Sense export of a generated model: an Arduino sketch folder
//   DEST/tml_model/tml_model.ino + DEST/tml_model/src/{model.h, model.cpp, the runtime kernels}
// Arduino compiles a sketch's src/ without adding it to the include path, so `#include
// "runtime/x.h"` becomes `#include "x.h"` (names are unique) and .cc files become .cpp. The sketch
// runs the model on the input's zero point once a second and prints the top class and the time
// (micros) over USB serial: a smoke test of the model on the board. When arduino-cli is on PATH
// it is compiled (FQBN arduino:mbed_nano:nano33ble) into DEST/tml_model/build/tml_model.ino.bin.
// Host only.
#include <filesystem>
#include <string>

namespace tml::deploy {

struct ArduinoExport {
  std::filesystem::path sketch;  // DEST/tml_model
  std::filesystem::path binary;  // the .bin, empty when arduino-cli is not installed
  std::string note;              // what was and was not done, for the summary
};

// MODEL_DIR holds the generated model.h/model.cc. Throws tml::Error(external_tool) when
// arduino-cli is installed but fails (with its last lines).
ArduinoExport export_arduino_sketch(const std::filesystem::path& model_dir, const std::filesystem::path& dest);

}  // namespace tml::deploy
