#pragma once
// Emulated boards: the collection firmware running as a Linux process (`host`) or in QEMU
// mps2-an386 (`qemu-m4`), started in the background with its serial link on a UNIX socket and
// recorded in the project's .tml/board.json so that other verbs find it. Its sensor replays files.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/project_file.h"
#include "protocol/messages.h"

namespace tml {

// What the board's sensor "sees": one raw file in the sensor's format (int16 PCM, float32 rows,
// RGB565/YUV422/gray frames), looped.
struct ReplaySensor {
  proto::SensorDescriptor descriptor;
  std::filesystem::path raw_file;
  std::vector<std::string> sources;  // the user's files it was made from
};

struct BoardState {
  std::string board;     // "qemu-m4" or "host"
  pid_t pid = 0;
  std::string socket;    // UNIX socket of the serial link
  std::string log;       // the board's stdout/stderr
  std::string firmware;  // the image it runs
  std::vector<std::string> replay;
  std::string started;   // UTC
  nlohmann::ordered_json to_json() const;
  static BoardState from_json(const nlohmann::ordered_json& j);
};

// The sensor the project's tml.yaml describes, as the protocol's descriptor.
proto::SensorDescriptor project_sensor(const Project& project);

// One file (as `tml import` reads it) as the project's sensor delivers it: int16 PCM at the
// sensor's rate, a camera frame in its pixel format and size, or float32 samples interleaved by
// channel. What the board's app sees, and what a replayed sensor sends.
std::vector<std::uint8_t> sensor_bytes_of(const Project& project, const std::filesystem::path& file);

// Bytes of one window of the project's sensor as the board's app classifies it: sensor.window_ms
// of int16 PCM (audio), the IMU window of float32 samples, or one camera frame.
std::size_t sensor_window_bytes(const Project& project);
// A raw signal cut or zero-padded to that window, as the feature extractor does with a stored file.
std::vector<std::uint8_t> sensor_window_of(const Project& project, std::vector<std::uint8_t> raw);

// Converts the user's files (WAV/FLAC..., PNG/JPEG/BMP, CSV — as `tml import` reads them) into the
// raw replay stream of the project's sensor, in dir. Audio must already have the project's rate
// (or is converted); images are resized to the camera's size and encoded as the camera would.
ReplaySensor prepare_replay(const Project& project, const std::vector<std::filesystem::path>& files,
                            const std::filesystem::path& dir);

// Where the collection firmware for a board lives (built with tml); throws when it is missing.
std::filesystem::path collection_firmware(const std::string& board);

// Starts the board in the background, waits until its socket answers HELLO, records it. Stops a
// board already recorded for the project first. FIRMWARE: the image to run (a project's board app,
// tml_app), or empty for the collection firmware. REAL_TIME (qemu-m4 board app): QEMU keeps the
// virtual clock from running ahead of the wall clock (-icount align=on), so a replayed sensor
// plays at its real pace for tml monitor; without it the board computes as fast as QEMU can
// (tml test).
BoardState start_emulated_board(const Project& project, const std::string& board, const ReplaySensor& replay,
                                const std::filesystem::path& firmware = {}, bool real_time = false);

// qemu-m4 runs a project's board app under `-icount shift=4`: one instruction per 16 ns of virtual
// time (62.5 MIPS, about the Nano 33 BLE's 64 MHz Cortex-M4F), so the board's clock and the
// replayed sensor's pace stay realistic while its cost counter (timer0) counts instructions
// exactly: instructions = ticks * (10^9 / tick_hz) / 16.
inline constexpr int kQemuIcountShift = 4;
// Instructions per cost tick on an emulated board (qemu-m4); 0 where ticks are not instructions.
double instructions_per_tick(const std::string& board, std::uint32_t tick_hz);

// The board recorded for the project if its process is still alive (stale records are removed).
std::optional<BoardState> running_board(const Project& project);

// Stops the recorded board (SIGTERM, then SIGKILL after 2 s); false when none was running.
bool stop_board(const Project& project);

}  // namespace tml
