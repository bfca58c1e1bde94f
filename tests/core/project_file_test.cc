#include "core/project_file.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "core/errors.h"
#include "core/project_schema.h"
#include "test_support.h"

namespace tml {
namespace {

using json = nlohmann::ordered_json;

const char* kMinimal = R"(name: demo
sensor:
  kind: audio
labels: [yes, no]
)";

// The error message of resolving TEXT, which must fail with invalid_input.
std::string error_of(const std::string& text) {
  try {
    resolve_project_yaml(text, "tml.yaml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "errors are one line: " << message;
    return message;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

void collect_paths(const std::vector<Field>& fields, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& f : fields) {
    std::string path = prefix.empty() ? f.key : prefix + "." + f.key;
    out.insert(path);
    collect_paths(f.children, path, out);
  }
}

std::set<std::string> all_schema_paths() {
  std::set<std::string> paths;
  for (const auto& kind : sensor_kinds()) {
    for (const auto& arch : architectures_for(kind)) collect_paths(project_schema(kind, arch), "", paths);
  }
  return paths;
}

TEST(ProjectFile, TemplatesAreValidAndComplete) {
  for (const char* name : {"voice-control", "wildlife", "maintenance"}) {
    std::string text = test::read_text(test::source_dir() / "projects" / (std::string(name) + ".yaml"));
    json config = resolve_project_yaml(text, name);
    EXPECT_EQ(config["name"], name);
    std::string kind = config["sensor"]["kind"];
    std::set<std::string> expected;
    collect_paths(project_schema(kind, config["model"]["architecture"]), "", expected);
    for (const auto& path : expected) {
      json::json_pointer ptr("/" + std::regex_replace(path, std::regex("\\."), "/"));
      EXPECT_TRUE(config.contains(ptr)) << name << ": " << path << " missing after defaults";
    }
  }
}

TEST(ProjectFile, DefaultsAreApplied) {
  json c = resolve_project_yaml(kMinimal, "tml.yaml");
  EXPECT_EQ(c["sensor"]["rate"], 16000);
  EXPECT_EQ(c["preprocess"]["fft_size"], 512);
  EXPECT_EQ(c["model"]["architecture"], "ds-cnn");
  EXPECT_EQ(c["train"]["trainer"], "pytorch");
  EXPECT_EQ(c["target"]["board"], "qemu-m4");
  EXPECT_EQ(c["labels"], json({"yes", "no"}));  // YAML 1.1 booleans stay label names
}

TEST(ProjectFile, MalformedYamlNamesLineAndColumn) {
  std::string e = error_of("name: demo\nsensor: [kind: audio\nlabels: [a]\n");
  EXPECT_TRUE(e.starts_with("tml.yaml:")) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST(ProjectFile, UnknownKeySuggestsTheClosest) {
  std::string e = error_of("name: demo\nsensor:\n  kind: audio\n  rat: 8000\nlabels: [a]\n");
  EXPECT_EQ(e, "tml.yaml:4:3: sensor.rat: unknown key (did you mean rate?); expected one of kind, rate, channels, "
               "window_ms");
}

TEST(ProjectFile, WrongTypeNamesExpectedAndFound) {
  std::string e = error_of("name: demo\nsensor:\n  kind: audio\n  rate: fast\nlabels: [a]\n");
  EXPECT_EQ(e, "tml.yaml:4:9: sensor.rate: expected an integer in [4000, 48000], found 'fast'");
}

TEST(ProjectFile, OutOfRange) {
  std::string e = error_of(std::string(kMinimal) + "train:\n  epochs: 0\n");
  EXPECT_EQ(e, "tml.yaml:6:11: train.epochs: expected an integer in [1, 10000], found '0'");
}

TEST(ProjectFile, DuplicateLabel) {
  std::string e = error_of("name: demo\nsensor: {kind: audio}\nlabels: [yes, no, yes]\n");
  EXPECT_EQ(e, "tml.yaml:3:19: labels[2]: duplicate label 'yes' (also labels[0]); each label must appear once");
}

TEST(ProjectFile, MissingRequiredKey) {
  std::string e = error_of("name: demo\nsensor: {kind: audio}\n");
  EXPECT_TRUE(e.starts_with("tml.yaml:1:1: labels: required key is missing")) << e;
}

TEST(ProjectFile, UnknownSensorKind) {
  std::string e = error_of("name: demo\nsensor:\n  kind: radar\nlabels: [a]\n");
  EXPECT_EQ(e, "tml.yaml:3:9: sensor.kind: expected one of audio, imu, camera, found 'radar'");
}

TEST(ProjectFile, RelationsBetweenKeys) {
  EXPECT_NE(error_of(std::string(kMinimal) + "preprocess:\n  fmax: 9000\n").find("preprocess.fmax: fmax 9000 Hz is above "
                                                                                 "the Nyquist frequency"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "preprocess:\n  fft_size: 500\n").find("a power of two"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "preprocess:\n  fft_size: 256\n").find("shorter than the frame (480"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "preprocess:\n  frame_ms: 25.03\n").find("whole number of samples"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "train:\n  trainer: command\n").find("train.command"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "dataset:\n  test_fraction: 0.5\n  validation_fraction: 0.5\n")
                .find("must be below 1"),
            std::string::npos);
}

TEST(ProjectFile, SensorSpecificKeysAreChecked) {
  // An image key in an audio project is unknown there.
  std::string e = error_of(std::string(kMinimal) + "preprocess:\n  interpolation: area\n");
  EXPECT_TRUE(e.starts_with("tml.yaml:6:3: preprocess.interpolation: unknown key")) << e;
  // An IMU filter needs a cut-off below Nyquist.
  e = error_of("name: m\nsensor: {kind: imu, rate: 100}\nlabels: [a]\npreprocess: {filter: lowpass, filter_cutoff_hz: 60}\n");
  EXPECT_NE(e.find("preprocess.filter_cutoff_hz"), std::string::npos) << e;
}

TEST(ProjectFile, EmptyAndNonMapDocuments) {
  EXPECT_NE(error_of("").find("the file is empty"), std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n").find("expected a map with keys name, sensor, labels"), std::string::npos);
}

TEST(ProjectFile, DocsDescribeEveryKey) {
  std::string docs = test::read_text(test::source_dir() / "docs" / "project-file.md");
  for (const auto& path : all_schema_paths()) {
    EXPECT_NE(docs.find("`" + path + "`"), std::string::npos) << "docs/project-file.md does not document " << path;
  }
}

TEST(ProjectFile, ConfigHashFollowsTheConfiguration) {
  Project a{.root = ".", .config = resolve_project_yaml(kMinimal, "a")};
  Project b{.root = ".", .config = resolve_project_yaml(std::string(kMinimal) + "train: {seed: 2}\n", "b")};
  EXPECT_EQ(a.config_hash().size(), 16u);
  EXPECT_NE(a.config_hash(), b.config_hash());
}

}  // namespace
}  // namespace tml
