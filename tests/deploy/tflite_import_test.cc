// TFLite import (deploy/tflite_import.h):
//  1. The real models in ../shared/data/models (TFLite Micro's examples, MLPerf Tiny's references):
//     op kinds and counts, input/output shapes and quantization, SAME padding as TFLite resolves it,
//     and, through a dequantized float copy run by the float executor, what they compute (hello_world
//     is a sine, person_detect tells person.bmp from no_person.bmp).
//  2. Models built here with flatbuffers' FlatBufferBuilder and the generated schema code: padding
//     arithmetic, MEAN, QUANTIZE/DEQUANTIZE around an int8 body, external buffers, and refusals
//     (float, uint8, unsupported operators, fused TANH, bad indices and sizes, two subgraphs).
//  3. Truncated and corrupted files: refused with one invalid_input line, never a crash.
#include "deploy/tflite_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <numbers>
#include <sstream>

#include "core/errors.h"
#include "deploy/dequantized_graph.h"
#include "deploy/float_executor.h"
#include "deploy/tflite_schema_generated.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

namespace fs = std::filesystem;
namespace fb = ::tml::tflite;
using Bytes = std::vector<std::uint8_t>;

Bytes read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

fs::path model_path(const std::string& name) { return test::shared_data("models/" + name); }

// The message of the tml::Error that importing BYTES throws (after checking its code and form).
std::string refusal(const Bytes& bytes, const std::string& source = "test.tflite") {
  try {
    import_tflite_bytes(bytes, source);
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::invalid_input) << m;
    EXPECT_EQ(m.rfind(source + ": ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    return m;
  }
  ADD_FAILURE() << "imported without an error";
  return "";
}

std::map<std::string, int> op_counts(const Graph& g) {
  std::map<std::string, int> n;
  for (const Op& op : g.ops) ++n[op_name(op.kind)];
  return n;
}

// --- 1. the real models ---------------------------------------------------------------------------

struct Expected {
  std::string file;
  std::map<std::string, int> ops;
  std::vector<int> input_shape, output_shape;
  float input_scale;
  int input_zero_point;
  float output_scale;
  int output_zero_point;
  bool per_channel;  // conv/depthwise weights quantized per channel
};

// From the files themselves (flatc --json with deploy/tflite_schema.fbs), not from the importer.
const std::vector<Expected> kModels = {
    {"hello_world_int8.tflite", {{"FULLY_CONNECTED", 3}}, {1, 1}, {1, 1}, 0.0244801f, -128, 0.00829096f, 5, false},
    {"micro_speech_quantized.tflite", {{"RESHAPE", 1}, {"DEPTHWISE_CONV_2D", 1}, {"FULLY_CONNECTED", 1}, {"SOFTMAX", 1}},
     {1, 1960}, {1, 4}, 0.101716f, -128, 1 / 256.0f, -128, true},
    {"person_detect.tflite", {{"DEPTHWISE_CONV_2D", 14}, {"CONV_2D", 14}, {"AVERAGE_POOL_2D", 1}, {"RESHAPE", 1}, {"SOFTMAX", 1}},
     {1, 96, 96, 1}, {1, 2}, 0.00784314f, -1, 1 / 256.0f, -128, true},
    {"mlperf-tiny/ad01_int8.tflite", {{"FULLY_CONNECTED", 10}}, {1, 640}, {1, 640}, 0.391015f, 89, 0.364498f, 96, false},
    {"mlperf-tiny/kws_ref_model.tflite",
     {{"CONV_2D", 5}, {"DEPTHWISE_CONV_2D", 4}, {"AVERAGE_POOL_2D", 1}, {"RESHAPE", 1}, {"FULLY_CONNECTED", 1}, {"SOFTMAX", 1}},
     {1, 49, 10, 1}, {1, 12}, 0.584703f, 83, 1 / 256.0f, -128, true},
    {"mlperf-tiny/pretrainedResnet_quant.tflite",
     {{"CONV_2D", 9}, {"ADD", 3}, {"AVERAGE_POOL_2D", 1}, {"RESHAPE", 1}, {"FULLY_CONNECTED", 1}, {"SOFTMAX", 1}},
     {1, 32, 32, 3}, {1, 10}, 1.0f, -128, 1 / 256.0f, -128, true},
    {"mlperf-tiny/vww_96_int8.tflite",
     {{"CONV_2D", 14}, {"DEPTHWISE_CONV_2D", 13}, {"AVERAGE_POOL_2D", 1}, {"RESHAPE", 1}, {"FULLY_CONNECTED", 1}, {"SOFTMAX", 1}},
     {1, 96, 96, 3}, {1, 2}, 0.00392157f, -128, 1 / 256.0f, -128, true},
};

TEST(TfliteImport, RealModels) {
  for (const Expected& e : kModels) {
    SCOPED_TRACE(e.file);
    const Graph g = import_tflite(model_path(e.file));
    EXPECT_EQ(op_counts(g), e.ops);
    ASSERT_EQ(g.inputs.size(), 1u);
    ASSERT_EQ(g.outputs.size(), 1u);
    const Tensor& in = g.tensors[g.inputs[0]];
    const Tensor& out = g.tensors[g.outputs[0]];
    EXPECT_EQ(in.shape, e.input_shape);
    EXPECT_EQ(out.shape, e.output_shape);
    EXPECT_EQ(in.type, DType::int8);
    EXPECT_EQ(out.type, DType::int8);
    ASSERT_EQ(in.quant.scale.size(), 1u);
    ASSERT_EQ(out.quant.scale.size(), 1u);
    EXPECT_NEAR(in.quant.scale[0], e.input_scale, 1e-5 * e.input_scale);  // flatc prints 6 digits
    EXPECT_EQ(in.quant.zero_point[0], e.input_zero_point);
    EXPECT_NEAR(out.quant.scale[0], e.output_scale, 1e-5 * e.output_scale);
    EXPECT_EQ(out.quant.zero_point[0], e.output_zero_point);
    for (std::size_t k = 0; k < g.ops.size(); ++k) {
      const Op& op = g.ops[k];
      EXPECT_EQ(op.name, std::string(op_name(op.kind)) + " #" + std::to_string(k));
      for (int t : op.outputs) {
        EXPECT_FALSE(g.tensors[t].is_constant());
        EXPECT_EQ(g.tensors[t].type, DType::int8);
        EXPECT_EQ(g.tensors[t].quant.scale.size(), 1u);  // activations: one scale
      }
      if (op.kind != OpKind::conv2d && op.kind != OpKind::depthwise_conv2d && op.kind != OpKind::fully_connected) continue;
      const Tensor& w = g.tensors[op.inputs[1]];
      EXPECT_TRUE(w.is_constant());
      EXPECT_EQ(w.type, DType::int8);
      for (std::int32_t zp : w.quant.zero_point) EXPECT_EQ(zp, 0);
      if (op.kind != OpKind::fully_connected) {
        const int channel_axis = op.kind == OpKind::conv2d ? 0 : 3;
        EXPECT_EQ(w.quant.scale.size(), e.per_channel ? std::size_t(w.shape[channel_axis]) : 1u);
        if (e.per_channel) {
          EXPECT_EQ(w.quant.axis, channel_axis);
        }
      }
      if (op.inputs.size() > 2) {
        const Tensor& b = g.tensors[op.inputs[2]];
        EXPECT_EQ(b.type, DType::int32);
        EXPECT_EQ(b.data.size(), b.bytes());
      }
    }
    // The float executor accepts every op (it recomputes each output shape).
    std::vector<std::vector<float>> x{std::vector<float>(in.elements(), 0.25f)};
    EXPECT_NO_THROW(run_float(dequantized_graph(g), x));
  }
}

TEST(TfliteImport, SamePaddingAsTflite) {
  // kws: 49x10 input, 10x4 kernel, stride 2, SAME: out 25x5; total pad H = 24*2+10-49 = 9 -> 4/5,
  // W = 4*2+4-10 = 2 -> 1/1 (TFLite's ComputePaddingHeightWidth).
  const Graph kws = import_tflite(model_path("mlperf-tiny/kws_ref_model.tflite"));
  const Op& c = kws.ops[0];
  EXPECT_EQ(c.kind, OpKind::conv2d);
  EXPECT_EQ(std::vector<int>({c.pad_top, c.pad_left, c.pad_bottom, c.pad_right}), std::vector<int>({4, 1, 5, 1}));
  EXPECT_EQ(c.stride_h, 2);
  EXPECT_EQ(c.activation, Activation::relu);
  // person_detect: 96x96, 3x3, stride 2: total 47*2+3-96 = 1 -> 0 before, 1 after; depth_multiplier 8.
  const Graph person = import_tflite(model_path("person_detect.tflite"));
  const Op& d = person.ops[0];
  EXPECT_EQ(d.kind, OpKind::depthwise_conv2d);
  EXPECT_EQ(std::vector<int>({d.pad_top, d.pad_left, d.pad_bottom, d.pad_right}), std::vector<int>({0, 0, 1, 1}));
  EXPECT_EQ(d.depth_multiplier, 8);
  EXPECT_EQ(d.activation, Activation::relu6);
  // The final 3x3 average pool (VALID, stride 2) on 3x3: no padding.
  const Op& pool = person.ops[27];
  EXPECT_EQ(pool.kind, OpKind::average_pool2d);
  EXPECT_EQ(std::vector<int>({pool.kernel_h, pool.kernel_w, pool.pad_top, pool.pad_bottom}), std::vector<int>({3, 3, 0, 0}));
  // micro_speech's RESHAPE takes new_shape {-1,49,40,1} -> {1,49,40,1}.
  const Graph speech = import_tflite(model_path("micro_speech_quantized.tflite"));
  EXPECT_EQ(speech.ops[0].new_shape, std::vector<int>({1, 49, 40, 1}));
}

TEST(TfliteImport, HelloWorldComputesASine) {
  const Graph g = dequantized_graph(import_tflite(model_path("hello_world_int8.tflite")));
  double worst = 0;
  for (int i = 0; i <= 20; ++i) {
    const float x = static_cast<float>(2 * std::numbers::pi * i / 20);
    const float y = run_float(g, {{x}})[0][0];
    worst = std::max(worst, std::abs(double(y) - std::sin(x)));
  }
  EXPECT_LT(worst, 0.2) << "the model approximates sin(x) on [0, 2pi]";
}

// An 8-bit BMP's pixel bytes, top row first (as TFLite Micro's person_detection test feeds them).
std::vector<std::uint8_t> bmp_pixels(const fs::path& file) {
  const Bytes b = read_bytes(file);
  std::uint32_t offset;
  std::int32_t width, height;
  std::memcpy(&offset, &b[10], 4);
  std::memcpy(&width, &b[18], 4);
  std::memcpy(&height, &b[22], 4);
  const std::size_t rows = static_cast<std::size_t>(std::abs(height)), stride = (static_cast<std::size_t>(width) + 3) / 4 * 4;
  std::vector<std::uint8_t> px;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t src = height > 0 ? rows - 1 - r : r;  // positive height: stored bottom-up
    px.insert(px.end(), b.begin() + offset + src * stride, b.begin() + offset + src * stride + width);
  }
  return px;
}

