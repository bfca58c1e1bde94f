#pragma once
// The schema of tml.yaml: every key, its type, range, default and one-line meaning. The validator
// (project_file.cc) walks it; docs/project-file.md documents it (a test keeps the two in step).
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tml {

enum class FieldType { integer, number, boolean, choice, name, name_list, text_list, integer_list, map };

struct Field {
  std::string key;
  FieldType type = FieldType::name;
  nlohmann::ordered_json default_value;  // null: the key is required
  double min = -std::numeric_limits<double>::infinity();  // value bounds; for lists, item bounds
  double max = std::numeric_limits<double>::infinity();
  bool power_of_two = false;
  std::size_t min_items = 0;  // lists only
  std::vector<std::string> choices;
  std::vector<Field> children;  // maps only
  std::string doc;
};

std::vector<std::string> sensor_kinds();
std::vector<std::string> architectures_for(const std::string& sensor_kind);

// The top-level fields for a project with this sensor kind and model architecture (both must be
// valid values; the validator reports invalid ones through the choice fields themselves).
std::vector<Field> project_schema(const std::string& sensor_kind, const std::string& architecture);

}  // namespace tml
