#pragma once
// Flashing a real Arduino Nano 33 BLE (Sense) over USB (DESIGN.md §4): find its port, reset it into
// the bootloader with a 1200-baud touch, upload the .bin with arduino-cli or Arduino's bossac, and
// wait for the new app's port. The ports and the clock sit behind NanoPorts so tests can script a
// board; the upload tools are real processes.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "collect/link.h"

namespace tml {

class NanoPorts {
 public:
  virtual ~NanoPorts() = default;
  virtual std::vector<SerialPortInfo> list() = 0;
  // Opens PORT at 1200 baud with DTR off and closes it: the app resets into the bootloader. Throws
  // serial_open_error (dialout group, busy port) when the port does not open.
  virtual void touch_1200(const std::string& port) = 0;
  virtual void sleep_ms(int ms) = 0;
};

// The machine's ports through libserialport, and real sleeps.
class SerialNanoPorts final : public NanoPorts {
 public:
  std::vector<SerialPortInfo> list() override;
  void touch_1200(const std::string& port) override;
  void sleep_ms(int ms) override;
};

struct NanoFlashOptions {
  std::string port;                   // --port; empty: the one Nano 33 BLE connected
  int bootloader_timeout_ms = 8000;   // for the bootloader port after the touch
  int app_timeout_ms = 10000;         // for the app port after the upload
  int poll_ms = 100;
  std::string tool_path;              // where arduino-cli / bossac are looked for (PATH syntax); empty: $PATH
  std::function<void(const std::string&)> on_step;  // progress lines ("uploading with ..."), optional
};

struct NanoFlashResult {
  std::string port;                   // the new app's serial port: open it and wait for HELLO
  std::filesystem::path uploader;     // the arduino-cli or bossac that uploaded
};

// Flashes FIRMWARE (a raw .bin for arduino:mbed_nano:nano33ble) onto the board. Every failure is
// one tml::Error line with its fix: ExitCode::invalid_input for a bad file or --port (or several
// boards and no --port), ExitCode::device for the board and its ports, ExitCode::external_tool when
// no usable upload tool is installed or it fails. The tool is checked before the board is reset.
NanoFlashResult flash_nano33ble(const std::filesystem::path& firmware, NanoPorts& ports,
                                const NanoFlashOptions& options = {});

}  // namespace tml
