#pragma once
// A PNG picture of one sample's features: a heat map with axes for audio (time across, coefficient
// or band up), the original beside the preprocessed image for cameras, bars for IMU features.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "collect/feature_extraction.h"

namespace tml::cli {

void plot_features(const std::filesystem::path& out_png, const std::filesystem::path& input, const Project& project,
                   const FeatureExtractor& extractor, const std::vector<std::uint8_t>& features);

}  // namespace tml::cli
