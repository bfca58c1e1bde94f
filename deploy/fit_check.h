#pragma once
// Does the image fit the board? Flash = model + runtime + the board's app; RAM = the model's static
// data (the arena) + the runtime's + the app's + a stack bound. Host only.
//
// Sources of each figure: model and runtime bytes come from the qemu-m4 link map (the same compiler
// and flags as every Cortex-M4F build); the stack bound is the sum of the deepest frames from
// -fstack-usage (model_runner main + run_op + the two largest runtime frames: the kernels call at
// most one helper level deep); the app part is what the image itself holds besides model, runtime
// and preprocessing (a project's board app: the protocol app, its window and feature buffers; a bare
// model: the runner), and for nano33ble that plus a documented reserve for Mbed OS + the Arduino
// core (kNano33AppFlash/Ram), an estimate until a real Arduino build measures it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "deploy/firmware_build.h"

namespace tml::deploy {

struct BoardLimits {
  std::string board;
  std::int64_t flash = 0, ram = 0;              // what the application may use
  std::int64_t app_flash = 0, app_ram = 0;      // reserved for everything but model and runtime
};

inline constexpr std::int64_t kNano33AppFlash = 160 * 1024;  // Mbed OS + Arduino core (estimate)
inline constexpr std::int64_t kNano33AppRam = 64 * 1024;
// The Nano HAL's own buffers (boards/nano33ble/hal_nano33ble.cpp: 16 KiB microphone ring, 2 KiB
// IMU ring, one 160 x 120 RGB565 camera frame), not in the qemu-m4 map the check reads.
inline constexpr std::int64_t kNano33HalRam = 16384 + 2048 + 160 * 120 * 2;

// "qemu-m4" (4 MiB code, 4 MiB RAM; app = the measured runner), "host" (no limit), "nano33ble"
// (983,040 B application flash, 262,144 B RAM, DESIGN.md §4). USE: the qemu-m4 image's link map.
BoardLimits board_limits(const std::string& board, const ImageUse& use);

// Deepest stack bound from the .su files under BUILD_DIR (see above).
std::int64_t stack_bound(const std::filesystem::path& build_dir);

struct FitItem {
  std::string what;   // "flash" | "RAM"
  std::int64_t needed = 0, available = 0;
  std::vector<std::pair<std::string, std::int64_t>> parts;  // what makes up `needed`
  bool fits() const { return needed <= available; }
};

struct FitReport {
  std::vector<FitItem> items;
  bool fits() const;
  std::string text() const;
  // The items that do not fit, on one line: "flash needs N B of M B (over by K B); ..." (for errors).
  std::string overflow() const;  // one line per item: "flash: 1,234,567 B needed (model ..., runtime ...) of 983,040 B: over by ..."
};

FitReport check_fit(const BoardLimits& limits, const ImageUse& use, std::int64_t stack_bytes);

}  // namespace tml::deploy