TEST(TfliteImport, PersonDetectTellsPersonFromNoPerson) {
  const Graph int8 = import_tflite(model_path("person_detect.tflite"));
  const Quantization& q = int8.tensors[int8.inputs[0]].quant;
  const Graph g = dequantized_graph(int8);
  auto person_score = [&](const std::string& image) {
    std::vector<float> x;
    for (std::uint8_t p : bmp_pixels(test::shared_data("images/" + image)))
      x.push_back(q.scale[0] * float(static_cast<std::int8_t>(p) - q.zero_point[0]));
    return run_float(g, {x})[0][1];  // output 1 is "person"
  };
  EXPECT_GT(person_score("person.bmp"), 0.7f);
  EXPECT_LT(person_score("no_person.bmp"), 0.3f);
}

// --- 2. models built here ---------------------------------------------------------------------------

struct TensorSpec {
  std::string name;
  std::vector<int> shape;
  fb::TensorType type = fb::TensorType_INT8;
  std::vector<float> scale{0.5f};  // empty: no quantization
  std::vector<std::int64_t> zero_point{0};
  int quantized_dimension = 0;
  Bytes data;             // non-empty: a constant
  bool external = false;  // DATA after the flatbuffer (Buffer offset/size) instead of inside it
};

struct OpSpec {
  fb::BuiltinOperator code;
  std::vector<int> in, out;
  std::function<std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>>(flatbuffers::FlatBufferBuilder&)> options;
  std::string custom_code;
  bool old_style_code = false;  // only deprecated_builtin_code set, as old converters write
};

