#pragma once
// What the board app needs from a model build to classify windows of sensor samples (CLASSIFY,
// docs/protocol.md). app/model_classifier.cc implements it for a generated model; the collection
// firmware has none. No heap, no exceptions (DESIGN.md §2).
#include <cstddef>
#include <cstdint>

#include "protocol/messages.h"

namespace tml::app {

class Classifier {
 public:
  // The first 8 bytes of the project's config hash the model was built from (HELLO).
  virtual const std::uint8_t* config_hash() const = 0;
  // The kind of sensor the model's preprocessing expects.
  virtual proto::SensorKind sensor_kind() const = 0;
  // The output tensor's size in bytes (what RESULT carries).
  virtual std::size_t output_bytes() const = 0;
  // One raw window as the sensor delivers it (int16 PCM, a camera frame, float32 IMU samples).
  virtual std::uint32_t window_bytes() const = 0;
  virtual std::uint8_t* window() = 0;
  // window() -> features -> the model's int8 input -> outputs. False when a stage failed.
  // *features_ticks / *inference_ticks: hal::cost_ticks() spent in each.
  virtual bool run(std::uint32_t* features_ticks, std::uint32_t* inference_ticks) = 0;
  // The last run's features (float32, as the trainer saw them) and output tensor bytes.
  virtual const std::uint8_t* features(std::size_t* bytes) const = 0;
  virtual const std::uint8_t* outputs(std::size_t* bytes) const = 0;

 protected:
  ~Classifier() = default;
};

}  // namespace tml::app
