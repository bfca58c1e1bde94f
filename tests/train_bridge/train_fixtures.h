#pragma once
// Helpers for the train bridge tests: a tiny ONNX (protobuf) writer for hand-made models, project
// folders with synthetic features, and fake trainers.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "core/process.h"
#include "test_support.h"

namespace tml::test::train {

// --- protobuf wire format ---------------------------------------------------------------------
inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
inline std::string pb_varint(int field, std::uint64_t v) {
  std::string s;
  put_varint(s, static_cast<std::uint64_t>(field) << 3);
  put_varint(s, v);
  return s;
}
inline std::string pb_bytes(int field, const std::string& payload) {
  std::string s;
  put_varint(s, static_cast<std::uint64_t>(field) << 3 | 2);
  put_varint(s, payload.size());
  return s + payload;
}

// ValueInfoProto: float tensor with dims (-1: a named batch dimension "N").
inline std::string pb_value_info(const std::string& name, const std::vector<std::int64_t>& dims) {
  std::string shape;
  for (std::int64_t d : dims) shape += pb_bytes(1, d < 0 ? pb_bytes(2, "N") : pb_varint(1, static_cast<std::uint64_t>(d)));
  std::string tensor = pb_varint(1, 1) + pb_bytes(2, shape);
  return pb_bytes(1, name) + pb_bytes(2, pb_bytes(1, tensor));
}

inline std::string pb_float_tensor(const std::string& name, const std::vector<std::int64_t>& dims, float value) {
  std::string t;
  std::size_t n = 1;
  for (std::int64_t d : dims) {
    t += pb_varint(1, static_cast<std::uint64_t>(d));
    n *= static_cast<std::size_t>(d);
  }
  t += pb_varint(2, 1);  // FLOAT
  t += pb_bytes(8, name);
  std::string raw(n * 4, '\0');
  for (std::size_t i = 0; i < n; ++i) std::memcpy(&raw[i * 4], &value, 4);
  t += pb_bytes(9, raw);
  return t;
}

struct OnnxSpec {
  std::int64_t features = 3;           // input {N, features}
  std::int64_t classes = 3;
  std::int64_t opset = 13;
  std::string input_name = "input";
  std::string final_op = "Softmax";    // "" for none (logits)
  std::string extra_op;                // e.g. "LSTM": a node tml does not support
};

// input {N,F} -> Gemm(W {C,F}, B {C}, transB=1) -> [extra] -> Softmax -> output {N,C}.
inline std::string make_onnx(const OnnxSpec& s) {
  std::string graph;
  std::string attr_transb = pb_bytes(1, "transB") + pb_varint(3, 1) + pb_varint(20, 2);
  std::string cur = "logits";
  graph += pb_bytes(1, pb_bytes(1, s.input_name) + pb_bytes(1, "W") + pb_bytes(1, "B") + pb_bytes(2, cur) +
                           pb_bytes(3, "gemm") + pb_bytes(4, "Gemm") + pb_bytes(5, attr_transb));
  if (!s.extra_op.empty()) {
    graph += pb_bytes(1, pb_bytes(1, cur) + pb_bytes(2, "extra") + pb_bytes(3, "extra") + pb_bytes(4, s.extra_op));
    cur = "extra";
  }
  if (!s.final_op.empty()) {
    graph += pb_bytes(1, pb_bytes(1, cur) + pb_bytes(2, "output") + pb_bytes(3, "final") + pb_bytes(4, s.final_op));
    cur = "output";
  }
  graph += pb_bytes(2, "g");
  graph += pb_bytes(5, pb_float_tensor("W", {s.classes, s.features}, 0.01f));
  graph += pb_bytes(5, pb_float_tensor("B", {s.classes}, 0.0f));
  graph += pb_bytes(11, pb_value_info(s.input_name, {-1, s.features}));
  graph += pb_bytes(12, pb_value_info(cur, {-1, s.classes}));
  std::string model = pb_varint(1, 8) + pb_bytes(2, "tml-test") + pb_bytes(7, graph) +
                      pb_bytes(8, pb_bytes(1, "") + pb_varint(2, static_cast<std::uint64_t>(s.opset)));
  return model;
}

// --- projects and features --------------------------------------------------------------------
inline void write_npy(const std::filesystem::path& file, NpyType type, const std::vector<std::size_t>& shape,
                      const void* data, std::size_t bytes) {
  auto encoded = npy_encode(type, shape, std::span(static_cast<const std::uint8_t*>(data), bytes));
  std::filesystem::create_directories(file.parent_path());
  write_text(file, std::string(encoded.begin(), encoded.end()));
}

// Class-dependent Gaussian blobs: class k has mean pattern proto[k] (fixed by `seed`), noise sigma.
// For {T,F} (audio-like) features the pattern is one profile over F repeated along T, so networks
// that pool over time (DS-CNN) can see it.
// Writes build/features/{split}_{x,y}.npy and features.json; returns the features.json document.
inline nlohmann::json write_features(const std::filesystem::path& root, const std::string& sensor,
                                     const std::vector<std::size_t>& shape, const std::vector<std::string>& labels,
                                     std::vector<std::size_t> counts = {120, 30, 30}, float sigma = 1.0f,
                                     const std::string& dtype = "float32", unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::size_t per = 1;
  for (std::size_t d : shape) per *= d;
  std::vector<std::vector<float>> proto(labels.size(), std::vector<float>(per));
  for (auto& p : proto) {
    for (auto& v : p) v = normal(rng);
    if (shape.size() == 2) {
      for (std::size_t i = shape[1]; i < per; ++i) p[i] = p[i % shape[1]];
    }
  }
  const std::filesystem::path dir = root / "build" / "features";
  nlohmann::json splits;
  const char* names[] = {"train", "validation", "test"};
  for (int s = 0; s < 3; ++s) {
    std::size_t n = counts[static_cast<std::size_t>(s)];
    std::vector<float> x(n * per);
    std::vector<std::int32_t> y(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = static_cast<std::int32_t>(i % labels.size());
      for (std::size_t j = 0; j < per; ++j) x[i * per + j] = proto[static_cast<std::size_t>(y[i])][j] + sigma * normal(rng);
    }
    std::vector<std::size_t> xs = {n};
    xs.insert(xs.end(), shape.begin(), shape.end());
    std::string xn = std::string(names[s]) + "_x.npy", yn = std::string(names[s]) + "_y.npy";
    if (dtype == "int8") {
      std::vector<std::int8_t> q(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) q[i] = static_cast<std::int8_t>(std::clamp(std::lround(x[i] * 30.0f), -128L, 127L));
      write_npy(dir / xn, NpyType::int8, xs, q.data(), q.size());
    } else {
      write_npy(dir / xn, NpyType::float32, xs, x.data(), x.size() * 4);
    }
    write_npy(dir / yn, NpyType::int32, {n}, y.data(), y.size() * 4);
    splits[names[s]] = {{"count", n}, {"x", xn}, {"y", yn}};
  }
  nlohmann::json doc{{"config_hash", "test"}, {"dataset_digest", "test"}, {"sensor", sensor},
                     {"features", sensor == "audio" ? "mfcc" : sensor == "imu" ? "imu" : "image"},
                     {"shape", shape}, {"dtype", dtype}, {"labels", labels}, {"splits", splits}};
  write_text(dir / "features.json", doc.dump(2));
  return doc;
}

inline std::filesystem::path write_script(const std::filesystem::path& file, const std::string& text) {
  write_text(file, text);
  ::chmod(file.c_str(), 0755);
  return file;
}

// Files of build/model/ that a failed run must leave alone (everything but failed-train.log and
// the lock file).
inline std::map<std::string, std::string> model_outputs(const std::filesystem::path& root) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(root / "build" / "model")) return out;
  for (auto& [k, v] : snapshot(root / "build" / "model")) {
    if (k != "failed-train.log" && k != ".lock") out[k] = v;
  }
  return out;
}

inline bool has_staging_leftovers(const std::filesystem::path& root) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root / "build" / "model", ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(".staging-", 0) == 0 || n.rfind(".tmp-", 0) == 0) return true;
  }
  return false;
}

// Whether PID is a live process (a zombie left to an init that does not reap counts as gone).
inline bool process_alive(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

// Whether Debian's python3 has torch (the bundled trainer's dependency).
inline bool have_torch() {
  static int cached = -1;
  if (cached < 0) {
    try {
      cached = run_process({"/usr/bin/python3", "-c", "import torch, numpy"}).exit_code == 0 ? 1 : 0;
    } catch (...) {
      cached = 0;
    }
  }
  return cached == 1;
}

}  // namespace tml::test::train