struct ModelSpec {
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<int> inputs, outputs;
  int subgraphs = 1;
  std::uint32_t version = 3;
};

Bytes build(const ModelSpec& m) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(b)};
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const TensorSpec& t : m.tensors) {
    std::uint32_t buffer = 0;
    if (t.external) {
      buffers.push_back(fb::CreateBuffer(b, 0, /*offset, set below*/ 2, t.data.size()));
      buffer = static_cast<std::uint32_t>(buffers.size() - 1);
    } else if (!t.data.empty()) {
      b.ForceVectorAlignment(t.data.size(), 1, 16);
      buffers.push_back(fb::CreateBuffer(b, b.CreateVector(t.data)));
      buffer = static_cast<std::uint32_t>(buffers.size() - 1);
    }
    flatbuffers::Offset<fb::QuantizationParameters> q;
    if (!t.scale.empty())
      q = fb::CreateQuantizationParametersDirect(b, nullptr, nullptr, &t.scale, &t.zero_point, fb::QuantizationDetails_NONE, 0,
                                                 t.quantized_dimension);
    tensors.push_back(fb::CreateTensorDirect(b, &t.shape, t.type, buffer, t.name.c_str(), q));
  }
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const OpSpec& op : m.ops) {
    const auto deprecated = static_cast<std::int8_t>(std::min<int>(op.code, 127));
    codes.push_back(fb::CreateOperatorCodeDirect(b, deprecated, op.custom_code.empty() ? nullptr : op.custom_code.c_str(), 1,
                                                 op.old_style_code ? fb::BuiltinOperator_ADD : op.code));
    auto [type, options] = op.options ? op.options(b) : std::pair{fb::BuiltinOptions_NONE, flatbuffers::Offset<void>()};
    ops.push_back(fb::CreateOperatorDirect(b, static_cast<std::uint32_t>(codes.size() - 1), &op.in, &op.out, type, options));
  }
  std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs;
  for (int s = 0; s < m.subgraphs; ++s)
    subgraphs.push_back(fb::CreateSubGraphDirect(b, &tensors, &m.inputs, &m.outputs, &ops, "main"));
  fb::FinishModelBuffer(b, fb::CreateModelDirect(b, m.version, &codes, &subgraphs, "test", &buffers));
  Bytes file(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  // External data goes after the flatbuffer, 16-byte aligned; its buffer's offset is patched in place.
  std::uint32_t buffer = 0;
  for (const TensorSpec& t : m.tensors) {
    buffer += t.external || !t.data.empty();
    if (!t.external) continue;
    file.resize((file.size() + 15) / 16 * 16);
    fb::GetMutableModel(file.data())->mutable_buffers()->GetMutableObject(buffer)->mutate_offset(file.size());
    file.insert(file.end(), t.data.begin(), t.data.end());
  }
  return file;
}

