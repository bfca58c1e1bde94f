#include "app/collect_app.h"

#include <cstring>

#include "hal/hal.h"
#include "hal/text.h"

namespace tml::app {

namespace {

using proto::ErrorCode;
using proto::MessageType;

using Message = hal::Text<proto::kMaxErrorText>;

// Whole units due after `elapsed` µs at `rate` milli-hertz: floor(elapsed * rate / 10^9) without
// overflowing 64 bits (elapsed = s seconds + r µs).
std::uint64_t units_due(std::uint64_t elapsed_us, std::uint32_t rate_millihertz) {
  const std::uint64_t s = elapsed_us / 1000000u, r = elapsed_us % 1000000u;
  const std::uint64_t sr = s * rate_millihertz;
  return sr / 1000u + ((sr % 1000u) * 1000000u + r * rate_millihertz) / 1000000000u;
}

const char* type_name(std::uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::hello_request: return "HELLO_REQUEST";
    case MessageType::start: return "START";
    case MessageType::classify: return "CLASSIFY";
    case MessageType::stop: return "STOP";
    case MessageType::stats_request: return "STATS_REQUEST";
    default: return "?";
  }
}

}  // namespace

std::uint64_t CollectApp::now_us() {
  const std::uint32_t m = hal::micros();
  if (!clock_started_) {
    clock_started_ = true;
    last_micros_ = m;
  }
  clock_us_ += static_cast<std::uint32_t>(m - last_micros_);
  last_micros_ = m;
  return clock_us_;
}

void CollectApp::begin() {
  now_us();
  session_ = hal::serial_session();
  start_connection();
}

// A new connection (or boot): sequence numbers restart at 0; a lone 0x00 ends any partial frame
// the host may hold, then HELLO says who we are.
void CollectApp::start_connection() {
  decoder_.reset();
  tx_sequence_ = 0;
  if (!hal::serial_connected()) return;
  const std::uint8_t zero = 0;
  hal::serial_write(&zero, 1);
  send_hello();
}

void CollectApp::poll() {
  const std::size_t n = hal::serial_read(rx_, sizeof rx_);
  const std::uint32_t session = hal::serial_session();
  if (session != session_) {
    session_ = session;
    abandon_take();  // the host that started it is gone
    start_connection();
  }
  std::size_t pos = 0;
  while (pos < n) {
    const proto::FrameDecoder::Result r = decoder_.feed(rx_ + pos, n - pos);
    pos += r.consumed;
    if (r.frame_ready) handle_frame(decoder_.header(), decoder_.payload());
    if (r.error != proto::FrameError::none) ++rx_frame_errors_;
    if (r.consumed == 0) break;
  }

  const std::uint64_t now = now_us();
  bool worked = n > 0;
  std::uint32_t wait_us = 100000;
  if (take_.active && step_take(now, &wait_us)) worked = true;
  if (!worked) hal::idle(wait_us);
}

void CollectApp::handle_frame(const proto::FrameHeader& h, const std::uint8_t* payload) {
  const std::size_t n = h.payload_length;
  switch (static_cast<MessageType>(h.type)) {
    case MessageType::hello_request:
    case MessageType::stats_request:
      if (n != 0) {
        Message m;
        m.add(type_name(h.type)).add(" takes no payload, got ").add_u32(static_cast<std::uint32_t>(n)).add(" bytes");
        send_error(ErrorCode::bad_payload, m.c_str());
      } else if (static_cast<MessageType>(h.type) == MessageType::hello_request) {
        send_hello();
      } else {
        proto::Stats s;
        s.frames_sent = frames_sent_;
        s.frames_dropped = frames_dropped_;
        s.uptime_ms = static_cast<std::uint32_t>(now_us() / 1000u);
        const std::size_t len = proto::encode_stats(s, payload_, sizeof payload_);
        send_frame(MessageType::stats, payload_, len);
      }
      return;
    case MessageType::start: on_start(payload, n); return;
    case MessageType::classify: on_classify(payload, n); return;
    case MessageType::stop: on_stop(n); return;
    default: {
      Message m;
      m.add("unknown command ").add_hex8(h.type);
      send_error(ErrorCode::unknown_command, m.c_str());
      return;
    }
  }
}

