// The data-collection firmware (firmware_template/): the board side of docs/protocol.md, driven
// over its serial link by a host that speaks the protocol through protocol/. The same app runs as
// collect_host (board `host`, a Linux process on a UNIX socket) and as collect.elf (board `qemu-m4`,
// QEMU mps2-an386 with UART0 on a UNIX socket, sensors replayed from host files by semihosting).
//
// The main build defines TML_COLLECT_HOST, TML_COLLECT_ELF, TML_COLLECT_MAP (the firmware builds)
// and TML_QEMU (qemu-system-arm). No test asserts a wall-clock time (DESIGN.md §7): pacing is
// checked with the board's own timestamps; transfer rates are only printed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "test_support.h"

#ifndef TML_COLLECT_HOST
#define TML_COLLECT_HOST ""
#endif
#ifndef TML_COLLECT_ELF
#define TML_COLLECT_ELF ""
#endif
#ifndef TML_COLLECT_MAP
#define TML_COLLECT_MAP ""
#endif
#ifndef TML_QEMU
#define TML_QEMU ""
#endif

namespace tml::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using proto::ErrorCode;
using proto::MessageType;
using Bytes = std::vector<std::uint8_t>;

// The build defines the firmware paths (tests/CMakeLists.txt); a missing image is a failure.
#define REQUIRE_BUILT(path)                                                                             \
  do {                                                                                                  \
    ASSERT_TRUE(fs::is_regular_file(path)) << #path " = " << path << " was not built";                 \
  } while (0)

// ---- child processes ----------------------------------------------------------------------------

// A board process (collect_host or QEMU) with stdout and stderr in a log file. The destructor kills
// (SIGKILL) and reaps it, whatever the test's outcome.
class Child {
 public:
  Child(const std::vector<std::string>& argv, fs::path log) : log_(std::move(log)) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = ::open("/dev/null", O_RDONLY);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      if (in >= 0) ::dup2(in, 0);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (pid_ <= 0 || reaped_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }
  // The exit code once the child exited by itself within TIMEOUT; -1 if it had to be killed or died
  // of a signal.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (running()) return -1;
    return reaped_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  // SIGTERM, then the exit code (-1 when it needed SIGKILL).
  int terminate() {
    if (running()) ::kill(pid_, SIGTERM);
    return wait_exit(5s);
  }
  std::string log() const { return read_text(log_); }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  fs::path log_;
};

// ---- the host side of the link ------------------------------------------------------------------

struct Frame {
  proto::FrameHeader header;
  Bytes payload;
};

// A connection to a board's serial socket speaking the wire protocol through protocol/: frames
// out with our own sequence numbers, frames in through FrameDecoder with the board's sequence
// numbers checked (each frame must be the previous + 1; the first one seen sets the start, since a
// board on a UART sends its boot HELLO before anybody listens).
class Link {
 public:
  ~Link() { close(); }

