#include "core/project_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/project_schema.h"
#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  return s;
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    default: return "'" + node.Scalar() + "'";
  }
}

std::string expected_text(const Field& f) {
  std::string range = " in [" + format_number(f.min) + ", " + format_number(f.max) + "]";
  switch (f.type) {
    case FieldType::integer: return (f.power_of_two ? "a power of two" : "an integer") + range;
    case FieldType::number: return "a number" + range;
    case FieldType::boolean: return "true or false";
    case FieldType::choice: return "one of " + join(f.choices);
    case FieldType::name: return "a name of letters, digits, '_', '-' or '.' (at most 64)";
    case FieldType::name_list: return "a list of names (letters, digits, '_', '-', '.')";
    case FieldType::text_list: return "a list of strings";
    case FieldType::integer_list: return "a list of integers" + range;
    case FieldType::map: {
      std::vector<std::string> keys;
      for (const auto& c : f.children) keys.push_back(c.key);
      return "a map with keys " + join(keys);
    }
  }
  return "";
}

class Validator {
 public:
  explicit Validator(std::string file) : file_(std::move(file)) {}

  json resolve(const YAML::Node& root) {
    Field top{.key = "", .type = FieldType::map};
    std::string kind = peek_choice(root, "sensor", "kind", sensor_kinds());
    top.children = project_schema(kind, peek_choice(root, "model", "architecture", architectures_for(kind)));
    marks_[""] = root.Mark();
    if (!root.IsMap()) fail("", root.Mark(), "expected " + expected_text(top) + ", found " + describe(root));
    json config = walk_map(root, top, "");
    check_relations(config);
    return config;
  }

 private:
  static std::string peek_choice(const YAML::Node& root, const char* map_key, const char* key,
                                 const std::vector<std::string>& choices) {
    if (!root.IsMap()) return choices.front();
    const YAML::Node map = root[map_key];
    if (!map.IsDefined() || !map.IsMap()) return choices.front();
    const YAML::Node value = map[key];
    if (!value.IsDefined() || !value.IsScalar()) return choices.front();
    std::string v = value.Scalar();
    return std::find(choices.begin(), choices.end(), v) != choices.end() ? v : choices.front();
  }

  [[noreturn]] void fail(const std::string& path, const YAML::Mark& mark, const std::string& message) const {
    std::string where = file_;
    if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    throw invalid_input(where, (path.empty() ? "" : path + ": ") + message);
  }

  // Where a key path is, or the nearest enclosing map when the key was defaulted.
  YAML::Mark mark_of(std::string path) const {
    while (true) {
      auto it = marks_.find(path);
      if (it != marks_.end()) return it->second;
      auto dot = path.rfind('.');
      path = dot == std::string::npos ? "" : path.substr(0, dot);
    }
  }

