#pragma once
// Text the model importers (onnx_import, tflite_import) put into their one-line errors. Host only.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tml::deploy {

// Text from a model file (names, op types), safe for a one-line message: at most 80 characters,
// control characters replaced by '?'.
inline std::string clean(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 80)) out += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? '?' : ch;
  if (s.size() > 80) out += "...";
  return out;
}

// "{1,49,10,1}"
template <typename T>
std::string shape_text(const std::vector<T>& s) {
  std::string out = "{";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "}";
}
inline std::string shape_text(std::initializer_list<long long> s) { return shape_text(std::vector<long long>(s)); }

}  // namespace tml::deploy