  // Connects to PATH, retrying for up to 5 s while the board starts; gives up early if it died.
  bool connect(const fs::path& path, Child& board) {
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && board.running()) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        fd_ = fd;
        return true;
      }
      ::close(fd);
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send_type(std::uint8_t type, const Bytes& payload) {
    Bytes wire(proto::kMaxWireFrame);
    const std::size_t n = proto::encode_frame(type, tx_sequence_++, 0, payload.data(), payload.size(), wire.data(),
                                              wire.size());
    ASSERT_GT(n, 0u);
    send_raw(Bytes(wire.begin(), wire.begin() + static_cast<long>(n)));
  }
  void send(MessageType type, const Bytes& payload = {}) { send_type(static_cast<std::uint8_t>(type), payload); }
  void send_raw(const Bytes& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t k = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      ASSERT_GT(k, 0) << "send: " << std::strerror(errno);
      done += static_cast<std::size_t>(k);
    }
  }

  // The next whole, checked frame, or nothing after TIMEOUT.
  std::optional<Frame> receive(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = Clock::now() + timeout;
    while (queue_.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || fd_ < 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      std::uint8_t buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;  // the board closed the link
      if (raw_start_.size() < 16) raw_start_.insert(raw_start_.end(), buf, buf + std::min<ssize_t>(n, 16));
      received_bytes_ += static_cast<std::size_t>(n);
      std::size_t pos = 0;
      while (pos < static_cast<std::size_t>(n)) {
        const auto r = decoder_.feed(buf + pos, static_cast<std::size_t>(n) - pos);
        pos += r.consumed;
        if (r.error != proto::FrameError::none) ++decode_errors_;
        if (r.frame_ready) {
          const proto::FrameHeader& h = decoder_.header();
          if (expected_sequence_ && h.sequence != *expected_sequence_) {
            ++sequence_errors_;
            sequence_report_ += " expected " + std::to_string(*expected_sequence_) + " got " + std::to_string(h.sequence);
          }
          expected_sequence_ = static_cast<std::uint16_t>(h.sequence + 1);
          if (!first_sequence_) first_sequence_ = h.sequence;
          queue_.push_back({h, Bytes(decoder_.payload(), decoder_.payload() + h.payload_length)});
        }
        if (r.consumed == 0) break;
      }
    }
    Frame f = std::move(queue_.front());
    queue_.pop_front();
    return f;
  }

  const Bytes& raw_start() const { return raw_start_; }
  std::size_t received_bytes() const { return received_bytes_; }
  int decode_errors() const { return decode_errors_; }
  int sequence_errors() const { return sequence_errors_; }
  const std::string& sequence_report() const { return sequence_report_; }
  std::optional<std::uint16_t> first_sequence() const { return first_sequence_; }

 private:
  int fd_ = -1;
  std::uint16_t tx_sequence_ = 0;
  proto::FrameDecoder decoder_;
  std::deque<Frame> queue_;
  std::optional<std::uint16_t> expected_sequence_, first_sequence_;
  int sequence_errors_ = 0, decode_errors_ = 0;
  std::string sequence_report_;
  Bytes raw_start_;
  std::size_t received_bytes_ = 0;
};

Bytes start_payload(std::uint8_t sensor, std::uint8_t flags, std::uint16_t take, std::uint32_t length) {
  proto::Start s;
  s.sensor = sensor;
  s.flags = flags;
  s.take = take;
  s.length = length;
  Bytes out(8);
  EXPECT_EQ(proto::encode_start(s, out.data(), out.size()), 8u);
  return out;
}

std::optional<proto::Hello> expect_hello(Link& link) {
  const std::optional<Frame> f = link.receive();
  if (!f) {
    ADD_FAILURE() << "no HELLO";
    return std::nullopt;
  }
  EXPECT_EQ(f->header.type, static_cast<std::uint8_t>(MessageType::hello));
  proto::Hello h;
  if (!proto::decode_hello(f->payload.data(), f->payload.size(), &h)) {
    ADD_FAILURE() << "HELLO payload does not decode (" << f->payload.size() << " bytes)";
    return std::nullopt;
  }
  return h;
}

std::optional<proto::ErrorMessage> expect_error(Link& link, ErrorCode code) {
  const std::optional<Frame> f = link.receive();
  if (!f) {
    ADD_FAILURE() << "no ERROR";
    return std::nullopt;
  }
  EXPECT_EQ(f->header.type, static_cast<std::uint8_t>(MessageType::error));
  proto::ErrorMessage e;
  if (!proto::decode_error(f->payload.data(), f->payload.size(), &e)) {
    ADD_FAILURE() << "ERROR payload does not decode";
    return std::nullopt;
  }
  EXPECT_EQ(static_cast<int>(e.code), static_cast<int>(code)) << e.text;
  EXPECT_GT(std::strlen(e.text), 0u);
  return e;
}

struct TakeResult {
  bool ended = false;
  proto::TakeEnd end;
  Bytes bytes;
  std::size_t data_frames = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> chunks;  // (board timestamp, end offset)
  std::string problems;  // anything a host would reject the take for
  double seconds = 0;    // host wall time from the first DATA to TAKE_END (printed only)
};

