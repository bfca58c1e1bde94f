// Frames and the streaming decoder of the wire protocol: every corrupted frame must be detected.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"

namespace tml::proto {
namespace {

std::vector<std::uint8_t> frame_bytes(std::uint8_t type, std::uint16_t seq, const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out(kMaxWireFrame);
  const std::size_t n = encode_frame(type, seq, 1000u * seq, payload.data(), payload.size(), out.data(), out.size());
  EXPECT_GT(n, 0u);
  out.resize(n);
  return out;
}

struct Decoded {
  std::vector<FrameHeader> headers;
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<FrameError> errors;
};

Decoded decode_all(FrameDecoder& d, const std::vector<std::uint8_t>& wire) {
  Decoded out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const auto r = d.feed(wire.data() + pos, wire.size() - pos);
    pos += r.consumed;
    if (r.frame_ready) {
      out.headers.push_back(d.header());
      out.payloads.emplace_back(d.payload(), d.payload() + d.header().payload_length);
    }
    if (r.error != FrameError::none) out.errors.push_back(r.error);
    if (r.consumed == 0) break;
  }
  return out;
}

TEST(Frame, RoundTripAllSizes) {
  FrameDecoder d;
  std::vector<std::uint8_t> wire;
  std::vector<std::vector<std::uint8_t>> sent;
  std::mt19937 rng(3);
  for (std::size_t len : {0u, 1u, 2u, 253u, 254u, 255u, 508u, 1000u, 1024u}) {
    std::vector<std::uint8_t> p(len);
    for (auto& b : p) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
    const auto f = frame_bytes(static_cast<std::uint8_t>(MessageType::data), static_cast<std::uint16_t>(sent.size()), p);
    EXPECT_LE(f.size(), kMaxWireFrame);
    EXPECT_EQ(f.back(), 0);
    wire.insert(wire.end(), f.begin(), f.end());
    sent.push_back(p);
  }
  const Decoded got = decode_all(d, wire);
  ASSERT_TRUE(got.errors.empty());
  ASSERT_EQ(got.payloads, sent);
  for (std::size_t i = 0; i < got.headers.size(); ++i) {
    EXPECT_EQ(got.headers[i].sequence, i);
    EXPECT_EQ(got.headers[i].timestamp_us, 1000u * i);
    EXPECT_EQ(got.headers[i].type, static_cast<std::uint8_t>(MessageType::data));
  }
  // Byte by byte gives the same.
  FrameDecoder slow;
  std::size_t frames = 0;
  for (std::uint8_t b : wire) frames += slow.feed(&b, 1).frame_ready ? 1 : 0;
  EXPECT_EQ(frames, sent.size());
}

TEST(Frame, RefusesOversizedPayload) {
  std::vector<std::uint8_t> p(kMaxPayload + 1), out(kMaxWireFrame + 64);
  EXPECT_EQ(encode_frame(1, 0, 0, p.data(), p.size(), out.data(), out.size()), 0u);
  EXPECT_EQ(encode_frame(1, 0, 0, p.data(), 10, out.data(), 12), 0u);
}

// Every single-bit flip of a frame is detected (CRC-32 catches all 1-bit errors; COBS damage is
// caught before it), and the next clean frame still decodes.
TEST(Frame, EverySingleBitFlipIsDetected) {
  std::vector<std::uint8_t> payload(100);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  const auto clean = frame_bytes(0x12, 5, payload);
  std::size_t detected = 0, flips = 0;
  for (std::size_t byte = 0; byte + 1 < clean.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = clean;
      bad[byte] ^= static_cast<std::uint8_t>(1u << bit);
      auto wire = bad;
      wire.insert(wire.end(), clean.begin(), clean.end());
      FrameDecoder d;
      const Decoded got = decode_all(d, wire);
      ++flips;
      // A flip that creates a 0x00 splits the frame in two: both halves must be rejected.
      bool corrupt_accepted = false;
      for (std::size_t i = 0; i + 1 < got.payloads.size(); ++i) corrupt_accepted = true;
      if (!got.payloads.empty() && got.payloads.back() != payload) corrupt_accepted = true;
      ASSERT_FALSE(corrupt_accepted) << "byte " << byte << " bit " << bit;
      ASSERT_FALSE(got.payloads.empty()) << "the clean frame after the damaged one was lost";
      if (!got.errors.empty()) ++detected;
    }
  }
  EXPECT_EQ(detected, flips);
}

