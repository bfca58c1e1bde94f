#pragma once
// The YAML templates of projects/, compiled in (see cmake/embed_templates.cmake).
#include <string_view>
#include <vector>

namespace tml::cli {

struct ProjectTemplate {
  std::string_view name;
  std::string_view yaml;
};

const std::vector<ProjectTemplate>& project_templates();

}  // namespace tml::cli