// Receives DATA frames of take TAKE up to its TAKE_END, checking each chunk as a host must: right
// sensor and take, offsets contiguous from 0, whole samples, payload within max_payload.
TakeResult collect_take(Link& link, std::uint8_t sensor, std::uint16_t take, std::size_t sample_bytes,
                        std::size_t max_payload, std::chrono::milliseconds timeout = 10000ms) {
  TakeResult r;
  std::optional<Clock::time_point> first;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::optional<Frame> f = link.receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!f) break;
    if (!first) first = Clock::now();
    const auto type = static_cast<MessageType>(f->header.type);
    if (type == MessageType::take_end) {
      r.ended = proto::decode_take_end(f->payload.data(), f->payload.size(), &r.end);
      if (!r.ended) r.problems += " bad TAKE_END payload;";
      break;
    }
    if (type != MessageType::data) {
      r.problems += " unexpected frame type " + std::to_string(f->header.type) + ";";
      continue;
    }
    proto::DataHeader h;
    if (!proto::decode_data_header(f->payload.data(), f->payload.size(), &h)) {
      r.problems += " bad DATA header;";
      continue;
    }
    const std::size_t n = f->payload.size() - proto::kDataHeaderSize;
    if (h.sensor != sensor || h.take != take) r.problems += " DATA of another sensor/take;";
    if (h.offset != r.bytes.size())
      r.problems += " offset " + std::to_string(h.offset) + " after " + std::to_string(r.bytes.size()) + " bytes;";
    if (n == 0 || n % sample_bytes != 0) r.problems += " chunk of " + std::to_string(n) + " bytes;";
    if (f->payload.size() > max_payload) r.problems += " payload above max_payload;";
    r.bytes.insert(r.bytes.end(), f->payload.begin() + proto::kDataHeaderSize, f->payload.end());
    r.chunks.emplace_back(f->header.timestamp_us, static_cast<std::uint32_t>(r.bytes.size()));
    ++r.data_frames;
  }
  if (first) r.seconds = std::chrono::duration<double>(Clock::now() - *first).count();
  if (!r.ended) r.problems += " no TAKE_END;";
  return r;
}

// ---- sensor files ---------------------------------------------------------------------------------

// The sample bytes of a plain 16-bit PCM WAV: the RIFF chunks are walked (no fixed 44-byte header
// is assumed) and the format must be PCM, 16 bits, mono, 16 kHz.
Bytes wav_pcm16_mono_16k(const fs::path& file) {
  const std::string text = read_text(file);
  const Bytes b(text.begin(), text.end());
  auto u16 = [&](std::size_t at) { return static_cast<unsigned>(b[at] | (b[at + 1] << 8)); };
  auto u32 = [&](std::size_t at) { return static_cast<std::uint32_t>(u16(at) | (u16(at + 2) << 16)); };
  if (b.size() < 12 || text.compare(0, 4, "RIFF") != 0 || text.compare(8, 4, "WAVE") != 0) {
    ADD_FAILURE() << file << " is not a RIFF/WAVE file";
    return {};
  }
  bool format_ok = false;
  for (std::size_t at = 12; at + 8 <= b.size();) {
    const std::string id = text.substr(at, 4);
    const std::uint32_t size = u32(at + 4);
    if (at + 8 + size > b.size()) break;
    if (id == "fmt " && size >= 16) {
      format_ok = u16(at + 8) == 1 && u16(at + 10) == 1 && u32(at + 12) == 16000 && u16(at + 22) == 16;
    } else if (id == "data") {
      if (!format_ok) {
        ADD_FAILURE() << file << " is not 16-bit PCM mono 16 kHz";
        return {};
      }
      return Bytes(b.begin() + static_cast<long>(at + 8), b.begin() + static_cast<long>(at + 8 + size));
    }
    at += 8 + size + (size & 1);
  }
  ADD_FAILURE() << file << ": no data chunk";
  return {};
}

void write_bytes(const fs::path& file, const Bytes& bytes) {
  write_text(file, std::string(bytes.begin(), bytes.end()));
}

// The first N bytes of the endless replay of SAMPLES.
// n bytes of the looped replay, starting `from` bytes into it (the replay runs on between takes).
Bytes looped(const Bytes& samples, std::size_t n, std::size_t from = 0) {
  Bytes out;
  std::size_t pos = from % samples.size();
  while (out.size() < n) {
    const std::size_t k = std::min(samples.size() - pos, n - out.size());
    out.insert(out.end(), samples.begin() + static_cast<long>(pos), samples.begin() + static_cast<long>(pos + k));
    pos = (pos + k) % samples.size();
  }
  return out;
}

