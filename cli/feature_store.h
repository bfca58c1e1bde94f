#pragma once
// Features for the whole dataset: every sample through the portable core on all cores, cached by
// (sample sha256, feature config hash) under .tml/features/, assembled per split into
// build/features/<split>_x.npy (features) and <split>_y.npy (int32 label indices) plus
// features.json describing them — the train bridge's input.
#include <functional>

#include <nlohmann/json.hpp>

#include "core/dataset_store.h"
#include "collect/feature_extraction.h"

namespace tml::cli {

struct FeatureRunOptions {
  unsigned jobs = 0;  // 0: all cores
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// Returns the summary (also written as build/features/features.json, plus counts of computed and
// cached samples). Throws tml::Error naming the sample that cannot be preprocessed.
nlohmann::ordered_json preprocess_dataset(const Project& project, const DatasetStore& store,
                                          const FeatureExtractor& extractor, const FeatureRunOptions& options);

}  // namespace tml::cli
