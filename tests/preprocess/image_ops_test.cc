#include "preprocess/image_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace tml {
namespace {

using namespace tml::pre;

const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data/";

// Loads a real image as RGB (3 channels) or gray (1). Empty Mat when the file is missing.
cv::Mat load(const std::string& path, int channels) {
  cv::Mat m = cv::imread(path, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (m.empty()) return m;
  if (channels == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

cv::Mat shared_image(const char* name, int channels) {
  return load(std::string(TML_SHARED_DATA) + "/images/" + name, channels);
}
cv::Mat skimage(const char* name, int channels) { return load(std::string(kSkimageData) + name, channels); }

// A contiguous copy of the w x h region at (x, y).
cv::Mat crop(const cv::Mat& m, int x, int y, int w, int h) { return m(cv::Rect(x, y, w, h)).clone(); }

struct Diff {
  double exact_share;
  int max_diff;
};

Diff compare(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  const std::size_t n = a.total() * a.channels();
  std::size_t exact = 0;
  int worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int d = std::abs(static_cast<int>(a.data[i]) - static_cast<int>(b.data[i]));
    if (d == 0) ++exact;
    if (d > worst) worst = d;
  }
  return {n == 0 ? 1.0 : static_cast<double>(exact) / static_cast<double>(n), worst};
}

// Resizes SRC with ours and with cv::resize, prints the agreement and checks it.
void check_resize(const char* what, const cv::Mat& src, int dw, int dh) {
  ASSERT_FALSE(src.empty()) << what;
  ASSERT_TRUE(src.isContinuous());
  for (const Interpolation interp : {Interpolation::bilinear, Interpolation::area}) {
    cv::Mat ref;
    cv::resize(src, ref, cv::Size(dw, dh), 0, 0, interp == Interpolation::area ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Mat ours(dh, dw, src.type(), cv::Scalar::all(7));
    ASSERT_EQ(resize(ConstImageU8{src.data, src.cols, src.rows, src.channels()},
                     ImageU8{ours.data, dw, dh, src.channels()}, interp),
              Status::ok);
    const Diff d = compare(ours, ref);
    std::printf("[ image resize ] %-26s %s %4dx%-4d -> %4dx%-4d c%d: exact %.4f%%  max diff %d\n", what,
                interp == Interpolation::area ? "area    " : "bilinear", src.cols, src.rows, dw, dh, src.channels(),
                100.0 * d.exact_share, d.max_diff);
    EXPECT_GE(d.exact_share, 0.999) << what;
    EXPECT_LE(d.max_diff, 1) << what;
  }
}

TEST(ImageResize, MatchesOpenCvOnRealGrayImages) {
  const cv::Mat person = shared_image("person.bmp", 1);
  const cv::Mat no_person = shared_image("no_person.bmp", 1);
  const cv::Mat camera = skimage("camera.png", 1);
  ASSERT_FALSE(person.empty());
  ASSERT_FALSE(no_person.empty());
  ASSERT_FALSE(camera.empty()) << "install python3-skimage";
  check_resize("person 96->32", person, 32, 32);
  check_resize("no_person 96->32", no_person, 32, 32);
  check_resize("person 96->160 (up)", person, 160, 160);
  check_resize("no_person 96->160 (up)", no_person, 160, 160);
  check_resize("person 96->48 (2x)", person, 48, 48);
  check_resize("person 96->50", person, 50, 50);
  check_resize("person 96->61x37", person, 61, 37);
  check_resize("person 96->128x40 (mixed)", person, 128, 40);
  check_resize("camera 512->96", camera, 96, 96);
  check_resize("camera 160x120->96", crop(camera, 100, 150, 160, 120), 96, 96);
  check_resize("camera 97x61->37x23", crop(camera, 201, 77, 97, 61), 37, 23);
  check_resize("camera 37x23->97x61 (up)", crop(camera, 11, 300, 37, 23), 97, 61);
  check_resize("camera 300x200->100x75", crop(camera, 50, 60, 300, 200), 100, 75);
  check_resize("camera 120->40 (3x)", crop(camera, 150, 150, 120, 120), 40, 40);
}

TEST(ImageResize, MatchesOpenCvOnRealRgbImages) {
  const cv::Mat astronaut = skimage("astronaut.png", 3);
  const cv::Mat coffee = skimage("coffee.png", 3);
  const cv::Mat chelsea = skimage("chelsea.png", 3);
  ASSERT_FALSE(astronaut.empty()) << "install python3-skimage";
  ASSERT_FALSE(coffee.empty());
  ASSERT_FALSE(chelsea.empty());
  check_resize("astronaut 512->96", astronaut, 96, 96);
  check_resize("coffee 160x120->96", crop(coffee, 200, 150, 160, 120), 96, 96);
  check_resize("chelsea 160x120->96", crop(chelsea, 150, 60, 160, 120), 96, 96);
  check_resize("chelsea 96->32", crop(chelsea, 180, 80, 96, 96), 32, 32);
  check_resize("chelsea 96->160 (up)", crop(chelsea, 180, 80, 96, 96), 160, 160);
  check_resize("coffee 96->48 (2x)", crop(coffee, 250, 100, 96, 96), 48, 48);
  check_resize("coffee 97x61->37x23", crop(coffee, 301, 211, 97, 61), 37, 23);
  check_resize("coffee 61x97->150x200 (up)", crop(coffee, 31, 21, 61, 97), 150, 200);
  check_resize("astronaut 96->160x40 (mix)", crop(astronaut, 200, 100, 96, 96), 160, 40);
  check_resize("coffee 600x400->96", coffee, 96, 96);
}

// Many random source/destination sizes (crops of real photos, 1..300 pixels, integer factors up to 6,
// gray and RGB): exact share over all of them, and the worst single case.
TEST(ImageResize, MatchesOpenCvOnRandomSizes) {
  const cv::Mat photos[2] = {skimage("camera.png", 1), skimage("astronaut.png", 3)};
  ASSERT_FALSE(photos[0].empty()) << "install python3-skimage";
  ASSERT_FALSE(photos[1].empty());
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::size_t total = 0, exact = 0;
  int worst = 0;
  double worst_share = 1.0;
  for (int iter = 0; iter < 400; ++iter) {
    const cv::Mat& photo = photos[iter % 2];
    int sw = pick(1, 300), sh = pick(1, 300), dw, dh;
    if (iter % 4 == 2) {  // integer factors (the area "fast" path), sometimes different per axis
      const int fx = pick(1, 6), fy = pick(1, 6);
      dw = std::max(1, sw / fx);
      dh = std::max(1, sh / fy);
      sw = dw * fx;
      sh = dh * fy;
    } else {
      dw = pick(1, 300);
      dh = pick(1, 300);
    }
    const cv::Mat src = crop(photo, pick(0, photo.cols - sw), pick(0, photo.rows - sh), sw, sh);
    for (const Interpolation interp : {Interpolation::bilinear, Interpolation::area}) {
      cv::Mat ref;
      cv::resize(src, ref, cv::Size(dw, dh), 0, 0, interp == Interpolation::area ? cv::INTER_AREA : cv::INTER_LINEAR);
      cv::Mat ours(dh, dw, src.type());
      ASSERT_EQ(resize(ConstImageU8{src.data, sw, sh, src.channels()}, ImageU8{ours.data, dw, dh, src.channels()},
                       interp),
                Status::ok);
      const Diff d = compare(ours, ref);
      const std::size_t n = ref.total() * ref.channels();
      total += n;
      exact += static_cast<std::size_t>(d.exact_share * static_cast<double>(n) + 0.5);
      worst = std::max(worst, d.max_diff);
      worst_share = std::min(worst_share, d.exact_share);
      EXPECT_LE(d.max_diff, 1) << sw << "x" << sh << " -> " << dw << "x" << dh << " c" << src.channels() << " "
                               << (interp == Interpolation::area ? "area" : "bilinear");
    }
  }
  std::printf("[ image resize ] 400 random size pairs x 2 interpolations: exact %.4f%% of %zu values, worst case "
              "%.4f%%, max diff %d\n",
              100.0 * static_cast<double>(exact) / static_cast<double>(total), total, 100.0 * worst_share, worst);
  EXPECT_GE(static_cast<double>(exact) / static_cast<double>(total), 0.999);
}

// Fashion-MNIST from Debian's dataset-fashion-mnist (installed by scripts/setup.sh).
TEST(ImageResize, MatchesOpenCvOnFashionMnist) {
  const std::string file = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  ASSERT_TRUE(std::filesystem::exists(file)) << file << " missing: install dataset-fashion-mnist (scripts/setup.sh)";
  FILE* p = popen(("gzip -dc '" + file + "' 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::vector<unsigned char> bytes(16 + 8 * 28 * 28);
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), p);
  pclose(p);
  ASSERT_EQ(got, bytes.size());
  for (int i = 0; i < 8; ++i) {
    cv::Mat img(28, 28, CV_8UC1, bytes.data() + 16 + i * 28 * 28);
    cv::Mat m = img.clone();
    check_resize("fashion 28->96 (up)", m, 96, 96);
    check_resize("fashion 28->20", m, 20, 20);
    check_resize("fashion 28->14 (2x)", m, 14, 14);
  }
}

TEST(ImageResize, SameSizeCopiesAndStrideReadsCrop) {
  const cv::Mat person = shared_image("person.bmp", 1);
  ASSERT_FALSE(person.empty());
  cv::Mat out(96, 96, CV_8UC1);
  ASSERT_EQ(resize(ConstImageU8{person.data, 96, 96, 1}, ImageU8{out.data, 96, 96, 1}, Interpolation::area),
            Status::ok);
  EXPECT_EQ(compare(out, person).max_diff, 0);
  // A region read in place through the stride equals resizing a contiguous copy.
  cv::Mat ref;
  cv::resize(person(cv::Rect(10, 20, 60, 50)), ref, cv::Size(23, 17), 0, 0, cv::INTER_AREA);
  cv::Mat ours(17, 23, CV_8UC1);
  ASSERT_EQ(resize(ConstImageU8{person.data + 20 * 96 + 10, 60, 50, 1, 96}, ImageU8{ours.data, 23, 17, 1},
                   Interpolation::area),
            Status::ok);
  EXPECT_EQ(compare(ours, ref).max_diff, 0);
}

TEST(ImageResize, RejectsBadArguments) {
  std::uint8_t a[300] = {}, b[300] = {};
  EXPECT_EQ(resize(ConstImageU8{nullptr, 10, 10, 1}, ImageU8{b, 5, 5, 1}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 1}, ImageU8{nullptr, 5, 5, 1}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 0, 10, 1}, ImageU8{b, 5, 5, 1}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 1}, ImageU8{b, 5, 0, 1}, Interpolation::bilinear), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 1}, ImageU8{b, 5, 5, 3}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 2}, ImageU8{b, 5, 5, 2}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 1, 5}, ImageU8{b, 5, 5, 1}, Interpolation::area), Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 10, 10, 1}, ImageU8{b, 5, 5, 1}, static_cast<Interpolation>(9)),
            Status::bad_argument);
  EXPECT_EQ(resize(ConstImageU8{a, 100000, 1, 1}, ImageU8{b, 5, 5, 1}, Interpolation::area), Status::bad_argument);
}

