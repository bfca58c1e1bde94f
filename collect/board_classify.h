#pragma once
// The host side of CLASSIFY (docs/protocol.md): the board classifies windows of its own sensor's
// samples and sends each window's model outputs (RESULT), and on request its features (FEATURES).
// Every window must arrive whole and in order: a lost or corrupt frame fails the run.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collect/board_client.h"

namespace tml {

struct ClassifyRequest {
  std::uint8_t sensor = 0;
  std::uint16_t take = 0;
  std::uint32_t windows = 0;     // 0: until on_window returns false or cancelled() is true
  std::uint32_t hop_bytes = 0;   // whole samples (frames)
  bool as_fast_as_possible = false;
  bool send_features = false;
  int idle_timeout_ms = 2000;    // no frame for this long: the board is gone
};

struct WindowResult {
  std::uint32_t window = 0;
  std::uint32_t stream_offset = 0;          // the window's first byte in the sensor stream
  std::vector<std::uint8_t> features;       // float32 bytes (send_features), else empty
  std::vector<std::uint8_t> outputs;        // the output tensor bytes
  std::uint32_t features_ticks = 0, inference_ticks = 0, tick_hz = 0;
  std::uint32_t device_us = 0;              // the RESULT frame's board timestamp
};

struct ClassifyRun {
  std::uint32_t windows = 0;  // results received
  bool stopped = false;       // ended early by on_window or cancelled()
};

// Sends CLASSIFY and hands each window to on_window (return false to stop: STOP is sent and the
// run ends at the board's TAKE_END). Throws tml::Error(ExitCode::device) naming the link when the
// board refuses (its ERROR text), goes silent for idle_timeout_ms, closes the link, or a frame is
// lost or corrupt.
ClassifyRun classify_on_board(BoardClient& client, const ClassifyRequest& request,
                              const std::function<bool(const WindowResult&)>& on_window,
                              const std::function<bool()>& cancelled = {});

}  // namespace tml
