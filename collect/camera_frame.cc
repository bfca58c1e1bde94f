#include "collect/camera_frame.h"

#include "core/errors.h"

namespace tml {

namespace {

std::uint8_t clamp_u8(double v) { return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }
double luma(const cv::Vec3b& p) { return 16 + 0.257 * p[0] + 0.504 * p[1] + 0.098 * p[2]; }

}  // namespace

std::vector<std::uint8_t> encode_camera_frame(const cv::Mat& rgb, proto::SampleFormat format) {
  std::vector<std::uint8_t> out;
  switch (format) {
    case proto::SampleFormat::rgb565:
      out.reserve(static_cast<std::size_t>(rgb.total()) * 2);
      for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) {
          const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
          const unsigned v = ((p[0] >> 3u) << 11u) | ((p[1] >> 2u) << 5u) | (p[2] >> 3u);
          out.push_back(static_cast<std::uint8_t>(v >> 8u));
          out.push_back(static_cast<std::uint8_t>(v));
        }
      return out;
    case proto::SampleFormat::yuv422:
      if (rgb.cols % 2 != 0) throw invalid_input("", "YUV422 frames need an even width");
      for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; x += 2) {
          const cv::Vec3b a = rgb.at<cv::Vec3b>(y, x), b = rgb.at<cv::Vec3b>(y, x + 1);
          const double r = (a[0] + b[0]) / 2.0, g = (a[1] + b[1]) / 2.0, bl = (a[2] + b[2]) / 2.0;
          out.push_back(clamp_u8(luma(a)));
          out.push_back(clamp_u8(128 - 0.148 * r - 0.291 * g + 0.439 * bl));
          out.push_back(clamp_u8(luma(b)));
          out.push_back(clamp_u8(128 + 0.439 * r - 0.368 * g - 0.071 * bl));
        }
      return out;
    case proto::SampleFormat::gray8:
      for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) {  // OpenCV's COLOR_RGB2GRAY integer weights
          const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
          out.push_back(static_cast<std::uint8_t>((9798u * p[0] + 19235u * p[1] + 3735u * p[2] + 16384u) >> 15));
        }
      return out;
    default:
      throw invalid_input("", "not a camera sample format");
  }
}

}  // namespace tml
