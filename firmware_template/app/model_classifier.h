#pragma once
// The Classifier of a model build: the generated model (model.h) behind the project's
// preprocessing (app/model_pipeline.h), timed with the board's cost counter.
#include "app/classifier.h"

namespace tml::app {

class ModelClassifier final : public Classifier {
 public:
  ModelClassifier();
  const std::uint8_t* config_hash() const override { return hash_; }
  proto::SensorKind sensor_kind() const override;
  std::size_t output_bytes() const override;
  std::uint32_t window_bytes() const override;
  std::uint8_t* window() override;
  bool run(std::uint32_t* features_ticks, std::uint32_t* inference_ticks) override;
  const std::uint8_t* features(std::size_t* bytes) const override;
  const std::uint8_t* outputs(std::size_t* bytes) const override;

 private:
  std::uint8_t hash_[8] = {};
};

}  // namespace tml::app
