// Depthwise convolution in place gives the same bytes as the two-buffer kernel.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/conv.h"

namespace tml::rt {
namespace {

TEST(DepthwiseInPlace, SameBytesAsTwoBuffers) {
  std::mt19937 rng(5);
  int cases = 0;
  for (int t = 0; t < 200; ++t) {
    const int h = 1 + static_cast<int>(rng() % 12), w = 1 + static_cast<int>(rng() % 12), c = 1 + static_cast<int>(rng() % 20);
    const int k = 1 + 2 * static_cast<int>(rng() % 2), stride = 1 + static_cast<int>(rng() % 2);
    const int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
    ConvParams p;
    p.stride_h = p.stride_w = stride;
    p.pad_top = ((oh - 1) * stride + k - h) / 2 > 0 ? ((oh - 1) * stride + k - h) / 2 : 0;
    p.pad_left = ((ow - 1) * stride + k - w) / 2 > 0 ? ((ow - 1) * stride + k - w) / 2 : 0;
    p.input_offset = static_cast<int>(rng() % 256) - 127;
    p.output_offset = static_cast<int>(rng() % 256) - 128;
    const int batches = stride == 1 ? 1 + static_cast<int>(rng() % 2) : 1;
    const Shape in{batches, h, w, c}, out{in.n, oh, ow, c}, f{1, k, k, c};
    std::vector<std::int8_t> x(static_cast<std::size_t>(in.elements())), filt(static_cast<std::size_t>(f.elements()));
    for (auto& v : x) v = static_cast<std::int8_t>(rng());
    for (auto& v : filt) v = static_cast<std::int8_t>(rng());
    std::vector<std::int32_t> bias(c), mult(c), shift(c);
    for (int i = 0; i < c; ++i) {
      bias[i] = static_cast<int>(rng() % 2000) - 1000;
      mult[i] = static_cast<std::int32_t>((1u << 30) + (rng() >> 2));
      shift[i] = -7 - static_cast<int>(rng() % 3);
    }
    const ChannelQuant q{mult.data(), shift.data(), false};
    std::vector<std::int8_t> expected(static_cast<std::size_t>(out.elements()));
    ASSERT_EQ(depthwise_conv2d_s8(p, q, in, x.data(), f, filt.data(), bias.data(), out, expected.data()), Status::ok);
    std::vector<std::int8_t> buffer = x, scratch(depthwise_in_place_scratch_bytes(in, out));
    ASSERT_EQ(depthwise_conv2d_s8_in_place(p, q, in, buffer.data(), f, filt.data(), bias.data(), out, scratch.data(),
                                           scratch.size()),
              Status::ok);
    buffer.resize(expected.size());
    ASSERT_EQ(buffer, expected) << "case " << t << ": " << h << "x" << w << "x" << c << " k" << k << " s" << stride;
    ++cases;
  }
  EXPECT_EQ(cases, 200);
}

TEST(DepthwiseInPlace, RefusesWhatCannotWorkInPlace) {
  std::int8_t buf[64] = {}, filt[18] = {}, scratch[64];
  std::int32_t m = 1 << 30, s = -8;
  ConvParams p;
  p.depth_multiplier = 2;
  EXPECT_EQ(depthwise_conv2d_s8_in_place(p, {&m, &s, true}, {1, 2, 2, 1}, buf, {1, 3, 3, 2}, filt, nullptr,
                                         {1, 2, 2, 2}, scratch, sizeof scratch),
            Status::bad_argument);
  p.depth_multiplier = 1;
  EXPECT_EQ(depthwise_conv2d_s8_in_place(p, {&m, &s, true}, {1, 4, 4, 1}, buf, {1, 1, 1, 1}, filt, nullptr,
                                         {1, 4, 4, 1}, scratch, 3),
            Status::buffer_too_small);
}

}  // namespace
}  // namespace tml::rt
