// libFuzzer target for the host side of the wire protocol: arbitrary bytes from the link go through
// FrameDecoder and every payload decoder. Built with clang -fsanitize=fuzzer,address,undefined by
// tests/CMakeLists.txt and run by ctest for a bounded time (ProtocolFuzz.FrameDecoder).
// Properties checked besides "no crash, no sanitizer report":
//  - an accepted frame never claims more than kMaxPayload bytes;
//  - re-encoding an accepted frame and decoding it again gives the same header and payload.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/frame.h"
#include "protocol/messages.h"

using namespace tml::proto;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void decode_payloads(const std::uint8_t* p, std::size_t n) {
  Hello h;
  Start s;
  DataHeader d;
  TakeEnd e;
  Stats st;
  ErrorMessage m;
  if (decode_hello(p, n, &h)) check(h.sensor_count <= kMaxSensors && h.board[kBoardIdSize] == '\0');
  decode_start(p, n, &s);
  decode_data_header(p, n, &d);
  decode_take_end(p, n, &e);
  decode_stats(p, n, &st);
  if (decode_error(p, n, &m)) check(std::strlen(m.text) <= kMaxErrorText);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FrameDecoder decoder;
  decoder.reset();
  std::size_t pos = 0;
  while (pos < size) {
    const auto r = decoder.feed(data + pos, size - pos);
    if (r.consumed == 0) break;
    pos += r.consumed;
    if (!r.frame_ready) continue;
    const FrameHeader h = decoder.header();
    check(h.payload_length <= kMaxPayload);
    decode_payloads(decoder.payload(), h.payload_length);
    static std::uint8_t wire[kMaxWireFrame];
    const std::size_t n =
        encode_frame(h.type, h.sequence, h.timestamp_us, decoder.payload(), h.payload_length, wire, sizeof wire);
    check(n > 0);
    static std::uint8_t payload[kMaxPayload];
    std::memcpy(payload, decoder.payload(), h.payload_length);
    FrameDecoder again;
    const auto r2 = again.feed(wire, n);
    check(r2.frame_ready && r2.consumed == n);
    check(again.header().type == h.type && again.header().sequence == h.sequence &&
          again.header().payload_length == h.payload_length &&
          std::memcmp(again.payload(), payload, h.payload_length) == 0);
  }
  // Any payload bytes straight into the payload decoders too.
  decode_payloads(data, size);
  return 0;
}
