#pragma once
// Smoothing of a classifier's per-window scores for live use (keyword spotting, as in TensorFlow
// Lite Micro's micro_speech RecognizeCommands): the scores of the last N windows are averaged; a
// detection is the averaged top label when it is a detectable label (not "_silence"/"_unknown":
// labels starting with '_'), its average is at least the threshold, and no detection happened in
// the suppression time before it.
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace tml::cli {

struct SmootherConfig {
  std::size_t average_windows = 3;
  double threshold = 0.6;        // averaged score in [0, 1]
  double suppress_seconds = 1.0;
};

struct Smoothed {
  int label = 0;           // argmax of the averaged scores
  double score = 0.0;      // its averaged score
  bool detection = false;
};

class ScoreSmoother {
 public:
  ScoreSmoother(std::vector<std::string> labels, SmootherConfig config);
  // SCORES: one window's per-label scores (probabilities); TIME: the window's end in seconds.
  Smoothed add(const std::vector<double>& scores, double time);

 private:
  std::vector<std::string> labels_;
  SmootherConfig config_;
  std::deque<std::vector<double>> recent_;
  bool detected_before_ = false;
  double last_detection_ = 0.0;
};

}  // namespace tml::cli