// ---------------------------------------------------------------- decode

// RGB -> RGB565 words (R high), stored big-endian (OV7675) in BE and little-endian in the OpenCV Mat.
void pack565(const cv::Mat& rgb, std::vector<std::uint8_t>* be, cv::Mat* le) {
  be->resize(rgb.total() * 2);
  *le = cv::Mat(rgb.rows, rgb.cols, CV_8UC2);
  for (std::size_t i = 0; i < rgb.total(); ++i) {
    const std::uint8_t* p = rgb.data + 3 * i;
    const unsigned w = ((p[0] >> 3) << 11) | ((p[1] >> 2) << 5) | (p[2] >> 3);
    (*be)[2 * i] = static_cast<std::uint8_t>(w >> 8);
    (*be)[2 * i + 1] = static_cast<std::uint8_t>(w & 0xFF);
    le->data[2 * i] = static_cast<std::uint8_t>(w & 0xFF);
    le->data[2 * i + 1] = static_cast<std::uint8_t>(w >> 8);
  }
}

TEST(ImageDecode, Rgb565MatchesOpenCv) {
  cv::Mat rgb = crop(skimage("coffee.png", 3), 100, 100, 160, 120);
  ASSERT_FALSE(rgb.empty());
  // Every 16-bit word once as well (256 x 256 image).
  cv::Mat all(256, 256, CV_8UC2);
  std::vector<std::uint8_t> all_be(256 * 256 * 2);
  for (int i = 0; i < 65536; ++i) {
    all.data[2 * i] = static_cast<std::uint8_t>(i & 0xFF);
    all.data[2 * i + 1] = static_cast<std::uint8_t>(i >> 8);
    all_be[2 * i] = static_cast<std::uint8_t>(i >> 8);
    all_be[2 * i + 1] = static_cast<std::uint8_t>(i & 0xFF);
  }
  std::vector<std::uint8_t> be;
  cv::Mat le;
  pack565(rgb, &be, &le);
  struct Case {
    const std::vector<std::uint8_t>* be;
    cv::Mat le;
  };
  for (const Case& c : {Case{&be, le}, Case{&all_be, all}}) {
    cv::Mat ref_rgb, ref_gray;
    cv::cvtColor(c.le, ref_rgb, cv::COLOR_BGR5652RGB);
    cv::cvtColor(c.le, ref_gray, cv::COLOR_BGR5652GRAY);
    cv::Mat ours_rgb(c.le.rows, c.le.cols, CV_8UC3), ours_gray(c.le.rows, c.le.cols, CV_8UC1);
    ASSERT_EQ(decode_pixels(c.be->data(), c.be->size(), PixelFormat::rgb565, c.le.cols, c.le.rows,
                            ImageU8{ours_rgb.data, c.le.cols, c.le.rows, 3}),
              Status::ok);
    ASSERT_EQ(decode_pixels(c.be->data(), c.be->size(), PixelFormat::rgb565, c.le.cols, c.le.rows,
                            ImageU8{ours_gray.data, c.le.cols, c.le.rows, 1}),
              Status::ok);
    EXPECT_EQ(compare(ours_rgb, ref_rgb).max_diff, 0);
    EXPECT_EQ(compare(ours_gray, ref_gray).max_diff, 0);
  }
}

