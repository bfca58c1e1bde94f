#pragma once
// The project's built board app (tml build's build/deploy/): what `tml flash`, `tml test` and
// `tml monitor` need to put it on a board and to read what it sends.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "core/project_file.h"

namespace tml::cli {

struct BuiltFirmware {
  std::string board;                     // qemu-m4 or host
  std::filesystem::path model_dir;       // build/deploy/model
  std::filesystem::path app;             // the board app image (tml_app.elf / tml_app)
  std::filesystem::path app_map;         // its link map (qemu-m4)
  std::string config_hash;               // 16 hex digits, as HELLO carries it
  std::uint32_t window_bytes = 0;        // one raw window of the sensor
  std::size_t output_bytes = 0;
  float output_scale = 0.0f;
  int output_zero_point = 0;
  nlohmann::ordered_json report;         // build/report.json
};

// The built app for BOARD (qemu-m4, host; the host app is built on first use). Throws
// tml::Error(invalid_input) with the fix when there is no build or tml.yaml changed since.
BuiltFirmware built_firmware(const Project& project, const std::string& board);

// The index of the board's sensor that is the project's (kind, format, channels, rate, frame size);
// throws tml::Error(device) listing the board's sensors when none is.
std::uint8_t project_sensor_index(const proto::Hello& hello, const Project& project, const std::string& where);

// Checks that HELLO carries EXPECTED (16 hex digits: the build's config hash); throws
// tml::Error(device) naming WHERE and FIX otherwise.
void check_config_hash(const proto::Hello& hello, const std::string& expected, const std::string& where,
                       const std::string& fix = "run `tml flash`");

// The test split's files (absolute) and their label indices, in manifest order.
struct LabelledFiles {
  std::vector<std::filesystem::path> files;
  std::vector<int> labels;
  std::size_t groups = 0;          // distinct sample groups (speakers...) in the test split
  std::size_t groups_trained = 0;  // of those, groups with samples in train or validation
};
LabelledFiles test_split(const Project& project);

// Puts the app on the emulated board with its sensor replaying RAW_WINDOWS' file and connects:
// the board's state, its HELLO (hash checked) and a client on its socket.
struct FlashedBoard {
  BoardState state;
  proto::Hello hello;
  std::unique_ptr<Link> link;
  std::unique_ptr<BoardClient> client;
};
// REAL_TIME: the sensor plays at its real pace (tml flash, for tml monitor), else as fast as the
// emulator computes (tml test).
FlashedBoard flash_app(const Project& project, const BuiltFirmware& firmware, const ReplaySensor& replay,
                       bool real_time = false);
// Connects to the project's running board and checks it runs this build's app.
FlashedBoard connect_app(const Project& project, const BuiltFirmware& firmware);

}  // namespace tml::cli
