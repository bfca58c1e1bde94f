#pragma once
// Message types and payload layouts of the wire protocol (docs/protocol.md). Every decoder checks
// the payload length exactly and every count against its bound: nothing from the wire is trusted.
#include <cstddef>
#include <cstdint>

namespace tml::proto {

enum class MessageType : std::uint8_t {
  hello_request = 0x01,  // host -> board: send HELLO
  hello = 0x02,          // board -> host: who I am
  start = 0x10,          // host -> board: start a take
  stop = 0x11,           // host -> board: end the running take now
  data = 0x12,           // board -> host: a chunk of sample bytes
  take_end = 0x13,       // board -> host: the take is complete
  classify = 0x14,       // host -> board: classify windows of a sensor's samples on the board
  features = 0x15,       // board -> host: a chunk of one window's features (float32)
  result = 0x16,         // board -> host: one window's model outputs and its cost
  stats_request = 0x20,  // host -> board
  stats = 0x21,          // board -> host
  error = 0x7F,          // board -> host: a command could not be honoured
};

enum class SensorKind : std::uint8_t { audio = 1, imu = 2, camera = 3 };
enum class SampleFormat : std::uint8_t { int16 = 1, float32 = 2, rgb565 = 3, yuv422 = 4, gray8 = 5 };

inline constexpr std::size_t kBoardIdSize = 16;
inline constexpr std::size_t kMaxSensors = 4;
inline constexpr std::size_t kHelloFixedSize = 31;
inline constexpr std::size_t kSensorDescriptorSize = 16;
inline constexpr std::size_t kMaxErrorText = 200;
inline constexpr std::size_t kDataHeaderSize = 8;

struct SensorDescriptor {
  SensorKind kind = SensorKind::audio;
  SampleFormat format = SampleFormat::int16;
  std::uint16_t channels = 1;
  std::uint32_t rate_millihertz = 0;  // samples (audio, IMU) or frames (camera) per 1000 s
  std::uint16_t width = 0, height = 0;  // camera only
};

struct Hello {
  char board[kBoardIdSize + 1] = {};  // NUL-terminated ASCII, e.g. "qemu-m4"
  std::uint8_t board_revision = 0;
  std::uint8_t firmware_major = 0, firmware_minor = 0, firmware_patch = 0;
  std::uint8_t config_hash[8] = {};  // the first 8 bytes of the project's config hash
  std::uint16_t max_payload = 0;     // the board never sends a larger payload
  std::uint8_t sensor_count = 0;
  SensorDescriptor sensors[kMaxSensors];
};

struct Start {
  std::uint8_t sensor = 0;      // index into HELLO's sensors
  std::uint8_t flags = 0;       // kStartAsFastAsPossible: replayed sensors skip real-time pacing
  std::uint16_t take = 0;       // chosen by the host, echoed in DATA and TAKE_END
  std::uint32_t length = 0;     // bytes of samples to send; 0 = until STOP
};
inline constexpr std::uint8_t kStartAsFastAsPossible = 0x01;

struct DataHeader {
  std::uint8_t sensor = 0;
  std::uint16_t take = 0;
  std::uint32_t offset = 0;  // byte offset of this chunk in the take's sample stream
};

struct TakeEnd {
  std::uint8_t sensor = 0;
  std::uint16_t take = 0;
  std::uint32_t total_bytes = 0;    // bytes the board sent in DATA for this take
  std::uint32_t dropped_bytes = 0;  // bytes the board lost before sending (buffer overrun)
};

// CLASSIFY: like START, but the board runs its model on windows of the sensor's samples instead of
// sending them: window w covers stream bytes [w * hop_bytes, w * hop_bytes + the model's window).
struct Classify {
  std::uint8_t sensor = 0;
  std::uint8_t flags = 0;        // kStartAsFastAsPossible, kClassifySendFeatures
  std::uint16_t take = 0;
  std::uint32_t windows = 0;     // windows to classify; 0 = until STOP
  std::uint32_t hop_bytes = 0;   // whole samples (frames), 1 ... the window
};
inline constexpr std::uint8_t kClassifySendFeatures = 0x02;
inline constexpr std::size_t kClassifySize = 12;
inline constexpr std::size_t kFeaturesHeaderSize = 12;
inline constexpr std::size_t kResultFixedSize = 24;

struct FeaturesHeader {
  std::uint16_t take = 0;
  std::uint32_t window = 0;
  std::uint32_t offset = 0;  // byte offset of this chunk in the window's feature bytes
};

struct Result {
  std::uint16_t take = 0;
  std::uint16_t count = 0;            // output bytes that follow the fixed part
  std::uint32_t window = 0;
  std::uint32_t stream_offset = 0;    // the window's first byte in the take's sample stream
  std::uint32_t features_ticks = 0;   // preprocessing + input quantization
  std::uint32_t inference_ticks = 0;  // the model
  std::uint32_t tick_hz = 0;          // the board's cost counter rate (hal::cost_ticks_per_second)
};

struct Stats {
  std::uint32_t frames_sent = 0;
  std::uint32_t frames_dropped = 0;  // frames the board could not send (link too slow)
  std::uint32_t uptime_ms = 0;
};

enum class ErrorCode : std::uint8_t { unknown_command = 1, bad_payload = 2, no_such_sensor = 3, busy = 4, sensor_failed = 5 };

struct ErrorMessage {
  ErrorCode code = ErrorCode::unknown_command;
  char text[kMaxErrorText + 1] = {};
};

// Encoders write the payload into out (capacity cap) and return its length, 0 when it does not fit.
// Decoders return false for a payload of the wrong size or with a value out of range.
std::size_t encode_hello(const Hello& m, std::uint8_t* out, std::size_t cap);
bool decode_hello(const std::uint8_t* p, std::size_t n, Hello* m);
std::size_t encode_start(const Start& m, std::uint8_t* out, std::size_t cap);
bool decode_start(const std::uint8_t* p, std::size_t n, Start* m);
// DATA: the 8-byte header then the sample bytes (written by the caller after the header).
std::size_t encode_data_header(const DataHeader& m, std::uint8_t* out, std::size_t cap);
bool decode_data_header(const std::uint8_t* p, std::size_t n, DataHeader* m);  // n: whole payload
std::size_t encode_take_end(const TakeEnd& m, std::uint8_t* out, std::size_t cap);
bool decode_take_end(const std::uint8_t* p, std::size_t n, TakeEnd* m);
std::size_t encode_classify(const Classify& m, std::uint8_t* out, std::size_t cap);
bool decode_classify(const std::uint8_t* p, std::size_t n, Classify* m);
// FEATURES and RESULT: the fixed header, then the bytes (written by the caller after it).
std::size_t encode_features_header(const FeaturesHeader& m, std::uint8_t* out, std::size_t cap);
bool decode_features_header(const std::uint8_t* p, std::size_t n, FeaturesHeader* m);  // n: whole payload
std::size_t encode_result_header(const Result& m, std::uint8_t* out, std::size_t cap);
bool decode_result_header(const std::uint8_t* p, std::size_t n, Result* m);  // n: whole payload = 24 + count
std::size_t encode_stats(const Stats& m, std::uint8_t* out, std::size_t cap);
bool decode_stats(const std::uint8_t* p, std::size_t n, Stats* m);
std::size_t encode_error(const ErrorMessage& m, std::uint8_t* out, std::size_t cap);
bool decode_error(const std::uint8_t* p, std::size_t n, ErrorMessage* m);

// Bytes per sample frame (all channels) of a sensor, or per pixel pair row for cameras: used to
// check that DATA chunks hold whole samples. Returns 0 for an unknown format.
std::size_t bytes_per_sample(SampleFormat format, std::uint16_t channels);

}  // namespace tml::proto
