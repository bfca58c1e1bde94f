// Image preprocessing (portable core). See image_ops.h for the contract.
//
// resize() reproduces OpenCV 4.6 modules/imgproc/src/resize.cpp for 8-bit images:
//  - coefficients are set up exactly as OpenCV does (same double/float expressions, cvFloor/cvCeil/
//    cvRound semantics with round-half-to-even), which is IEEE-deterministic on x86-64 and on the
//    Cortex-M4F (soft double, hard float, -ffp-contract=off);
//  - INTER_LINEAR: 11-bit horizontal coefficients into int rows, then the uchar specialisation of
//    VResizeLinear: ((b0*(S0>>4))>>16) + ((b1*(S1>>4))>>16) + 2) >> 2;
//  - INTER_AREA, integer factors (resizeAreaFast_Invoker): integer sums, (sum+2)>>2 for 2x2,
//    round(sum * (1.f/area)) otherwise;
//  - INTER_AREA, other down-scales (ResizeArea_Invoker + computeResizeAreaTab): float weights,
//    accumulated per source row and then per row weight, in OpenCV's order;
//  - INTER_AREA with any factor < 1: the linear path with OpenCV's "area mode" coefficients.
// OpenCV keeps whole coefficient tables on the heap; here they are computed in blocks on the stack.
#include "preprocess/image_ops.h"

#include <cstring>

namespace tml::pre {
namespace {

constexpr int kCoefBits = 11;  // INTER_RESIZE_COEF_BITS
constexpr int kCoefScale = 1 << kCoefBits;
constexpr double kDblEpsilon = 2.220446049250313080847e-16;  // DBL_EPSILON
constexpr int kBlock = 32;  // destination columns whose coefficients live on the stack at once (<1 KB)

// cvFloor / cvCeil / cvRound (round half to even, as lrint in the default rounding mode).
int floor_f(float v) {
  const int i = static_cast<int>(v);
  return i - (static_cast<float>(i) > v ? 1 : 0);
}
int floor_d(double v) {
  const int i = static_cast<int>(v);
  return i - (static_cast<double>(i) > v ? 1 : 0);
}
int ceil_d(double v) {
  const int i = static_cast<int>(v);
  return i + (static_cast<double>(i) < v ? 1 : 0);
}
int round_f(float v) {  // |v| < 2^24; v - floor(v) is then exact
  const int i = floor_f(v);
  const float d = v - static_cast<float>(i);
  if (d > 0.5f) return i + 1;
  if (d < 0.5f) return i;
  return i + (i & 1);
}
int round_d(double v) {
  const int i = floor_d(v);
  const double d = v - static_cast<double>(i);
  if (d > 0.5) return i + 1;
  if (d < 0.5) return i;
  return i + (i & 1);
}
std::uint8_t sat_u8(int v) { return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }
std::int16_t sat_s16(int v) { return static_cast<std::int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v)); }
double abs_d(double v) { return v < 0 ? -v : v; }
double min_d(double a, double b) { return b < a ? b : a; }  // std::min
int min_i(int a, int b) { return b < a ? b : a; }

int stride_of(int stride, int width, int channels) { return stride != 0 ? stride : width * channels; }

bool valid_image(const std::uint8_t* data, int width, int height, int channels, int stride) {
  if (data == nullptr || width <= 0 || height <= 0 || width > kMaxImageDim || height > kMaxImageDim) return false;
  if (channels != 1 && channels != 3) return false;
  return stride == 0 || stride >= width * channels;
}

// RGB -> gray exactly as OpenCV 4.6 COLOR_RGB2GRAY / COLOR_BGR5652GRAY for 8U: the 15-bit weights
// RY15 9798, GY15 19235, BY15 3735 (BT.601 0.299/0.587/0.114 * 32768, rounded; sum 32768). The older
// 14-bit weights 4899/9617/1868 differ from OpenCV 4.6 on ~0.3% of random colours.
std::uint8_t gray_of(int r, int g, int b) {
  return static_cast<std::uint8_t>((r * 9798 + g * 19235 + b * 3735 + (1 << 14)) >> 15);
}