std::string audio_sensor(const fs::path& raw) { return "audio:int16:1:16000000:0:0:" + raw.string(); }

// ---- boards -------------------------------------------------------------------------------------

std::unique_ptr<Child> start_host_board(const TempDir& dir, const std::vector<std::string>& options) {
  std::vector<std::string> argv = {TML_COLLECT_HOST, "--socket", (dir / "board.sock").string()};
  argv.insert(argv.end(), options.begin(), options.end());
  return std::make_unique<Child>(argv, dir / "board.log");
}


// qemu-system-arm -M mps2-an386 -cpu cortex-m4 -display none -monitor none
//   -serial unix:SOCKET,server=on,wait=off
//   -semihosting-config enable=on,target=native,arg=firmware,arg=OPTION,... -kernel collect.elf
std::vector<std::string> qemu_argv(const fs::path& socket, const std::vector<std::string>& options) {
  std::string semihosting = "enable=on,target=native,arg=firmware";
  for (const std::string& o : options) semihosting += ",arg=" + qemu_option_value(o);
  return {TML_QEMU, "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none", "-monitor", "none",
          "-serial", "unix:" + qemu_option_value(socket.string()) + ",server=on,wait=off", "-semihosting-config", semihosting,
          "-kernel", TML_COLLECT_ELF};
}

// QEMU drops what the UART sends while no client is connected, so the boot HELLO is usually lost
// (and, if we were quick, it arrives): ask for HELLO and skip everything up to the STATS asked for
// after it. Returns the last HELLO.
std::optional<proto::Hello> sync_with_board(Link& link) {
  link.send(MessageType::hello_request);
  link.send(MessageType::stats_request);
  std::optional<proto::Hello> hello;
  while (const std::optional<Frame> f = link.receive()) {
    if (f->header.type == static_cast<std::uint8_t>(MessageType::stats)) return hello;
    proto::Hello h;
    if (f->header.type == static_cast<std::uint8_t>(MessageType::hello) &&
        proto::decode_hello(f->payload.data(), f->payload.size(), &h))
      hello = h;
  }
  ADD_FAILURE() << "no STATS after HELLO_REQUEST, STATS_REQUEST";
  return std::nullopt;
}

std::unique_ptr<Child> start_qemu_board(const TempDir& dir, const std::vector<std::string>& options) {
  return std::make_unique<Child>(qemu_argv(dir / "board.sock", options), dir / "board.log");
}

// ---- what every board must do -----------------------------------------------------------------------

void check_hello(const proto::Hello& h, const char* board, std::size_t sensors) {
  EXPECT_STREQ(h.board, board);
  EXPECT_EQ(h.board_revision, 1);
  EXPECT_EQ(h.firmware_major, 0);
  EXPECT_EQ(h.firmware_minor, 1);
  EXPECT_EQ(h.firmware_patch, 0);
  for (std::uint8_t b : h.config_hash) EXPECT_EQ(b, 0);
  EXPECT_EQ(h.max_payload, 1024);
  ASSERT_EQ(h.sensor_count, sensors);
  const proto::SensorDescriptor& d = h.sensors[0];
  EXPECT_EQ(d.kind, proto::SensorKind::audio);
  EXPECT_EQ(d.format, proto::SampleFormat::int16);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.rate_millihertz, 16000000u);
  EXPECT_EQ(d.width, 0);
  EXPECT_EQ(d.height, 0);
}

// START as fast as possible: the take must be the file's samples bit for bit (looping past its end
// for longer takes), in contiguous whole-sample chunks, with consecutive sequence numbers.
void check_fast_takes(Link& link, const Bytes& samples, const char* board) {
  for (const std::uint32_t length : {32000u, 96000u}) {
    const auto take = static_cast<std::uint16_t>(length / 1000);
    link.send(MessageType::start, start_payload(0, proto::kStartAsFastAsPossible, take, length));
    const TakeResult r = collect_take(link, 0, take, 2, 1024);
    EXPECT_EQ(r.problems, "") << board << " take of " << length;
    EXPECT_EQ(r.end.sensor, 0);
    EXPECT_EQ(r.end.take, take);
    EXPECT_EQ(r.end.total_bytes, length);
    EXPECT_EQ(r.end.dropped_bytes, 0u);
    ASSERT_EQ(r.bytes.size(), length);
    EXPECT_TRUE(r.bytes == looped(samples, length)) << board << ": the take differs from the file's samples";
    std::printf("[ rate     ] %s: %u bytes in %zu DATA frames, %.1f ms from first DATA to TAKE_END (%.2f MB/s)\n",
                board, length, r.data_frames, 1e3 * r.seconds, r.seconds > 0 ? length / r.seconds / 1e6 : 0.0);
  }
  EXPECT_EQ(link.sequence_errors(), 0) << link.sequence_report();
  EXPECT_EQ(link.decode_errors(), 0);
}