Bytes int8_bytes(std::size_t n, int value = 1) { return Bytes(n, static_cast<std::uint8_t>(value)); }

Bytes int32_bytes(const std::vector<std::int32_t>& v) {
  Bytes out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

auto conv_options(fb::Padding padding, int stride, int dilation = 1,
                  fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return std::pair{fb::BuiltinOptions_Conv2DOptions,
                     fb::CreateConv2DOptions(b, padding, stride, stride, act, dilation, dilation).Union()};
  };
}

// x {1,H,W,1} -> CONV_2D (k x k, one output channel) -> y {1,OH,OW,1}.
ModelSpec conv_model(int h, int w, int k, int oh, int ow, fb::Padding padding, int stride, int dilation = 1,
                     fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE) {
  ModelSpec m;
  m.tensors = {{"x", {1, h, w, 1}},
               {"w", {1, k, k, 1}, fb::TensorType_INT8, {0.5f}, {0}, 0, int8_bytes(k * k)},
               {"b", {1}, fb::TensorType_INT32, {0.25f}, {0}, 0, int32_bytes({3})},
               {"y", {1, oh, ow, 1}}};
  m.ops = {{fb::BuiltinOperator_CONV_2D, {0, 1, 2}, {3}, conv_options(padding, stride, dilation, act)}};
  m.inputs = {0};
  m.outputs = {3};
  return m;
}

