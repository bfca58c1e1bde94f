#pragma once
// Shared by the boards whose sensors are replayed from files (qemu-m4, host): the command line
// (firmware_template/README.md) and the looping file replay. Portable C++17, no heap, no stdio:
// each board passes its own file functions (host: stdio; qemu-m4: raw semihosting calls).
//
//   --sensor KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH   (repeated, at most 4)
//   --max-payload N                                                (64 ... 1024, default 1024)
//   --socket PATH                                                  (host board only, required)
#include <cstddef>
#include <cstdint>

#include "hal/hal.h"
#include "hal/text.h"
#include "protocol/frame.h"

namespace tml::hal {

inline constexpr std::size_t kMaxPath = 256;
inline constexpr std::uint16_t kMinPayload = 64;

struct SensorArg {
  SensorInfo info;
  std::uint32_t unit_bytes = 0;  // one sample (all channels), or one whole frame for a camera
  char path[kMaxPath] = {};
};

struct BoardArgs {
  SensorArg sensors[kMaxSensors];
  std::size_t sensor_count = 0;
  std::uint16_t max_payload = static_cast<std::uint16_t>(proto::kMaxPayload);
  char socket[kMaxPath] = {};  // empty unless --socket was given
};

using ErrorText = Text<240>;

// Parses "KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH". KIND: audio | imu | camera;
// FORMAT: int16 | float32 | rgb565 | yuv422 | gray8. Audio and IMU take int16/float32 with WIDTH
// and HEIGHT 0; a camera takes rgb565/yuv422/gray8, 1 channel and a frame size. PATH is the rest
// of the text (it may contain ':').
bool parse_sensor_arg(const char* text, SensorArg* out, ErrorText* error);

// argv[0] is the program name. allow_socket: the host board's --socket option.
bool parse_board_args(int argc, char** argv, bool allow_socket, BoardArgs* out, ErrorText* error);

// File access provided by the board.
struct FileOps {
  // Opens PATH for binary reading: a handle >= 0 and the file's size, or -1.
  long (*open)(const char* path, std::uint32_t* size);
  // Reads exactly n bytes at the current position.
  bool (*read)(long handle, std::uint8_t* dst, std::size_t n);
  // Moves to byte POS.
  bool (*seek)(long handle, std::uint32_t pos);
};

// A sensor replaying a raw file of samples in the sensor's format, looping at its end; a trailing
// partial sample (or frame) is ignored. Like a real sensor it runs on between takes: a take starts
// where the previous one stopped (the first take of a boot at the file's first byte).
class ReplaySensor {
 public:
  bool open(const FileOps* ops, const SensorArg& arg, ErrorText* error);
  bool start();  // where the previous take stopped
  bool read(std::uint8_t* dst, std::size_t n);

 private:
  const FileOps* ops_ = nullptr;
  long handle_ = -1;
  std::uint32_t length_ = 0;  // usable bytes: whole units
  std::uint32_t pos_ = 0;
};

}  // namespace tml::hal
