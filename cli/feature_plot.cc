#include "feature_plot.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <sstream>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tml::cli {

namespace fs = std::filesystem;

namespace {

const cv::Scalar kInk(30, 30, 30);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.45) {
  cv::putText(img, s, at, kFont, scale, kInk, 1, cv::LINE_AA);
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

// frames x width floats as a viridis heat map: time to the right, index 0 at the bottom.
cv::Mat audio_plot(const std::vector<std::uint8_t>& features, const FeatureExtractor& fx, const Project& project) {
  int frames = static_cast<int>(fx.shape()[0]), width = static_cast<int>(fx.shape()[1]);
  cv::Mat values(width, frames, CV_32F);
  const float* f = reinterpret_cast<const float*>(features.data());
  for (int t = 0; t < frames; ++t) {
    for (int k = 0; k < width; ++k) values.at<float>(width - 1 - k, t) = f[t * width + k];
  }
  double lo, hi;
  cv::minMaxLoc(values, &lo, &hi);
  cv::Mat gray, color;
  values.convertTo(gray, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0, hi > lo ? -lo * 255.0 / (hi - lo) : 0);
  cv::applyColorMap(gray, color, cv::COLORMAP_VIRIDIS);
  int cell_w = std::max(2, 640 / std::max(1, frames)), cell_h = std::max(2, 320 / std::max(1, width));
  cv::resize(color, color, cv::Size(frames * cell_w, width * cell_h), 0, 0, cv::INTER_NEAREST);

  const int left = 70, bottom = 50, top = 64, right = 90;
  cv::Mat canvas(color.rows + top + bottom, color.cols + left + right, CV_8UC3, cv::Scalar(255, 255, 255));
  color.copyTo(canvas(cv::Rect(left, top, color.cols, color.rows)));
  cv::rectangle(canvas, cv::Rect(left - 1, top - 1, color.cols + 2, color.rows + 2), kInk);
  double hop_s = project.config["preprocess"]["hop_ms"].get<double>() / 1000.0;
  for (int i = 0; i <= 4; ++i) {
    int x = left + color.cols * i / 4;
    cv::line(canvas, {x, top + color.rows}, {x, top + color.rows + 5}, kInk);
    text(canvas, fixed(frames * hop_s * i / 4, 2), {x - 14, top + color.rows + 20});
    int y = top + color.rows - color.rows * i / 4;
    cv::line(canvas, {left - 5, y}, {left, y}, kInk);
    text(canvas, std::to_string((width - 1) * i / 4), {left - 35, y + 5});
  }
  text(canvas, "time (s)", {left + color.cols / 2 - 30, top + color.rows + 42});
  std::string what = fx.describe();
  text(canvas, what == "mfcc" ? "coefficient" : what == "logmel" ? "mel band" : "frequency bin", {4, top - 10});
  text(canvas, what + " " + std::to_string(frames) + " x " + std::to_string(width), {left, 26}, 0.6);
  // Colour scale.
  int bar_x = left + color.cols + 20;
  for (int y = 0; y < color.rows; ++y) {
    cv::Mat px(1, 1, CV_8U, cv::Scalar(255 - 255 * y / std::max(1, color.rows - 1)));
    cv::Mat c;
    cv::applyColorMap(px, c, cv::COLORMAP_VIRIDIS);
    cv::line(canvas, {bar_x, top + y}, {bar_x + 15, top + y}, cv::Scalar(c.at<cv::Vec3b>(0, 0)));
  }
  text(canvas, fixed(hi, 1), {bar_x + 18, top + 10}, 0.4);
  text(canvas, fixed(lo, 1), {bar_x + 18, top + color.rows}, 0.4);
  return canvas;
}

cv::Mat image_plot(const fs::path& input, const std::vector<std::uint8_t>& features, const FeatureExtractor& fx) {
  cv::Mat original = cv::imread(input.string(), cv::IMREAD_COLOR);
  int h = static_cast<int>(fx.shape()[0]), w = static_cast<int>(fx.shape()[1]), c = static_cast<int>(fx.shape()[2]);
  cv::Mat model(h, w, c == 3 ? CV_8UC3 : CV_8UC1);
  for (int i = 0; i < h * w * c; ++i) {
    double v = fx.type() == NpyType::int8      ? static_cast<std::int8_t>(features[i]) + 128.0
               : fx.type() == NpyType::uint8   ? features[i]
                                               : reinterpret_cast<const float*>(features.data())[i] * 255.0;
    model.data[i] = cv::saturate_cast<std::uint8_t>(v);
  }
  if (c == 3) cv::cvtColor(model, model, cv::COLOR_RGB2BGR);
  else cv::cvtColor(model, model, cv::COLOR_GRAY2BGR);
  const int side = 288;
  double scale = static_cast<double>(side) / std::max(original.rows, original.cols);
  cv::resize(original, original, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::resize(model, model, cv::Size(side * w / std::max(w, h), side * h / std::max(w, h)), 0, 0, cv::INTER_NEAREST);
  cv::Mat canvas(side + 60, original.cols + model.cols + 30, CV_8UC3, cv::Scalar(255, 255, 255));
  original.copyTo(canvas(cv::Rect(10, 40, original.cols, original.rows)));
  model.copyTo(canvas(cv::Rect(20 + original.cols, 40, model.cols, model.rows)));
  text(canvas, "original", {10, 28});
  text(canvas, "model input " + std::to_string(w) + "x" + std::to_string(h), {20 + original.cols, 28});
  return canvas;
}

cv::Mat bar_plot(const std::vector<std::uint8_t>& features, const FeatureExtractor& fx) {
  int n = static_cast<int>(fx.shape()[0]);
  const float* f = reinterpret_cast<const float*>(features.data());
  float lo = 0, hi = 0;
  for (int i = 0; i < n; ++i) lo = std::min(lo, f[i]), hi = std::max(hi, f[i]);
  const int bar = std::max(4, 720 / std::max(1, n)), plot_h = 300, top = 40, left = 60;
  cv::Mat canvas(plot_h + top + 40, n * bar + left + 20, CV_8UC3, cv::Scalar(255, 255, 255));
  auto y_of = [&](float v) { return top + static_cast<int>((hi - v) / std::max(1e-6f, hi - lo) * plot_h); };
  for (int i = 0; i < n; ++i) {
    cv::rectangle(canvas, cv::Point(left + i * bar, y_of(0)), cv::Point(left + (i + 1) * bar - 1, y_of(f[i])),
                  cv::Scalar(180, 110, 40), cv::FILLED);
  }
  cv::line(canvas, {left, y_of(0)}, {left + n * bar, y_of(0)}, kInk);
  text(canvas, fixed(hi, 2), {4, top + 5});
  text(canvas, fixed(lo, 2), {4, top + plot_h});
  text(canvas, "imu features (" + std::to_string(n) + "): per axis rms, log band powers, peak Hz", {left, 25});
  text(canvas, "feature index", {left + n * bar / 2 - 40, top + plot_h + 30});
  return canvas;
}

}  // namespace

void plot_features(const fs::path& out_png, const fs::path& input, const Project& project,
                   const FeatureExtractor& fx, const std::vector<std::uint8_t>& features) {
  std::string kind = project.sensor_kind();
  cv::Mat picture = kind == "audio" ? audio_plot(features, fx, project)
                    : kind == "camera" ? image_plot(input, features, fx) : bar_plot(features, fx);
  std::vector<std::uint8_t> png;
  if (!cv::imencode(".png", picture, png)) throw Error(ExitCode::internal, "OpenCV could not encode the plot");
  write_file_atomic(out_png, png);
}

}  // namespace tml::cli