// A paced take (no flag) never sends a sample before its time on the board's clock: the board
// answers HELLO_REQUEST, sent just before START, before it starts the take, so every DATA chunk
// ending at byte e must be stamped at least e / 32000 s after that HELLO.
void check_paced_take(Link& link, const Bytes& samples, const char* board) {
  const std::uint32_t length = 16000;  // 0.5 s of 16 kHz int16
  link.send(MessageType::hello_request);
  link.send(MessageType::start, start_payload(0, 0, 9, length));
  const std::optional<Frame> hello = link.receive();
  ASSERT_TRUE(hello);
  ASSERT_EQ(hello->header.type, static_cast<std::uint8_t>(MessageType::hello));
  const std::uint32_t t0 = hello->header.timestamp_us;
  const TakeResult r = collect_take(link, 0, 9, 2, 1024);
  EXPECT_EQ(r.problems, "") << board;
  EXPECT_EQ(r.end.total_bytes, length);
  EXPECT_TRUE(r.bytes == looped(samples, length)) << board;
  std::uint32_t previous = t0;
  for (const auto& [ts, end] : r.chunks) {
    const std::uint64_t due_us = static_cast<std::uint64_t>(end) * 1000000u / 32000u;
    EXPECT_GE(static_cast<std::uint32_t>(ts - t0), due_us) << board << ": chunk ending at byte " << end << " sent early";
    EXPECT_GE(static_cast<std::int32_t>(ts - previous), 0) << board << ": timestamps go backwards";
    previous = ts;
  }
  ASSERT_FALSE(r.chunks.empty());
  const std::uint32_t span = r.chunks.back().first - t0;
  EXPECT_GE(span, 500000u);
  std::printf("[ paced    ] %s: 16000 bytes (0.5 s of audio) in %zu chunks over %.1f ms of board time\n", board,
              r.data_frames, span / 1e3);
  EXPECT_EQ(link.sequence_errors(), 0) << link.sequence_report();
}