// ---------------------------------------------------------------- linear (and area upscaling)
struct LinearTap {
  int s;              // first source index
  std::int16_t a0;    // weight of s
  std::int16_t a1;    // weight of s + 1
};

// One destination coordinate of resizeGeneric_'s set-up. clamp: the x axis clamps the index (the y
// axis keeps it and clamps rows later).
LinearTap linear_tap(int d, double scale, double inv_scale, int ssize, bool area_mode, bool clamp) {
  int s;
  float f;
  if (!area_mode) {
    f = static_cast<float>((d + 0.5) * scale - 0.5);
    s = floor_f(f);
    f -= static_cast<float>(s);
  } else {
    s = floor_d(d * scale);
    f = static_cast<float>((d + 1) - (s + 1) * inv_scale);
    f = f <= 0 ? 0.f : f - static_cast<float>(floor_f(f));
  }
  if (clamp) {
    if (s < 0) f = 0.f, s = 0;
    if (s >= ssize - 1) f = 0.f, s = ssize - 1;
  }
  const float c0 = 1.f - f;
  const float c1 = f;
  LinearTap t;
  t.s = s;
  t.a0 = sat_s16(round_f(c0 * static_cast<float>(kCoefScale)));
  t.a1 = sat_s16(round_f(c1 * static_cast<float>(kCoefScale)));
  return t;
}

int clip_row(int y, int h) { return y < 0 ? 0 : (y >= h ? h - 1 : y); }

