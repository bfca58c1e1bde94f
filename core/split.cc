#include "core/split.h"

#include <cstdint>

#include "core/sha256.h"

namespace tml {

std::string split_for(std::string_view sample_id, const SplitFractions& fractions) {
  // First 52 bits of SHA-256("split:" + id) as a uniform number in [0, 1).
  std::string h = sha256_hex("split:" + std::string(sample_id));
  std::uint64_t v = std::stoull(h.substr(0, 13), nullptr, 16);
  double u = static_cast<double>(v) / static_cast<double>(std::uint64_t{1} << 52);
  if (u < fractions.test) return "test";
  if (u < fractions.test + fractions.validation) return "validation";
  return "train";
}

}  // namespace tml
