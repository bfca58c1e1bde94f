#pragma once
// The device side of the project's pipeline, for a generated model (model.h) and its preprocessing
// (tml_features.h, written by tml build): one raw sensor window -> features through the portable
// core -> the model's input (quantize_input). Shared by the board app (model_classifier.cc) and
// model_runner --raw, so both compute exactly what `tml test` compares with the host.
// Static buffers sized by tml_features.h; no heap.
#include <cstddef>
#include <cstdint>

#include "model.h"
#include "tml_features.h"

namespace tml::app {

// The raw window buffer (tml_features::kWindowBytes).
std::uint8_t* raw_window();
// The features of the last window (tml_model::kInputElements floats).
const float* window_features();
// raw_window() -> window_features() -> tml_model::input(). False when the preprocessing failed or
// does not produce the model's input size.
bool prepare_model_input();

}  // namespace tml::app
