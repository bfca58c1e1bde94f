#pragma once
// Host side of preprocessing: maps tml.yaml to the portable core's configs and runs the core on
// one stored sample (WAV, PNG or CSV). The bytes produced are what the board computes from the
// same signal.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/npy.h"
#include "core/project_file.h"
#include "preprocess/audio_features.h"
#include "preprocess/image_ops.h"
#include "preprocess/imu_features.h"

namespace tml {

pre::AudioConfig audio_config_of(const Project& project);
pre::ImageConfig image_config_of(const Project& project);  // input format/size set per image
pre::ImuConfig imu_config_of(const Project& project);

class FeatureExtractor {
 public:
  explicit FeatureExtractor(const Project& project);

  // Shape of one sample's features and their element type.
  const std::vector<std::size_t>& shape() const { return shape_; }
  NpyType type() const { return type_; }
  std::size_t bytes_per_sample() const;
  // Identifies the feature definition: sensor + preprocess sections and the core's version.
  const std::string& config_hash() const { return config_hash_; }
  // Row labels for plots: what one step of the first axis is, and what the second axis holds.
  std::string describe() const;

  // Features of one file. Audio shorter or longer than the window is zero-padded or cut; IMU rows
  // likewise. Throws tml::Error(invalid_input) naming the file when it cannot be used.
  std::vector<std::uint8_t> extract(const std::filesystem::path& file) const;

 private:
  std::vector<std::uint8_t> extract_audio(const std::filesystem::path& file) const;
  std::vector<std::uint8_t> extract_image(const std::filesystem::path& file) const;
  std::vector<std::uint8_t> extract_imu(const std::filesystem::path& file) const;

  const Project& project_;
  std::string kind_;
  std::vector<std::size_t> shape_;
  NpyType type_ = NpyType::float32;
  std::string config_hash_;
};

}  // namespace tml
