#pragma once
// The Nano 33 BLE Sense export of a generated model as an Arduino sketch folder. Arduino compiles a
// sketch's src/ without adding it to the include path, so every source goes flat into src/ as
// FOLDER_NAME (`#include "runtime/status.h"` becomes `#include "runtime_status.h"`) and .cc files
// become .cpp.
//   A project build (MODEL_DIR has tml_features.h): DEST/tml_app/ — the board app: tml's wire
//     protocol app with data collection and CLASSIFY (the project's preprocessing + the model) over
//     the Nano's HAL (firmware_template/boards/nano33ble), what `tml flash --board nano33ble` uploads.
//   A bare model (tml deploy): DEST/tml_model/ — a smoke test that runs the model on the input's
//     zero point once a second and prints the top class and the time over USB serial.
// When arduino-cli is on PATH the sketch is compiled (FQBN arduino:mbed_nano:nano33ble) into
// DEST/<sketch>/build/<sketch>.ino.bin. Host only.
#include <filesystem>
#include <string>

namespace tml::deploy {

struct ArduinoExport {
  std::filesystem::path sketch;  // DEST/tml_app or DEST/tml_model
  std::filesystem::path binary;  // the .bin, empty when arduino-cli is not installed
  std::string note;              // what was and was not done, for the summary
};

// MODEL_DIR holds the generated model.h/model.cc. Throws tml::Error(external_tool) when
// arduino-cli is installed but fails (with its last lines).
ArduinoExport export_arduino_sketch(const std::filesystem::path& model_dir, const std::filesystem::path& dest);

}  // namespace tml::deploy