void resize_linear(const ConstImageU8& src, const ImageU8& dst, double scale_x, double scale_y, double inv_x,
                   double inv_y, bool area_mode) {
  const int cn = src.channels;
  const int sstride = stride_of(src.stride, src.width, cn);
  const int dstride = stride_of(dst.stride, dst.width, cn);
  LinearTap xt[kBlock];
  for (int x0 = 0; x0 < dst.width; x0 += kBlock) {
    const int n = min_i(kBlock, dst.width - x0);
    for (int i = 0; i < n; ++i) xt[i] = linear_tap(x0 + i, scale_x, inv_x, src.width, area_mode, true);
    for (int dy = 0; dy < dst.height; ++dy) {
      const LinearTap yt = linear_tap(dy, scale_y, inv_y, src.height, area_mode, false);
      const std::uint8_t* r0 = src.data + static_cast<std::ptrdiff_t>(clip_row(yt.s, src.height)) * sstride;
      const std::uint8_t* r1 = src.data + static_cast<std::ptrdiff_t>(clip_row(yt.s + 1, src.height)) * sstride;
      std::uint8_t* out = dst.data + static_cast<std::ptrdiff_t>(dy) * dstride + x0 * cn;
      const int b0 = yt.a0, b1 = yt.a1;
      for (int i = 0; i < n; ++i) {
        const LinearTap& t = xt[i];
        const int sx = t.s * cn;
        const bool last = t.s >= src.width - 1;  // OpenCV's xmax: S[sx] * ONE
        for (int c = 0; c < cn; ++c) {
          int h0, h1;
          if (last) {
            h0 = r0[sx + c] * kCoefScale;
            h1 = r1[sx + c] * kCoefScale;
          } else {
            h0 = r0[sx + c] * t.a0 + r0[sx + cn + c] * t.a1;
            h1 = r1[sx + c] * t.a0 + r1[sx + cn + c] * t.a1;
          }
          const int v = (((b0 * (h0 >> 4)) >> 16) + ((b1 * (h1 >> 4)) >> 16) + 2) >> 2;
          out[i * cn + c] = sat_u8(v);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- area, integer factors
void resize_area_fast(const ConstImageU8& src, const ImageU8& dst, int ix, int iy) {
  const int cn = src.channels;
  const int sstride = stride_of(src.stride, src.width, cn);
  const int dstride = stride_of(dst.stride, dst.width, cn);
  const int area = ix * iy;
  const float scale = 1.f / static_cast<float>(area);
  const int dwidth1 = (src.width / ix) * cn;  // elements covered by whole cells
  const int swidth = src.width * cn;
  const int dwidth = dst.width * cn;
  const bool fast2x2 = ix == 2 && iy == 2 && (cn == 1 || cn == 3);  // ResizeAreaFastVec fast_mode
  for (int dy = 0; dy < dst.height; ++dy) {
    std::uint8_t* out = dst.data + static_cast<std::ptrdiff_t>(dy) * dstride;
    const int sy0 = dy * iy;
    if (sy0 >= src.height) {
      for (int e = 0; e < dwidth; ++e) out[e] = 0;
      continue;
    }
    const std::uint8_t* row = src.data + static_cast<std::ptrdiff_t>(sy0) * sstride;
    const int w = sy0 + iy <= src.height ? dwidth1 : 0;
    int e = 0;
    for (; e < w; ++e) {
      const int sx = (e / cn) * ix * cn + e % cn;
      if (fast2x2) {
        const std::uint8_t* s0 = row + sx;
        const std::uint8_t* s1 = s0 + sstride;
        out[e] = static_cast<std::uint8_t>((s0[0] + s0[cn] + s1[0] + s1[cn] + 2) >> 2);
        continue;
      }
      std::int64_t sum = 0;  // OpenCV sums in int; 64 bits only matter where OpenCV would overflow
      for (int ky = 0; ky < iy; ++ky) {
        const std::uint8_t* s = row + static_cast<std::ptrdiff_t>(ky) * sstride + sx;
        for (int kx = 0; kx < ix; ++kx) sum += s[kx * cn];
      }
      out[e] = sat_u8(round_f(static_cast<float>(sum) * scale));
    }
    for (; e < dwidth; ++e) {  // partial cells at the right/bottom border
      const int sx0 = (e / cn) * ix * cn + e % cn;
      std::int64_t sum = 0;
      int count = 0;
      for (int ky = 0; ky < iy && sy0 + ky < src.height; ++ky) {
        const std::uint8_t* s = row + static_cast<std::ptrdiff_t>(ky) * sstride + sx0;
        for (int kx = 0; kx < ix * cn && sx0 + kx < swidth; kx += cn) {
          sum += s[kx];
          ++count;
        }
      }
      out[e] = count == 0 ? 0 : sat_u8(round_f(static_cast<float>(sum) / static_cast<float>(count)));
    }
  }
}

// ---------------------------------------------------------------- area, general down-scaling
// The entries computeResizeAreaTab makes for one destination index, in table order: an optional
// partial source cell before, whole cells [mid0, mid1), an optional partial cell after.
struct AreaSpan {
  int first;  // -1: none
  float first_a;
  int mid0, mid1;
  float mid_a;
  int last;  // -1: none
  float last_a;
};

AreaSpan area_span(int d, int ssize, double scale) {
  const double fs1 = d * scale;
  const double fs2 = fs1 + scale;
  const double cell = min_d(scale, ssize - fs1);
  int s1 = ceil_d(fs1), s2 = floor_d(fs2);
  s2 = min_i(s2, ssize - 1);
  s1 = min_i(s1, s2);
  AreaSpan sp;
  sp.first = -1;
  sp.first_a = 0.f;
  if (s1 - fs1 > 1e-3) {
    sp.first = s1 - 1;
    sp.first_a = static_cast<float>((s1 - fs1) / cell);
  }
  sp.mid0 = s1;
  sp.mid1 = s2;
  sp.mid_a = static_cast<float>(1.0 / cell);
  sp.last = -1;
  sp.last_a = 0.f;
  if (fs2 - s2 > 1e-3) {
    sp.last = s2;
    sp.last_a = static_cast<float>(min_d(min_d(fs2 - s2, 1.), cell) / cell);
  }
  return sp;
}

template <typename Fn>
inline __attribute__((always_inline)) void for_each_entry(const AreaSpan& sp, Fn&& fn) {
  if (sp.first >= 0) fn(sp.first, sp.first_a);
  for (int s = sp.mid0; s < sp.mid1; ++s) fn(s, sp.mid_a);
  if (sp.last >= 0) fn(sp.last, sp.last_a);
}

// Row by row as OpenCV's ResizeArea_Invoker: for each source row a destination row touches, the
// horizontal sums of a block of destination columns (buf), weighted into the row's sums (sum). The
// arithmetic per value is exactly the per-pixel formula; the loop order only saves work.
void resize_area(const ConstImageU8& src, const ImageU8& dst, double scale_x, double scale_y) {
  const int cn = src.channels;
  const int sstride = stride_of(src.stride, src.width, cn);
  const int dstride = stride_of(dst.stride, dst.width, cn);
  AreaSpan xs[kBlock];
  float buf[kBlock * 3], sum[kBlock * 3];
  for (int x0 = 0; x0 < dst.width; x0 += kBlock) {
    const int n = min_i(kBlock, dst.width - x0);
    for (int i = 0; i < n; ++i) xs[i] = area_span(x0 + i, src.width, scale_x);
    for (int dy = 0; dy < dst.height; ++dy) {
      const AreaSpan ys = area_span(dy, src.height, scale_y);
      bool first_row = true;
      for_each_entry(ys, [&](int sy, float beta) {
        const std::uint8_t* row = src.data + static_cast<std::ptrdiff_t>(sy) * sstride;
        for (int i = 0; i < n; ++i) {
          for (int c = 0; c < cn; ++c) {
            const std::uint8_t* px = row + c;
            float h = 0.f;
            for_each_entry(xs[i], [&](int sx, float alpha) { h += static_cast<float>(px[sx * cn]) * alpha; });
            buf[i * cn + c] = h;
          }
        }
        if (first_row) {
          for (int k = 0; k < n * cn; ++k) sum[k] = beta * buf[k];
        } else {
          for (int k = 0; k < n * cn; ++k) sum[k] = sum[k] + beta * buf[k];
        }
        first_row = false;
      });
      std::uint8_t* out = dst.data + static_cast<std::ptrdiff_t>(dy) * dstride + x0 * cn;
      for (int k = 0; k < n * cn; ++k) out[k] = sat_u8(round_f(sum[k]));
    }
  }
}

// ---------------------------------------------------------------- pipeline helpers
bool valid_config(const ImageConfig& c) {
  if (c.input_width <= 0 || c.input_height <= 0 || c.width <= 0 || c.height <= 0) return false;
  if (c.input_width > kMaxImageDim || c.input_height > kMaxImageDim || c.width > kMaxImageDim ||
      c.height > kMaxImageDim)
    return false;
  if (static_cast<int>(c.input_format) > 3 || static_cast<int>(c.crop) > 2 || static_cast<int>(c.interpolation) > 1 ||
      static_cast<int>(c.color) > 1 || static_cast<int>(c.normalize) > 2)
    return false;
  if (c.input_format == PixelFormat::yuv422 && (c.input_width % 2) != 0) return false;
  return true;
}

int working_channels(const ImageConfig& c) { return c.input_format == PixelFormat::grayscale ? 1 : 3; }
int output_channels(const ImageConfig& c) { return c.color == ColorMode::rgb ? 3 : 1; }

std::size_t raw_bytes_needed(PixelFormat f, int width, int height) {
  const std::size_t px = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  switch (f) {
    case PixelFormat::rgb565:
    case PixelFormat::yuv422:
      return px * 2;
    case PixelFormat::rgb888:
      return px * 3;
    case PixelFormat::grayscale:
      return px;
  }
  return 0;
}

}  // namespace

Status decode_pixels(const std::uint8_t* raw, std::size_t raw_bytes, PixelFormat format, int width, int height,
                     ImageU8 out) {
  if (raw == nullptr || width <= 0 || height <= 0 || width > kMaxImageDim || height > kMaxImageDim)
    return Status::bad_argument;
  if (static_cast<int>(format) > 3) return Status::bad_argument;
  if (!valid_image(out.data, out.width, out.height, out.channels, out.stride)) return Status::bad_argument;
  if (out.width != width || out.height != height) return Status::bad_argument;
  if (format == PixelFormat::yuv422 && (width % 2) != 0) return Status::bad_argument;
  if (raw_bytes < raw_bytes_needed(format, width, height)) return Status::buffer_too_small;

  const int cn = out.channels;
  const int dstride = stride_of(out.stride, out.width, cn);
  for (int y = 0; y < height; ++y) {
    std::uint8_t* d = out.data + static_cast<std::ptrdiff_t>(y) * dstride;
    switch (format) {
      case PixelFormat::rgb565: {
        const std::uint8_t* s = raw + static_cast<std::size_t>(y) * static_cast<std::size_t>(width) * 2;
        for (int x = 0; x < width; ++x) {
          const unsigned w = (static_cast<unsigned>(s[2 * x]) << 8) | s[2 * x + 1];  // high byte first
          const int r = static_cast<int>((w >> 8) & 0xF8u);
          const int g = static_cast<int>((w >> 3) & 0xFCu);
          const int b = static_cast<int>((w << 3) & 0xF8u);
          if (cn == 3) {
            d[3 * x] = static_cast<std::uint8_t>(r);
            d[3 * x + 1] = static_cast<std::uint8_t>(g);
            d[3 * x + 2] = static_cast<std::uint8_t>(b);
          } else {
            d[x] = gray_of(r, g, b);
          }
        }
        break;
      }
      case PixelFormat::yuv422: {
        const std::uint8_t* s = raw + static_cast<std::size_t>(y) * static_cast<std::size_t>(width) * 2;
        for (int x = 0; x < width; x += 2) {
          const std::uint8_t* q = s + 2 * x;  // Y0 U Y1 V
          if (cn == 1) {
            d[x] = q[0];
            d[x + 1] = q[2];
            continue;
          }
          const int uu = static_cast<int>(q[1]) - 128;
          const int vv = static_cast<int>(q[3]) - 128;
          constexpr int kShift = 20;
          constexpr int kHalf = 1 << (kShift - 1);
          const int ruv = kHalf + 1673527 * vv;
          const int guv = kHalf - 852492 * vv - 409993 * uu;
          const int buv = kHalf + 2116026 * uu;
          for (int k = 0; k < 2; ++k) {
            const int yy = static_cast<int>(q[2 * k]) - 16;
            const int c = (yy > 0 ? yy : 0) * 1220542;
            std::uint8_t* p = d + 3 * (x + k);
            p[0] = sat_u8((c + ruv) >> kShift);
            p[1] = sat_u8((c + guv) >> kShift);
            p[2] = sat_u8((c + buv) >> kShift);
          }
        }
        break;
      }
      case PixelFormat::rgb888: {
        const std::uint8_t* s = raw + static_cast<std::size_t>(y) * static_cast<std::size_t>(width) * 3;
        if (cn == 3) {
          std::memcpy(d, s, static_cast<std::size_t>(width) * 3);
        } else {
          for (int x = 0; x < width; ++x) d[x] = gray_of(s[3 * x], s[3 * x + 1], s[3 * x + 2]);
        }
        break;
      }
      case PixelFormat::grayscale: {
        const std::uint8_t* s = raw + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
        if (cn == 1) {
          std::memcpy(d, s, static_cast<std::size_t>(width));
        } else {
          for (int x = 0; x < width; ++x) d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = s[x];
        }
        break;
      }
    }
  }
  return Status::ok;
}

Status resize(ConstImageU8 src, ImageU8 dst, Interpolation interpolation) {
  if (!valid_image(src.data, src.width, src.height, src.channels, src.stride)) return Status::bad_argument;
  if (!valid_image(dst.data, dst.width, dst.height, dst.channels, dst.stride)) return Status::bad_argument;
  if (src.channels != dst.channels) return Status::bad_argument;
  if (interpolation != Interpolation::area && interpolation != Interpolation::bilinear) return Status::bad_argument;
  const int cn = src.channels;

  if (src.width == dst.width && src.height == dst.height) {  // cv::resize copies
    const int ss = stride_of(src.stride, src.width, cn), ds = stride_of(dst.stride, dst.width, cn);
    for (int y = 0; y < src.height; ++y)
      std::memmove(dst.data + static_cast<std::ptrdiff_t>(y) * ds, src.data + static_cast<std::ptrdiff_t>(y) * ss,
                   static_cast<std::size_t>(src.width) * static_cast<std::size_t>(cn));
    return Status::ok;
  }

  // hal::resize set-up, same expressions as OpenCV.
  const double inv_x = static_cast<double>(dst.width) / src.width;
  const double inv_y = static_cast<double>(dst.height) / src.height;
  const double scale_x = 1. / inv_x, scale_y = 1. / inv_y;
  const int iscale_x = round_d(scale_x), iscale_y = round_d(scale_y);
  const bool is_area_fast = abs_d(scale_x - iscale_x) < kDblEpsilon && abs_d(scale_y - iscale_y) < kDblEpsilon;

  bool area = interpolation == Interpolation::area;
  if (!area && is_area_fast && iscale_x == 2 && iscale_y == 2) area = true;  // OpenCV: 2x2 linear == area
  if (area && scale_x >= 1 && scale_y >= 1) {
    if (is_area_fast)
      resize_area_fast(src, dst, iscale_x, iscale_y);
    else
      resize_area(src, dst, scale_x, scale_y);
    return Status::ok;
  }
  resize_linear(src, dst, scale_x, scale_y, inv_x, inv_y, area);
  return Status::ok;
}

CropPlan plan_crop(int src_width, int src_height, int dst_width, int dst_height, CropMode mode) {
  CropPlan p{0, 0, 0, 0, 0, 0, 0, 0};
  if (src_width <= 0 || src_height <= 0 || dst_width <= 0 || dst_height <= 0) return p;
  const long long sw = src_width, sh = src_height, dw = dst_width, dh = dst_height;
  p.width = src_width;
  p.height = src_height;
  p.dst_width = dst_width;
  p.dst_height = dst_height;
  if (mode == CropMode::center) {
    if (sw * dh > sh * dw) {  // source wider than target: crop columns
      long long cw = (sh * dw + dh / 2) / dh;
      if (cw < 1) cw = 1;
      if (cw > sw) cw = sw;
      p.width = static_cast<int>(cw);
      p.x = static_cast<int>((sw - cw) / 2);
    } else if (sw * dh < sh * dw) {  // taller: crop rows
      long long ch = (sw * dh + dw / 2) / dw;
      if (ch < 1) ch = 1;
      if (ch > sh) ch = sh;
      p.height = static_cast<int>(ch);
      p.y = static_cast<int>((sh - ch) / 2);
    }
  } else if (mode == CropMode::letterbox) {
    if (sw * dh > sh * dw) {  // wider: full width, bars top and bottom
      long long rh = (sh * dw + sw / 2) / sw;
      if (rh < 1) rh = 1;
      if (rh > dh) rh = dh;
      p.dst_height = static_cast<int>(rh);
      p.dst_y = static_cast<int>((dh - rh) / 2);
    } else if (sw * dh < sh * dw) {
      long long rw = (sw * dh + sh / 2) / sh;
      if (rw < 1) rw = 1;
      if (rw > dw) rw = dw;
      p.dst_width = static_cast<int>(rw);
      p.dst_x = static_cast<int>((dw - rw) / 2);
    }
  }
  return p;
}

std::size_t image_workspace_bytes(const ImageConfig& config) {
  if (!valid_config(config)) return 0;
  const std::size_t wc = static_cast<std::size_t>(working_channels(config));
  return static_cast<std::size_t>(config.input_width) * static_cast<std::size_t>(config.input_height) * wc +
         static_cast<std::size_t>(config.width) * static_cast<std::size_t>(config.height) * wc;
}

std::size_t image_output_bytes(const ImageConfig& config) {
  if (!valid_config(config)) return 0;
  const std::size_t per = config.normalize == Normalize::float32 ? 4 : 1;
  return static_cast<std::size_t>(config.width) * static_cast<std::size_t>(config.height) *
         static_cast<std::size_t>(output_channels(config)) * per;
}

Status image_preprocess(const ImageConfig& config, const std::uint8_t* raw, std::size_t raw_bytes,
                        std::uint8_t* workspace, std::size_t workspace_bytes, void* out, std::size_t out_bytes) {
  if (!valid_config(config) || raw == nullptr || workspace == nullptr || out == nullptr) return Status::bad_argument;
  if (raw_bytes < raw_bytes_needed(config.input_format, config.input_width, config.input_height))
    return Status::buffer_too_small;
  if (workspace_bytes < image_workspace_bytes(config) || out_bytes < image_output_bytes(config))
    return Status::buffer_too_small;

  const int wc = working_channels(config);
  const int oc = output_channels(config);
  std::uint8_t* decoded = workspace;
  std::uint8_t* resized = workspace + static_cast<std::size_t>(config.input_width) *
                                          static_cast<std::size_t>(config.input_height) * static_cast<std::size_t>(wc);

  Status st = decode_pixels(raw, raw_bytes, config.input_format, config.input_width, config.input_height,
                            ImageU8{decoded, config.input_width, config.input_height, wc});
  if (st != Status::ok) return st;

  const CropPlan plan = plan_crop(config.input_width, config.input_height, config.width, config.height, config.crop);
  const std::size_t canvas = static_cast<std::size_t>(config.width) * static_cast<std::size_t>(config.height) *
                             static_cast<std::size_t>(wc);
  if (plan.dst_width != config.width || plan.dst_height != config.height) std::memset(resized, 0, canvas);

  const int in_stride = config.input_width * wc;
  const ConstImageU8 region{decoded + static_cast<std::ptrdiff_t>(plan.y) * in_stride + plan.x * wc, plan.width,
                            plan.height, wc, in_stride};
  const int out_stride = config.width * wc;
  const ImageU8 target{resized + static_cast<std::ptrdiff_t>(plan.dst_y) * out_stride + plan.dst_x * wc,
                       plan.dst_width, plan.dst_height, wc, out_stride};
  st = resize(region, target, config.interpolation);
  if (st != Status::ok) return st;

  const std::size_t pixels = static_cast<std::size_t>(config.width) * static_cast<std::size_t>(config.height);
  auto* o8 = static_cast<std::uint8_t*>(out);
  for (std::size_t i = 0; i < pixels; ++i) {
    const std::uint8_t* p = resized + i * static_cast<std::size_t>(wc);
    std::uint8_t px[3];
    if (oc == wc) {
      for (int c = 0; c < oc; ++c) px[c] = p[c];
    } else if (oc == 1) {
      px[0] = gray_of(p[0], p[1], p[2]);
    } else {
      px[0] = px[1] = px[2] = p[0];
    }
    for (int c = 0; c < oc; ++c) {
      const std::size_t k = i * static_cast<std::size_t>(oc) + static_cast<std::size_t>(c);
      switch (config.normalize) {
        case Normalize::int8: {
          const auto v = static_cast<std::int8_t>(static_cast<int>(px[c]) - 128);
          std::memcpy(o8 + k, &v, 1);
          break;
        }
        case Normalize::uint8:
          o8[k] = px[c];
          break;
        case Normalize::float32: {
          const float v = static_cast<float>(px[c]) / 255.0f;
          std::memcpy(o8 + k * 4, &v, 4);
          break;
        }
      }
    }
  }
  return Status::ok;
}

}  // namespace tml::pre
