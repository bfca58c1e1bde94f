#pragma once
// The live training line on stderr:
//   classifier [=========>          ] 12/30  loss 0.412  acc 88.1%  val 86.0%  ETA 0:42
// redrawn at every epoch (at most ten times a second), cleared when the object goes away.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

namespace tml::cli {

inline std::string format_duration(double seconds) {
  if (seconds < 0) return "?";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

inline std::string format_percent(std::optional<double> v) {
  if (!v) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * *v);
  return buf;
}

class TrainProgressLine {
 public:
  explicit TrainProgressLine(bool enabled) : enabled_(enabled) {}
  ~TrainProgressLine() { clear(); }

  void clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

  void status(const std::string& text) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  void epoch(const std::string& phase, int epoch, int epochs, std::optional<double> loss,
             std::optional<double> accuracy, std::optional<double> val_accuracy, double eta_seconds) {
    if (!enabled_) return;
    constexpr int kWidth = 20;
    int filled = epochs > 0 ? std::min(kWidth, kWidth * epoch / epochs) : 0;
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::string line = phase + " [" + bar + "] " + std::to_string(epoch) + "/" + std::to_string(epochs);
    char buf[32];
    if (loss) {
      std::snprintf(buf, sizeof buf, "  loss %.3f", *loss);
      line += buf;
    }
    if (accuracy) line += "  acc " + format_percent(accuracy);
    if (val_accuracy) line += "  val " + format_percent(val_accuracy);
    if (eta_seconds >= 0 && epoch < epochs) line += "  ETA " + format_duration(eta_seconds);
    status(line);
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace tml::cli