TEST(Frame, TruncatedDroppedAndGarbageInput) {
  const std::vector<std::uint8_t> p = {1, 2, 3, 0, 5};
  const auto f = frame_bytes(0x12, 9, p);
  FrameDecoder d;
  // Truncated: the first half, then a delimiter, then a whole frame.
  std::vector<std::uint8_t> wire(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(f.size() / 2));
  wire.push_back(0);
  wire.insert(wire.end(), f.begin(), f.end());
  Decoded got = decode_all(d, wire);
  EXPECT_EQ(got.errors.size(), 1u);
  ASSERT_EQ(got.payloads.size(), 1u);
  EXPECT_EQ(got.payloads[0], p);
  // Too long: more than a frame's worth of non-zero bytes.
  std::vector<std::uint8_t> noise(kMaxWireFrame * 3, 0x55);
  noise.push_back(0);
  noise.insert(noise.end(), f.begin(), f.end());
  got = decode_all(d, noise);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0], FrameError::too_long);
  EXPECT_EQ(got.payloads.size(), 1u);
}

TEST(Frame, RandomBytesNeverYieldAFrameWithABadLength) {
  std::mt19937 rng(11);
  FrameDecoder d;
  std::size_t accepted = 0;
  for (int t = 0; t < 200000; ++t) {
    std::uint8_t b = static_cast<std::uint8_t>(rng() % 16 == 0 ? 0 : rng());
    const auto r = d.feed(&b, 1);
    if (r.frame_ready) {
      ++accepted;
      EXPECT_LE(d.header().payload_length, kMaxPayload);
    }
  }
  // A random 14+-byte frame passes CRC-32 with probability 2^-32: none expected here.
  EXPECT_EQ(accepted, 0u);
}

TEST(Messages, HelloRoundTripAndBounds) {
  Hello h;
  const char* id = "qemu-m4";
  for (int i = 0; id[i]; ++i) h.board[i] = id[i];
  h.board_revision = 1;
  h.firmware_major = 0;
  h.firmware_minor = 3;
  h.firmware_patch = 2;
  for (int i = 0; i < 8; ++i) h.config_hash[i] = static_cast<std::uint8_t>(0xA0 + i);
  h.max_payload = 1024;
  h.sensor_count = 2;
  h.sensors[0] = {SensorKind::audio, SampleFormat::int16, 1, 16000000u, 0, 0};
  h.sensors[1] = {SensorKind::camera, SampleFormat::rgb565, 1, 1000u, 160, 120};
  std::uint8_t buf[kMaxPayload];
  const std::size_t n = encode_hello(h, buf, sizeof buf);
  ASSERT_EQ(n, kHelloFixedSize + 2 * kSensorDescriptorSize);
  Hello back;
  ASSERT_TRUE(decode_hello(buf, n, &back));
  EXPECT_STREQ(back.board, "qemu-m4");
  EXPECT_EQ(back.firmware_minor, 3);
  EXPECT_EQ(back.sensor_count, 2);
  EXPECT_EQ(back.sensors[1].width, 160);
  EXPECT_EQ(back.sensors[0].rate_millihertz, 16000000u);
  EXPECT_FALSE(decode_hello(buf, n - 1, &back));  // length must match the sensor count
  buf[30] = 5;                                    // more sensors than allowed
  EXPECT_FALSE(decode_hello(buf, kHelloFixedSize + 5 * kSensorDescriptorSize, &back));
  buf[30] = 2;
  buf[0] = 0x07;  // not printable
  EXPECT_FALSE(decode_hello(buf, n, &back));
}

