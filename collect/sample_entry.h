#pragma once
// One dataset manifest entry (docs/dataset.md) for a sample about to be stored, whether imported
// from a file or captured from a board: the same fields in the same order.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/project_file.h"

namespace tml {

// id = the first 16 hex digits of sha256; path = LABEL/ID.EXT; split from the id, or from GROUP when
// given (a speaker, a machine: every sample of a group lands in the same split, so the test split
// holds groups never trained on). details (rate, shape, ...) follow the common fields; source and
// capture are set as given (capture may be null).
// The current time as ISO 8601 UTC ("2026-11-27T05:00:00Z"), as manifest and board records use.
std::string utc_now();

nlohmann::ordered_json sample_entry(const Project& project, const std::string& label, const std::string& sha256,
                                    const std::string& ext, std::size_t bytes, const nlohmann::ordered_json& details,
                                    const nlohmann::ordered_json& source, const nlohmann::ordered_json& capture,
                                    const std::string& group = "");

}  // namespace tml
