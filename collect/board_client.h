#pragma once
// The host side of the wire protocol (docs/protocol.md) over a Link: HELLO, takes, and the checks
// that make loss visible — CRC/COBS errors, sequence gaps and duplicates, chunk offsets, the
// board's own dropped bytes.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "collect/link.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace tml {

struct LinkCounters {
  std::uint64_t frames = 0;           // good frames received
  std::uint64_t corrupt = 0;          // frames dropped by the decoder (any FrameError)
  std::uint64_t lost = 0;             // frames missing according to sequence numbers
  std::uint64_t duplicates = 0;       // frames received twice (dropped)
  std::uint64_t unexpected = 0;       // frames of an unknown type or another take (ignored)
  std::uint64_t bytes = 0;            // link bytes read
  std::uint64_t by_error[8] = {};     // corrupt frames by proto::FrameError
};

struct Frame {
  proto::FrameHeader header;
  std::vector<std::uint8_t> payload;
  proto::MessageType type() const { return static_cast<proto::MessageType>(header.type); }
};

struct TakeRequest {
  std::uint8_t sensor = 0;
  std::uint16_t take = 0;
  std::uint32_t length_bytes = 0;
  bool as_fast_as_possible = false;
  int idle_timeout_ms = 2000;  // no frame for this long: the board is gone
};

struct TakeResult {
  std::vector<std::uint8_t> bytes;  // the take's sample bytes, in order
  bool clean = false;               // every check passed
  std::string problem;              // why it is not clean (first problem found)
  std::uint64_t corrupt_frames = 0, lost_frames = 0, duplicate_frames = 0;
  std::uint64_t gap_bytes = 0;      // bytes missing between chunks
  std::uint32_t board_dropped_bytes = 0;
  std::uint32_t frames = 0;         // DATA frames accepted
  double seconds = 0;               // host wall time of the take
  double device_seconds = 0;        // first to last DATA frame by the board's clock
  std::uint64_t link_bytes = 0;     // bytes read from the link during the take
};

class BoardClient {
 public:
  explicit BoardClient(Link& link) : link_(link) {}

  // Sends HELLO_REQUEST and waits for HELLO (other frames are skipped). Throws
  // tml::Error(ExitCode::device) when none comes within timeout_ms.
  proto::Hello hello(int timeout_ms = 3000);
  void send(proto::MessageType type, const std::uint8_t* payload = nullptr, std::size_t n = 0);
  // The next good frame, or nothing after timeout_ms. Updates counters().
  std::optional<Frame> receive(int timeout_ms);
  // One take: START, DATA until TAKE_END. `progress(bytes_so_far)` is called as data arrives;
  // `cancelled()` is polled and, when true, STOP is sent and the take ends as not clean.
  TakeResult capture(const TakeRequest& request, const std::function<void(std::uint64_t)>& progress = {},
                     const std::function<bool()>& cancelled = {});
  const LinkCounters& counters() const { return counters_; }
  std::string link_name() const { return link_.name(); }

 private:
  void note_sequence(std::uint16_t sequence);
  Link& link_;
  proto::FrameDecoder decoder_;
  std::vector<std::uint8_t> pending_;  // bytes read but not yet fed to the decoder
  std::size_t pending_pos_ = 0;
  std::optional<std::uint16_t> next_sequence_;
  std::uint16_t host_sequence_ = 0;
  LinkCounters counters_;
};

}  // namespace tml
