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

// stride: bytes from one row to the next; 0 means tightly packed (width * channels). A stride lets
// resize() read a crop of a larger image in place.
struct ImageU8 {
  std::uint8_t* data;
  int width;
  int height;
  int channels;  // 1 or 3
  int stride = 0;
};

struct ConstImageU8 {
  const std::uint8_t* data;
  int width;
  int height;
  int channels;
  int stride = 0;
};

// Largest width or height accepted anywhere in this file (keeps all fixed-point sums inside int32).
inline constexpr int kMaxImageDim = 8192;

// RGB565 (big-endian byte pairs, as the OV7675 sends them), YUV422 (YUYV) or RGB888 or gray bytes
// into 8-bit RGB (channels 3) or gray (channels 1). out.width/height must equal width/height.
//  - RGB565 -> RGB exactly as OpenCV COLOR_BGR5652RGB on the byte-swapped word: R = hi & 0xF8,
//    G = (word >> 3) & 0xFC, B = (word << 3) & 0xF8 (low bits zero, no bit replication).
//  - YUV422 (Y0 U Y1 V, width even) -> RGB as OpenCV COLOR_YUV2RGB_YUYV (BT.601 video range, 20-bit
//    fixed point): C = max(Y-16,0)*1220542, R = (C + 1673527*(V-128) + 2^19) >> 20,
//    G = (C - 852492*(V-128) - 409993*(U-128) + 2^19) >> 20, B = (C + 2116026*(U-128) + 2^19) >> 20,
//    each saturated to 0..255. Gray from YUV422 is the Y byte (OpenCV COLOR_YUV2GRAY_YUYV).
//  - RGB -> gray: (9798 R + 19235 G + 3735 B + 16384) >> 15, OpenCV 4.6's COLOR_RGB2GRAY for 8U (its
//    15-bit weights; the 14-bit 4899/9617/1868 set differs on ~0.3% of colours); gray -> RGB repeats.
Status decode_pixels(const std::uint8_t* raw, std::size_t raw_bytes, PixelFormat format, int width, int height,
                     ImageU8 out);

// Resizes src into dst (same channels). Matches OpenCV 4.6 cv::resize for uint8 byte for byte
// (INTER_LINEAR's 11-bit fixed point; INTER_AREA's integer path for integer factors, float-weight path
// otherwise, bilinear-like for upscaling). Needs no workspace (coefficients are computed in small
// stack blocks). The double-precision coefficient set-up is IEEE-exact, so results match on Cortex-M.
Status resize(ConstImageU8 src, ImageU8 dst, Interpolation interpolation);

// The region of src to resize for a target aspect ratio (centre crop), or the placement of the
// resized image inside the target (letterbox: pad with 0). none: the whole image (stretch).
// Rounded to the nearest pixel, centred (odd leftovers go right/bottom). Invalid sizes give all zeros.
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

// Both return 0 for an invalid config.
std::size_t image_workspace_bytes(const ImageConfig& config);
std::size_t image_output_bytes(const ImageConfig& config);  // width*height*channels*(1 or 4)
// raw camera frame -> model input (int8: pixel - 128; uint8: pixel; float32: pixel / 255.0f).
// Order: decode (grayscale input stays 1 channel, every other format becomes RGB) -> crop -> resize ->
// colour (RGB->gray with OpenCV's weights, or gray->RGB) -> normalise. float32 output is written with
// memcpy, so `out` needs no particular alignment.
Status image_preprocess(const ImageConfig& config, const std::uint8_t* raw, std::size_t raw_bytes,
                        std::uint8_t* workspace, std::size_t workspace_bytes, void* out, std::size_t out_bytes);

}  // namespace tml::pre