// ERROR answers and STATS, then a normal take still works.
void check_errors(Link& link, const Bytes& samples, const char* board) {
  // Line noise, then a frame with a broken CRC: dropped without an answer; the board resynchronises
  // at the next 0x00 and answers the HELLO_REQUEST after them.
  {
    Bytes noise(100);
    for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(1 + (i * 37) % 250);
    noise.push_back(0);
    Bytes wire(proto::kMaxWireFrame);
    const Bytes start = start_payload(0, 0, 1, 3200);
    const std::size_t n = proto::encode_frame(static_cast<std::uint8_t>(MessageType::start), 99, 0, start.data(),
                                              start.size(), wire.data(), wire.size());
    wire.resize(n);
    wire[5] ^= 0x40;  // inside the encoded header/payload: the CRC no longer matches
    if (wire[5] == 0) wire[5] = 0x40;
    noise.insert(noise.end(), wire.begin(), wire.end());
    link.send_raw(noise);
    link.send(MessageType::hello_request);
    const auto hello = expect_hello(link);
    ASSERT_TRUE(hello) << board;
  }
  // No sensor 1 on a one-sensor board.
  link.send(MessageType::start, start_payload(1, 0, 1, 3200));
  expect_error(link, ErrorCode::no_such_sensor);
  // A length that is not a whole number of int16 samples.
  link.send(MessageType::start, start_payload(0, 0, 1, 3201));
  expect_error(link, ErrorCode::bad_payload);
  // Wrong payload sizes.
  link.send(MessageType::start, Bytes(7, 0));
  expect_error(link, ErrorCode::bad_payload);
  link.send(MessageType::hello_request, Bytes{1});
  expect_error(link, ErrorCode::bad_payload);
  link.send(MessageType::stop, Bytes{1, 2});
  expect_error(link, ErrorCode::bad_payload);
  // Unknown types, and a board -> host type sent to the board.
  link.send_type(0x55, {});
  const auto unknown = expect_error(link, ErrorCode::unknown_command);
  if (unknown) {
    EXPECT_NE(std::string(unknown->text).find("0x55"), std::string::npos) << unknown->text;
  }
  link.send(MessageType::data, Bytes(12, 0));
  expect_error(link, ErrorCode::unknown_command);
  // STOP without a take: nothing happens (the next answer is STATS).
  link.send(MessageType::stop);
  link.send(MessageType::stats_request);
  {
    const std::optional<Frame> f = link.receive();
    ASSERT_TRUE(f);
    ASSERT_EQ(f->header.type, static_cast<std::uint8_t>(MessageType::stats));
    proto::Stats s;
    ASSERT_TRUE(proto::decode_stats(f->payload.data(), f->payload.size(), &s));
    EXPECT_GE(s.frames_sent, 8u);  // HELLO and the seven ERRORs at least
    EXPECT_EQ(s.frames_dropped, 0u);
  }

  // A take until STOP (length 0), paced: START again while it runs is busy; STOP ends it with
  // TAKE_END counting exactly the bytes sent, all the file's samples from the start.
  link.send(MessageType::start, start_payload(0, 0, 40, 0));
  link.send(MessageType::start, start_payload(0, 0, 41, 3200));
  bool busy = false;
  Bytes bytes;
  for (int i = 0; i < 200 && !busy; ++i) {
    const std::optional<Frame> f = link.receive();
    ASSERT_TRUE(f);
    if (f->header.type == static_cast<std::uint8_t>(MessageType::data)) {
      bytes.insert(bytes.end(), f->payload.begin() + proto::kDataHeaderSize, f->payload.end());
      continue;
    }
    ASSERT_EQ(f->header.type, static_cast<std::uint8_t>(MessageType::error));
    proto::ErrorMessage e;
    ASSERT_TRUE(proto::decode_error(f->payload.data(), f->payload.size(), &e));
    EXPECT_EQ(e.code, ErrorCode::busy) << e.text;
    busy = true;
  }
  EXPECT_TRUE(busy);
  std::this_thread::sleep_for(100ms);
  link.send(MessageType::stop);
  const TakeResult rest = collect_take(link, 0, 40, 2, 1024);
  EXPECT_TRUE(rest.ended);
  bytes.insert(bytes.end(), rest.bytes.begin(), rest.bytes.end());
  EXPECT_EQ(rest.end.take, 40);
  EXPECT_EQ(rest.end.total_bytes, bytes.size());
  EXPECT_EQ(rest.end.dropped_bytes, 0u);
  EXPECT_GT(bytes.size(), 0u);
  EXPECT_EQ(bytes.size() % 2, 0u);
  EXPECT_TRUE(bytes == looped(samples, bytes.size()));

  // Still usable afterwards.
  link.send(MessageType::start, start_payload(0, proto::kStartAsFastAsPossible, 42, 3200));
  const TakeResult after = collect_take(link, 0, 42, 2, 1024);
  EXPECT_EQ(after.problems, "");
  EXPECT_TRUE(after.bytes == looped(samples, 3200, bytes.size()));  // on from where the stopped take ended
  EXPECT_EQ(link.sequence_errors(), 0) << board << link.sequence_report();
  EXPECT_EQ(link.decode_errors(), 0);
}

struct AudioFixture {
  TempDir dir;
  Bytes samples;
  fs::path raw;
  AudioFixture() {
    samples = wav_pcm16_mono_16k(shared_data("audio/yes_1000ms.wav"));
    raw = dir / "yes_1000ms.s16le";
    write_bytes(raw, samples);
  }
};

// ---- board `host` -------------------------------------------------------------------------------

