#pragma once
// A live "stage  done/total" line on stderr, redrawn at most ten times a second.
#include <chrono>
#include <cstdio>
#include <string>

namespace tml::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }
  void update(const std::string& stage, std::size_t done, std::size_t total) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    int percent = total ? static_cast<int>(100 * done / total) : 100;
    std::fprintf(stderr, "\r\033[K%s %zu/%zu (%d%%)", stage.c_str(), done, total, percent);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tml::cli