TEST(TfliteImport, PaddingArithmetic) {
  struct Case {
    int in, k, stride, dilation;
    fb::Padding padding;
    int out, before, after;
  };
  // out = ceil(in/stride) (SAME) or (in + stride - eff)/stride (VALID), eff = (k-1)*dilation+1;
  // total = max((out-1)*stride + eff - in, 0), before = total/2, after = total - before.
  const Case cases[] = {
      {5, 3, 2, 1, fb::Padding_SAME, 3, 1, 1},                                            // total 2
      {6, 3, 2, 1, fb::Padding_SAME, 3, 0, 1},                                            // total 1: the extra row goes after
      {6, 3, 2, 1, fb::Padding_VALID, 2, 0, 0}, {7, 3, 1, 2, fb::Padding_SAME, 7, 2, 2},  // dilated kernel spans 5
      {7, 3, 1, 2, fb::Padding_VALID, 3, 0, 0}, {4, 1, 3, 1, fb::Padding_SAME, 2, 0, 0},  // total 1*3+1-4 = 0
      {2, 5, 1, 1, fb::Padding_SAME, 2, 2, 2},                                            // kernel larger than the input
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("in " + std::to_string(c.in) + " k " + std::to_string(c.k) + " stride " + std::to_string(c.stride));
    const Graph g = import_tflite_bytes(build(conv_model(c.in, c.in, c.k, c.out, c.out, c.padding, c.stride, c.dilation)));
    ASSERT_EQ(g.ops.size(), 1u);
    const Op& op = g.ops[0];
    EXPECT_EQ(std::vector<int>({op.pad_top, op.pad_left, op.pad_bottom, op.pad_right}),
              std::vector<int>({c.before, c.before, c.after, c.after}));
    EXPECT_EQ(op.dilation_h, c.dilation);
    EXPECT_EQ(op.stride_w, c.stride);
  }
  // A stored output shape that disagrees with the arithmetic is refused.
  EXPECT_NE(refusal(build(conv_model(6, 6, 3, 3, 3, fb::Padding_VALID, 2))).find("the operator computes {1,2,2,1}"),
            std::string::npos);
  // VALID with a kernel larger than the input.
  EXPECT_NE(refusal(build(conv_model(2, 2, 3, 1, 1, fb::Padding_VALID, 1))).find("does not fit"), std::string::npos);
}

TEST(TfliteImport, FusedActivations) {
  EXPECT_EQ(import_tflite_bytes(build(conv_model(4, 4, 1, 4, 4, fb::Padding_SAME, 1, 1, fb::ActivationFunctionType_RELU6)))
                .ops[0]
                .activation,
            Activation::relu6);
  const std::string m = refusal(build(conv_model(4, 4, 1, 4, 4, fb::Padding_SAME, 1, 1, fb::ActivationFunctionType_TANH)));
  EXPECT_NE(m.find("CONV_2D #0: fused activation TANH is not supported"), std::string::npos) << m;
  EXPECT_NE(refusal(build(conv_model(4, 4, 1, 4, 4, fb::Padding_SAME, 1, 1, fb::ActivationFunctionType_RELU_N1_TO_1)))
                .find("RELU_N1_TO_1"),
            std::string::npos);
}

// A float32 model: x -> FULLY_CONNECTED (float weights) -> y.
ModelSpec float_model() {
  ModelSpec m;
  m.tensors = {{"input", {1, 4}, fb::TensorType_FLOAT32, {}, {}},
               {"w", {2, 4}, fb::TensorType_FLOAT32, {}, {}, 0, Bytes(32, 0)},
               {"y", {1, 2}, fb::TensorType_FLOAT32, {}, {}}};
  m.ops = {{fb::BuiltinOperator_FULLY_CONNECTED, {0, 1, -1}, {2}}};
  m.inputs = {0};
  m.outputs = {2};
  return m;
}

TEST(TfliteImport, FloatModelsAreRefused) {
  const std::string m = refusal(build(float_model()), "float.tflite");
  EXPECT_EQ(m.rfind("float.tflite: float32 model (tensor 'input' is float32); quantize it to int8 with the TFLite converter", 0),
            0u)
      << m;
  EXPECT_NE(m.find("representative_dataset"), std::string::npos);
}

TEST(TfliteImport, FloatInterfaceAroundAnInt8Body) {
  // float x -> QUANTIZE -> int8 -> FULLY_CONNECTED -> int8 -> DEQUANTIZE -> float y
  ModelSpec m;
  m.tensors = {{"x", {1, 4}, fb::TensorType_FLOAT32, {}, {}},
               {"xq", {1, 4}, fb::TensorType_INT8, {0.1f}, {-3}},
               {"w", {2, 4}, fb::TensorType_INT8, {0.02f}, {0}, 0, int8_bytes(8, 5)},
               {"b", {2}, fb::TensorType_INT32, {0.002f}, {0}, 0, int32_bytes({10, -10})},
               {"yq", {1, 2}, fb::TensorType_INT8, {0.05f}, {4}},
               {"y", {1, 2}, fb::TensorType_FLOAT32, {}, {}}};
  auto fc = [](flatbuffers::FlatBufferBuilder& b) {
    return std::pair{fb::BuiltinOptions_FullyConnectedOptions,
                     fb::CreateFullyConnectedOptions(b, fb::ActivationFunctionType_RELU).Union()};
  };
  m.ops = {{fb::BuiltinOperator_QUANTIZE, {0}, {1}},
           {fb::BuiltinOperator_FULLY_CONNECTED, {1, 2, 3}, {4}, fc, "", /*old_style_code=*/true},
           {fb::BuiltinOperator_DEQUANTIZE, {4}, {5}}};
  m.inputs = {0};
  m.outputs = {5};
  const Graph g = import_tflite_bytes(build(m));
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[0].kind, OpKind::quantize);
  EXPECT_EQ(g.ops[1].kind, OpKind::fully_connected);
  EXPECT_EQ(g.ops[1].activation, Activation::relu);
  EXPECT_EQ(g.ops[2].kind, OpKind::dequantize);
  EXPECT_EQ(g.tensors[g.inputs[0]].type, DType::float32);
  EXPECT_EQ(g.tensors[g.outputs[0]].type, DType::float32);
  const Tensor& xq = g.tensors[g.ops[0].outputs[0]];
  EXPECT_EQ(xq.quant.zero_point, std::vector<std::int32_t>{-3});
  const Tensor& w = g.tensors[g.ops[1].inputs[1]];
  EXPECT_EQ(w.data, int8_bytes(8, 5));
  EXPECT_EQ(g.tensors[g.ops[1].inputs[2]].data, int32_bytes({10, -10}));
  // The float graph input feeding the int8 body directly is a float model.
  m.ops.erase(m.ops.begin());
  m.ops[0].in[0] = 0;
  EXPECT_NE(refusal(build(m)).find("float32 model (tensor 'x' is float32)"), std::string::npos);
}

