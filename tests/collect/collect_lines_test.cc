// tml collect --lines: a "sketch" printing "ax,ay,az" lines at 952 lines/s on a socket (what
// Serial.println does on a real port). Columns and rate are detected and checked against tml.yaml;
// takes are stored exactly as sent; a take with a malformed line is rejected.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// Serves one client: lines at `rate` per second; line number `bad_line` (if > 0) is garbage.
class LineSketch {
 public:
  LineSketch(const std::string& path, double rate, int columns, long bad_line) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ::unlink(path.c_str());
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 1) == 0;
    thread_ = std::thread([this, rate, columns, bad_line] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      const auto start = std::chrono::steady_clock::now();
      for (long n = 0; !stop_; ++n) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(n * 1e6 / rate)));
        std::string line;
        if (n == bad_line) {
          line = "0.1,oops\n";
        } else {
          for (int c = 0; c < columns; ++c) line += (c ? "," : "") + std::to_string(std::sin(0.01 * n + c));
          line += "\n";
        }
        if (::send(client, line.data(), line.size(), MSG_NOSIGNAL) <= 0) break;
      }
      ::close(client);
    });
  }
  ~LineSketch() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  bool ok() const { return ok_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

fs::path maintenance_project(const TempDir& tmp) {
  const fs::path project = tmp / "mt";
  EXPECT_EQ(run_tml({"new", "mt", "--template", "maintenance", "--dir", project.string()}, tmp.path()).exit_code, 0);
  return project;
}

TEST(CollectLines, DetectsColumnsAndRateAndStoresLinesAsSent) {
  TempDir tmp;
  const fs::path project = maintenance_project(tmp);
  // The 1.5 s detection window covers lines 0..~1430; line 1700 falls into the first take.
  LineSketch sketch((tmp / "sketch.sock").string(), 952, 3, 1700);
  ASSERT_TRUE(sketch.ok());
  const ProcessResult r = run_tml({"--json", "collect", "--lines", "--label", "normal", "--count", "2", "--length", "500",
                                   "--port", (tmp / "sketch.sock").string()},
                                  project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json got = json::parse(r.out);
  EXPECT_EQ(got["columns"], 3);
  EXPECT_NEAR(got["measured_rate"].get<double>(), 952, 952 * 0.05);
  ASSERT_EQ(got["kept"].size(), 2u);
  EXPECT_EQ(got["rejected"].size(), 1u) << got.dump(2);
  EXPECT_NE(got["rejected"][0]["problem"].get<std::string>().find("not a line of numbers"), std::string::npos);
  const std::string csv = read_text(project / "dataset" / got["kept"][0]["path"].get<std::string>());
  EXPECT_EQ(lines_of(csv).size(), 476u);  // 500 ms at 952 Hz
  // Stored exactly as the sketch printed them: three sin() values with std::to_string's 6 decimals.
  const std::string first = lines_of(csv)[0];
  EXPECT_EQ(std::count(first.begin(), first.end(), ','), 2) << first;
  EXPECT_EQ(first.size() - first.find_last_of('.') - 1, 6u) << first;
  EXPECT_EQ(run_tml({"dataset", "check"}, project).exit_code, 0);
}

TEST(CollectLines, RefusesAStreamThatDoesNotMatchTheProject) {
  TempDir tmp;
  const fs::path project = maintenance_project(tmp);
  {
    LineSketch sketch((tmp / "two.sock").string(), 952, 2, -1);
    const ProcessResult r = run_tml({"collect", "--lines", "--label", "normal", "--port", (tmp / "two.sock").string()}, project);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("2 values per line"), std::string::npos) << r.err;
  }
  {
    LineSketch sketch((tmp / "slow.sock").string(), 400, 3, -1);
    const ProcessResult r = run_tml({"collect", "--lines", "--label", "normal", "--port", (tmp / "slow.sock").string()}, project);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("lines/s"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_empty(project / "dataset") || !fs::exists(project / "dataset" / "normal"));
}

}  // namespace
}  // namespace tml::test
