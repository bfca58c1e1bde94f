#pragma once
// A fixed-capacity text builder for diagnostics and ERROR messages: no heap, no stdio (newlib's
// printf family can pull malloc into the firmware). Text that does not fit is cut off.
#include <cstddef>
#include <cstdint>

namespace tml::hal {

template <std::size_t Capacity>
class Text {
 public:
  Text& add(const char* s) {
    while (s != nullptr && *s != '\0' && len_ < Capacity) buf_[len_++] = *s++;
    buf_[len_] = '\0';
    return *this;
  }
  Text& add(char c) {
    if (len_ < Capacity) buf_[len_++] = c;
    buf_[len_] = '\0';
    return *this;
  }
  Text& add_u32(std::uint32_t v) {
    char digits[10];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) add(digits[--n]);
    return *this;
  }
  Text& add_hex8(std::uint8_t v) {
    const char* hex = "0123456789abcdef";
    return add("0x").add(hex[v >> 4]).add(hex[v & 0xF]);
  }
  const char* c_str() const { return buf_; }
  std::size_t size() const { return len_; }
  void clear() {
    len_ = 0;
    buf_[0] = '\0';
  }

 private:
  char buf_[Capacity + 1] = {};
  std::size_t len_ = 0;
};

}  // namespace tml::hal
