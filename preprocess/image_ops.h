#pragma once
// Image preprocessing: decode camera pixel formats, crop to the model's aspect ratio, resize
// (bilinear and area, matching OpenCV's cv::resize INTER_LINEAR / INTER_AREA on uint8 images), colour
// conversion and normalisation. All buffers are caller-provided; pixels are row-major, interleaved.
#include <cstddef>
#include <cstdint>

#include "preprocess/status.h"

namespace tml::pre {

enum class PixelFormat : std::uint8_t { rgb565 = 0, yuv422 = 1, rgb888 = 2, grayscale = 3 };
enum class CropMode : std::uint8_t { center = 0, letterbox = 1, none = 2 };
enum class Interpolation : std::uint8_t { area = 0, bilinear = 1 };
enum class ColorMode : std::uint8_t { grayscale = 0, rgb = 1 };
enum class Normalize : std::uint8_t { int8 = 0, uint8 = 1, float32 = 2 };

struct ImageU8 {
  std::uint8_t* data;
  int width;
  int height;
  int channels;  // 1 or 3
};

struct ConstImageU8 {
  const std::uint8_t* data;
  int width;
  int height;
  int channels;
};

// RGB565 (big-endian byte pairs, as the OV7675 sends them), YUV422 (YUYV) or RGB888 or gray bytes
// into 8-bit RGB (channels 3) or gray (channels 1, ITU-R BT.601 luma with OpenCV's integer weights).
Status decode_pixels(const std::uint8_t* raw, std::size_t raw_bytes, PixelFormat format, int width, int height,
                     ImageU8 out);

// Resizes src into dst (same channels). Matches cv::resize for uint8.
Status resize(ConstImageU8 src, ImageU8 dst, Interpolation interpolation);

// The region of src to resize for a target aspect ratio (centre crop), or the placement of the
// resized image inside the target (letterbox: pad with 0). none: the whole image.
struct CropPlan {
  int x, y, width, height;              // source region
  int dst_x, dst_y, dst_width, dst_height;  // where it lands in the target
};
CropPlan plan_crop(int src_width, int src_height, int dst_width, int dst_height, CropMode mode);

struct ImageConfig {
  PixelFormat input_format = PixelFormat::rgb565;
  int input_width = 160;
  int input_height = 120;
  int width = 96;
  int height = 96;
  CropMode crop = CropMode::center;
  Interpolation interpolation = Interpolation::area;
  ColorMode color = ColorMode::grayscale;
  Normalize normalize = Normalize::int8;
};

std::size_t image_workspace_bytes(const ImageConfig& config);
std::size_t image_output_bytes(const ImageConfig& config);  // width*height*channels*(1 or 4)
// raw camera frame -> model input (int8: pixel - 128; uint8: pixel; float32: pixel / 255).
Status image_preprocess(const ImageConfig& config, const std::uint8_t* raw, std::size_t raw_bytes,
                        std::uint8_t* workspace, std::size_t workspace_bytes, void* out, std::size_t out_bytes);

}  // namespace tml::pre
