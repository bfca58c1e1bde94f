#pragma once
// tml.yaml: parsing, validation against core/project_schema.h, defaults, and typed access.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/split.h"

namespace tml {

inline constexpr const char* kProjectFileName = "tml.yaml";

// Project names and labels: letters, digits, '_', '-', '.', not starting with '-' or '.'; ≤ 64.
bool is_valid_name(const std::string& name);

// Validates YAML text and returns the configuration with every default applied, keys in schema
// order. Throws tml::Error(invalid_input) "FILE:LINE:COL: key.path: expected X, found Y".
nlohmann::ordered_json resolve_project_yaml(std::string_view yaml_text, const std::string& file_name);

struct Project {
  std::filesystem::path root;  // the folder holding tml.yaml
  nlohmann::ordered_json config;

  std::filesystem::path file() const { return root / kProjectFileName; }
  std::filesystem::path dataset_dir() const { return root / "dataset"; }
  std::string name() const { return config["name"]; }
  std::string sensor_kind() const { return config["sensor"]["kind"]; }
  std::vector<std::string> labels() const { return config["labels"]; }
  bool has_label(const std::string& label) const;
  SplitFractions split_fractions() const;
  // First 16 hex digits of SHA-256 over the resolved configuration: identifies what a board runs.
  std::string config_hash() const;
};

// Loads ROOT/tml.yaml. Throws tml::Error naming the file and the fix when it is missing or invalid.
Project load_project(const std::filesystem::path& root);

}  // namespace tml