TEST(TfliteImport, Uint8ModelsAreRefused) {
  ModelSpec m = conv_model(4, 4, 1, 4, 4, fb::Padding_SAME, 1);
  m.tensors[0].type = fb::TensorType_UINT8;
  m.tensors[0].zero_point = {128};
  EXPECT_NE(refusal(build(m)).find("uint8-quantized model (tensor 'x' is uint8)"), std::string::npos);
}

TEST(TfliteImport, UnsupportedOperatorsAreAllNamed) {
  ModelSpec m = conv_model(4, 4, 1, 4, 4, fb::Padding_SAME, 1);
  m.tensors.push_back({"z", {1, 4, 4, 1}});
  m.tensors.push_back({"u", {1, 4, 4, 1}});
  m.ops.push_back({fb::BuiltinOperator_LSTM, {3}, {4}});
  m.ops.push_back({fb::BuiltinOperator_CUSTOM, {4}, {5}, nullptr, "TFLite_Detection_PostProcess"});
  m.ops.push_back({fb::BuiltinOperator_LSTM, {5}, {4}});
  m.ops.push_back({fb::BuiltinOperator_GELU, {5}, {4}});  // code 150: only in builtin_code
  const std::string msg = refusal(build(m));
  EXPECT_NE(msg.find("unsupported operators: LSTM (x2), CUSTOM 'TFLite_Detection_PostProcess', GELU; supported: CONV_2D, "),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(tflite_supported_ops()), std::string::npos);
}

TEST(TfliteImport, MeanOverHeightAndWidth) {
  for (bool keep_dims : {true, false}) {
    SCOPED_TRACE(keep_dims ? "keep_dims" : "no keep_dims");
    ModelSpec m;
    m.tensors = {{"x", {1, 5, 3, 8}},
                 {"axes", {2}, fb::TensorType_INT32, {}, {}, 0, int32_bytes({2, -3})},
                 {"y", keep_dims ? std::vector<int>{1, 1, 1, 8} : std::vector<int>{1, 8}}};
    auto reducer = [keep_dims](flatbuffers::FlatBufferBuilder& b) {
      return std::pair{fb::BuiltinOptions_ReducerOptions, fb::CreateReducerOptions(b, keep_dims).Union()};
    };
    m.ops = {{fb::BuiltinOperator_MEAN, {0, 1}, {2}, reducer}};
    m.inputs = {0};
    m.outputs = {2};
    const Graph g = import_tflite_bytes(build(m));
    ASSERT_EQ(g.ops.size(), keep_dims ? 1u : 2u);
    EXPECT_EQ(g.ops[0].kind, OpKind::mean_hw);
    EXPECT_EQ(g.tensors[g.ops[0].outputs[0]].shape, std::vector<int>({1, 1, 1, 8}));
    if (!keep_dims) {
      EXPECT_EQ(g.ops[1].kind, OpKind::reshape);
      EXPECT_EQ(g.ops[1].new_shape, std::vector<int>({1, 8}));
      EXPECT_EQ(g.tensors[g.ops[0].outputs[0]].quant.scale, g.tensors[g.outputs[0]].quant.scale);
    }
    EXPECT_NO_THROW(run_float(dequantized_graph(g), {std::vector<float>(120, 1.0f)}));
    // Any other axes are refused.
    m.tensors[1].data = int32_bytes({1, 3});
    EXPECT_NE(refusal(build(m)).find("MEAN #0: only the mean over H and W"), std::string::npos);
  }
}

