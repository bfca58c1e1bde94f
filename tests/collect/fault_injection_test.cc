// Loss is never silent: a proxy between the real host board and `tml collect` flips bits, drops,
// duplicates and truncates DATA frames of every other take, then cuts the link. Every take that lost
// data must be rejected; clean takes, and takes whose only fault was a duplicated frame (the copy is
// recognised and dropped), are kept and equal the replayed signal; a cut link ends collect with
// exit code 3 within seconds, keeping the takes already finished.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "collect/audio_file.h"
#include "core/sha256.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) return -1;
  return fd;
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Forwards one client <-> board connection. Host -> board bytes pass unchanged (START frames are
// decoded to learn the take numbers); board -> host frames are cut at their 0x00 delimiters and the
// DATA frames of faulty takes (every other take) get one fault each, chosen at random.
class FaultyProxy {
 public:
  FaultyProxy(std::string listen_path, std::string board_path, std::uint32_t seed)
      : listen_path_(std::move(listen_path)), board_path_(std::move(board_path)), rng_(seed) {
    listen_fd_ = listen_unix(listen_path_);
    thread_ = std::thread([this] { run(); });
  }
  ~FaultyProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  // After this many more board -> host frames, close both ends (a cut cable).
  void cut_after(int frames) { cut_after_ = frames; }

  std::size_t faults() const { return faults_; }
  std::map<std::string, std::size_t> fault_kinds() {
    std::lock_guard<std::mutex> l(mu_);
    return kinds_;
  }
  // Takes that got a fault which destroys data (bit flip, drop, truncation); a duplicate alone
  // destroys nothing (the copy is recognised and dropped).
  std::set<std::uint16_t> damaged_takes() {
    std::lock_guard<std::mutex> l(mu_);
    return damaged_takes_;
  }
  bool listening() const { return listen_fd_ >= 0; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      const int board = connect_unix(board_path_);
      if (client >= 0 && board >= 0) serve(client, board);
      if (client >= 0) ::close(client);
      if (board >= 0) ::close(board);
    }
  }

  void serve(int client, int board) {
    std::vector<std::uint8_t> from_board, from_client;
    proto::FrameDecoder host_frames;
    std::uint8_t buf[8192];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {board, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) return;
        for (ssize_t i = 0; i < n;) {  // learn which take each START opens
          const auto r = host_frames.feed(buf + i, static_cast<std::size_t>(n - i));
          i += static_cast<ssize_t>(r.consumed);
          proto::Start s;
          if (r.frame_ready && host_frames.header().type == static_cast<std::uint8_t>(proto::MessageType::start) &&
              proto::decode_start(host_frames.payload(), host_frames.header().payload_length, &s)) {
            current_faulty_ = (++takes_ % 2) == 0;
            duplicates_only_ = current_faulty_ && rng_() % 5 == 0;  // harmless faults only, this take
            current_take_ = s.take;
          }
          if (r.consumed == 0) break;
        }
        if (!send_all(board, buf, static_cast<std::size_t>(n))) return;
      }
      if (p[1].revents) {
        const ssize_t n = ::recv(board, buf, sizeof buf, 0);
        if (n <= 0) return;
        from_board.insert(from_board.end(), buf, buf + n);
        std::size_t start = 0;
        for (std::size_t i = 0; i < from_board.size(); ++i) {
          if (from_board[i] != 0) continue;
          std::vector<std::uint8_t> frame(from_board.begin() + static_cast<std::ptrdiff_t>(start),
                                          from_board.begin() + static_cast<std::ptrdiff_t>(i + 1));
          start = i + 1;
          if (cut_after_ >= 0 && cut_after_-- == 0) return;  // the cable is cut
          if (!forward(client, frame)) return;
        }
        from_board.erase(from_board.begin(), from_board.begin() + static_cast<std::ptrdiff_t>(start));
      }
    }
  }

  bool forward(int client, std::vector<std::uint8_t> frame) {
    // Only DATA frames of faulty takes are touched; recognise DATA by decoding a copy.
    proto::FrameDecoder d;
    const auto r = d.feed(frame.data(), frame.size());
    const bool data = r.frame_ready && d.header().type == static_cast<std::uint8_t>(proto::MessageType::data);
    if (!data || !current_faulty_) return send_all(client, frame.data(), frame.size());
    ++faults_;
    const int kind = duplicates_only_ ? 2 : static_cast<int>(rng_() % 4);
    std::lock_guard<std::mutex> l(mu_);
    switch (kind) {
      case 0: {  // flip one bit of the encoded frame (not the delimiter)
        ++kinds_["bit flip"];
        damaged_takes_.insert(current_take_);
        frame[rng_() % (frame.size() - 1)] ^= static_cast<std::uint8_t>(1u << (rng_() % 8));
        return send_all(client, frame.data(), frame.size());
      }
      case 1:
        ++kinds_["drop"];
        damaged_takes_.insert(current_take_);
        return true;
      case 2:
        ++kinds_["duplicate"];
        return send_all(client, frame.data(), frame.size()) && send_all(client, frame.data(), frame.size());
      default: {  // truncate: a prefix of the frame, then its delimiter
        ++kinds_["truncate"];
        damaged_takes_.insert(current_take_);
        const std::size_t keep = 1 + rng_() % (frame.size() - 2);
        std::vector<std::uint8_t> cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(keep));
        cut.push_back(0);
        return send_all(client, cut.data(), cut.size());
      }
    }
  }

  std::string listen_path_, board_path_;
  std::mt19937 rng_;
  int listen_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> cut_after_{-1};
  std::atomic<std::size_t> faults_{0};
  bool current_faulty_ = false;
  bool duplicates_only_ = false;
  std::uint16_t current_take_ = 0;
  std::size_t takes_ = 0;
  std::mutex mu_;
  std::map<std::string, std::size_t> kinds_;
  std::set<std::uint16_t> damaged_takes_;
};

