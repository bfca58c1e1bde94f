// tml data-collection firmware for the Arduino Nano 33 BLE Sense (rev1), speaking the tml wire
// protocol (docs/protocol.md) over USB: `tml collect` finds the board, reads its HELLO and records
// takes from the microphone (0), the IMU (1) or the camera (2).
//
// Build: this folder as exported by firmware_template/boards/nano33ble/export.sh (it fills src/), then
//   arduino-cli compile -b arduino:mbed_nano:nano33ble tml_collect
// Libraries: PDM (part of the core), Arduino_LSM9DS1, Arduino_OV767X.
#include "src/collect_app.h"
#include "src/hal.h"

static tml::app::CollectApp g_app;

void setup() {
  tml::hal::init(0, nullptr);
  g_app.begin();
}

void loop() { g_app.poll(); }