TEST(FirmwareHost, SendsDelimiterThenHelloOnEveryConnection) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  AudioFixture fx;
  ASSERT_EQ(fx.samples.size(), 32000u);
  auto board = start_host_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  for (int connection = 0; connection < 2; ++connection) {
    Link link;
    ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
    const auto hello = expect_hello(link);
    ASSERT_TRUE(hello);
    check_hello(*hello, "host", 1);
    ASSERT_FALSE(link.raw_start().empty());
    EXPECT_EQ(link.raw_start()[0], 0x00) << "a lone 0x00 first";
    EXPECT_EQ(link.first_sequence(), 0) << "each connection starts at sequence 0";
    if (connection == 0) {
      // Leave in the middle of an endless take: the board abandons it and serves the next host.
      link.send(MessageType::start, start_payload(0, proto::kStartAsFastAsPossible, 1, 0));
      ASSERT_TRUE(link.receive());
    }
  }
  EXPECT_EQ(board->terminate(), 0) << board->log();
  EXPECT_FALSE(fs::exists(fx.dir / "board.sock")) << "the socket file is removed at exit";
}

TEST(FirmwareHost, FastTakesAreTheFileBitForBit) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  AudioFixture fx;
  auto board = start_host_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  ASSERT_TRUE(expect_hello(link));
  check_fast_takes(link, fx.samples, "host");
}

TEST(FirmwareHost, PacedTakeNeverRunsAheadOfTheSensorClock) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  AudioFixture fx;
  auto board = start_host_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  ASSERT_TRUE(expect_hello(link));
  check_paced_take(link, fx.samples, "host");
}

TEST(FirmwareHost, AnswersErrorsAndStats) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  AudioFixture fx;
  auto board = start_host_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  ASSERT_TRUE(expect_hello(link));
  check_errors(link, fx.samples, "host");
}

// IMU (6 x float32) and camera (RGB565 QQVGA frames) replays: chunks hold whole samples, a camera
// take is whole frames, and a smaller --max-payload is honoured.
TEST(FirmwareHost, ImuAndCameraReplaysKeepWholeSamples) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  TempDir dir;
  Bytes imu(24 * 250), frames(2 * 160 * 120 * 2);
  std::uint32_t lcg = 7;
  for (auto* v : {&imu, &frames}) {
    for (std::uint8_t& b : *v) {
      lcg = lcg * 1664525u + 1013904223u;
      b = static_cast<std::uint8_t>(lcg >> 24);
    }
  }
  write_bytes(dir / "imu.f32", imu);
  write_bytes(dir / "camera.rgb565", frames);
  auto board = start_host_board(dir, {"--max-payload", "500", "--sensor", "imu:float32:6:119000:0:0:" + (dir / "imu.f32").string(),
                                      "--sensor", "camera:rgb565:1:1000:160:120:" + (dir / "camera.rgb565").string()});
  Link link;
  ASSERT_TRUE(link.connect(dir / "board.sock", *board)) << board->log();
  const auto hello = expect_hello(link);
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->max_payload, 500);
  ASSERT_EQ(hello->sensor_count, 2);
  EXPECT_EQ(hello->sensors[0].kind, proto::SensorKind::imu);
  EXPECT_EQ(hello->sensors[0].format, proto::SampleFormat::float32);
  EXPECT_EQ(hello->sensors[0].channels, 6);
  EXPECT_EQ(hello->sensors[0].rate_millihertz, 119000u);
  EXPECT_EQ(hello->sensors[1].kind, proto::SensorKind::camera);
  EXPECT_EQ(hello->sensors[1].format, proto::SampleFormat::rgb565);
  EXPECT_EQ(hello->sensors[1].width, 160);
  EXPECT_EQ(hello->sensors[1].height, 120);

  link.send(MessageType::start, start_payload(0, proto::kStartAsFastAsPossible, 1, 24 * 300));
  const TakeResult i = collect_take(link, 0, 1, 24, 500);
  EXPECT_EQ(i.problems, "");
  EXPECT_TRUE(i.bytes == looped(imu, 24 * 300));

  // A camera take is whole frames: 1.5 frames is refused; 3 frames loop over the 2 in the file.
  link.send(MessageType::start, start_payload(1, proto::kStartAsFastAsPossible, 2, 160 * 120 * 3));
  expect_error(link, ErrorCode::bad_payload);
  link.send(MessageType::start, start_payload(1, proto::kStartAsFastAsPossible, 2, 160 * 120 * 2 * 3));
  const TakeResult c = collect_take(link, 1, 2, 2, 500);
  EXPECT_EQ(c.problems, "");
  EXPECT_TRUE(c.bytes == looped(frames, 160 * 120 * 2 * 3));
  EXPECT_EQ(link.sequence_errors(), 0) << link.sequence_report();
}