TEST(ImageDecode, Yuv422MatchesOpenCv) {
  // YUYV built from a real photo (Y from luma, U/V from blue/red differences) plus random bytes.
  cv::Mat rgb = crop(skimage("chelsea.png", 3), 120, 60, 160, 120);
  ASSERT_FALSE(rgb.empty());
  cv::Mat photo(120, 160, CV_8UC2);
  for (int y = 0; y < 120; ++y)
    for (int x = 0; x < 160; ++x) {
      const std::uint8_t* p = rgb.ptr<std::uint8_t>(y) + 3 * x;
      const int luma = (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8;
      std::uint8_t* q = photo.ptr<std::uint8_t>(y) + 2 * x;
      q[0] = static_cast<std::uint8_t>(16 + luma * 219 / 255);
      q[1] = static_cast<std::uint8_t>((x % 2 == 0) ? std::clamp(128 + (p[2] - luma) / 2, 0, 255)
                                                    : std::clamp(128 + (p[0] - luma) / 2, 0, 255));
    }
  cv::Mat noise(64, 64, CV_8UC2);
  cv::randu(noise, 0, 256);
  for (const cv::Mat& m : {photo, noise}) {
    cv::Mat ref_rgb, ref_gray;
    cv::cvtColor(m, ref_rgb, cv::COLOR_YUV2RGB_YUYV);
    cv::cvtColor(m, ref_gray, cv::COLOR_YUV2GRAY_YUYV);
    cv::Mat ours_rgb(m.rows, m.cols, CV_8UC3), ours_gray(m.rows, m.cols, CV_8UC1);
    const std::size_t bytes = m.total() * 2;
    ASSERT_EQ(decode_pixels(m.data, bytes, PixelFormat::yuv422, m.cols, m.rows, ImageU8{ours_rgb.data, m.cols, m.rows, 3}),
              Status::ok);
    ASSERT_EQ(
        decode_pixels(m.data, bytes, PixelFormat::yuv422, m.cols, m.rows, ImageU8{ours_gray.data, m.cols, m.rows, 1}),
        Status::ok);
    EXPECT_EQ(compare(ours_rgb, ref_rgb).max_diff, 0);
    EXPECT_EQ(compare(ours_gray, ref_gray).max_diff, 0);
  }
}

TEST(ImageDecode, Rgb888AndGrayMatchOpenCv) {
  for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png"}) {
    const cv::Mat rgb = skimage(name, 3);
    ASSERT_FALSE(rgb.empty()) << name;
    cv::Mat ref_gray;
    cv::cvtColor(rgb, ref_gray, cv::COLOR_RGB2GRAY);
    cv::Mat ours_gray(rgb.rows, rgb.cols, CV_8UC1), ours_rgb(rgb.rows, rgb.cols, CV_8UC3);
    ASSERT_EQ(decode_pixels(rgb.data, rgb.total() * 3, PixelFormat::rgb888, rgb.cols, rgb.rows,
                            ImageU8{ours_gray.data, rgb.cols, rgb.rows, 1}),
              Status::ok);
    ASSERT_EQ(decode_pixels(rgb.data, rgb.total() * 3, PixelFormat::rgb888, rgb.cols, rgb.rows,
                            ImageU8{ours_rgb.data, rgb.cols, rgb.rows, 3}),
              Status::ok);
    EXPECT_EQ(compare(ours_gray, ref_gray).max_diff, 0) << name;
    EXPECT_EQ(compare(ours_rgb, rgb).max_diff, 0) << name;
  }
  const cv::Mat gray = shared_image("person.bmp", 1);
  ASSERT_FALSE(gray.empty());
  cv::Mat ref_rgb;
  cv::cvtColor(gray, ref_rgb, cv::COLOR_GRAY2RGB);
  cv::Mat ours_rgb(96, 96, CV_8UC3), ours_gray(96, 96, CV_8UC1);
  ASSERT_EQ(decode_pixels(gray.data, 96 * 96, PixelFormat::grayscale, 96, 96, ImageU8{ours_rgb.data, 96, 96, 3}),
            Status::ok);
  ASSERT_EQ(decode_pixels(gray.data, 96 * 96, PixelFormat::grayscale, 96, 96, ImageU8{ours_gray.data, 96, 96, 1}),
            Status::ok);
  EXPECT_EQ(compare(ours_rgb, ref_rgb).max_diff, 0);
  EXPECT_EQ(compare(ours_gray, gray).max_diff, 0);
}