TEST(TfliteImport, PadConcatenationAddReshape) {
  // x {1,2,2,3} -> PAD (1 row above, 2 columns right) -> p {1,3,4,3}; CONCATENATION(p, p, axis -1)
  // -> c {1,3,4,6}; ADD(c, c) -> a; RESHAPE(a, {-1, 72}) -> y {1,72}.
  ModelSpec m;
  m.tensors = {{"x", {1, 2, 2, 3}}, {"paddings", {4, 2}, fb::TensorType_INT64, {}, {}, 0, Bytes(64, 0)},
               {"p", {1, 3, 4, 3}}, {"c", {1, 3, 4, 6}},
               {"a", {1, 3, 4, 6}}, {"shape", {2}, fb::TensorType_INT32, {}, {}, 0, int32_bytes({-1, 72})},
               {"y", {1, 72}}};
  const std::int64_t paddings[8] = {0, 0, 1, 0, 0, 2, 0, 0};
  std::memcpy(m.tensors[1].data.data(), paddings, 64);
  auto concat = [](flatbuffers::FlatBufferBuilder& b) {
    return std::pair{fb::BuiltinOptions_ConcatenationOptions, fb::CreateConcatenationOptions(b, -1).Union()};
  };
  m.ops = {{fb::BuiltinOperator_PAD, {0, 1}, {2}},
           {fb::BuiltinOperator_CONCATENATION, {2, 2}, {3}, concat},
           {fb::BuiltinOperator_ADD, {3, 3}, {4}},
           {fb::BuiltinOperator_RESHAPE, {4, 5}, {6}}};
  m.inputs = {0};
  m.outputs = {6};
  const Graph g = import_tflite_bytes(build(m));
  ASSERT_EQ(g.ops.size(), 4u);
  EXPECT_EQ(g.ops[0].paddings, std::vector<int>({0, 0, 1, 0, 0, 2, 0, 0}));
  EXPECT_EQ(g.ops[1].axis, 3);
  EXPECT_EQ(g.ops[3].new_shape, std::vector<int>({1, 72}));
  EXPECT_EQ(g.tensors.size(), 5u);  // the paddings and shape tensors are attributes, not IR tensors
  EXPECT_NO_THROW(run_float(dequantized_graph(g), {std::vector<float>(12, 1.0f)}));
  // A reshape whose shape input disagrees with its output.
  m.tensors[5].data = int32_bytes({-1, 36});
  EXPECT_NE(refusal(build(m)).find("RESHAPE #3: the new shape does not give the output {1,72}"), std::string::npos);
}

TEST(TfliteImport, ExternalBuffers) {
  // The weights stored after the flatbuffer (offset/size), as converters do for models over 2 GB.
  ModelSpec m = conv_model(4, 4, 3, 4, 4, fb::Padding_SAME, 1);
  const Bytes weights = m.tensors[1].data;
  m.tensors[1].external = true;
  Bytes file = build(m);
  const Graph g = import_tflite_bytes(file);
  EXPECT_EQ(g.tensors[g.ops[0].inputs[1]].data, weights);
  // Cut the appended data short: the buffer lies outside the file.
  file.resize(file.size() - 1);
  EXPECT_NE(refusal(file).find("lies outside the"), std::string::npos);
}