TEST(FirmwareHost, RejectsABadCommandLine) {
  REQUIRE_BUILT(TML_COLLECT_HOST);
  TempDir dir;
  write_bytes(dir / "one_byte.raw", Bytes{1});
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--sensor", "microphone:int16:1:16000000:0:0:/x"}, "KIND must be audio, imu or camera"},
      {{"--sensor", "audio:int16:1:16000000:0:0"}, "expected KIND:FORMAT"},
      {{"--sensor", "audio:int16:0:16000000:0:0:/x"}, "CHANNELS"},
      {{"--sensor", "audio:int16:1:16000000:0:0:" + (dir / "missing.raw").string()}, "cannot open sensor file"},
      {{"--sensor", "audio:int16:1:16000000:0:0:" + (dir / "one_byte.raw").string()}, "less than one sample"},
      {{"--bogus"}, "unknown option '--bogus'"},
  };
  for (const auto& [options, message] : cases) {
    auto board = start_host_board(dir, options);
    EXPECT_EQ(board->wait_exit(5s), 2) << options[0];
    EXPECT_NE(board->log().find(message), std::string::npos) << board->log();
  }
}

// ---- board `qemu-m4` ----------------------------------------------------------------------------

// The firmware links no allocator (DESIGN.md §3): no heap symbol may appear in the link map.
TEST(FirmwareQemu, LinkMapHasNoHeapSymbols) {
  REQUIRE_BUILT(TML_COLLECT_MAP);
  const std::string map = read_text(TML_COLLECT_MAP);
  ASSERT_NE(map.find("Reset_Handler"), std::string::npos) << "not a link map of collect.elf";
  std::size_t tokens = 0;
  const std::string found = test::heap_symbols_in_link_map(map, &tokens);
  EXPECT_GT(tokens, 100u);
  EXPECT_EQ(found, "");
}

TEST(FirmwareQemu, HelloAndFastTakesAreTheFileBitForBit) {
  REQUIRE_BUILT(TML_COLLECT_ELF);
  REQUIRE_BUILT(TML_QEMU);
  AudioFixture fx;
  auto board = start_qemu_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  const auto hello = sync_with_board(link);
  ASSERT_TRUE(hello);
  check_hello(*hello, "qemu-m4", 1);
  check_fast_takes(link, fx.samples, "qemu-m4");
  EXPECT_TRUE(board->running()) << board->log();
}

TEST(FirmwareQemu, PacedTakeNeverRunsAheadOfTheSensorClock) {
  REQUIRE_BUILT(TML_COLLECT_ELF);
  REQUIRE_BUILT(TML_QEMU);
  AudioFixture fx;
  auto board = start_qemu_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  ASSERT_TRUE(sync_with_board(link));
  check_paced_take(link, fx.samples, "qemu-m4");
}

TEST(FirmwareQemu, AnswersErrorsAndStats) {
  REQUIRE_BUILT(TML_COLLECT_ELF);
  REQUIRE_BUILT(TML_QEMU);
  AudioFixture fx;
  auto board = start_qemu_board(fx.dir, {"--sensor", audio_sensor(fx.raw)});
  Link link;
  ASSERT_TRUE(link.connect(fx.dir / "board.sock", *board)) << board->log();
  ASSERT_TRUE(sync_with_board(link));
  check_errors(link, fx.samples, "qemu-m4");
}

// A bad configuration ends QEMU with exit code 2 through semihosting, the reason on its console.
TEST(FirmwareQemu, BadCommandLineExitsWithCode2) {
  REQUIRE_BUILT(TML_COLLECT_ELF);
  REQUIRE_BUILT(TML_QEMU);
  TempDir dir;
  auto board = start_qemu_board(dir, {"--sensor", "audio:int16:1:16000000:0:0:" + (dir / "missing.raw").string()});
  EXPECT_EQ(board->wait_exit(10s), 2) << board->log();
  EXPECT_NE(board->log().find("cannot open sensor file"), std::string::npos) << board->log();
}

}  // namespace
}  // namespace tml::test
