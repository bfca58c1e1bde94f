#include "build_steps.h"

#include <cstring>

#include "collect/emulated_board.h"
#include "collect/feature_extraction.h"
#include "core/errors.h"
#include "core/npy.h"
#include "deploy/float_executor.h"
#include "deploy/int8_executor.h"
#include "deploy/onnx_import.h"

namespace tml::cli {

namespace fs = std::filesystem;

LabelledSplit load_split(const fs::path& dir, const std::string& split) {
  const NpyArray x = npy_read(dir / (split + "_x.npy"));
  const NpyArray y = npy_read(dir / (split + "_y.npy"));
  LabelledSplit s;
  const std::size_t count = y.data.size() / 4;
  if (x.shape.empty() || x.shape[0] != count)
    throw Error(ExitCode::internal, (dir / (split + "_x.npy")).string() + ": sample count differs from its labels");
  const std::size_t item = npy_item_size(x.type);
  const std::size_t per = count ? x.data.size() / item / count : 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<float> v(per);
    for (std::size_t k = 0; k < per; ++k) {
      const std::uint8_t* p = x.data.data() + (i * per + k) * item;
      switch (x.type) {
        case NpyType::float32: std::memcpy(&v[k], p, 4); break;
        case NpyType::int8: v[k] = static_cast<float>(static_cast<std::int8_t>(*p)); break;
        case NpyType::uint8: v[k] = static_cast<float>(*p); break;
        case NpyType::int32: {
          std::int32_t q;
          std::memcpy(&q, p, 4);
          v[k] = static_cast<float>(q);
          break;
        }
      }
    }
    s.x.push_back(std::move(v));
    std::int32_t label;
    std::memcpy(&label, y.data.data() + 4 * i, 4);
    s.y.push_back(label);
  }
  return s;
}

QuantizeStage quantize_and_evaluate(const Project& project, const fs::path& onnx, const fs::path& features_dir,
                                    const std::string& config_hash) {
  QuantizeStage st;
  const deploy::Graph float_graph = deploy::import_onnx(onnx);
  const LabelledSplit train = load_split(features_dir, "train");
  const LabelledSplit test = load_split(features_dir, "test");
  const int classes = static_cast<int>(project.labels().size());

  deploy::QuantizeOptions options;
  options.max_samples = project.config["quantize"].value("calibration_count", 200);
  // Per-tensor int8 cannot hold raw features of very different magnitudes (MFCC c0 vs c9): the
  // standardisation runs in float before quantizing, on the host and in the generated code alike.
  options.fold_input_standardisation = true;
  std::vector<std::vector<float>> calibration(train.x.begin(),
                                              train.x.begin() + static_cast<long>(std::min(train.x.size(), options.max_samples)));
  st.quantized = deploy::quantize(float_graph, calibration, options);
  st.compiled = deploy::compile_model(st.quantized.graph);

  std::vector<int> float_pred, int8_pred;
  for (const auto& x : test.x) {
    const auto f = deploy::run_float(float_graph, {x})[0];
    float_pred.push_back(deploy::argmax(f.data(), f.size()));
    const auto q = deploy::quantize_input(st.quantized, x);
    st.test_inputs.emplace_back(q.begin(), q.end());
    const auto o = deploy::run_compiled(st.compiled, {st.test_inputs.back()}).outputs[0];
    int8_pred.push_back(deploy::argmax(reinterpret_cast<const std::int8_t*>(o.data()), o.size()));
    st.test_outputs.push_back(o);
  }
  st.float_eval = deploy::evaluate(test.y, float_pred, classes);
  st.int8_eval = deploy::evaluate(test.y, int8_pred, classes);

  // Error per layer on up to 16 test samples: where quantization loses the most.
  std::vector<std::vector<float>> probe(test.x.begin(), test.x.begin() + static_cast<long>(std::min<std::size_t>(test.x.size(), 16)));
  const auto run_all = [&](const std::vector<std::int8_t>& input) {
    const auto r = deploy::run_compiled(st.compiled, {std::vector<std::uint8_t>(input.begin(), input.end())}, true);
    std::vector<std::vector<std::int8_t>> values;
    for (const auto& a : r.activations) values.emplace_back(a.begin(), a.end());
    return values;
  };
  if (!probe.empty())
    st.layers = deploy::layer_errors(float_graph, st.quantized.graph, probe, run_all, st.quantized.input_transform);

  st.codegen.config_hash = config_hash;
  st.codegen.source_label = project.name() + " (tml build)";
  st.codegen.preprocess_decls = preprocess_declarations(project);
  st.codegen.input_scale = st.quantized.input_transform.scale;
  st.codegen.input_shift = st.quantized.input_transform.shift;
  st.codegen.input_stride = st.quantized.input_transform.stride;
  return st;
}