TEST(ImageDecode, RejectsBadArguments) {
  std::uint8_t raw[200] = {}, out[300] = {};
  EXPECT_EQ(decode_pixels(nullptr, 200, PixelFormat::grayscale, 10, 10, ImageU8{out, 10, 10, 1}), Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::grayscale, 10, 10, ImageU8{nullptr, 10, 10, 1}),
            Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::grayscale, 0, 10, ImageU8{out, 0, 10, 1}), Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::grayscale, 10, 10, ImageU8{out, 9, 10, 1}), Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::grayscale, 10, 10, ImageU8{out, 10, 10, 2}), Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::yuv422, 9, 10, ImageU8{out, 9, 10, 1}), Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 200, static_cast<PixelFormat>(7), 10, 10, ImageU8{out, 10, 10, 1}),
            Status::bad_argument);
  EXPECT_EQ(decode_pixels(raw, 199, PixelFormat::rgb565, 10, 10, ImageU8{out, 10, 10, 3}), Status::buffer_too_small);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::rgb888, 10, 10, ImageU8{out, 10, 10, 3}), Status::buffer_too_small);
  EXPECT_EQ(decode_pixels(raw, 99, PixelFormat::grayscale, 10, 10, ImageU8{out, 10, 10, 1}), Status::buffer_too_small);
  EXPECT_EQ(decode_pixels(raw, 200, PixelFormat::yuv422, 10, 10, ImageU8{out, 10, 10, 3}), Status::ok);
}