TEST(TfliteImport, MalformedModelsAreRefused) {
  auto refused = [](const ModelSpec& m, const std::string& part) {
    const std::string msg = refusal(build(m));
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  const ModelSpec ok = conv_model(4, 4, 3, 4, 4, fb::Padding_SAME, 1);
  ASSERT_NO_THROW(import_tflite_bytes(build(ok)));
  ModelSpec m = ok;
  m.subgraphs = 2;
  refused(m, "2 subgraphs; tml reads models with exactly one");
  m = ok;
  m.version = 2;
  refused(m, "TFLite schema version 2");
  m = ok;
  m.tensors[1].data.pop_back();
  refused(m, "tensor 'w' {1,3,3,1} int8 needs 9 bytes of data; its buffer holds 8");
  m = ok;
  m.ops[0].in[1] = 7;
  refused(m, "operator #0 refers to tensor 7 of 4");
  m = ok;
  m.ops[0].in[2] = 0;  // the graph input as the bias
  refused(m, "CONV_2D #0: the bias 'x' must be a constant int32 {1}");
  m = ok;
  m.tensors[1].data.clear();  // computed weights
  refused(m, "the weights 'w' are not constant");
  m = ok;
  m.tensors[1].zero_point = {3};
  refused(m, "non-zero zero point");
  m = ok;
  m.tensors[3].scale = {0.5f, 0.25f};
  m.tensors[3].zero_point = {0, 0};
  refused(m, "has 2 per-channel scales along dimension 0");
  m = ok;
  m.tensors[3].scale = {-1.0f};
  refused(m, "has the quantization scale -1");
  m = ok;
  m.tensors[0].scale.clear();
  refused(m, "int8 tensor 'x' has no quantization parameters");
  m = ok;
  m.tensors[0].shape = {1, 4, 4, 1, 1};
  m.tensors[0].data.clear();
  refused(m, "rank 5");
  m = ok;
  m.outputs = {0};
  m.ops[0].out = {0};
  refused(m, "writes 'x', which is a constant, a graph input or another operator's output");
  m = ok;
  m.ops.clear();
  refused(m, "no operator computes the graph output 'y'");
  m = ok;
  m.ops[0].options = nullptr;
  refused(m, "CONV_2D #0: Conv2DOptions missing");
  m = ok;
  m.ops[0].options = conv_options(fb::Padding_SAME, 0);
  refused(m, "strides and dilations must be 1..65536");
  // A tensor that refers to a buffer past the end of the buffer list.
  Bytes file = build(ok);
  fb::GetMutableModel(file.data())
      ->mutable_subgraphs()
      ->GetMutableObject(0)
      ->mutable_tensors()
      ->GetMutableObject(1)
      ->mutate_buffer(40);
  EXPECT_NE(refusal(file).find("tensor 'w' refers to buffer 40, but the model has 3"), std::string::npos);
}

TEST(TfliteImport, NotTfliteFiles) {
  EXPECT_NE(refusal({}).find("not a TFLite model (0 bytes)"), std::string::npos);
  const std::string text = "this is not a model at all";
  EXPECT_NE(refusal(Bytes(text.begin(), text.end())).find("no \"TFL3\" file identifier"), std::string::npos);
  Bytes file = read_bytes(model_path("hello_world_int8.tflite"));
  file[4] = 'X';  // the identifier
  EXPECT_NE(refusal(file).find("not a TFLite model"), std::string::npos);
  try {
    import_tflite(model_path("no_such_model.tflite"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::filesystem);
  }
}

// --- 3. truncated and corrupted files ----------------------------------------------------------------

// Imports BYTES expecting either a graph or one clean invalid_input line; returns whether it imported.
bool imports_or_refuses(const Bytes& bytes) {
  try {
    import_tflite_bytes(bytes, "cut.tflite");
    return true;
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::invalid_input) << m;
    EXPECT_EQ(m.rfind("cut.tflite: ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    return false;
  }
}

TEST(TfliteImport, EveryTruncationIsRefused) {
  const Bytes hello = read_bytes(model_path("hello_world_int8.tflite"));
  for (std::size_t n = 0; n < hello.size(); ++n)
    EXPECT_FALSE(imports_or_refuses(Bytes(hello.begin(), hello.begin() + n))) << "prefix of " << n << " bytes imported";
  for (const char* name : {"micro_speech_quantized.tflite", "mlperf-tiny/kws_ref_model.tflite", "person_detect.tflite"}) {
    const Bytes model = read_bytes(model_path(name));
    for (std::size_t k = 0; k < 200; ++k) {
      const std::size_t n = model.size() * k / 200 + k % 7;  // spread over the file, odd offsets too
      EXPECT_FALSE(imports_or_refuses(Bytes(model.begin(), model.begin() + std::min(n, model.size() - 1)))) << name << " " << n;
    }
  }
}

TEST(TfliteImport, CorruptedBytesNeverCrash) {
  // Every single byte of hello_world flipped, and a few values written at every position of its
  // first kilobyte (offsets, vtables, counts): each import ends with a graph or a clean refusal.
  const Bytes hello = read_bytes(model_path("hello_world_int8.tflite"));
  int refused = 0;
  for (std::size_t i = 0; i < hello.size(); ++i) {
    Bytes b = hello;
    b[i] ^= 0xFF;
    refused += !imports_or_refuses(b);
  }
  for (std::size_t i = 0; i < 1024; ++i)
    for (std::uint8_t v : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
      Bytes b = hello;
      b[i] = v;
      refused += !imports_or_refuses(b);
    }
  EXPECT_GT(refused, 100);  // plenty of the corruptions are caught (the rest hit weights' values)
}

}  // namespace
}  // namespace tml::deploy
