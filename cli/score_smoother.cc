#include "score_smoother.h"

#include <stdexcept>

namespace tml::cli {

ScoreSmoother::ScoreSmoother(std::vector<std::string> labels, SmootherConfig config)
    : labels_(std::move(labels)), config_(config) {
  if (config_.average_windows == 0) config_.average_windows = 1;
}

Smoothed ScoreSmoother::add(const std::vector<double>& scores, double time) {
  if (scores.size() != labels_.size()) throw std::invalid_argument("scores do not match the labels");
  recent_.push_back(scores);
  while (recent_.size() > config_.average_windows) recent_.pop_front();
  std::vector<double> mean(labels_.size(), 0.0);
  for (const auto& s : recent_)
    for (std::size_t i = 0; i < s.size(); ++i) mean[i] += s[i] / static_cast<double>(recent_.size());
  Smoothed out;
  for (std::size_t i = 1; i < mean.size(); ++i)
    if (mean[i] > mean[static_cast<std::size_t>(out.label)]) out.label = static_cast<int>(i);
  out.score = mean.empty() ? 0.0 : mean[static_cast<std::size_t>(out.label)];
  const bool detectable = !labels_.empty() && labels_[static_cast<std::size_t>(out.label)].rfind('_', 0) != 0;
  const bool suppressed = detected_before_ && time - last_detection_ < config_.suppress_seconds;
  if (detectable && out.score >= config_.threshold && !suppressed) {
    out.detection = true;
    detected_before_ = true;
    last_detection_ = time;
  }
  return out;
}

}  // namespace tml::cli
