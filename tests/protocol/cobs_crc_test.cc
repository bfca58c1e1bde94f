// COBS and CRC-32 of the wire protocol (protocol/).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "protocol/cobs.h"
#include "protocol/crc32.h"

namespace tml::proto {
namespace {

std::vector<std::uint8_t> encode(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(cobs_max_encoded_size(in.size()));
  const std::size_t n = cobs_encode(in.data(), in.size(), out.data(), out.size());
  EXPECT_GT(n, 0u);
  out.resize(n);
  return out;
}

TEST(Cobs, KnownEncodings) {
  // Examples from Cheshire & Baker / the Wikipedia article.
  EXPECT_EQ(encode({0x00}), (std::vector<std::uint8_t>{0x01, 0x01}));
  EXPECT_EQ(encode({0x00, 0x00}), (std::vector<std::uint8_t>{0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({0x11, 0x22, 0x00, 0x33}), (std::vector<std::uint8_t>{0x03, 0x11, 0x22, 0x02, 0x33}));
  EXPECT_EQ(encode({0x11, 0x00, 0x00, 0x00}), (std::vector<std::uint8_t>{0x02, 0x11, 0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({}), (std::vector<std::uint8_t>{0x01}));
  std::vector<std::uint8_t> run(254);
  for (int i = 0; i < 254; ++i) run[i] = static_cast<std::uint8_t>(i + 1);
  std::vector<std::uint8_t> expected = {0xFF};
  expected.insert(expected.end(), run.begin(), run.end());
  expected.push_back(0x01);
  EXPECT_EQ(encode(run), expected);
}

TEST(Cobs, RoundTripsAndNeverEmitsZero) {
  std::mt19937 rng(7);
  for (int t = 0; t < 2000; ++t) {
    std::vector<std::uint8_t> in(rng() % 1100);
    const int zero_every = 1 + static_cast<int>(rng() % 300);
    for (auto& b : in) b = rng() % zero_every == 0 ? 0 : static_cast<std::uint8_t>(1 + rng() % 255);
    const auto enc = encode(in);
    ASSERT_LE(enc.size(), cobs_max_encoded_size(in.size()));
    for (std::uint8_t b : enc) ASSERT_NE(b, 0);
    std::vector<std::uint8_t> dec(in.size() + 8);
    const long n = cobs_decode(enc.data(), enc.size(), dec.data(), dec.size());
    ASSERT_EQ(n, static_cast<long>(in.size()));
    dec.resize(static_cast<std::size_t>(n));
    ASSERT_EQ(dec, in);
  }
}

TEST(Cobs, RejectsInvalidInputAndSmallBuffers) {
  std::uint8_t out[16];
  const std::uint8_t zero_inside[] = {0x03, 0x11, 0x00};
  EXPECT_EQ(cobs_decode(zero_inside, 3, out, sizeof out), -1);
  const std::uint8_t runs_past_end[] = {0x05, 0x11, 0x22};
  EXPECT_EQ(cobs_decode(runs_past_end, 3, out, sizeof out), -1);
  const std::uint8_t fine[] = {0x03, 0x11, 0x22, 0x02, 0x33};
  EXPECT_EQ(cobs_decode(fine, 5, out, 3), -1);  // needs 4 bytes
  EXPECT_EQ(cobs_decode(fine, 5, out, 4), 4);
  const std::uint8_t in[] = {1, 2, 3};
  EXPECT_EQ(cobs_encode(in, 3, out, 3), 0u);  // needs 4
}

TEST(Crc32, StandardCheckValues) {
  const std::uint8_t check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(crc32_update(0, check, 9), 0xCBF43926u);
  EXPECT_EQ(crc32_update(0, nullptr, 0), 0u);
  // Incremental equals one pass.
  EXPECT_EQ(crc32_update(crc32_update(0, check, 4), check + 4, 5), 0xCBF43926u);
  const std::uint8_t zeros[32] = {};
  EXPECT_EQ(crc32_update(0, zeros, 32), 0x190A55ADu);
}

}  // namespace
}  // namespace tml::proto
