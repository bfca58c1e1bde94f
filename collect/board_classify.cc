#include "collect/board_classify.h"

#include <chrono>

#include "core/errors.h"

namespace tml {

namespace {

Error device_error(const std::string& text) { return Error(ExitCode::device, text); }

}  // namespace

ClassifyRun classify_on_board(BoardClient& client, const ClassifyRequest& req,
                              const std::function<bool(const WindowResult&)>& on_window,
                              const std::function<bool()>& cancelled) {
  // A run whose host vanished without STOP (a killed tml monitor) may still be going on a board
  // that cannot see connections (a UART): stop it and let its frames drain.
  client.send(proto::MessageType::stop);
  while (client.receive(150)) {
  }
  proto::Classify c;
  c.sensor = req.sensor;
  c.take = req.take;
  c.windows = req.windows;
  c.hop_bytes = req.hop_bytes;
  c.flags = static_cast<std::uint8_t>((req.as_fast_as_possible ? proto::kStartAsFastAsPossible : 0) |
                                      (req.send_features ? proto::kClassifySendFeatures : 0));
  std::uint8_t payload[proto::kClassifySize];
  client.send(proto::MessageType::classify, payload, proto::encode_classify(c, payload, sizeof payload));

  const LinkCounters before = client.counters();
  const std::string link = client.link_name();
  ClassifyRun run;
  WindowResult current;
  bool stop_sent = false;
  const auto check_link = [&] {
    const LinkCounters& now = client.counters();
    if (now.lost > before.lost || now.corrupt > before.corrupt)
      throw device_error(link + ": " + std::to_string(now.lost - before.lost) + " lost and " +
                         std::to_string(now.corrupt - before.corrupt) + " corrupt frame(s) during classification");
  };
  const auto stop = [&] {
    if (stop_sent) return;
    client.send(proto::MessageType::stop);
    stop_sent = true;
    run.stopped = true;
  };
  using Clock = std::chrono::steady_clock;
  auto last_frame = Clock::now();
  for (;;) {
    if (!stop_sent && cancelled && cancelled()) stop();
    auto f = client.receive(stop_sent ? 1000 : req.idle_timeout_ms);
    if (!f) {
      if (stop_sent) break;  // STOP sent and no TAKE_END within a second
      // Woken early (a signal): only a silence of the whole timeout means the board is gone.
      if (Clock::now() - last_frame < std::chrono::milliseconds(req.idle_timeout_ms)) continue;
      throw device_error(link + ": the board sent nothing for " + std::to_string(req.idle_timeout_ms) +
                         " ms while classifying (stopped or crashed?)");
    }
    last_frame = Clock::now();
    check_link();
    switch (f->type()) {
      case proto::MessageType::error: {
        proto::ErrorMessage e;
        proto::decode_error(f->payload.data(), f->payload.size(), &e);
        throw device_error(link + ": the board refused to classify: " + e.text);
      }
      case proto::MessageType::features: {
        proto::FeaturesHeader h;
        if (!proto::decode_features_header(f->payload.data(), f->payload.size(), &h) || h.take != req.take) break;
        if (h.window != run.windows || h.offset != current.features.size())
          throw device_error(link + ": window " + std::to_string(h.window) + "'s features arrived out of order");
        current.features.insert(current.features.end(), f->payload.begin() + proto::kFeaturesHeaderSize, f->payload.end());
        break;
      }
      case proto::MessageType::result: {
        proto::Result r;
        if (!proto::decode_result_header(f->payload.data(), f->payload.size(), &r) || r.take != req.take) break;
        if (r.window != run.windows)
          throw device_error(link + ": expected the result of window " + std::to_string(run.windows) + ", got " +
                             std::to_string(r.window));
        current.window = r.window;
        current.stream_offset = r.stream_offset;
        current.outputs.assign(f->payload.begin() + proto::kResultFixedSize, f->payload.end());
        current.features_ticks = r.features_ticks;
        current.inference_ticks = r.inference_ticks;
        current.tick_hz = r.tick_hz;
        current.device_us = f->header.timestamp_us;
        ++run.windows;
        if (!stop_sent && !on_window(current)) stop();  // results already in flight after STOP are dropped
        current = WindowResult{};
        break;
      }
      case proto::MessageType::take_end: {
        proto::TakeEnd e;
        if (!proto::decode_take_end(f->payload.data(), f->payload.size(), &e) || e.take != req.take) break;
        if (!stop_sent && req.windows != 0 && run.windows != req.windows)
          throw device_error(link + ": the board ended after " + std::to_string(run.windows) + " of " +
                             std::to_string(req.windows) + " windows");
        return run;
      }
      default:
        break;
    }
  }
  return run;
}

}  // namespace tml