  json walk_map(const YAML::Node& node, const Field& field, const std::string& path) {
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      std::string key_path = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second) fail(key_path, it->first.Mark(), "duplicate key; keep only one");
      auto known = std::find_if(field.children.begin(), field.children.end(),
                                [&](const Field& c) { return c.key == key; });
      if (known == field.children.end()) {
        std::vector<std::string> keys;
        std::string closest;
        std::size_t best = 3;
        for (const auto& c : field.children) {
          keys.push_back(c.key);
          std::size_t d = edit_distance(key, c.key);
          if (d < best) best = d, closest = c.key;
        }
        fail(key_path, it->first.Mark(),
             "unknown key" + (closest.empty() ? "" : " (did you mean " + closest + "?)") + "; expected one of " +
                 join(keys));
      }
      marks_[key_path] = it->second.Mark();
    }
    json out = json::object();
    for (const auto& child : field.children) {
      std::string child_path = path.empty() ? child.key : path + "." + child.key;
      const YAML::Node value = node[child.key];
      if (!value.IsDefined()) {
        if (child.default_value.is_null()) {
          fail(child_path, mark_of(path), "required key is missing; expected " + expected_text(child));
        }
        if (child.type == FieldType::map) {
          out[child.key] = walk_map(YAML::Node(YAML::NodeType::Map), child, child_path);
        } else {
          out[child.key] = child.default_value;
        }
        continue;
      }
      out[child.key] = walk_value(value, child, child_path);
    }
    return out;
  }

  json walk_value(const YAML::Node& node, const Field& f, const std::string& path) {
    auto wrong = [&]() { fail(path, node.Mark(), "expected " + expected_text(f) + ", found " + describe(node)); };
    switch (f.type) {
      case FieldType::map:
        if (!node.IsMap()) wrong();
        return walk_map(node, f, path);
      case FieldType::integer: {
        if (!node.IsScalar()) wrong();
        long long v = 0;
        try {
          v = node.as<long long>();
        } catch (const YAML::Exception&) {
          wrong();
        }
        if (v < f.min || v > f.max || (f.power_of_two && (v <= 0 || (v & (v - 1)) != 0))) wrong();
        return v;
      }
      case FieldType::number: {
        if (!node.IsScalar()) wrong();
        double v = 0;
        try {
          v = node.as<double>();
        } catch (const YAML::Exception&) {
          wrong();
        }
        if (!std::isfinite(v) || v < f.min || v > f.max) wrong();
        return v;
      }
      case FieldType::boolean: {
        if (!node.IsScalar()) wrong();
        try {
          return node.as<bool>();
        } catch (const YAML::Exception&) {
          wrong();
        }
      }
      case FieldType::choice:
        if (!node.IsScalar() ||
            std::find(f.choices.begin(), f.choices.end(), node.Scalar()) == f.choices.end()) {
          wrong();
        }
        return node.Scalar();
      case FieldType::name:
        if (!node.IsScalar() || !is_valid_name(node.Scalar())) wrong();
        return node.Scalar();
      case FieldType::name_list:
      case FieldType::text_list:
      case FieldType::integer_list: {
        if (!node.IsSequence() || node.size() < f.min_items) wrong();
        json out = json::array();
        std::size_t i = 0;
        for (const auto& item : node) {
          std::string item_path = path + "[" + std::to_string(i++) + "]";
          marks_[item_path] = item.Mark();
          if (f.type == FieldType::integer_list) {
            Field item_field = f;
            item_field.type = FieldType::integer;
            out.push_back(walk_value(item, item_field, item_path));
          } else if (!item.IsScalar() || (f.type == FieldType::name_list && !is_valid_name(item.Scalar()))) {
            wrong_item(item, f, item_path);
          } else {
            out.push_back(item.Scalar());
          }
        }
        return out;
      }
    }
    wrong();
    return nullptr;
  }

  [[noreturn]] void wrong_item(const YAML::Node& item, const Field& f, const std::string& path) {
    fail(path, item.Mark(),
         std::string("expected ") + (f.type == FieldType::name_list ? "a name of letters, digits, '_', '-' or '.'"
                                                                     : "a string") +
             ", found " + describe(item));
  }

  // Rules that tie several keys together.
  void check_relations(const json& c) {
    auto bad = [&](const std::string& path, const std::string& message) { fail(path, mark_of(path), message); };

    std::map<std::string, std::size_t> first_index;
    const auto& labels = c["labels"];
    for (std::size_t i = 0; i < labels.size(); ++i) {
      auto [it, fresh] = first_index.emplace(labels[i].get<std::string>(), i);
      if (!fresh) {
        bad("labels[" + std::to_string(i) + "]", "duplicate label '" + labels[i].get<std::string>() +
                                                     "' (also labels[" + std::to_string(it->second) +
                                                     "]); each label must appear once");
      }
    }
    if (c["dataset"]["test_fraction"].get<double>() + c["dataset"]["validation_fraction"].get<double>() >= 1.0) {
      bad("dataset.validation_fraction", "test_fraction + validation_fraction must be below 1, leaving data to train on");
    }
    if (c["train"]["trainer"] == "command" && c["train"]["command"].empty()) {
      bad("train.command", "trainer is command but no command is given; set command: [program, args...]");
    }

    const std::string kind = c["sensor"]["kind"];
    const auto& p = c["preprocess"];
    if (kind == "audio") {
      double rate = c["sensor"]["rate"].get<double>();
      auto samples = [&](const char* key) {
        double n = p[key].get<double>() * rate / 1000.0;
        if (std::fabs(n - std::round(n)) > 1e-9) {
          bad(std::string("preprocess.") + key, format_number(p[key].get<double>()) + " ms at " +
                                                    format_number(rate) + " Hz is " + format_number(n) +
                                                    " samples; choose a whole number of samples");
        }
        return static_cast<long long>(std::round(n));
      };
      long long frame = samples("frame_ms");
      long long hop = samples("hop_ms");
      if (hop > frame) bad("preprocess.hop_ms", "hop_ms must not exceed frame_ms");
      if (frame > p["fft_size"].get<long long>()) {
        bad("preprocess.fft_size", "fft_size " + std::to_string(p["fft_size"].get<long long>()) +
                                       " is shorter than the frame (" + std::to_string(frame) +
                                       " samples); use a larger power of two or a shorter frame_ms");
      }
      if (p["frame_ms"].get<double>() > c["sensor"]["window_ms"].get<double>()) {
        bad("preprocess.frame_ms", "frame_ms is longer than sensor.window_ms");
      }
      if (p["fmax"].get<double>() > rate / 2) {
        bad("preprocess.fmax", "fmax " + format_number(p["fmax"].get<double>()) + " Hz is above the Nyquist frequency (" +
                                   format_number(rate / 2) + " Hz at sensor.rate " + format_number(rate) + ")");
      }
      if (p["fmin"].get<double>() >= p["fmax"].get<double>()) bad("preprocess.fmin", "fmin must be below fmax");
      if (p["mfcc_coeffs"].get<long long>() > p["mel_bands"].get<long long>()) {
        bad("preprocess.mfcc_coeffs", "mfcc_coeffs must not exceed mel_bands");
      }
    } else if (kind == "imu") {
      double nyquist = c["sensor"]["rate"].get<double>() / 2;
      double cutoff = p["filter_cutoff_hz"].get<double>();
      if (p["filter"] != "none" && (cutoff <= 0 || cutoff >= nyquist)) {
        bad("preprocess.filter_cutoff_hz", "a " + p["filter"].get<std::string>() +
                                               " filter needs a cut-off above 0 and below " +
                                               format_number(nyquist) + " Hz (half of sensor.rate)");
      }
    }
  }

  std::string file_;
  std::map<std::string, YAML::Mark> marks_;
};

}  // namespace

json resolve_project_yaml(std::string_view yaml_text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    throw invalid_input(file_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                        "invalid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) {
    throw invalid_input(file_name, "the file is empty; start from a template with `tml new NAME --template T`");
  }
  return Validator(file_name).resolve(root);
}

bool is_valid_name(const std::string& s) {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  return s.size() <= 64 && std::regex_match(s, re);
}

bool Project::has_label(const std::string& label) const {
  for (const auto& l : config["labels"]) {
    if (l == label) return true;
  }
  return false;
}

SplitFractions Project::split_fractions() const {
  return {.test = config["dataset"]["test_fraction"], .validation = config["dataset"]["validation_fraction"]};
}

std::string Project::config_hash() const { return sha256_hex(config.dump()).substr(0, 16); }

Project load_project(const fs::path& root) {
  fs::path file = root / kProjectFileName;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw invalid_input(fs::absolute(root).lexically_normal().string(),
                        "no tml.yaml here; create a project with `tml new NAME --template voice-control` "
                        "or point to one with -C DIR");
  }
  Project p;
  p.root = root;
  p.config = resolve_project_yaml(read_file_text(file), file.lexically_normal().string());
  return p;
}

}  // namespace tml
