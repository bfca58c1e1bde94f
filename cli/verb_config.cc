// tml config: the project's configuration with every default applied, as YAML or --json.
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <regex>

#include "context.h"
#include "core/project_file.h"

namespace tml::cli {

using json = nlohmann::ordered_json;

namespace {

// Strings that a YAML 1.1 reader would take for a boolean, null or number are quoted, so labels
// such as "yes" and "no" stay strings for every reader.
bool needs_quotes(const std::string& s) {
  static const std::regex plain_unsafe(
      "(?:[yY](?:es)?|[nN]o?|[tT]rue|[fF]alse|[oO]n|[oO]ff|~|null|Null|NULL|[-+]?[0-9.][0-9._eE+-]*)?");
  return std::regex_match(s, plain_unsafe);
}

void emit(YAML::Emitter& out, const json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : j) emit(out, v);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    if (needs_quotes(j.get<std::string>())) out << YAML::DoubleQuoted;
    out << j.get<std::string>();
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();  // numbers and booleans as JSON writes them
  }
}

}  // namespace

Verb add_config_verb(CLI::App& tml, Context& ctx) {
  CLI::App* sub = tml.add_subcommand("config", "print the resolved project configuration (defaults applied)");
  return {sub, [&ctx] {
            Project project = load_project(".");
            ctx.print(project.config, [&](std::ostream& out) {
              YAML::Emitter emitter;
              emit(emitter, project.config);
              out << "# " << project.file().lexically_normal().string() << " with defaults applied; config hash "
                  << project.config_hash() << "\n"
                  << emitter.c_str() << "\n";
            });
            return 0;
          }};
}

}  // namespace tml::cli