// ---------------------------------------------------------------- crop plans and the pipeline

TEST(ImageCrop, Plans) {
  CropPlan p = plan_crop(160, 120, 96, 96, CropMode::center);
  EXPECT_EQ(p.x, 20);
  EXPECT_EQ(p.y, 0);
  EXPECT_EQ(p.width, 120);
  EXPECT_EQ(p.height, 120);
  EXPECT_EQ(p.dst_x, 0);
  EXPECT_EQ(p.dst_width, 96);
  EXPECT_EQ(p.dst_height, 96);
  p = plan_crop(120, 160, 96, 96, CropMode::center);
  EXPECT_EQ(p.x, 0);
  EXPECT_EQ(p.y, 20);
  EXPECT_EQ(p.width, 120);
  EXPECT_EQ(p.height, 120);
  p = plan_crop(160, 120, 96, 64, CropMode::center);  // wider target: crop rows, 160 x 106.67 -> 107
  EXPECT_EQ(p.width, 160);
  EXPECT_EQ(p.height, 107);
  EXPECT_EQ(p.y, 6);
  p = plan_crop(160, 120, 96, 96, CropMode::letterbox);
  EXPECT_EQ(p.x, 0);
  EXPECT_EQ(p.width, 160);
  EXPECT_EQ(p.height, 120);
  EXPECT_EQ(p.dst_x, 0);
  EXPECT_EQ(p.dst_y, 12);
  EXPECT_EQ(p.dst_width, 96);
  EXPECT_EQ(p.dst_height, 72);
  p = plan_crop(120, 160, 96, 96, CropMode::letterbox);
  EXPECT_EQ(p.dst_x, 12);
  EXPECT_EQ(p.dst_width, 72);
  EXPECT_EQ(p.dst_height, 96);
  p = plan_crop(160, 120, 96, 96, CropMode::none);
  EXPECT_EQ(p.width, 160);
  EXPECT_EQ(p.height, 120);
  EXPECT_EQ(p.dst_width, 96);
  EXPECT_EQ(p.dst_height, 96);
  p = plan_crop(96, 96, 96, 96, CropMode::center);
  EXPECT_EQ(p.width, 96);
  EXPECT_EQ(p.x, 0);
  p = plan_crop(1000, 1, 2, 2, CropMode::center);  // extreme aspect: still at least one pixel
  EXPECT_EQ(p.width, 1);
  EXPECT_EQ(p.x, 499);
  p = plan_crop(0, 120, 96, 96, CropMode::center);
  EXPECT_EQ(p.width, 0);
  EXPECT_EQ(p.dst_width, 0);
}