std::string preprocess_declarations(const Project& project) {
  std::string out = "namespace preprocess_config {\n";
  const auto emit = [&](const std::string& prefix, const nlohmann::ordered_json& section) {
    for (const auto& [key, value] : section.items()) {
      std::string name = "k";
      bool upper = true;
      for (char c : prefix + "_" + key) {
        if (c == '_') {
          upper = true;
          continue;
        }
        name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
      }
      if (value.is_boolean()) out += "constexpr bool " + name + " = " + (value.get<bool>() ? "true" : "false") + ";\n";
      else if (value.is_number_integer()) out += "constexpr long " + name + " = " + std::to_string(value.get<long>()) + ";\n";
      else if (value.is_number()) out += "constexpr double " + name + " = " + value.dump() + ";\n";
      else if (value.is_string()) {
        std::string text;
        for (char c : value.get<std::string>())
          if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ' ') text += c;
        out += "constexpr char " + name + "[] = \"" + text + "\";\n";
      }
    }
  };
  emit("sensor", project.config["sensor"]);
  emit("features", project.config["preprocess"]);
  return out + "}  // namespace preprocess_config\n";
}

namespace {


template <typename E>
std::string enum_value(const char* type, E e) {
  return std::string("static_cast<tml::pre::") + type + ">(" + std::to_string(static_cast<int>(e)) + ")";
}

}  // namespace

std::string features_header(const Project& project) {
  std::string body;
  const auto set = [&](const std::string& field, const std::string& value) { body += "  c." + field + " = " + value + ";\n"; };
  std::string kind, type, header;
  const std::size_t window_bytes = sensor_window_bytes(project);
  std::size_t work_floats = 0;  // the preprocessing's workspace
  if (project.sensor_kind() == "audio") {
    const pre::AudioConfig c = audio_config_of(project);
    work_floats = pre::audio_workspace_floats(c);
    kind = "0", type = "AudioConfig", header = "preprocess/audio_features.h";
    set("sample_rate", std::to_string(c.sample_rate) + "u");
    set("kind", enum_value("AudioFeatureKind", c.kind));
    set("frame_length", std::to_string(c.frame_length));
    set("hop_length", std::to_string(c.hop_length));
    set("fft_size", std::to_string(c.fft_size));
    set("window", enum_value("WindowKind", c.window));
    set("window_periodic", c.window_periodic ? "true" : "false");
    set("pre_emphasis", deploy::cpp_float_literal(c.pre_emphasis));
    set("spectrum", enum_value("SpectrumKind", c.spectrum));
    set("mel_bands", std::to_string(c.mel_bands));
    set("mel_scale", enum_value("MelScale", c.mel_scale));
    set("fmin", deploy::cpp_float_literal(c.fmin));
    set("fmax", deploy::cpp_float_literal(c.fmax));
    set("log_floor", deploy::cpp_float_literal(c.log_floor));
    set("mfcc_coeffs", std::to_string(c.mfcc_coeffs));
    set("lifter", std::to_string(c.lifter));
    set("mean_normalize", c.mean_normalize ? "true" : "false");
  } else if (project.sensor_kind() == "camera") {
    const pre::ImageConfig c = image_config_of(project);
    work_floats = (pre::image_output_bytes(c) + pre::image_workspace_bytes(c) + 3) / 4;
    kind = "1", type = "ImageConfig", header = "preprocess/image_ops.h";
    set("input_format", enum_value("PixelFormat", c.input_format));
    set("input_width", std::to_string(c.input_width));
    set("input_height", std::to_string(c.input_height));
    set("width", std::to_string(c.width));
    set("height", std::to_string(c.height));
    set("crop", enum_value("CropMode", c.crop));
    set("interpolation", enum_value("Interpolation", c.interpolation));
    set("color", enum_value("ColorMode", c.color));
    set("normalize", enum_value("Normalize", c.normalize));
  } else {
    const pre::ImuConfig c = imu_config_of(project);
    work_floats = pre::imu_workspace_floats(c);
    kind = "2", type = "ImuConfig", header = "preprocess/imu_features.h";
    set("sample_rate", deploy::cpp_float_literal(c.sample_rate));
    set("channels", std::to_string(c.channels));
    set("window_samples", std::to_string(c.window_samples) + "u");
    set("remove_mean", c.remove_mean ? "true" : "false");
    set("filter", enum_value("ImuFilter", c.filter));
    set("filter_cutoff_hz", deploy::cpp_float_literal(c.filter_cutoff_hz));
    set("filter_order", std::to_string(c.filter_order));
    set("fft_size", std::to_string(c.fft_size));
    set("spectral_bands", std::to_string(c.spectral_bands));
    set("band_spacing", enum_value("BandSpacing", c.band_spacing));
    set("rms", c.rms ? "true" : "false");
    set("spectral_peaks", std::to_string(c.spectral_peaks));
  }
  return "#pragma once\n// Generated by tml build from " + project.name() +
         "'s tml.yaml: the preprocessing the model expects, as the portable core's config.\n#include <cstddef>\n\n#include \"" + header +
         "\"\n\nnamespace tml_features {\n\nconstexpr int kKind = " + kind + ";  // 0 audio, 1 camera, 2 IMU\n" +
         "constexpr std::size_t kWindowBytes = " + std::to_string(window_bytes) + ";  // one raw window from the sensor\n" +
         "constexpr std::size_t kWorkFloats = " + std::to_string(work_floats) + ";  // the preprocessing's workspace\n\ninline tml::pre::" +
         type + " config() {\n  tml::pre::" + type + " c;\n" + body + "  return c;\n}\n\n}  // namespace tml_features\n";
}

}  // namespace tml::cli
