#pragma once
// What `tml dataset` and `tml dataset check` report about a dataset store.
#include <functional>

#include <nlohmann/json.hpp>

#include "core/dataset_store.h"
#include "core/project_file.h"

namespace tml {

// Counts per label and split, totals, and problems (empty or unknown labels, class imbalance,
// missing or unlisted files). Cheap: no file is read.
nlohmann::ordered_json dataset_summary(const Project& project, const DatasetStore& store);

// Re-hashes every file against the manifest: {"checked", "ok", "mismatched", "missing", "unlisted"}.
nlohmann::ordered_json dataset_check(const DatasetStore& store,
                                     const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace tml