TEST(Messages, OtherPayloadsRoundTrip) {
  std::uint8_t buf[64];
  Start s{2, kStartAsFastAsPossible, 77, 32000};
  Start s2;
  ASSERT_TRUE(decode_start(buf, encode_start(s, buf, sizeof buf), &s2));
  EXPECT_EQ(s2.take, 77);
  EXPECT_EQ(s2.length, 32000u);
  EXPECT_FALSE(decode_start(buf, 7, &s2));
  TakeEnd e{1, 9, 4096, 12}, e2;
  ASSERT_TRUE(decode_take_end(buf, encode_take_end(e, buf, sizeof buf), &e2));
  EXPECT_EQ(e2.dropped_bytes, 12u);
  DataHeader h{0, 3, 65536}, h2;
  ASSERT_EQ(encode_data_header(h, buf, sizeof buf), kDataHeaderSize);
  ASSERT_TRUE(decode_data_header(buf, 20, &h2));
  EXPECT_EQ(h2.offset, 65536u);
  EXPECT_FALSE(decode_data_header(buf, 7, &h2));
  ErrorMessage m{ErrorCode::no_such_sensor, "sensor 3 does not exist"}, m2;
  ASSERT_TRUE(decode_error(buf, encode_error(m, buf, sizeof buf), &m2));
  EXPECT_STREQ(m2.text, "sensor 3 does not exist");
  EXPECT_EQ(bytes_per_sample(SampleFormat::float32, 3), 12u);
}

TEST(Messages, ClassificationPayloadsRoundTripAndAreChecked) {
  std::uint8_t buf[64];
  Classify c{0, kStartAsFastAsPossible | kClassifySendFeatures, 5, 93, 32000}, c2;
  ASSERT_EQ(encode_classify(c, buf, sizeof buf), kClassifySize);
  ASSERT_TRUE(decode_classify(buf, kClassifySize, &c2));
  EXPECT_EQ(c2.flags, c.flags);
  EXPECT_EQ(c2.windows, 93u);
  EXPECT_EQ(c2.hop_bytes, 32000u);
  EXPECT_FALSE(decode_classify(buf, kClassifySize - 1, &c2));
  c.hop_bytes = 0;  // a hop of nothing would classify one window forever
  encode_classify(c, buf, sizeof buf);
  EXPECT_FALSE(decode_classify(buf, kClassifySize, &c2));

  FeaturesHeader f{5, 7, 1012}, f2;
  ASSERT_EQ(encode_features_header(f, buf, sizeof buf), kFeaturesHeaderSize);
  ASSERT_TRUE(decode_features_header(buf, kFeaturesHeaderSize + 8, &f2));
  EXPECT_EQ(f2.window, 7u);
  EXPECT_EQ(f2.offset, 1012u);
  EXPECT_FALSE(decode_features_header(buf, kFeaturesHeaderSize - 1, &f2));

  Result r{5, 4, 7, 224000, 51262, 259441, 25000000}, r2;
  ASSERT_EQ(encode_result_header(r, buf, sizeof buf), kResultFixedSize);
  ASSERT_TRUE(decode_result_header(buf, kResultFixedSize + 4, &r2));
  EXPECT_EQ(r2.count, 4);
  EXPECT_EQ(r2.stream_offset, 224000u);
  EXPECT_EQ(r2.features_ticks, 51262u);
  EXPECT_EQ(r2.inference_ticks, 259441u);
  EXPECT_EQ(r2.tick_hz, 25000000u);
  // The payload must hold exactly `count` output bytes.
  EXPECT_FALSE(decode_result_header(buf, kResultFixedSize + 3, &r2));
  EXPECT_FALSE(decode_result_header(buf, kResultFixedSize + 5, &r2));
  EXPECT_EQ(encode_result_header(r, buf, kResultFixedSize + 3), 0u);  // no room for the outputs
}

}  // namespace
}  // namespace tml::proto
