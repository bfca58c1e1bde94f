#pragma once
// Stable train/validation/test assignment: a hash of the sample id alone, so adding data never
// moves an existing sample to another split.
#include <string>
#include <string_view>

namespace tml {

struct SplitFractions {
  double test = 0.2;
  double validation = 0.1;
};

// "train", "validation" or "test".
std::string split_for(std::string_view sample_id, const SplitFractions& fractions);

}  // namespace tml
