#include "build_reports.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tml::cli {

namespace fs = std::filesystem;

namespace {

void save_png(const fs::path& file, const cv::Mat& image) {
  std::vector<std::uint8_t> png;
  if (!cv::imencode(".png", image, png)) throw Error(ExitCode::internal, "cannot encode " + file.string());
  write_file_atomic(file, png);
}

void text(cv::Mat& img, const std::string& s, int x, int y, double scale = 0.45, cv::Scalar colour = {0, 0, 0}) {
  cv::putText(img, s, {x, y}, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

}  // namespace

void write_confusion_png(const fs::path& file, const deploy::Evaluation& e, const std::vector<std::string>& labels,
                         const std::string& title) {
  const int n = static_cast<int>(e.confusion.size());
  const int cell = 64, left = 130, top = 70;
  cv::Mat img(top + n * cell + 60, left + n * cell + 20, CV_8UC3, cv::Scalar(255, 255, 255));
  text(img, title, 10, 22, 0.55);
  text(img, "predicted ->", left, top - 30);
  for (int t = 0; t < n; ++t) {
    std::size_t row = 0;
    for (std::size_t v : e.confusion[static_cast<std::size_t>(t)]) row += v;
    text(img, labels[static_cast<std::size_t>(t)], 8, top + t * cell + cell / 2 + 5);
    text(img, labels[static_cast<std::size_t>(t)].substr(0, 8), left + t * cell + 4, top - 8, 0.4);
    for (int p = 0; p < n; ++p) {
      const std::size_t v = e.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)];
      const double share = row ? static_cast<double>(v) / static_cast<double>(row) : 0.0;
      const int shade = 255 - static_cast<int>(200 * share);
      const cv::Scalar colour = t == p ? cv::Scalar(shade, 255, shade) : cv::Scalar(shade, shade, 255);
      cv::rectangle(img, {left + p * cell, top + t * cell}, {left + (p + 1) * cell - 2, top + (t + 1) * cell - 2},
                    colour, cv::FILLED);
      text(img, std::to_string(v), left + p * cell + 8, top + t * cell + cell / 2 + 5, 0.5);
    }
  }
  char acc[96];
  std::snprintf(acc, sizeof acc, "accuracy %.1f%% of %zu (rows: truth)", 100 * e.accuracy, e.count);
  text(img, acc, 10, top + n * cell + 30);
  save_png(file, img);
}

void write_arena_png(const fs::path& file, const deploy::CompiledModel& m) {
  const int ops = std::max<int>(1, static_cast<int>(m.calls.size()));
  const int width = 900, height = 420, left = 70, top = 40, bottom = 40;
  const double arena = static_cast<double>(std::max<std::int64_t>(1, m.arena_bytes));
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const double xs = static_cast<double>(width - left - 20) / ops;
  const double ys = (height - top - bottom) / arena;
  const cv::Scalar palette[] = {{200, 120, 60}, {60, 160, 220}, {90, 190, 90}, {180, 90, 180}, {70, 70, 200}, {160, 160, 60}};
  for (std::size_t i = 0; i < m.problem.tensors.size(); ++i) {
    const deploy::PlanTensor& t = m.problem.tensors[i];
    const double offset = static_cast<double>(m.plan.offsets[i]);
    const cv::Point a(left + static_cast<int>(t.first_op * xs), height - bottom - static_cast<int>((offset + t.size) * ys));
    const cv::Point b(left + static_cast<int>((t.last_op + 1) * xs) - 1, height - bottom - static_cast<int>(offset * ys));
    cv::rectangle(img, a, b, palette[i % 6], cv::FILLED);
    cv::rectangle(img, a, b, {255, 255, 255}, 1);
  }
  cv::line(img, {left, top}, {left, height - bottom}, {0, 0, 0});
  cv::line(img, {left, height - bottom}, {width - 20, height - bottom}, {0, 0, 0});
  char title[160];
  std::snprintf(title, sizeof title, "arena %lld B (lower bound %lld B, TFLM greedy %lld B) over %d ops",
                static_cast<long long>(m.arena_bytes), static_cast<long long>(m.plan.lower_bound),
                static_cast<long long>(m.tflm_greedy_bytes), ops);
  text(img, title, 10, 22, 0.5);
  text(img, "0", left - 15, height - bottom + 5);
  text(img, std::to_string(m.arena_bytes), 5, top + 5, 0.4);
  text(img, "op 0", left, height - bottom + 20, 0.4);
  text(img, "op " + std::to_string(ops - 1), width - 70, height - bottom + 20, 0.4);
  save_png(file, img);
}

nlohmann::ordered_json evaluation_json(const deploy::Evaluation& e, const std::vector<std::string>& labels) {
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (std::size_t c = 0; c < e.classes.size(); ++c)
    classes.push_back({{"label", labels[c]}, {"count", e.classes[c].count}, {"precision", e.classes[c].precision},
                       {"recall", e.classes[c].recall}});
  return {{"accuracy", e.accuracy}, {"count", e.count}, {"confusion", e.confusion}, {"classes", classes}};
}

void write_confusion_table(std::ostream& out, const nlohmann::ordered_json& evaluation,
                           const std::vector<std::string>& labels, const std::string& name) {
  char line[256];
  const auto& cm = evaluation["confusion"];
  std::snprintf(line, sizeof line, "  %-20s", (name + " truth\\predicted").c_str());
  out << line;
  for (const auto& l : labels) {
    std::snprintf(line, sizeof line, " %9.9s", l.c_str());
    out << line;
  }
  out << "  precision  recall\n";
  for (std::size_t t = 0; t < labels.size() && t < cm.size(); ++t) {
    std::snprintf(line, sizeof line, "  %-20.20s", labels[t].c_str());
    out << line;
    for (const auto& v : cm[t]) {
      std::snprintf(line, sizeof line, " %9lld", v.get<long long>());
      out << line;
    }
    const auto& c = evaluation["classes"][t];
    std::snprintf(line, sizeof line, "  %8.1f%%  %5.1f%%\n", 100 * c["precision"].get<double>(), 100 * c["recall"].get<double>());
    out << line;
  }
}

}  // namespace tml::cli
