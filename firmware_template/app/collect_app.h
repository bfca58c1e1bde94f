#pragma once
// The board firmware (docs/protocol.md, board side): HELLO at start-up and on request, takes
// (START -> DATA ... -> TAKE_END, STOP), STATS, ERROR; with a model (a Classifier) also CLASSIFY:
// windows of the sensor's samples classified on the board (FEATURES, RESULT ... TAKE_END). Portable C++17 on top of hal/hal.h:
// no heap, no exceptions, static buffers only; the same source runs on every board.
#include <cstddef>
#include <cstdint>

#include "app/classifier.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace tml::app {

inline constexpr std::uint8_t kFirmwareMajor = 0;
inline constexpr std::uint8_t kFirmwareMinor = 1;
inline constexpr std::uint8_t kFirmwarePatch = 0;

// A paced take sends a partial chunk once its oldest unsent sample is this old (µs); otherwise
// it waits for a full chunk.
inline constexpr std::uint32_t kMaxChunkLatencyUs = 50000;
// A real sensor that delivers nothing for this long plus two sample (frame) periods has failed:
// the take ends with ERROR sensor_failed and TAKE_END.
inline constexpr std::uint32_t kSensorStallUs = 2000000;

class CollectApp {
 public:
  // classifier: the model build's, or nullptr for the collection-only firmware.
  explicit CollectApp(Classifier* classifier = nullptr) : classifier_(classifier) {}
  // After hal::init(): a lone 0x00 then HELLO (when a host is connected).
  void begin();
  // One step of the main loop: read the serial line and answer commands, send at most one DATA
  // chunk of a running take (or TAKE_END), else wait briefly in hal::idle().
  void poll();

 private:
  struct Take {
    bool active = false;
    bool fast = false;        // START's "as fast as possible" flag, replayed sensors only
    bool replayed = false;
    bool camera = false;
    std::uint8_t sensor = 0;
    std::uint16_t number = 0;
    std::uint32_t length = 0;       // 0: until STOP
    std::uint32_t unit_bytes = 0;   // pacing unit: one sample, or one frame for a camera
    std::uint32_t sample_bytes = 0; // DATA chunks hold whole samples
    std::uint32_t chunk_max = 0;    // largest chunk: whole samples, <= max_payload - 8
    std::uint64_t start_us = 0;
    std::uint64_t last_send_us = 0;
    std::uint64_t last_data_us = 0;  // real sensors: when samples last arrived
    std::uint64_t stall_us = 0;      // real sensors: silence after which the take fails
    std::uint32_t position = 0;     // sent + dropped: the offset of the next chunk
    std::uint32_t sent = 0;
    std::uint32_t dropped = 0;
    // CLASSIFY: samples go into the classifier's window instead of DATA frames.
    bool classify = false;
    bool send_features = false;
    std::uint32_t window_bytes = 0;
    std::uint32_t hop_bytes = 0;
    std::uint32_t fill = 0;          // bytes in the window buffer
    std::uint32_t windows_done = 0;
  };

  std::uint64_t now_us();  // 64-bit clock from hal::micros()
  void start_connection();
  void handle_frame(const proto::FrameHeader& h, const std::uint8_t* payload);
  void on_start(const std::uint8_t* payload, std::size_t n);
  void on_classify(const std::uint8_t* payload, std::size_t n);
  bool begin_take(std::uint8_t sensor, std::uint8_t flags, std::uint16_t number, std::uint32_t length,
                  std::uint32_t whole_unit_bytes);
  bool classify_step(std::uint32_t n);
  void send_window_result(std::uint32_t features_ticks, std::uint32_t inference_ticks);
  void on_stop(std::size_t n);
  bool step_take(std::uint64_t now, std::uint32_t* wait_us);
  void finish_take();
  void abandon_take();

  void send_hello();
  void send_error(proto::ErrorCode code, const char* text);
  void send_frame(proto::MessageType type, const std::uint8_t* payload, std::size_t n);

  Classifier* classifier_ = nullptr;
  proto::FrameDecoder decoder_;
  Take take_;
  std::uint32_t session_ = 0;
  std::uint16_t tx_sequence_ = 0;
  std::uint32_t frames_sent_ = 0;
  std::uint32_t frames_dropped_ = 0;
  std::uint32_t rx_frame_errors_ = 0;  // frames from the host dropped by the decoder
  std::uint32_t last_micros_ = 0;
  std::uint64_t clock_us_ = 0;
  bool clock_started_ = false;

  std::uint8_t rx_[64] = {};
  std::uint8_t payload_[proto::kMaxPayload] = {};
  std::uint8_t wire_[proto::kMaxWireFrame] = {};
};

}  // namespace tml::app
