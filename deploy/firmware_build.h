#pragma once
// The firmware build driver and the model runner: turns a folder holding a generated model.h/.cc
// into model_runner for a board (firmware_template/ with TML_MODEL_DIR; CMake, and the
// arm-none-eabi toolchain for qemu-m4), runs it on inputs (QEMU with exact instruction counts, or
// the host process), and reads its link map for flash/RAM use. Host only.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tml::deploy {

enum class Board { host, qemu_m4 };
Board parse_model_board(const std::string& name);  // "host" | "qemu-m4"; else invalid_input
const char* board_name(Board board);

struct FirmwareImage {
  Board board = Board::host;
  std::filesystem::path runner;  // model_runner(.elf)
  std::filesystem::path map;     // its link map (qemu-m4 only)
  // The board app (collection + CLASSIFY with this model), built when MODEL_DIR has a
  // tml_features.h (tml build): tml_app(.elf) and its link map (qemu-m4); empty otherwise.
  std::filesystem::path app;
  std::filesystem::path app_map;
};

// Configures (first time) and builds firmware_template/ for MODEL_DIR into BUILD_DIR. Throws
// tml::Error(external_tool) with the compiler's last lines when the build fails.
FirmwareImage build_model_firmware(const std::filesystem::path& model_dir, Board board,
                                   const std::filesystem::path& build_dir);

struct OpCost {
  std::string name;
  double instructions = 0;
};

struct RunnerResult {
  std::vector<std::vector<std::uint8_t>> outputs;  // one per input, raw output tensor bytes
  std::vector<double> instructions;                // qemu-m4: per inference (exact, -icount); host: empty
  std::vector<OpCost> op_instructions;             // qemu-m4: per op of the first inference
  std::vector<double> feature_instructions;        // qemu-m4, raw inputs: preprocessing + input quantization
  std::vector<std::vector<std::uint8_t>> features; // raw inputs: each window's float32 features
};

// Runs the image on every input (raw input tensor bytes) in one process. Throws tml::Error:
// external_tool when QEMU is missing or the runner fails, with its output.
// RAW: the inputs are raw sensor windows, preprocessed on the device (an image built with tml_features.h).
RunnerResult run_model_firmware(const FirmwareImage& image, const std::vector<std::vector<std::uint8_t>>& inputs,
                                bool raw = false);

// Memory use of a linked Cortex-M image from its GNU ld map: bytes per component (the generated
// model, the runtime kernels, the preprocessing core, everything else: app, startup, libc) and per kind.
struct ImageUse {
  std::int64_t model_flash = 0, runtime_flash = 0, preprocess_flash = 0, other_flash = 0;  // .text/.rodata/.data
  std::int64_t model_ram = 0, runtime_ram = 0, preprocess_ram = 0, other_ram = 0;  // .data/.bss (arena included)
  std::map<std::string, std::int64_t> sections;  // bytes per output section kind: .text .rodata .data .bss
  std::int64_t flash() const { return model_flash + runtime_flash + preprocess_flash + other_flash; }
  std::int64_t ram() const { return model_ram + runtime_ram + preprocess_ram + other_ram; }
};
ImageUse read_link_map(const std::filesystem::path& map_file);

}  // namespace tml::deploy
