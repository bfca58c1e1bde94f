#include "train_bridge/job.h"

#include <thread>

#include "core/errors.h"
#include "train_bridge/onnx_check.h"

namespace tml::train {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

InputMapping input_mapping(const std::string& sensor, const std::vector<std::size_t>& s) {
  auto bad = [&] {
    return invalid_input("build/features/features.json",
                         "feature shape of rank " + std::to_string(s.size()) + " does not fit a " + sensor +
                             " sensor; run `tml preprocess` again");
  };
  auto i64 = [](std::size_t v) { return static_cast<std::int64_t>(v); };
  if (sensor == "audio") {
    if (s.size() != 2) throw bad();
    return {"add_channel", "NCHW", {1, i64(s[0]), i64(s[1])}};
  }
  if (sensor == "camera") {
    if (s.size() != 3) throw bad();
    return {"hwc_to_chw", "NCHW", {i64(s[2]), i64(s[0]), i64(s[1])}};
  }
  if (sensor == "imu") {
    if (s.size() != 1) throw bad();
    return {"identity", "NF", {i64(s[0])}};
  }
  throw invalid_input("tml.yaml", "sensor.kind '" + sensor + "' has no training input mapping");
}

bool wants_anomaly_model(const Project& project) {
  const auto& model = project.config["model"];
  return model.contains("anomaly_detector") && model["anomaly_detector"] == "autoencoder";
}

json make_job(const Project& project, const nlohmann::json& features, const fs::path& features_dir,
              const JobOutputs& outputs, const JobOverrides& overrides) {
  const std::string where = (features_dir / "features.json").string();
  const std::string sensor = project.sensor_kind();
  if (!features.is_object() || !features.contains("shape") || !features.contains("splits")) {
    throw invalid_input(where, "not a features summary; run `tml preprocess` again");
  }
  if (features.value("sensor", "") != sensor) {
    throw invalid_input(where, "features of a " + features.value("sensor", std::string("?")) + " sensor, but tml.yaml has " +
                                   sensor + "; run `tml preprocess` again");
  }
  std::vector<std::string> labels = project.labels();
  if (features.value("labels", nlohmann::json::array()) != nlohmann::json(labels)) {
    throw invalid_input(where, "made for other labels than tml.yaml's; run `tml preprocess` again");
  }
  std::vector<std::size_t> shape = features["shape"].get<std::vector<std::size_t>>();
  InputMapping in = input_mapping(sensor, shape);

  json data = json::object();
  for (const char* split : {"train", "validation", "test"}) {
    if (!features["splits"].contains(split)) {
      throw invalid_input(where, std::string("has no ") + split + " split; run `tml preprocess` again");
    }
    const auto& s = features["splits"][split];
    data[split] = {{"x", fs::absolute(features_dir / s["x"].get<std::string>()).lexically_normal().string()},
                   {"y", fs::absolute(features_dir / s["y"].get<std::string>()).lexically_normal().string()},
                   {"count", s.value("count", 0)}};
  }

  const auto& t = project.config["train"];
  int threads = overrides.threads > 0 ? overrides.threads : t.value("threads", 0);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  json train{{"trainer", t.value("trainer", "pytorch")},
             {"epochs", overrides.epochs > 0 ? overrides.epochs : t.value("epochs", 30)},
             {"batch", t.value("batch", 64)},
             {"lr", t.value("lr", 0.001)},
             {"seed", overrides.seed >= 0 ? overrides.seed : t.value("seed", 1)},
             {"threads", threads},
             {"early_stopping", t.value("early_stopping", 5)},
             {"augment", t.value("augment", true)}};

  json job{{"format", "tml-train-job"},
           {"version", kJobVersion},
           {"project", project.name()},
           {"config_hash", project.config_hash()},
           {"sensor", sensor},
           {"labels", labels},
           {"features", {{"kind", features.value("features", "")},
                         {"shape", shape},
                         {"dtype", features.value("dtype", "float32")},
                         {"config_hash", features.value("config_hash", "")}}},
           {"input", {{"name", "input"},
                      {"feature_shape", shape},
                      {"feature_dtype", features.value("dtype", "float32")},
                      {"mapping", in.mapping},
                      {"layout", in.layout},
                      {"shape", in.shape},
                      {"dtype", "float32"},
                      {"values", "the feature values cast to float32, unscaled"}}},
           {"output", {{"name", "output"}, {"shape", {labels.size()}}, {"softmax", true}}},
           {"data", data},
           {"sensor_config", project.config["sensor"]},
           {"preprocess", project.config["preprocess"]},
           {"model", project.config["model"]},
           {"train", train},
           {"onnx", {{"opset", 13}, {"input_name", "input"}, {"output_name", "output"}, {"ops", supported_onnx_ops()}}},
           {"outputs", {{"dir", outputs.dir.string()},
                        {"model", outputs.model.string()},
                        {"metrics", outputs.metrics.string()},
                        {"anomaly_model", outputs.anomaly_model.empty() ? json(nullptr) : json(outputs.anomaly_model.string())}}}};
  return job;
}

}  // namespace tml::train
