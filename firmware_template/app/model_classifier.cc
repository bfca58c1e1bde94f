#include "app/model_classifier.h"

#include "app/model_pipeline.h"
#include "hal/hal.h"

namespace tml::app {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// kConfigHash is hex text; HELLO carries its first 8 bytes (all zero for a bare model).
ModelClassifier::ModelClassifier() {
  for (int i = 0; i < 8; ++i) {
    const int hi = hex_digit(tml_model::kConfigHash[2 * i]);
    if (hi < 0) break;
    const int lo = hex_digit(tml_model::kConfigHash[2 * i + 1]);
    if (lo < 0) break;
    hash_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
}

// tml_features::kKind: 0 audio, 1 camera, 2 IMU.
proto::SensorKind ModelClassifier::sensor_kind() const {
  return tml_features::kKind == 0 ? proto::SensorKind::audio
         : tml_features::kKind == 1 ? proto::SensorKind::camera
                                    : proto::SensorKind::imu;
}

std::size_t ModelClassifier::output_bytes() const { return tml_model::kOutputElements * sizeof(tml_model::OutputType); }

std::uint32_t ModelClassifier::window_bytes() const { return static_cast<std::uint32_t>(tml_features::kWindowBytes); }
std::uint8_t* ModelClassifier::window() { return raw_window(); }

bool ModelClassifier::run(std::uint32_t* features_ticks, std::uint32_t* inference_ticks) {
  const std::uint32_t t0 = hal::cost_ticks();
  if (!prepare_model_input()) return false;
  const std::uint32_t t1 = hal::cost_ticks();
  const bool ok = tml_model::invoke() == tml::rt::Status::ok;
  *features_ticks = t1 - t0;
  *inference_ticks = hal::cost_ticks() - t1;
  return ok;
}

const std::uint8_t* ModelClassifier::features(std::size_t* bytes) const {
  *bytes = tml_model::kInputElements * sizeof(float);
  return reinterpret_cast<const std::uint8_t*>(window_features());
}

const std::uint8_t* ModelClassifier::outputs(std::size_t* bytes) const {
  *bytes = tml_model::kOutputElements * sizeof(tml_model::OutputType);
  return reinterpret_cast<const std::uint8_t*>(tml_model::output());
}

}  // namespace tml::app