TEST(CollectFaults, EveryCorruptFrameIsDetectedAndNoCorruptSampleIsWritten) {
  TempDir tmp;
  const fs::path project = tmp / "vc";
  ASSERT_EQ(run_tml({"new", "vc", "--template", "voice-control", "--dir", project.string()}, tmp.path()).exit_code, 0);
  // 200 s of distinct (seeded noise) audio, so no two 250 ms takes are alike.
  std::vector<std::int16_t> signal(200 * 16000);
  std::uint32_t lcg = 99;
  for (auto& v : signal) v = static_cast<std::int16_t>((lcg = lcg * 1664525u + 1013904223u) >> 16);
  const auto wav = encode_wav_pcm16(signal.data(), signal.size(), 16000, 1);
  write_text(tmp / "noise.wav", std::string(wav.begin(), wav.end()));
  // Every 250 ms slice of the replay by its hash: a kept take must be one of them exactly.
  std::map<std::string, std::size_t> slices;
  for (std::size_t k = 0; k + 4000 <= signal.size(); k += 4000)
    slices[sha256_hex(std::string(reinterpret_cast<const char*>(signal.data() + k), 8000))] = k / 4000;

  ASSERT_EQ(run_tml({"flash", "--board", "host", "--replay", (tmp / "noise.wav").string()}, project).exit_code, 0);
  struct Guard {
    fs::path p;
    ~Guard() { run_tml({"stop"}, p); }
  } guard{project};
  const json board = json::parse(read_text(project / ".tml" / "board.json"));
  const std::string proxy_path = (tmp / "proxy.sock").string();
  FaultyProxy proxy(proxy_path, board["socket"], 20261127);
  ASSERT_TRUE(proxy.listening());

  const ProcessResult r = run_tml({"--json", "collect", "--label", "yes", "--count", "250", "--length", "250", "--fast",
                                   "--port", proxy_path},
                                  project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json got = json::parse(r.out);
  const std::set<std::uint16_t> damaged = proxy.damaged_takes();
  std::set<std::uint16_t> rejected;
  for (const auto& j : got["rejected"]) rejected.insert(j["take"].get<std::uint16_t>());
  EXPECT_GE(proxy.faults(), 1000u);
  EXPECT_EQ(rejected, damaged) << "every damaged take, and only those, must be rejected";
  ASSERT_EQ(got["kept"].size(), 250u);
  std::size_t duplicates_dropped = 0;
  for (const auto& e : got["kept"]) {
    EXPECT_EQ(damaged.count(e["capture"]["take"].get<std::uint16_t>()), 0u);
    duplicates_dropped += e["capture"]["frames_duplicate"].get<std::size_t>();
    const AudioClip clip = read_audio(project / "dataset" / e["path"].get<std::string>());
    std::vector<std::int16_t> pcm(clip.samples.size());
    for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(std::lround(clip.samples[i] * 32768.0f));
    const std::string h = sha256_hex(std::string(reinterpret_cast<const char*>(pcm.data()), pcm.size() * 2));
    EXPECT_EQ(slices.count(h), 1u) << e["path"] << " is not a slice of the replayed signal";
  }
  EXPECT_GT(duplicates_dropped, 0u) << "takes with duplicated frames only are kept, the copies dropped";
  std::printf("[ faults ] %zu faulty frames (", proxy.faults());
  for (const auto& [k, n] : proxy.fault_kinds()) std::printf("%s %zu, ", k.c_str(), n);
  std::printf(") -> %zu damaged takes, all rejected; %zu takes kept, bit-exact (%zu duplicate frames dropped)\n",
              damaged.size(), got["kept"].size(), duplicates_dropped);

  // Cut the link in the middle of the next take: collect fails fast with exit code 3, and the
  // takes kept before are all still in a valid manifest.
  proxy.cut_after(5);
  const auto t0 = std::chrono::steady_clock::now();
  const ProcessResult cut = run_tml({"collect", "--label", "yes", "--count", "3", "--length", "250", "--fast", "--port",
                                     proxy_path},
                                    project);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(cut.exit_code, 3) << cut.err;
  EXPECT_LT(seconds, 10.0);
  const ProcessResult check = run_tml({"--json", "dataset", "check"}, project);
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
  EXPECT_GE(json::parse(check.out).dump().size(), 2u);
}

}  // namespace
}  // namespace tml::test