void CollectApp::on_start(const std::uint8_t* payload, std::size_t n) {
  proto::Start s;
  if (!proto::decode_start(payload, n, &s)) {
    Message m;
    m.add("START needs 8 bytes, got ").add_u32(static_cast<std::uint32_t>(n));
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  begin_take(s.sensor, s.flags, s.take, s.length, s.length);
}

void CollectApp::on_classify(const std::uint8_t* payload, std::size_t n) {
  proto::Classify c;
  if (classifier_ == nullptr) {
    send_error(ErrorCode::unknown_command, "CLASSIFY: this firmware has no model (tml build, then tml flash)");
    return;
  }
  if (!proto::decode_classify(payload, n, &c)) {
    Message m;
    m.add("CLASSIFY needs 12 bytes with a hop of at least 1 byte, got ").add_u32(static_cast<std::uint32_t>(n)).add(" bytes");
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  if (c.sensor < hal::sensor_count() && hal::sensor_info(c.sensor).descriptor.kind != classifier_->sensor_kind()) {
    Message m;
    m.add("sensor ").add_u32(c.sensor).add(" is not the kind of sensor the model was built for");
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  if (proto::kResultFixedSize + classifier_->output_bytes() > hal::max_payload()) {
    send_error(ErrorCode::bad_payload, "the model's output does not fit one RESULT frame (max_payload)");
    return;
  }
  const std::uint32_t window = classifier_->window_bytes();
  if (c.hop_bytes > window) {
    Message m;
    m.add("hop ").add_u32(c.hop_bytes).add(" bytes is longer than the model's window (").add_u32(window).add(" bytes)");
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  // The take covers the windows exactly: the first window, then one hop per further window.
  const std::uint64_t length = c.windows == 0 ? 0 : window + static_cast<std::uint64_t>(c.windows - 1) * c.hop_bytes;
  if (length > 0xFFFFFFFFull) {
    send_error(ErrorCode::bad_payload, "CLASSIFY: too many windows for one take");
    return;
  }
  // Window and hop must both be whole samples (frames): check the hop here, the window below.
  if (!begin_take(c.sensor, c.flags, c.take, static_cast<std::uint32_t>(length), c.hop_bytes)) return;
  Take& t = take_;
  if (window % t.unit_bytes != 0) {
    abandon_take();
    Message m;
    m.add("the model's window (").add_u32(window).add(" bytes) is not whole samples of sensor ").add_u32(c.sensor);
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  t.classify = true;
  t.send_features = (c.flags & proto::kClassifySendFeatures) != 0;
  t.window_bytes = window;
  t.hop_bytes = c.hop_bytes;
  t.fill = 0;
  t.windows_done = 0;
}

// Checks and starts a take on `sensor`; `whole_unit_bytes` must be whole samples (frames). Sends the
// ERROR and returns false when it cannot start.
bool CollectApp::begin_take(std::uint8_t sensor, std::uint8_t flags, std::uint16_t number, std::uint32_t length,
                            std::uint32_t whole_unit_bytes) {
  if (sensor >= hal::sensor_count()) {
    Message m;
    m.add("no sensor ").add_u32(sensor).add(": this board has ").add_u32(static_cast<std::uint32_t>(hal::sensor_count()));
    send_error(ErrorCode::no_such_sensor, m.c_str());
    return false;
  }
  if (take_.active) {
    Message m;
    m.add("take ").add_u32(take_.number).add(" on sensor ").add_u32(take_.sensor).add(" is running");
    send_error(ErrorCode::busy, m.c_str());
    return false;
  }
  const hal::SensorInfo& info = hal::sensor_info(sensor);
  const proto::SensorDescriptor& d = info.descriptor;
  Take t;
  t.camera = d.kind == proto::SensorKind::camera;
  t.sample_bytes = static_cast<std::uint32_t>(proto::bytes_per_sample(d.format, d.channels));
  t.unit_bytes = t.camera ? static_cast<std::uint32_t>(d.width) * d.height * t.sample_bytes : t.sample_bytes;
  const std::uint32_t room = hal::max_payload() - static_cast<std::uint32_t>(proto::kDataHeaderSize);
  t.chunk_max = t.sample_bytes == 0 ? 0 : room - room % t.sample_bytes;
  if (t.unit_bytes == 0 || t.chunk_max == 0 || d.rate_millihertz == 0) {
    send_error(ErrorCode::sensor_failed, "sensor has an unusable sample format");
    return false;
  }
  if (whole_unit_bytes % t.unit_bytes != 0) {
    Message m;
    m.add("length ").add_u32(whole_unit_bytes).add(" is not a whole number of ").add(t.camera ? "frames (" : "samples (")
        .add_u32(t.unit_bytes).add(" bytes each)");
    send_error(ErrorCode::bad_payload, m.c_str());
    return false;
  }
  if (!hal::sensor_start(sensor)) {
    Message m;
    m.add("sensor ").add_u32(sensor).add(" did not start");
    send_error(ErrorCode::sensor_failed, m.c_str());
    return false;
  }
  t.active = true;
  t.replayed = info.replayed;
  t.fast = info.replayed && (flags & proto::kStartAsFastAsPossible) != 0;
  t.sensor = sensor;
  t.number = number;
  t.length = length;
  t.start_us = now_us();
  t.last_send_us = t.start_us;
  t.last_data_us = t.start_us;
  std::uint64_t period_us = 1000000000ull / d.rate_millihertz;
  if (period_us > 30000000ull) period_us = 30000000ull;
  t.stall_us = kSensorStallUs + 2 * period_us;
  take_ = t;
  hal::led(true);
  return true;
}

void CollectApp::on_stop(std::size_t n) {
  if (n != 0) {
    Message m;
    m.add("STOP takes no payload, got ").add_u32(static_cast<std::uint32_t>(n)).add(" bytes");
    send_error(ErrorCode::bad_payload, m.c_str());
    return;
  }
  if (take_.active) finish_take();  // no take: nothing to stop
}

// Sends one DATA chunk if one is due. Returns true when it sent something; otherwise *wait_us
// says how long the loop may sleep.
bool CollectApp::step_take(std::uint64_t now, std::uint32_t* wait_us) {
  Take& t = take_;
  if (!t.replayed) {
    std::uint32_t lost = hal::sensor_take_dropped(t.sensor);
    if (t.length != 0 && lost > t.length - t.position) lost = t.length - t.position;
    t.dropped += lost;
    t.position += lost;
    // A window never spans lost samples: it starts again after the gap.
    if (lost > 0 && t.classify) t.fill = 0;
  }
  if (t.length != 0 && t.position >= t.length) {
    finish_take();
    return true;
  }
  const std::uint32_t remaining = t.length != 0 ? t.length - t.position : 0xFFFFFFFFu;
  // CLASSIFY fills the window; a take sends chunks of at most chunk_max.
  const std::uint32_t room = t.classify ? t.window_bytes - t.fill : t.chunk_max;
  const std::uint32_t want = remaining < room ? remaining : room;
  std::uint64_t avail = 0;
  if (t.fast) {
    avail = want;
  } else if (t.replayed) {
    // Units whose time has come; a camera's first frame is there at once.
    const std::uint64_t elapsed = now > t.start_us ? now - t.start_us : 0;
    const std::uint64_t units =
        units_due(elapsed, hal::sensor_info(t.sensor).descriptor.rate_millihertz) + (t.camera ? 1u : 0u);
    const std::uint64_t due = units * t.unit_bytes;
    avail = due > t.position ? due - t.position : 0;
  } else {
    avail = hal::sensor_available(t.sensor, want);
    if (avail > 0) {
      t.last_data_us = now;
    } else if (now - t.last_data_us > t.stall_us) {
      Message m;
      m.add("sensor ").add_u32(t.sensor).add(" delivered nothing for ").add_u32(static_cast<std::uint32_t>((now - t.last_data_us) / 1000u)).add(" ms");
      send_error(ErrorCode::sensor_failed, m.c_str());
      finish_take();
      return true;
    }
  }
  if (avail > want) avail = want;
  avail -= avail % t.sample_bytes;
  if (t.classify) {
    if (avail == 0) {
      *wait_us = 1000;
      return false;
    }
    return classify_step(static_cast<std::uint32_t>(avail));
  }
  // A camera frame's last piece goes at once; samples wait for a full chunk or the latency bound.
  const bool late = t.camera || now - t.last_send_us >= kMaxChunkLatencyUs;
  if (avail == 0 || (avail < want && !late)) {
    *wait_us = 1000;
    return false;
  }
  const std::uint32_t n = static_cast<std::uint32_t>(avail);
  proto::DataHeader h;
  h.sensor = t.sensor;
  h.take = t.number;
  h.offset = t.position;
  const std::size_t head = proto::encode_data_header(h, payload_, sizeof payload_);
  if (!hal::sensor_read(t.sensor, payload_ + head, n)) {
    Message m;
    m.add("sensor ").add_u32(t.sensor).add(" failed after ").add_u32(t.sent).add(" bytes");
    send_error(ErrorCode::sensor_failed, m.c_str());
    finish_take();
    return true;
  }
  send_frame(MessageType::data, payload_, head + n);
  t.position += n;
  t.sent += n;
  t.last_send_us = now;
  if (t.length != 0 && t.position >= t.length) finish_take();
  return true;
}

// Reads n more bytes into the window; a full window is classified, its results sent, and the
// window slides on by the hop.
bool CollectApp::classify_step(std::uint32_t n) {
  Take& t = take_;
  if (!hal::sensor_read(t.sensor, classifier_->window() + t.fill, n)) {
    Message m;
    m.add("sensor ").add_u32(t.sensor).add(" failed after ").add_u32(t.sent).add(" bytes");
    send_error(ErrorCode::sensor_failed, m.c_str());
    finish_take();
    return true;
  }
  t.fill += n;
  t.position += n;
  t.sent += n;
  if (t.fill < t.window_bytes) return true;
  std::uint32_t features_ticks = 0, inference_ticks = 0;
  if (!classifier_->run(&features_ticks, &inference_ticks)) {
    Message m;
    m.add("window ").add_u32(t.windows_done).add(": the preprocessing or the model failed");
    send_error(ErrorCode::sensor_failed, m.c_str());
    finish_take();
    return true;
  }
  send_window_result(features_ticks, inference_ticks);
  ++t.windows_done;
  const std::uint32_t keep = t.window_bytes - t.hop_bytes;
  std::memmove(classifier_->window(), classifier_->window() + t.hop_bytes, keep);
  t.fill = keep;
  if (t.length != 0 && t.position >= t.length) finish_take();
  return true;
}

void CollectApp::send_window_result(std::uint32_t features_ticks, std::uint32_t inference_ticks) {
  const Take& t = take_;
  if (t.send_features) {
    std::size_t total = 0;
    const std::uint8_t* bytes = classifier_->features(&total);
    const std::size_t room = hal::max_payload() - proto::kFeaturesHeaderSize;
    for (std::size_t at = 0; at < total; at += room) {
      const std::size_t n = total - at < room ? total - at : room;
      proto::FeaturesHeader h;
      h.take = t.number;
      h.window = t.windows_done;
      h.offset = static_cast<std::uint32_t>(at);
      const std::size_t head = proto::encode_features_header(h, payload_, sizeof payload_);
      std::memcpy(payload_ + head, bytes + at, n);
      send_frame(MessageType::features, payload_, head + n);
    }
  }
  std::size_t count = 0;
  const std::uint8_t* outputs = classifier_->outputs(&count);
  proto::Result r;
  r.take = t.number;
  r.count = static_cast<std::uint16_t>(count);
  r.window = t.windows_done;
  r.stream_offset = t.position - t.window_bytes;
  r.features_ticks = features_ticks;
  r.inference_ticks = inference_ticks;
  r.tick_hz = hal::cost_ticks_per_second();
  const std::size_t head = proto::encode_result_header(r, payload_, sizeof payload_);  // fits: on_classify checked
  std::memcpy(payload_ + head, outputs, count);
  send_frame(MessageType::result, payload_, head + count);
}

void CollectApp::finish_take() {
  hal::sensor_stop(take_.sensor);
  proto::TakeEnd e;
  e.sensor = take_.sensor;
  e.take = take_.number;
  e.total_bytes = take_.sent;
  e.dropped_bytes = take_.dropped;
  take_.active = false;
  hal::led(false);
  const std::size_t len = proto::encode_take_end(e, payload_, sizeof payload_);
  send_frame(MessageType::take_end, payload_, len);
}

void CollectApp::abandon_take() {
  if (!take_.active) return;
  hal::sensor_stop(take_.sensor);
  take_.active = false;
  hal::led(false);
}

void CollectApp::send_hello() {
  proto::Hello h;
  const char* id = hal::board_id();
  for (std::size_t i = 0; i < proto::kBoardIdSize && id[i] != '\0'; ++i) h.board[i] = id[i];
  h.board_revision = hal::board_revision();
  h.firmware_major = kFirmwareMajor;
  h.firmware_minor = kFirmwareMinor;
  h.firmware_patch = kFirmwarePatch;
  // All zero for the collection firmware (built from no project); a model build's otherwise.
  if (classifier_ != nullptr)
    for (int i = 0; i < 8; ++i) h.config_hash[i] = classifier_->config_hash()[i];
  h.max_payload = hal::max_payload();
  std::size_t count = hal::sensor_count();
  if (count > proto::kMaxSensors) count = proto::kMaxSensors;
  h.sensor_count = static_cast<std::uint8_t>(count);
  for (std::size_t i = 0; i < count; ++i) h.sensors[i] = hal::sensor_info(i).descriptor;
  const std::size_t len = proto::encode_hello(h, payload_, sizeof payload_);
  send_frame(MessageType::hello, payload_, len);
}

void CollectApp::send_error(ErrorCode code, const char* text) {
  proto::ErrorMessage e;
  e.code = code;
  for (std::size_t i = 0; i < proto::kMaxErrorText && text[i] != '\0'; ++i) e.text[i] = text[i];
  const std::size_t len = proto::encode_error(e, payload_, sizeof payload_);
  send_frame(MessageType::error, payload_, len);
}

// Every frame takes the next sequence number, delivered or not: a frame the link lost shows up
// as a gap on the host.
void CollectApp::send_frame(MessageType type, const std::uint8_t* payload, std::size_t n) {
  const std::size_t len = proto::encode_frame(static_cast<std::uint8_t>(type), tx_sequence_, hal::micros(), payload,
                                              n, wire_, sizeof wire_);
  ++tx_sequence_;
  if (len != 0 && hal::serial_write(wire_, len)) ++frames_sent_;
  else ++frames_dropped_;
}

}  // namespace tml::app
