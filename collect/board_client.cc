#include "collect/board_client.h"

#include <algorithm>
#include <chrono>

#include "core/errors.h"

namespace tml {

namespace {

using Clock = std::chrono::steady_clock;
int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

void BoardClient::send(proto::MessageType type, const std::uint8_t* payload, std::size_t n) {
  std::uint8_t wire[proto::kMaxWireFrame];
  const std::size_t w =
      proto::encode_frame(static_cast<std::uint8_t>(type), host_sequence_++, 0, payload, n, wire, sizeof wire);
  if (w == 0) throw Error(ExitCode::internal, "frame too large to send");
  link_.write(wire, w);
}

void BoardClient::note_sequence(std::uint16_t sequence) {
  if (next_sequence_) {
    const std::uint16_t gap = static_cast<std::uint16_t>(sequence - *next_sequence_);
    if (gap != 0) counters_.lost += gap;
  }
  next_sequence_ = static_cast<std::uint16_t>(sequence + 1);
}

std::optional<Frame> BoardClient::receive(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (pending_pos_ == pending_.size()) {
      pending_.resize(4096);
      const std::size_t n = link_.read(pending_.data(), pending_.size(), ms_left(deadline));
      pending_.resize(n);
      pending_pos_ = 0;
      counters_.bytes += n;
      // Nothing: the time is up, or a signal (Ctrl-C) woke the wait; the caller decides.
      if (n == 0) return std::nullopt;
    }
    while (pending_pos_ < pending_.size()) {
      const auto r = decoder_.feed(pending_.data() + pending_pos_, pending_.size() - pending_pos_);
      pending_pos_ += r.consumed;
      if (r.error != proto::FrameError::none) {
        ++counters_.corrupt;
        ++counters_.by_error[static_cast<int>(r.error) & 7];
      }
      if (!r.frame_ready) continue;
      const proto::FrameHeader& h = decoder_.header();
      // A repeat of the previous sequence number is a duplicate: drop it.
      if (next_sequence_ && h.sequence == static_cast<std::uint16_t>(*next_sequence_ - 1)) {
        ++counters_.duplicates;
        continue;
      }
      note_sequence(h.sequence);
      ++counters_.frames;
      return Frame{h, std::vector<std::uint8_t>(decoder_.payload(), decoder_.payload() + h.payload_length)};
    }
    if (ms_left(deadline) == 0) return std::nullopt;
  }
}

proto::Hello BoardClient::hello(int timeout_ms) {
  // Asked again every 500 ms: a board still booting (or QEMU before the guest reads its UART) may
  // miss the first request.
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (ms_left(deadline) > 0) {
    send(proto::MessageType::hello_request);
    const auto ask_again = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
    while (ms_left(ask_again) > 0) {
      auto f = receive(ms_left(ask_again));
      if (!f) break;
      if (f->type() != proto::MessageType::hello) continue;
      proto::Hello h;
      if (!proto::decode_hello(f->payload.data(), f->payload.size(), &h))
        throw Error(ExitCode::device, link_.name() + ": the board's HELLO is malformed; reflash its firmware");
      return h;
    }
  }
  throw Error(ExitCode::device, link_.name() + ": no HELLO from the board within " + std::to_string(timeout_ms) +
                                    " ms; is it running tml firmware? (`tml flash`)");
}

TakeResult BoardClient::capture(const TakeRequest& req, const std::function<void(std::uint64_t)>& progress,
                                const std::function<bool()>& cancelled) {
  TakeResult t;
  const LinkCounters before = counters_;
  const auto started = Clock::now();
  proto::Start start{req.sensor, static_cast<std::uint8_t>(req.as_fast_as_possible ? proto::kStartAsFastAsPossible : 0),
                     req.take, req.length_bytes};
  std::uint8_t payload[16];
  send(proto::MessageType::start, payload, proto::encode_start(start, payload, sizeof payload));
  t.bytes.reserve(req.length_bytes);
  bool first_data = true, stopped = false;
  std::uint32_t first_us = 0, last_us = 0;
  auto fail = [&t](const std::string& why) {
    if (t.problem.empty()) t.problem = why;
  };
  for (;;) {
    if (!stopped && cancelled && cancelled()) {
      send(proto::MessageType::stop);
      stopped = true;
      fail("interrupted");
    }
    auto f = receive(stopped ? 1000 : req.idle_timeout_ms);
    if (!f) {
      if (cancelled && cancelled()) {
        if (stopped) break;  // STOP sent and no TAKE_END within a second: give up on this take
        continue;            // woken by Ctrl-C: send STOP above, then wait for TAKE_END
      }
      throw Error(ExitCode::device, link_.name() + ": the board sent nothing for " +
                                        std::to_string(req.idle_timeout_ms) + " ms during take " +
                                        std::to_string(req.take) + " (unplugged or crashed?)");
    }
    if (f->type() == proto::MessageType::error) {
      proto::ErrorMessage e;
      proto::decode_error(f->payload.data(), f->payload.size(), &e);
      throw Error(ExitCode::device, link_.name() + ": the board refused the take: " + e.text);
    }
    if (f->type() == proto::MessageType::data) {
      proto::DataHeader d;
      if (!proto::decode_data_header(f->payload.data(), f->payload.size(), &d) || d.take != req.take ||
          d.sensor != req.sensor) {
        ++counters_.unexpected;
        continue;
      }
      if (d.offset != t.bytes.size()) {
        if (d.offset > t.bytes.size()) t.gap_bytes += d.offset - t.bytes.size();
        fail(d.offset > t.bytes.size() ? "bytes missing at offset " + std::to_string(t.bytes.size())
                                       : "overlapping chunk at offset " + std::to_string(d.offset));
        if (d.offset < t.bytes.size()) continue;
        t.bytes.resize(d.offset, 0);  // keep positions right for --allow-gaps; the gap is recorded
      }
      t.bytes.insert(t.bytes.end(), f->payload.begin() + proto::kDataHeaderSize, f->payload.end());
      ++t.frames;
      if (first_data) first_us = f->header.timestamp_us;
      first_data = false;
      last_us = f->header.timestamp_us;
      if (progress) progress(t.bytes.size());
      if (t.bytes.size() > req.length_bytes && req.length_bytes != 0) fail("the board sent more bytes than asked");
      continue;
    }
    if (f->type() == proto::MessageType::take_end) {
      proto::TakeEnd e;
      if (!proto::decode_take_end(f->payload.data(), f->payload.size(), &e) || e.take != req.take) {
        ++counters_.unexpected;
        continue;
      }
      t.board_dropped_bytes = e.dropped_bytes;
      if (e.dropped_bytes > 0) fail("the board dropped " + std::to_string(e.dropped_bytes) + " bytes (buffer overrun)");
      if (e.total_bytes != t.bytes.size()) fail("the board sent " + std::to_string(e.total_bytes) + " bytes, " +
                                                std::to_string(t.bytes.size()) + " arrived");
      break;
    }
    ++counters_.unexpected;
  }
  t.corrupt_frames = counters_.corrupt - before.corrupt;
  t.lost_frames = counters_.lost - before.lost;
  t.duplicate_frames = counters_.duplicates - before.duplicates;
  t.link_bytes = counters_.bytes - before.bytes;
  if (t.corrupt_frames > 0) fail(std::to_string(t.corrupt_frames) + " corrupt frame(s)");
  if (t.lost_frames > 0) fail(std::to_string(t.lost_frames) + " lost frame(s)");
  if (req.length_bytes != 0 && t.bytes.size() != req.length_bytes && !stopped)
    fail("expected " + std::to_string(req.length_bytes) + " bytes, got " + std::to_string(t.bytes.size()));
  t.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  t.device_seconds = static_cast<std::uint32_t>(last_us - first_us) / 1e6;
  t.clean = t.problem.empty();
  return t;
}

}  // namespace tml