// The same pipeline in OpenCV: decode, crop/letterbox, resize, colour, as uint8.
cv::Mat opencv_pipeline(const cv::Mat& rgb_decoded, const ImageConfig& c) {
  const CropPlan p = plan_crop(c.input_width, c.input_height, c.width, c.height, c.crop);
  cv::Mat region = rgb_decoded(cv::Rect(p.x, p.y, p.width, p.height));
  cv::Mat resized;
  cv::resize(region, resized, cv::Size(p.dst_width, p.dst_height), 0, 0,
             c.interpolation == Interpolation::area ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat canvas(c.height, c.width, rgb_decoded.type(), cv::Scalar::all(0));
  resized.copyTo(canvas(cv::Rect(p.dst_x, p.dst_y, p.dst_width, p.dst_height)));
  if (c.color == ColorMode::grayscale && canvas.channels() == 3) cv::cvtColor(canvas, canvas, cv::COLOR_RGB2GRAY);
  if (c.color == ColorMode::rgb && canvas.channels() == 1) cv::cvtColor(canvas, canvas, cv::COLOR_GRAY2RGB);
  return canvas;
}

TEST(ImagePreprocess, MatchesOpenCvPipeline) {
  const cv::Mat rgb = crop(skimage("coffee.png", 3), 200, 150, 160, 120);
  ASSERT_FALSE(rgb.empty());
  std::vector<std::uint8_t> be;
  cv::Mat le, decoded;
  pack565(rgb, &be, &le);
  cv::cvtColor(le, decoded, cv::COLOR_BGR5652RGB);
  for (const CropMode crop_mode : {CropMode::center, CropMode::letterbox, CropMode::none})
    for (const Interpolation interp : {Interpolation::area, Interpolation::bilinear})
      for (const ColorMode color : {ColorMode::grayscale, ColorMode::rgb})
        for (const Normalize norm : {Normalize::int8, Normalize::uint8, Normalize::float32}) {
          ImageConfig c;  // rgb565 160x120 -> 96x96
          c.crop = crop_mode;
          c.interpolation = interp;
          c.color = color;
          c.normalize = norm;
          std::vector<std::uint8_t> work(image_workspace_bytes(c)), out(image_output_bytes(c) + 1);
          const int oc = color == ColorMode::rgb ? 3 : 1;
          ASSERT_EQ(out.size() - 1, static_cast<std::size_t>(96 * 96 * oc * (norm == Normalize::float32 ? 4 : 1)));
          ASSERT_EQ(image_preprocess(c, be.data(), be.size(), work.data(), work.size(), out.data() + 1,
                                     out.size() - 1),  // + 1: float output need not be aligned
                    Status::ok);
          const cv::Mat ref = opencv_pipeline(decoded, c);
          int worst = 0;
          for (std::size_t i = 0; i < ref.total() * ref.channels(); ++i) {
            const int r = ref.data[i];
            int d = 0;
            if (norm == Normalize::int8) {
              d = std::abs(static_cast<int>(static_cast<std::int8_t>(out[1 + i])) - (r - 128));
            } else if (norm == Normalize::uint8) {
              d = std::abs(static_cast<int>(out[1 + i]) - r);
            } else {
              float v;
              std::memcpy(&v, out.data() + 1 + 4 * i, 4);
              d = v == static_cast<float>(r) / 255.0f ? 0 : 1000;
            }
            worst = std::max(worst, d);
          }
          EXPECT_EQ(worst, 0) << "crop " << int(crop_mode) << " interp " << int(interp) << " color " << int(color)
                              << " norm " << int(norm);
        }
}

TEST(ImagePreprocess, OtherInputFormats) {
  // Gray 96x96 person image through a gray pipeline to 32x32, and through RGB888 / YUV422 inputs.
  const cv::Mat person = shared_image("person.bmp", 1);
  ASSERT_FALSE(person.empty());
  ImageConfig c;
  c.input_format = PixelFormat::grayscale;
  c.input_width = 96;
  c.input_height = 96;
  c.width = 32;
  c.height = 32;
  c.normalize = Normalize::uint8;
  std::vector<std::uint8_t> work(image_workspace_bytes(c)), out(image_output_bytes(c));
  EXPECT_EQ(work.size(), 96u * 96 + 32 * 32);
  ASSERT_EQ(image_preprocess(c, person.data, 96 * 96, work.data(), work.size(), out.data(), out.size()), Status::ok);
  cv::Mat ref;
  cv::resize(person, ref, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(std::memcmp(ref.data, out.data(), out.size()), 0);

  const cv::Mat rgb = crop(skimage("astronaut.png", 3), 100, 50, 160, 120);
  ASSERT_FALSE(rgb.empty());
  c = ImageConfig{};
  c.input_format = PixelFormat::rgb888;
  c.color = ColorMode::rgb;
  c.normalize = Normalize::uint8;
  work.assign(image_workspace_bytes(c), 0);
  out.assign(image_output_bytes(c), 0);
  ASSERT_EQ(image_preprocess(c, rgb.data, rgb.total() * 3, work.data(), work.size(), out.data(), out.size()),
            Status::ok);
  ref = opencv_pipeline(rgb, c);
  EXPECT_EQ(std::memcmp(ref.data, out.data(), out.size()), 0);

  cv::Mat yuyv(120, 160, CV_8UC2);
  cv::randu(yuyv, 0, 256);
  cv::Mat yuv_rgb;
  cv::cvtColor(yuyv, yuv_rgb, cv::COLOR_YUV2RGB_YUYV);
  c.input_format = PixelFormat::yuv422;
  c.color = ColorMode::grayscale;
  work.assign(image_workspace_bytes(c), 0);
  out.assign(image_output_bytes(c), 0);
  ASSERT_EQ(image_preprocess(c, yuyv.data, yuyv.total() * 2, work.data(), work.size(), out.data(), out.size()),
            Status::ok);
  ref = opencv_pipeline(yuv_rgb, c);
  EXPECT_EQ(std::memcmp(ref.data, out.data(), out.size()), 0);
}

TEST(ImagePreprocess, RejectsBadArguments) {
  ImageConfig c;
  std::vector<std::uint8_t> raw(160 * 120 * 2), work(image_workspace_bytes(c)), out(image_output_bytes(c));
  EXPECT_EQ(work.size(), 160u * 120 * 3 + 96 * 96 * 3);
  EXPECT_EQ(out.size(), 96u * 96);
  EXPECT_EQ(image_preprocess(c, nullptr, raw.size(), work.data(), work.size(), out.data(), out.size()),
            Status::bad_argument);
  EXPECT_EQ(image_preprocess(c, raw.data(), raw.size(), nullptr, work.size(), out.data(), out.size()),
            Status::bad_argument);
  EXPECT_EQ(image_preprocess(c, raw.data(), raw.size(), work.data(), work.size(), nullptr, out.size()),
            Status::bad_argument);
  EXPECT_EQ(image_preprocess(c, raw.data(), raw.size() - 1, work.data(), work.size(), out.data(), out.size()),
            Status::buffer_too_small);
  EXPECT_EQ(image_preprocess(c, raw.data(), raw.size(), work.data(), work.size() - 1, out.data(), out.size()),
            Status::buffer_too_small);
  EXPECT_EQ(image_preprocess(c, raw.data(), raw.size(), work.data(), work.size(), out.data(), out.size() - 1),
            Status::buffer_too_small);
  ImageConfig bad = c;
  bad.width = 0;
  EXPECT_EQ(image_workspace_bytes(bad), 0u);
  EXPECT_EQ(image_output_bytes(bad), 0u);
  EXPECT_EQ(image_preprocess(bad, raw.data(), raw.size(), work.data(), work.size(), out.data(), out.size()),
            Status::bad_argument);
  bad = c;
  bad.input_height = -3;
  EXPECT_EQ(image_preprocess(bad, raw.data(), raw.size(), work.data(), work.size(), out.data(), out.size()),
            Status::bad_argument);
  bad = c;
  bad.input_format = PixelFormat::yuv422;
  bad.input_width = 161;
  EXPECT_EQ(image_workspace_bytes(bad), 0u);
  bad = c;
  bad.normalize = static_cast<Normalize>(5);
  EXPECT_EQ(image_output_bytes(bad), 0u);
  bad = c;
  bad.width = 100000;
  EXPECT_EQ(image_output_bytes(bad), 0u);
}

}  // namespace
}  // namespace tml
