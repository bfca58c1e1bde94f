// Post-training int8 quantizer (deploy/quantizer.h) and graph passes (deploy/graph_passes.h):
//  1. graph passes on hand-built graphs: values unchanged, RELU fused or lowered, no-ops dropped;
//  2. hand-built graphs quantized with hand-computed expectations: scales, zero points, int8
//     weights (a channel's extreme hits +-127), int32 biases, fixed SOFTMAX/TANH quantization,
//     pass-through and CONCATENATION rules, the input standardisation's int8 constants;
//  3. calibration: min/max kept for uniform data, a clipped range chosen with an outlier;
//  4. numbers: each conv-type layer run with the runtime's int8 kernel on the quantized input of that
//     layer lands within a few output steps of the float layer; ADD/MUL likewise with add_s8/mul_s8;
//  5. networks exported by PyTorch (the trainer's DS-CNN and Conv1dNet, a MobileNet-like CNN with
//     concat/pad/pools/mean, an MLP with sigmoid/tanh) quantized with synthetic-but-plausible
//     calibration data: every op passes the kernel-parameter check, every conv-type layer is close.
#include "deploy/quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "core/errors.h"
#include "core/npy.h"
#include "core/process.h"
#include "deploy/float_executor.h"
#include "deploy/graph_passes.h"
#include "deploy/int8_executor.h"
#include "deploy/kernel_params.h"
#include "deploy/onnx_import.h"
#include "deploy/quantize_multiplier.h"
#include "runtime/conv.h"
#include "runtime/elementwise.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

namespace fs = std::filesystem;
using Floats = std::vector<float>;

// --- building graphs ----------------------------------------------------------------------------

struct Builder {
  Graph g;
  int act(const std::string& name, std::vector<int> shape) {
    Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    return g.add_tensor(std::move(t));
  }
  int cst(const std::string& name, std::vector<int> shape, const Floats& v) {
    Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    EXPECT_EQ(t.elements(), v.size()) << name;
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return g.add_tensor(std::move(t));
  }
  Op& op(OpKind kind, const std::string& name, std::vector<int> in, int out) {
    Op o;
    o.kind = kind;
    o.name = name;
    o.inputs = std::move(in);
    o.outputs = {out};
    g.ops.push_back(o);
    return g.ops.back();
  }
};

Floats random_floats(std::size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  Floats v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<Floats> uniform_samples(std::size_t count, std::size_t n, unsigned seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::vector<Floats> s;
  for (std::size_t i = 0; i < count; ++i) s.push_back(random_floats(n, rng, lo, hi));
  s[0][0] = lo;  // the range is reached exactly
  s[0][1] = hi;
  return s;
}

int tensor_named(const Graph& g, const std::string& name) {
  for (std::size_t t = 0; t < g.tensors.size(); ++t)
    if (g.tensors[t].name == name) return static_cast<int>(t);
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}
const Tensor& named(const Graph& g, const std::string& name) { return g.tensors[tensor_named(g, name)]; }
const Op& op_named(const Graph& g, const std::string& name) {
  for (const Op& op : g.ops)
    if (op.name == name) return op;
  throw std::runtime_error("no op " + name);
}
const ActivationReport& activation_report(const QuantizeReport& r, const std::string& tensor) {
  for (const auto& a : r.activations)
    if (a.tensor == tensor) return a;
  throw std::runtime_error("no report for " + tensor);
}

TensorQuant tq(const Tensor& t) { return {t.quant.scale.at(0), t.quant.zero_point.at(0)}; }
double real_min(TensorQuant q) { return double(q.scale) * (-128 - q.zero_point); }
double real_max(TensorQuant q) { return double(q.scale) * (127 - q.zero_point); }
const std::int8_t* int8s(const Tensor& t) { return reinterpret_cast<const std::int8_t*>(t.data.data()); }
std::vector<std::int32_t> int32s(const Tensor& t) {
  std::vector<std::int32_t> v(t.elements());
  std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}

// Every float tensor's values (one sample), by name.
std::map<std::string, Floats> float_values(const Graph& g, const Floats& sample) {
  const auto all = run_float_all(g, {sample});
  std::map<std::string, Floats> m;
  for (std::size_t t = 0; t < all.size(); ++t)
    if (!all[t].empty()) m[g.tensors[t].name] = all[t];
  return m;
}

// --- running single int8 ops with the runtime kernels ----------------------------------------------

rt::Shape shape4(const std::vector<int>& s) {  // right-aligned into NHWC
  int d[4] = {1, 1, 1, 1};
  for (std::size_t i = 0; i < s.size() && i < 4; ++i) d[4 - s.size() + i] = s[i];
  return {d[0], d[1], d[2], d[3]};
}

FusedActivation fused(Activation a) {
  return a == Activation::relu ? FusedActivation::relu : a == Activation::relu6 ? FusedActivation::relu6 : FusedActivation::none;
}

// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED of the int8 graph Q on INPUT, TFLite's parameters.
std::vector<std::int8_t> run_conv(const Graph& q, const Op& op, const std::vector<std::int8_t>& input) {
  const Tensor &x = q.tensors[op.inputs[0]], &w = q.tensors[op.inputs[1]], &y = q.tensors[op.outputs[0]];
  const TensorQuant in = tq(x), out = tq(y);
  std::vector<std::int32_t> mult, shift;
  for (float ws : w.quant.scale) {
    const QuantizedMultiplier m = quantize_multiplier(double(in.scale) * double(ws) / double(out.scale));
    mult.push_back(m.multiplier);
    shift.push_back(m.shift);
  }
  rt::ConvParams p;
  p.stride_h = op.stride_h, p.stride_w = op.stride_w, p.dilation_h = op.dilation_h, p.dilation_w = op.dilation_w;
  p.pad_top = op.pad_top, p.pad_left = op.pad_left, p.depth_multiplier = op.depth_multiplier;
  p.input_offset = -in.zero_point;
  p.output_offset = out.zero_point;
  const auto range = activation_range_s8(fused(op.activation), out);
  EXPECT_TRUE(range);
  p.act_min = range->min;
  p.act_max = range->max;
  const rt::ChannelQuant cq{mult.data(), shift.data(), mult.size() == 1};
  std::vector<std::int32_t> bias;
  if (op.inputs.size() > 2) bias = int32s(q.tensors[op.inputs[2]]);
  const std::int32_t* b = bias.empty() ? nullptr : bias.data();
  std::vector<std::int8_t> o(y.elements());
  rt::Status s;
  if (op.kind == OpKind::conv2d)
    s = rt::conv2d_s8(p, cq, shape4(x.shape), input.data(), shape4(w.shape), int8s(w), b, shape4(y.shape), o.data());
  else if (op.kind == OpKind::depthwise_conv2d)
    s = rt::depthwise_conv2d_s8(p, cq, shape4(x.shape), input.data(), shape4(w.shape), int8s(w), b, shape4(y.shape), o.data());
  else
    s = rt::fully_connected_s8(p, cq, shape4(x.shape), input.data(), rt::Shape{w.shape[0], 1, 1, w.shape[1]}, int8s(w), b,
                               rt::Shape{static_cast<std::int32_t>(y.elements() / w.shape[0]), 1, 1, w.shape[0]}, o.data());
  EXPECT_EQ(s, rt::Status::ok) << op.name;
  return o;
}

// ADD / MUL of Q on INPUTS (int8 constants taken from the graph).
std::vector<std::int8_t> run_binary(const Graph& q, const Op& op, const std::vector<std::int8_t>& a0,
                                    const std::vector<std::int8_t>& a1) {
  const Tensor &x0 = q.tensors[op.inputs[0]], &x1 = q.tensors[op.inputs[1]], &y = q.tensors[op.outputs[0]];
  std::vector<std::int8_t> o(y.elements());
  rt::Status s;
  if (op.kind == OpKind::add) {
    const auto p = add_params(tq(x0), tq(x1), tq(y), fused(op.activation));
    s = rt::add_s8(*p, shape4(x0.shape), a0.data(), shape4(x1.shape), a1.data(), shape4(y.shape), o.data());
  } else {
    const auto p = mul_params(tq(x0), tq(x1), tq(y), fused(op.activation));
    s = rt::mul_s8(*p, shape4(x0.shape), a0.data(), shape4(x1.shape), a1.data(), shape4(y.shape), o.data());
  }
  EXPECT_EQ(s, rt::Status::ok) << op.name;
  return o;
}

std::vector<std::int8_t> operand(const Graph& q, int t, const std::map<std::string, Floats>& f) {
  const Tensor& x = q.tensors[t];
  if (x.is_constant()) return {int8s(x), int8s(x) + x.elements()};
  return quantize_input(x, f.at(x.name));
}

// The float op OP of the int8 graph Q on INPUTS (dequantized int8 values, one per activation input),
// with FLOAT_GRAPH's float constants: what the int8 kernel approximates.
Floats float_op(const Graph& float_graph, const Graph& q, const Op& op, const std::vector<Floats>& inputs) {
  Graph h;
  Op o = op;
  std::map<int, int> index;  // q tensor -> h tensor
  std::vector<Floats> values;
  for (int& t : o.inputs) {
    if (!index.count(t)) {
      const Tensor& qt = q.tensors[t];
      if (qt.is_constant()) {
        index[t] = h.add_tensor(named(float_graph, qt.name));
      } else {
        Tensor a;
        a.name = qt.name;
        a.shape = qt.shape;
        index[t] = h.add_tensor(a);
        h.inputs.push_back(index[t]);
        values.push_back(inputs.at(values.size()));
      }
    }
    t = index[t];
  }
  Tensor y;
  y.shape = q.tensors[op.outputs[0]].shape;
  o.outputs = {h.add_tensor(y)};
  h.outputs = o.outputs;
  h.ops = {o};
  return run_float(h, values).at(0);
}

struct StepError {
  double max = 0, mean = 0;
  bool constant_operand = false;  // an ADD/MUL by a constant (the input standardisation)
};

// Runs every conv-type, ADD and MUL op of the int8 graph Q with the runtime kernel on the quantized
// float values of its inputs (each layer alone) and measures the output, in output steps, against
// the float op on the same (dequantized) inputs, clamped to the representable range: the error of
// the kernel arithmetic plus the weights' and constants' quantization.
std::map<std::string, StepError> layer_steps(const Graph& q, const Graph& float_graph, const Floats& sample) {
  const auto f = float_values(float_graph, sample);
  std::map<std::string, StepError> result;
  for (const Op& op : q.ops) {
    const bool conv = op.kind == OpKind::conv2d || op.kind == OpKind::depthwise_conv2d || op.kind == OpKind::fully_connected;
    if (!conv && op.kind != OpKind::add && op.kind != OpKind::mul) continue;
    std::vector<std::vector<std::int8_t>> in;
    std::vector<Floats> deq;
    for (std::size_t k = 0; k < (conv ? 1 : 2); ++k) {
      in.push_back(operand(q, op.inputs[k], f));
      if (!q.tensors[op.inputs[k]].is_constant()) deq.push_back(dequantize_output(q.tensors[op.inputs[k]], in.back()));
    }
    const std::vector<std::int8_t> out = conv ? run_conv(q, op, in[0]) : run_binary(q, op, in[0], in[1]);
    const Tensor& y = q.tensors[op.outputs[0]];
    const Floats expected = float_op(float_graph, q, op, deq);
    const Floats got = dequantize_output(y, out);
    StepError e;
    e.constant_operand = !conv && (q.tensors[op.inputs[0]].is_constant() || q.tensors[op.inputs[1]].is_constant());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double want = std::clamp<double>(expected[i], real_min(tq(y)), real_max(tq(y)));
      const double steps = std::abs(got[i] - want) / y.quant.scale[0];
      e.max = std::max(e.max, steps);
      e.mean += steps / double(got.size());
    }
    result[op.name] = e;
  }
  return result;
}

// --- 1. graph passes ------------------------------------------------------------------------------

// conv -> relu -> maxpool -> reshape(same) -> reshape {1,8} -> fc -> softmax, input {1,4,4,1}.
Graph small_cnn() {
  Builder b;
  const int x = b.act("x", {1, 4, 4, 1});
  const Floats w0 = {0.1f, -0.2f, 0.3f, -0.5f, 0.26f, 0.05f, 0.0f, 0.15f, -0.1f};
  const Floats w1 = {0.127f, 0.01f, -0.05f, 0.02f, 0.03f, -0.06f, 0.07f, 0.0f, -0.09f};
  Floats w = w0;
  w.insert(w.end(), w1.begin(), w1.end());
  const int cw = b.cst("conv/w", {2, 3, 3, 1}, w);
  const int cb = b.cst("conv/b", {2}, {0.3f, -0.2f});
  const int c = b.act("conv", {1, 4, 4, 2});
  Op& conv = b.op(OpKind::conv2d, "conv", {x, cw, cb}, c);
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  const int r = b.act("relu", {1, 4, 4, 2});
  b.op(OpKind::relu, "relu", {c}, r);
  const int p = b.act("pool", {1, 2, 2, 2});
  Op& pool = b.op(OpKind::max_pool2d, "pool", {r}, p);
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  const int same = b.act("same", {1, 2, 2, 2});
  b.op(OpKind::reshape, "same", {p}, same).new_shape = {1, 2, 2, 2};
  const int flat = b.act("flat", {1, 8});
  b.op(OpKind::reshape, "flat", {same}, flat).new_shape = {1, 8};
  std::mt19937 rng(7);
  const int fw = b.cst("fc/w", {3, 8}, random_floats(24, rng, -0.8f, 0.8f));
  const int fb = b.cst("fc/b", {3}, {0.1f, -0.05f, 0.02f});
  const int l = b.act("logits", {1, 3});
  b.op(OpKind::fully_connected, "fc", {flat, fw, fb}, l);
  const int y = b.act("probs", {1, 3});
  b.op(OpKind::softmax, "softmax", {l}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  return b.g;
}

void expect_same_outputs(const Graph& before, const Graph& after, const std::vector<Floats>& samples) {
  for (const Floats& s : samples) {
    const auto a = run_float(before, {s}), b = run_float(after, {s});
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
  }
}

TEST(GraphPasses, FuseReluDropNoOpsAndKeepValues) {
  const Graph g = small_cnn();
  Graph p = g;
  const auto log = prepare_for_int8(p);
  ASSERT_EQ(p.ops.size(), 5u) << "relu fused, the same-shape reshape dropped";
  EXPECT_EQ(p.ops[0].kind, OpKind::conv2d);
  EXPECT_EQ(p.ops[0].activation, Activation::relu);
  EXPECT_EQ(p.tensors[p.ops[0].outputs[0]].name, "relu") << "the fused op writes the activation's tensor";
  EXPECT_EQ(p.ops[1].kind, OpKind::max_pool2d);
  EXPECT_EQ(p.tensors[p.ops[2].inputs[0]].name, "pool");
  EXPECT_EQ(p.tensors.size(), g.tensors.size() - 2) << "the unused tensors 'conv' and 'same' are gone";
  EXPECT_EQ(log.size(), 2u);
  expect_same_outputs(g, p, uniform_samples(5, 16, 1));
}

TEST(GraphPasses, ReluWithAnotherReaderIsLoweredToMaxPool) {
  Builder b;
  const int x = b.act("x", {1, 2, 2, 3});
  const int w = b.cst("w", {3, 1, 1, 3}, {1, 0, 0, 0, -1, 0, 0.5f, 0.5f, 1});
  const int c = b.act("c", {1, 2, 2, 3});
  b.op(OpKind::conv2d, "conv", {x, w}, c);
  const int r = b.act("r", {1, 2, 2, 3});
  b.op(OpKind::relu6, "relu6", {c}, r);  // c is also read by the add: no fusion
  const int s = b.act("s", {1, 2, 2, 3});
  b.op(OpKind::add, "add", {c, r}, s);
  const int v = b.act("v", {1, 12});
  b.op(OpKind::reshape, "flat", {s}, v).new_shape = {1, 12};
  const int rv = b.act("rv", {1, 12});
  b.op(OpKind::relu, "relu_vec", {v}, rv);  // a reshape cannot take a fused activation
  b.g.inputs = {x};
  b.g.outputs = {rv};
  Graph p = b.g;
  prepare_for_int8(p);
  std::vector<OpKind> kinds;
  for (const Op& op : p.ops) kinds.push_back(op.kind);
  EXPECT_EQ(kinds, (std::vector<OpKind>{OpKind::conv2d, OpKind::max_pool2d, OpKind::add, OpKind::reshape, OpKind::reshape,
                                        OpKind::max_pool2d, OpKind::reshape}));
  EXPECT_EQ(p.ops[1].activation, Activation::relu6);
  EXPECT_EQ(p.ops[5].activation, Activation::relu);
  EXPECT_EQ(p.tensors[p.ops[5].inputs[0]].shape, (std::vector<int>{1, 1, 1, 12}));
  EXPECT_EQ(p.tensors[p.outputs[0]].name, "rv");
  expect_same_outputs(b.g, p, uniform_samples(5, 12, 2, -8, 8));
  // And it quantizes: the lowered pools keep their input's quantization.
  const QuantizedModel m = quantize(b.g, uniform_samples(20, 12, 3, -8, 8));
  EXPECT_EQ(tq(named(m.graph, "r")).scale, tq(named(m.graph, "c")).scale);
}

TEST(GraphPasses, NoOpsAreDroppedButGraphOutputsKeepTheirNames) {
  Builder b;
  const int x = b.act("x", {1, 4});
  const int w = b.cst("w", {4, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  const int f = b.act("f", {1, 4});
  b.op(OpKind::fully_connected, "fc", {x, w}, f);
  const int zeros = b.cst("zeros", {4}, {0, 0, 0, 0});
  const int a = b.act("a", {1, 4});
  b.op(OpKind::add, "add0", {f, zeros}, a);
  const int r1 = b.act("r1", {2, 2});
  b.op(OpKind::reshape, "r1", {a}, r1).new_shape = {2, 2};
  const int y = b.act("output", {1, 4});
  b.op(OpKind::reshape, "r2", {r1}, y).new_shape = {1, 4};
  b.g.inputs = {x};
  b.g.outputs = {y};
  Graph p = b.g;
  const auto log = prepare_for_int8(p);
  ASSERT_EQ(p.ops.size(), 1u) << ::testing::PrintToString(log);
  EXPECT_EQ(p.tensors[p.ops[0].outputs[0]].name, "output");
  EXPECT_EQ(p.outputs, p.ops[0].outputs);
  expect_same_outputs(b.g, p, uniform_samples(3, 4, 4));
}

// --- 2. hand-built graphs ------------------------------------------------------------------------

TEST(Quantizer, SmallCnnScalesZeroPointsWeightsAndBiases) {
  const Graph g = small_cnn();
  const auto samples = uniform_samples(50, 16, 11);
  QuantizeOptions o;
  o.method = CalibrationMethod::minmax;
  const QuantizedModel m = quantize(g, samples, o);
  const Graph& q = m.graph;
  EXPECT_NO_THROW(check_int8_kernels(q));
  ASSERT_EQ(q.ops.size(), 5u);

  // Input [-1, 1]: scale 2/255; zero point -0.5 from either end, TFLite takes it from the max
  // (smaller error term) and rounds half away from zero: -1.
  const Tensor& x = q.tensors[q.inputs[0]];
  EXPECT_EQ(x.type, DType::int8);
  EXPECT_FLOAT_EQ(x.quant.scale.at(0), 2.0f / 255);
  EXPECT_EQ(x.quant.zero_point.at(0), -1);

  // Weights: channel 0 max |w| 0.5, channel 1 0.127; axis 0.
  const Tensor& w = named(q, "conv/w");
  EXPECT_EQ(w.type, DType::int8);
  EXPECT_EQ(w.quant.axis, 0);
  ASSERT_EQ(w.quant.scale.size(), 2u);
  EXPECT_FLOAT_EQ(w.quant.scale[0], 0.5f / 127);
  EXPECT_FLOAT_EQ(w.quant.scale[1], 0.127f / 127);
  EXPECT_EQ(w.quant.zero_point, (std::vector<std::int32_t>{0, 0}));
  const std::int8_t* wq = int8s(w);
  EXPECT_EQ(wq[3], -127);  // -0.5
  EXPECT_EQ(wq[2], 76);    // 0.3 / (0.5/127) = 76.2
  EXPECT_EQ(wq[4], 66);    // 0.26 -> 66.04
  EXPECT_EQ(wq[9], 127);   // 0.127
  EXPECT_EQ(wq[11], -50);  // -0.05 / 0.001

  // Bias: 0.3 / (2/255 * 0.5/127) = 9715.4 -> 9715; -0.2 / (2/255 * 0.001) = -25500.
  const Tensor& bias = named(q, "conv/b");
  EXPECT_EQ(bias.type, DType::int32);
  EXPECT_EQ(int32s(bias), (std::vector<std::int32_t>{9715, -25500}));
  EXPECT_FLOAT_EQ(bias.quant.scale[0], (2.0f / 255) * (0.5f / 127));

  // Conv with fused relu: range [0, max of the calibration outputs], zero point -128.
  float max_relu = 0;
  for (const Floats& s : samples) {
    const auto f = float_values(g, s);
    for (float v : f.at("relu")) max_relu = std::max(max_relu, v);
  }
  const Tensor& c = named(q, "relu");
  EXPECT_EQ(c.quant.zero_point.at(0), -128);
  EXPECT_FLOAT_EQ(c.quant.scale.at(0), max_relu / 255);
  EXPECT_EQ(activation_report(m.report, "relu").method, "minmax");

  // Pool and reshape keep it; softmax is fixed.
  EXPECT_EQ(named(q, "pool").quant.scale, c.quant.scale);
  EXPECT_EQ(named(q, "pool").quant.zero_point, c.quant.zero_point);
  EXPECT_EQ(named(q, "flat").quant.scale, c.quant.scale);
  const Tensor& y = q.tensors[q.outputs[0]];
  EXPECT_EQ(y.type, DType::int8);
  EXPECT_EQ(y.quant.scale.at(0), 1.0f / 256);
  EXPECT_EQ(y.quant.zero_point.at(0), -128);
  EXPECT_EQ(activation_report(m.report, "probs").method, "fixed by SOFTMAX");

  // FC: three channels, each reaching +-127.
  const Tensor& fw = named(q, "fc/w");
  ASSERT_EQ(fw.quant.scale.size(), 3u);
  for (int ch = 0; ch < 3; ++ch) {
    int peak = 0;
    for (int i = 0; i < 8; ++i) peak = std::max(peak, std::abs(int(int8s(fw)[ch * 8 + i])));
    EXPECT_EQ(peak, 127);
  }
  // Every tensor is int8 but the biases.
  for (const Tensor& t : q.tensors) EXPECT_EQ(t.type, t.name.ends_with("/b") ? DType::int32 : DType::int8) << t.name;

  // Each conv-type layer with the runtime kernel: within one output step (plus rounding).
  for (const Floats& s : {samples[3], samples[17]})
    for (const auto& [name, e] : layer_steps(q, g, s)) {
      EXPECT_LE(e.max, 1.5) << name;
    }
}

TEST(Quantizer, DequantizedWeightsAreWithinHalfAStepAndEveryChannelReaches127) {
  std::mt19937 rng(21);
  Builder b;
  const int x = b.act("x", {1, 6, 6, 3});
  Floats w = random_floats(8 * 3 * 3 * 3, rng, -1, 1);
  for (int i = 0; i < 27; ++i) w[5 * 27 + i] *= 0.01f;  // one small channel
  for (int i = 0; i < 27; ++i) w[6 * 27 + i] = 0.0f;     // one dead channel
  const int cw = b.cst("w", {8, 3, 3, 3}, w);
  const int cb = b.cst("b", {8}, random_floats(8, rng, -0.5f, 0.5f));
  const int y = b.act("y", {1, 4, 4, 8});
  b.op(OpKind::conv2d, "conv", {x, cw, cb}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  const QuantizedModel m = quantize(b.g, uniform_samples(10, 108, 5));
  const Tensor& q = named(m.graph, "w");
  for (std::size_t i = 0; i < w.size(); ++i) {
    const float s = q.quant.scale[i / 27];
    EXPECT_LE(std::abs(int8s(q)[i] * s - w[i]), s / 2 * 1.0001f) << i;
  }
  for (int c = 0; c < 8; ++c) {
    int peak = 0;
    for (int i = 0; i < 27; ++i) peak = std::max(peak, std::abs(int(int8s(q)[c * 27 + i])));
    EXPECT_EQ(peak, c == 6 ? 0 : 127) << c;
  }
  // The dead channel borrows the smallest live scale (channel 5's), so its bias stays exact-ish.
  EXPECT_EQ(q.quant.scale[6], q.quant.scale[5]);
  for (const ConstantReport& r : m.report.constants) {
    EXPECT_EQ(r.saturated, 0);
    if (r.role == std::string("weights")) {
      EXPECT_EQ(r.channels, 8);
      EXPECT_GT(r.snr_db, 35.0);
    }
  }
  for (const auto& [name, e] : layer_steps(m.graph, b.g, uniform_samples(2, 108, 99)[1])) EXPECT_LE(e.max, 1.5) << name;
}

TEST(Quantizer, DepthwiseWeightsArePerChannelOnAxis3) {
  std::mt19937 rng(3);
  Builder b;
  const int x = b.act("x", {1, 5, 5, 2});
  const int w = b.cst("dw/w", {1, 3, 3, 4}, random_floats(36, rng, -2, 2));
  const int bias = b.cst("dw/b", {4}, {0.5f, -0.5f, 0.25f, 0});
  const int y = b.act("dw", {1, 5, 5, 4});
  Op& op = b.op(OpKind::depthwise_conv2d, "dw", {x, w, bias}, y);
  op.depth_multiplier = 2;
  op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = 1;
  b.g.inputs = {x};
  b.g.outputs = {y};
  const auto samples = uniform_samples(30, 50, 8, -3, 3);
  const QuantizedModel m = quantize(b.g, samples);
  const Tensor& q = named(m.graph, "dw/w");
  EXPECT_EQ(q.quant.axis, 3);
  ASSERT_EQ(q.quant.scale.size(), 4u);
  const float* wf = b.g.tensors[w].floats();
  for (int c = 0; c < 4; ++c) {
    float mx = 0;
    int peak = 0;
    for (int k = 0; k < 9; ++k) {
      mx = std::max(mx, std::abs(wf[k * 4 + c]));
      peak = std::max(peak, std::abs(int(int8s(q)[k * 4 + c])));
    }
    EXPECT_FLOAT_EQ(q.quant.scale[c], mx / 127);
    EXPECT_EQ(peak, 127);
  }
  const TensorQuant in = tq(m.graph.tensors[m.graph.inputs[0]]);
  const auto bq = int32s(named(m.graph, "dw/b"));
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(bq[c], std::llround(double(std::array{0.5f, -0.5f, 0.25f, 0.0f}[c]) / (double(in.scale) * double(q.quant.scale[c]))));
  for (const Floats& s : {samples[1], samples[2]})
    for (const auto& [name, e] : layer_steps(m.graph, b.g, s)) EXPECT_LE(e.max, 1.5) << name;
}

// Two conv branches from one input, ADD with a standalone RELU (fused into the add), and a
// CONCATENATION of the add with a wider branch.
Graph branches() {
  std::mt19937 rng(5);
  Builder b;
  const int x = b.act("x", {1, 4, 4, 2});
  const int wa = b.cst("a/w", {3, 1, 1, 2}, random_floats(6, rng, -1, 1));
  const int wb = b.cst("b/w", {3, 3, 3, 2}, random_floats(54, rng, -1, 1));
  const int a = b.act("a", {1, 4, 4, 3}), c = b.act("b", {1, 4, 4, 3});
  b.op(OpKind::conv2d, "a", {x, wa}, a);
  Op& cb = b.op(OpKind::conv2d, "b", {x, wb}, c);
  cb.pad_top = cb.pad_left = cb.pad_bottom = cb.pad_right = 1;
  const int s = b.act("sum", {1, 4, 4, 3}), r = b.act("sum_relu", {1, 4, 4, 3});
  b.op(OpKind::add, "add", {a, c}, s);
  b.op(OpKind::relu, "relu", {s}, r);
  const int wide = b.act("wide", {1, 4, 4, 3});
  b.op(OpKind::mul, "scale", {a, b.cst("ten", {1}, {10.0f})}, wide);
  const int cat = b.act("cat", {1, 4, 4, 6});
  b.op(OpKind::concatenation, "cat", {r, wide}, cat).axis = 3;
  b.g.inputs = {x};
  b.g.outputs = {cat};
  return b.g;
}

TEST(Quantizer, AddIsCalibratedOnItsOwnAndConcatenationCoversItsInputs) {
  const Graph g = branches();
  const auto samples = uniform_samples(40, 32, 9);
  const QuantizedModel m = quantize(g, samples);
  const Graph& q = m.graph;
  const Op& add = op_named(q, "add");
  EXPECT_EQ(add.activation, Activation::relu);
  const TensorQuant sum = tq(named(q, "sum_relu")), a = tq(named(q, "a")), b = tq(named(q, "b"));
  EXPECT_EQ(sum.zero_point, -128) << "relu-fused add: range [0, max]";
  EXPECT_NE(sum.scale, a.scale);
  EXPECT_TRUE(add_params(a, b, sum, FusedActivation::relu));
  // The constant 10 of the mul: per-tensor, range [0, 10]: scale 10/255, zero point -128, value 127.
  const Tensor& ten = q.tensors[op_named(q, "scale").inputs[1]];
  EXPECT_EQ(ten.type, DType::int8);
  EXPECT_FLOAT_EQ(ten.quant.scale.at(0), 10.0f / 255);
  EXPECT_EQ(ten.quant.zero_point.at(0), -128);
  EXPECT_EQ(int8s(ten)[0], 127);
  // The concatenation's range covers both inputs (each requantized by the kernel).
  const TensorQuant cat = tq(named(q, "cat")), wide = tq(named(q, "wide"));
  for (TensorQuant in : {sum, wide}) {
    EXPECT_LE(real_min(cat), real_min(in) + 1e-6);
    EXPECT_GE(real_max(cat), real_max(in) - 1e-6);
    EXPECT_TRUE(concat_input(rt::Shape{}, nullptr, in, cat));
  }
  EXPECT_EQ(activation_report(m.report, "cat").method, "covers the inputs");
  for (const Floats& s : {samples[0], samples[5]})
    for (const auto& [name, e] : layer_steps(q, g, s)) EXPECT_LE(e.max, 2.0) << name;
}

TEST(Quantizer, ConcatenationOfEqualQuantizationsKeepsIt) {
  Builder b;
  const int x = b.act("x", {1, 2, 2, 2});
  const int p = b.act("p", {1, 1, 1, 2});
  Op& pool = b.op(OpKind::max_pool2d, "pool", {x}, p);
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  const int m = b.act("m", {1, 1, 1, 2});
  b.op(OpKind::mean_hw, "mean", {x}, m);
  const int cat = b.act("cat", {1, 1, 1, 4});
  b.op(OpKind::concatenation, "cat", {p, m}, cat).axis = 3;
  b.g.inputs = {x};
  b.g.outputs = {cat};
  const QuantizedModel q = quantize(b.g, uniform_samples(10, 8, 1));
  const Tensor& in = q.graph.tensors[q.graph.inputs[0]];
  for (const char* name : {"p", "m", "cat"}) {
    EXPECT_EQ(named(q.graph, name).quant.scale, in.quant.scale) << name;
    EXPECT_EQ(named(q.graph, name).quant.zero_point, in.quant.zero_point) << name;
  }
}

// The trainer's input standardisation x * a + b (per-feature constants), then FC + ReLU, FC, softmax.
Graph standardised_mlp(const Floats& a, const Floats& b_shift) {
  std::mt19937 rng(13);
  Builder b;
  const int F = static_cast<int>(a.size());
  const int x = b.act("input", {1, F});
  const int sa = b.cst("scale", {F}, a), sb = b.cst("shift", {F}, b_shift);
  const int m = b.act("scaled", {1, F}), s = b.act("standard", {1, F});
  b.op(OpKind::mul, "mul", {x, sa}, m);
  b.op(OpKind::add, "add", {m, sb}, s);
  const int h = b.act("hidden", {1, 8});
  b.op(OpKind::fully_connected, "fc1", {s, b.cst("fc1/w", {8, F}, random_floats(8 * F, rng, -1, 1)), b.cst("fc1/b", {8}, random_floats(8, rng, -0.2f, 0.2f))}, h)
      .activation = Activation::relu;
  const int l = b.act("logits", {1, 3});
  b.op(OpKind::fully_connected, "fc2", {h, b.cst("fc2/w", {3, 8}, random_floats(24, rng, -1, 1))}, l);
  const int y = b.act("output", {1, 3});
  b.op(OpKind::tanh, "tanh", {l}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  return b.g;
}

TEST(Quantizer, InputStandardisationStaysAsInt8MulAndAddWithQuantizedConstants) {
  const Floats a = {0.5f, 2.0f, 1.0f, 4.0f, 0.25f}, shift = {-1.0f, 0.5f, 0.0f, -2.0f, 1.0f};
  const Graph g = standardised_mlp(a, shift);
  // Feature k ~ mean mu_k, spread 1/a_k: standardised values around [-1, 1].
  std::mt19937 rng(17);
  std::vector<Floats> samples;
  for (int i = 0; i < 100; ++i) {
    Floats s(5);
    for (int k = 0; k < 5; ++k) s[k] = (-shift[k] + std::normal_distribution<float>(0, 1)(rng)) / a[k];
    samples.push_back(s);
  }
  const QuantizedModel m = quantize(g, samples);
  const Graph& q = m.graph;
  ASSERT_EQ(q.ops.size(), 5u);
  EXPECT_EQ(q.ops[0].kind, OpKind::mul);
  EXPECT_EQ(q.ops[1].kind, OpKind::add);
  // a in [0.25, 4]: range [0, 4], scale 4/255, zero point -128; each within half a step.
  const Tensor& qa = named(q, "scale");
  EXPECT_EQ(qa.type, DType::int8);
  EXPECT_FLOAT_EQ(qa.quant.scale.at(0), 4.0f / 255);
  EXPECT_EQ(qa.quant.zero_point.at(0), -128);
  const auto da = dequantize_output(qa, {int8s(qa), 5});
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(da[k], a[k], 2.0 / 255 + 1e-6) << k;
  // shift in [-2, 1]: scale 3/255; zero point from the min end: -128 + 2/(3/255) = 42.
  const Tensor& qb = named(q, "shift");
  EXPECT_FLOAT_EQ(qb.quant.scale.at(0), 3.0f / 255);
  EXPECT_EQ(qb.quant.zero_point.at(0), 42);
  EXPECT_TRUE(mul_params(tq(q.tensors[q.inputs[0]]), tq(qa), tq(named(q, "scaled")), FusedActivation::none));
  EXPECT_TRUE(add_params(tq(named(q, "scaled")), tq(qb), tq(named(q, "standard")), FusedActivation::none));
  // TANH output fixed at 1/128, 0.
  EXPECT_EQ(tq(named(q, "output")).scale, 1.0f / 128);
  EXPECT_EQ(tq(named(q, "output")).zero_point, 0);
  int operands = 0;
  for (const ConstantReport& r : m.report.constants) operands += r.role == std::string("operand");
  EXPECT_EQ(operands, 2);
  // mul, add and both FCs with the runtime kernels, each on its quantized float input.
  for (int i : {0, 7, 50})
    for (const auto& [name, e] : layer_steps(q, g, samples[i])) EXPECT_LE(e.max, 2.0) << name;
}

TEST(Quantizer, ConstantsOfVeryDifferentMagnitudesAreReported) {
  const Graph g = standardised_mlp({0.001f, 1.0f, 50.0f, 1.0f, 1.0f}, {0, 0, 0, 0, 0});
  const QuantizedModel m = quantize(g, uniform_samples(20, 5, 3));
  ASSERT_EQ(m.report.warnings.size(), 1u) << ::testing::PrintToString(m.report.warnings);
  EXPECT_NE(m.report.warnings[0].find("the constant 'scale' of op 'mul' (MUL) is off by up to 100%"), std::string::npos)
      << m.report.warnings[0];
}

// --- 3. calibration --------------------------------------------------------------------------------

Graph fc_graph(int n) {
  std::mt19937 rng(1);
  Builder b;
  const int x = b.act("x", {1, n});
  const int l = b.act("l", {1, 4});
  b.op(OpKind::fully_connected, "fc", {x, b.cst("w", {4, n}, random_floats(4 * n, rng, -1, 1))}, l);
  const int y = b.act("y", {1, 4});
  b.op(OpKind::softmax, "softmax", {l}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  return b.g;
}

TEST(Calibration, UniformValuesKeepMinMax) {
  QuantizeOptions o;
  o.max_samples = 150;
  const QuantizedModel m = quantize(fc_graph(64), uniform_samples(200, 64, 2), o);
  EXPECT_EQ(m.report.samples_used, 150u);
  const ActivationReport& r = activation_report(m.report, "x");
  EXPECT_EQ(r.method, "minmax");
  EXPECT_EQ(r.min, -1.0f);
  EXPECT_EQ(r.max, 1.0f);
  ASSERT_EQ(r.candidates.size(), 3u);
}

TEST(Calibration, AnOutlierMakesAClippedRangeWin) {
  std::mt19937 rng(4);
  std::vector<Floats> samples;
  for (int i = 0; i < 200; ++i) {
    Floats s(64);
    for (float& v : s) v = std::normal_distribution<float>(0, 1)(rng);
    samples.push_back(s);
  }
  samples[37][5] = 300.0f;  // one glitch among 12,800 values
  const QuantizedModel m = quantize(fc_graph(64), samples);
  const ActivationReport& r = activation_report(m.report, "x");
  EXPECT_TRUE(r.method == "percentile" || r.method == "mse") << r.method;
  EXPECT_LT(r.max, 10.0f);
  EXPECT_LT(r.mse, r.candidates[0].mse / 10) << "far better than min/max on the bulk of the values";
  // Forcing a method is obeyed.
  QuantizeOptions o;
  o.method = CalibrationMethod::minmax;
  EXPECT_EQ(activation_report(quantize(fc_graph(64), samples, o).report, "x").max, 300.0f);
  o.method = CalibrationMethod::mse;
  EXPECT_EQ(activation_report(quantize(fc_graph(64), samples, o).report, "x").method, "mse");
}

TEST(Calibration, DeadTensorsAndBadInputsAreHandled) {
  // All-zero input: a narrow but valid range.
  const QuantizedModel m = quantize(fc_graph(8), {Floats(8, 0.0f), Floats(8, 0.0f)});
  EXPECT_GT(tq(m.graph.tensors[m.graph.inputs[0]]).scale, 0.0f);
  auto code = [](auto f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("quantizer: "), std::string::npos) << e.what();
      return e.code();
    }
    return ExitCode::ok;
  };
  EXPECT_EQ(code([] { quantize(fc_graph(8), {}); }), ExitCode::invalid_input);
  EXPECT_EQ(code([] { quantize(fc_graph(8), {Floats(7)}); }), ExitCode::invalid_input);
  QuantizeOptions bad;
  bad.percentile = 20;
  EXPECT_EQ(code([&] { quantize(fc_graph(8), {Floats(8)}, bad); }), ExitCode::invalid_input);
}

// --- kernel-parameter check, helpers, layer errors -----------------------------------------------

TEST(CheckInt8Kernels, NamesTheOpWhoseParametersDoNotExist) {
  QuantizedModel m = quantize(small_cnn(), uniform_samples(10, 16, 1));
  Graph g = m.graph;
  g.tensors[g.outputs[0]].quant.scale[0] = 0.01f;  // softmax output must be 1/256
  try {
    check_int8_kernels(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("op 'softmax' (SOFTMAX)"), std::string::npos) << e.what();
  }
  g = m.graph;
  g.tensors[tensor_named(g, "relu")].quant.scale[0] = 1e-30f;  // conv multiplier out of range
  try {
    check_int8_kernels(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("op 'conv' (CONV_2D): the output multiplier"), std::string::npos) << e.what();
  }
  g = m.graph;
  g.tensors[tensor_named(g, "pool")].quant.zero_point[0] += 1;
  EXPECT_THROW(check_int8_kernels(g), Error);
}

TEST(QuantizeHelpers, RoundHalfAwayFromZeroAndSaturate) {
  Tensor t;
  t.type = DType::int8;
  t.shape = {1, 6};
  t.quant = {{0.5f}, {3}, -1};
  const Floats x = {0.25f, -0.25f, 0.75f, 100.0f, -100.0f, 0.0f};
  EXPECT_EQ(quantize_input(t, x), (std::vector<std::int8_t>{4, 2, 5, 127, -128, 3}));
  EXPECT_EQ(dequantize_output(t, std::vector<std::int8_t>{4, 2, -128}), (Floats{0.5f, -0.5f, -65.5f}));
  t.type = DType::float32;
  EXPECT_THROW(quantize_input(t, x), Error);
}

TEST(LayerErrors, ComparesEveryOpOutputWithTheFloatTensorOfTheSameName) {
  const Graph g = small_cnn();
  const auto samples = uniform_samples(20, 16, 6);
  QuantizeOptions o;
  o.method = CalibrationMethod::minmax;  // nothing clipped: exact quantization is within half a step
  const QuantizedModel m = quantize(g, samples, o);
  const Graph& q = m.graph;
  // A stand-in for the int8 executor: every tensor the exact quantization of its float value,
  // except the pool output, shifted by 3 steps.
  const Graph* qp = &q;
  const Graph* gp = &g;
  std::size_t next = 0;
  auto runner = [&](const std::vector<std::int8_t>&) {
    const auto f = float_values(*gp, samples[next++ % samples.size()]);
    std::vector<std::vector<std::int8_t>> v(qp->tensors.size());
    for (std::size_t t = 0; t < v.size(); ++t) {
      const auto it = f.find(qp->tensors[t].name);
      if (it == f.end() || qp->tensors[t].is_constant()) continue;
      v[t] = quantize_input(qp->tensors[t], it->second);
      if (qp->tensors[t].name == "pool")
        for (auto& b : v[t]) b = static_cast<std::int8_t>(std::min(124, int(b)) + 3);
    }
    return v;
  };
  const auto errors = layer_errors(g, q, {samples.begin(), samples.begin() + 4}, runner);
  ASSERT_EQ(errors.size(), 5u);
  std::map<std::string, LayerError> by_op;
  for (const auto& e : errors) by_op[e.op] = e;
  EXPECT_EQ(by_op["conv"].tensor, "relu");
  EXPECT_LE(by_op["conv"].max_error_steps, 0.5001);
  EXPECT_GT(by_op["conv"].snr_db, 30.0);
  EXPECT_GT(by_op["pool"].max_error_steps, 2.4);
  EXPECT_LT(by_op["pool"].snr_db, by_op["conv"].snr_db - 10);
  EXPECT_LE(by_op["softmax"].max_error_steps, 0.5001);
}

// --- 5. networks exported by PyTorch ---------------------------------------------------------------

const char* kExportScript = R"PY(
import os, sys
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import torch
from torch import nn
torch.set_num_threads(1)
torch.manual_seed(7)
rng = np.random.default_rng(7)
out_dir, trainers = sys.argv[1], sys.argv[2]
sys.path.insert(0, trainers)
import tml_models, tml_export

def randomize(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model.eval()

def cbr(cin, cout, k, s=1, p=0, g=1, act=nn.ReLU):
    return [nn.Conv2d(cin, cout, k, s, p, groups=g, bias=False), nn.BatchNorm2d(cout), act()]

class Inverted(nn.Module):
    def __init__(self, c, e):
        super().__init__()
        self.body = nn.Sequential(*cbr(c, c * e, 1, act=nn.ReLU6), *cbr(c * e, c * e, 3, 1, 1, c * e, act=nn.ReLU6),
                                  nn.Conv2d(c * e, c, 1, bias=False), nn.BatchNorm2d(c))
    def forward(self, x):
        return x + self.body(x)

class MobileNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*cbr(3, 8, 3, 2, 1, act=nn.ReLU6))
        self.dw2 = nn.Sequential(nn.Conv2d(8, 16, 3, 1, 1, groups=8), nn.BatchNorm2d(16), nn.ReLU6())
        self.block = Inverted(16, 2)
        self.smooth = nn.AvgPool2d(3, 1, 1)
        self.bn = nn.BatchNorm2d(16)
        self.pad = nn.ZeroPad2d((1, 1, 1, 1))
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.side = nn.Conv2d(16, 8, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(48, 6)
    def forward(self, x):
        x = self.block(self.dw2(self.stem(x)))
        x = torch.relu(self.bn(x + self.smooth(x)))
        x = self.pool(self.pad(x))
        x = torch.cat([x, self.side(x)], 1)
        a = self.gap(x).view(1, -1)
        b = x.mean([2, 3])
        return torch.softmax(self.fc(torch.cat([a, b], 1)), dim=1)

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.rand(40) + 0.5)
        self.register_buffer("shift", torch.randn(40))
        self.l1, self.bn, self.l2, self.l3 = nn.Linear(40, 32), nn.BatchNorm1d(32), nn.Linear(32, 16), nn.Linear(16, 8)
    def forward(self, x):
        x = x * self.scale + self.shift
        x = torch.relu(self.bn(self.l1(x)))
        x = torch.sigmoid(self.l2(x))
        return torch.softmax(torch.tanh(self.l3(x)), -1)

def mfcc_like(n):
    # 49 frames x 10 coefficients: c0 large and negative, higher coefficients smaller, frames correlated.
    base = rng.normal([-250, 40, -10, 12, -6, 5, -3, 3, -2, 1], [40, 15, 10, 8, 6, 5, 4, 3, 3, 2], (n, 1, 1, 10))
    return (base + rng.normal(0, 1, (n, 1, 49, 10)) * np.array([20, 8, 6, 5, 4, 3, 3, 2, 2, 2])).astype(np.float32)

def save_calib(name, x):
    np.save(os.path.join(out_dir, name + "_calib.npy"), x.astype(np.float32))

ds = tml_models.DSCNN((1, 49, 10), 4, filters=16, blocks=2)
calib = mfcc_like(40)
ds.standardize.fit(torch.from_numpy(calib))
tml_export.export(tml_export.WithSoftmax(randomize(ds)).eval(), (1, 49, 10), os.path.join(out_dir, "dscnn.onnx"))
save_calib("dscnn", calib)

c1 = tml_models.Conv1dNet((12,), 3, filters=4, blocks=2)
calib = (rng.normal(0, 1, (40, 12)) * np.linspace(0.1, 20, 12) + np.linspace(-5, 5, 12)).astype(np.float32)
c1.standardize.fit(torch.from_numpy(calib))
tml_export.export(tml_export.WithSoftmax(randomize(c1)).eval(), (12,), os.path.join(out_dir, "conv1d.onnx"))
save_calib("conv1d", calib)

for name, model, shape, calib in [
        ("mobilenet", MobileNetLike(), (3, 32, 32), rng.uniform(0, 1, (24, 3, 32, 32))),
        ("mlp", MLP(), (40,), rng.normal(0, 2, (40, 40)))]:
    torch.onnx.export(randomize(model), torch.zeros((1,) + shape), os.path.join(out_dir, name + ".onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["output"])
    save_calib(name, calib)
print("ok")
)PY";

class QuantizeTorch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const fs::path script = *dir_ / "export.py";
    test::write_text(script, kExportScript);
    result_ = new ProcessResult(run_process(
        {"/usr/bin/python3", script.string(), dir_->path().string(), (test::source_dir() / "train_bridge/trainers").string()},
        {.env = {{"OMP_NUM_THREADS", "1"}, {"OMP_WAIT_POLICY", "PASSIVE"}}}));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(result_->exit_code, 0) << "PyTorch export failed (scripts/setup.sh installs python3-torch): " << result_->err;
  }

  // The calibration samples in the IR's layout (NCHW -> NHWC for rank 4).
  static std::vector<Floats> calibration(const std::string& name) {
    const NpyArray a = npy_read(*dir_ / (name + "_calib.npy"));
    const std::size_t n = a.shape[0], per = a.data.size() / 4 / n;
    std::vector<Floats> samples(n, Floats(per));
    for (std::size_t s = 0; s < n; ++s) {
      Floats raw(per);
      std::memcpy(raw.data(), a.data.data() + s * per * 4, per * 4);
      if (a.shape.size() != 4) {
        samples[s] = raw;
        continue;
      }
      const std::size_t C = a.shape[1], HW = a.shape[2] * a.shape[3];
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t i = 0; i < HW; ++i) samples[s][i * C + c] = raw[c * HW + i];
    }
    return samples;
  }

  // Quantizes NAME with all but the last calibration sample; checks the kernels and each
  // conv-type/ADD/MUL layer on the held-out sample.
  static QuantizedModel check(const std::string& name, double max_steps) {
    const Graph g = import_onnx(*dir_ / (name + ".onnx"));
    auto samples = calibration(name);
    const Floats held_out = samples.back();
    samples.pop_back();
    const QuantizedModel m = quantize(g, samples);
    EXPECT_NO_THROW(check_int8_kernels(m.graph));
    EXPECT_EQ(m.report.samples_used, samples.size());
    for (const Tensor& t : m.graph.tensors) {
      EXPECT_NE(t.type, DType::float32) << t.name;
      if (t.type == DType::int8 && !t.is_constant()) {
        EXPECT_EQ(t.quant.scale.size(), 1u) << t.name;
      }
    }
    int layers = 0;
    for (const auto& [op, e] : layer_steps(m.graph, g, held_out)) {
      if (e.constant_operand) continue;  // the standardisation: FoldingTheStandardisation... below
      EXPECT_LE(e.max, max_steps) << name << ": " << op;
      EXPECT_LE(e.mean, 0.5) << name << ": " << op;
      ++layers;
    }
    EXPECT_GT(layers, 2);
    return m;
  }
  static int count(const Graph& g, OpKind kind) {
    return static_cast<int>(std::count_if(g.ops.begin(), g.ops.end(), [&](const Op& op) { return op.kind == kind; }));
  }

  static test::TempDir* dir_;
  static ProcessResult* result_;
};
test::TempDir* QuantizeTorch::dir_ = nullptr;
ProcessResult* QuantizeTorch::result_ = nullptr;

TEST_F(QuantizeTorch, TrainerDsCnnWithStandardisation) {
  const QuantizedModel m = check("dscnn", 2.0);
  EXPECT_EQ(count(m.graph, OpKind::mul), 1);
  EXPECT_EQ(count(m.graph, OpKind::add), 1);
  EXPECT_EQ(count(m.graph, OpKind::depthwise_conv2d), 2);
  const Tensor& y = m.graph.tensors[m.graph.outputs[0]];
  EXPECT_EQ(tq(y).scale, 1.0f / 256);
  EXPECT_EQ(tq(y).zero_point, -128);
}

TEST_F(QuantizeTorch, TrainerConv1dNet) { check("conv1d", 2.0); }

// Signal-to-noise ratio (dB) of the standardised input tensor as the int8 graph sees it, over SAMPLES:
// through the int8 MUL and ADD (not folded), or quantized directly (folded).
double standardised_snr(const Graph& g, const QuantizedModel& m, const std::vector<Floats>& samples, const std::string& tensor) {
  const Graph& q = m.graph;
  double sig = 0, err = 0;
  for (const Floats& s : samples) {
    const Floats want = float_values(g, s).at(tensor);
    std::vector<std::int8_t> v = quantize_input(m, s);
    for (const Op& op : q.ops) {  // the MUL and ADD before TENSOR, if any
      if (op.kind != OpKind::mul && op.kind != OpKind::add) break;
      const Tensor& c = q.tensors[op.inputs[1]];
      v = run_binary(q, op, v, {int8s(c), int8s(c) + c.elements()});
      if (q.tensors[op.outputs[0]].name == tensor) break;
    }
    const Floats got = dequantize_output(named(q, tensor), v);
    for (std::size_t i = 0; i < want.size(); ++i) {
      sig += double(want[i]) * want[i];
      err += std::pow(double(got[i]) - want[i], 2);
    }
  }
  return 10 * std::log10(sig / err);
}

TEST_F(QuantizeTorch, FoldingTheStandardisationKeepsTheInputPrecise) {
  for (const char* name : {"dscnn", "conv1d"}) {
    SCOPED_TRACE(name);
    const Graph g = import_onnx(*dir_ / (std::string(name) + ".onnx"));
    const auto samples = calibration(name);
    const QuantizedModel kept = quantize(g, samples);
    QuantizeOptions o;
    o.fold_input_standardisation = true;
    const QuantizedModel folded = quantize(g, samples, o);
    EXPECT_EQ(count(folded.graph, OpKind::mul) + count(folded.graph, OpKind::add), 0);
    ASSERT_FALSE(folded.input_transform.empty());
    const std::string standardised = folded.graph.tensors[folded.graph.inputs[0]].name;
    EXPECT_NE(standardised.find("standardize/Add"), std::string::npos) << standardised;
    EXPECT_NO_THROW(check_int8_kernels(folded.graph));
    // Raw MFCC-like features span hundreds (c0) and units (c9): per-tensor int8 on them loses the
    // small coefficients; standardised first, every feature keeps its resolution.
    const double snr_kept = standardised_snr(g, kept, samples, standardised);
    const double snr_folded = standardised_snr(g, folded, samples, standardised);
    EXPECT_GT(snr_folded, 35.0);
    EXPECT_GT(snr_folded, snr_kept + 15.0) << snr_kept;
    for (const auto& [op, e] : layer_steps(folded.graph, g, samples.back())) EXPECT_LE(e.max, 2.0) << op;
  }
}

TEST_F(QuantizeTorch, MobileNetLikeWithConcatPadPoolsAndMean) {
  const QuantizedModel m = check("mobilenet", 2.0);
  EXPECT_EQ(count(m.graph, OpKind::concatenation), 2);
  EXPECT_GE(count(m.graph, OpKind::pad), 1);
  EXPECT_EQ(count(m.graph, OpKind::mean_hw), 2);
}

TEST_F(QuantizeTorch, MlpWithSigmoidAndTanh) {
  const QuantizedModel m = check("mlp", 2.0);
  EXPECT_EQ(count(m.graph, OpKind::logistic), 1);
  EXPECT_EQ(count(m.graph, OpKind::tanh), 1);
}

}  // namespace
}  // namespace tml::deploy


namespace tml::deploy {
namespace {

// Features of very different magnitudes feeding a FULLY_CONNECTED directly (the ONNX importer folds
// the trainer's standardisation into the weights): folded, the input is standardised per feature in
// float and the int8 logits follow the float ones; without it the small feature is lost.
TEST(FoldInputStandardisation, FullyConnectedOnRawFeaturesGetsItsStandardisationBack) {
  std::mt19937 rng(3);
  std::normal_distribution<float> big(400.0f, 50.0f), small(0.01f, 0.005f), mid(-5.0f, 1.0f);
  std::vector<Floats> samples;
  for (int i = 0; i < 300; ++i) samples.push_back({big(rng), small(rng), mid(rng)});
  Builder b;
  const int x = b.act("x", {1, 3});
  const int l = b.act("l", {1, 2});
  // The logits hinge on the small feature: (x1 - 0.01) * 2000, and a little of the others.
  b.op(OpKind::fully_connected, "fc", {x, b.cst("w", {2, 3}, {0.001f, 2000.0f, 0.1f, -0.001f, -2000.0f, -0.1f}),
                                       b.cst("b", {2}, {-20.0f + 0.5f - 0.4f, 20.0f - 0.5f + 0.4f})}, l);
  b.g.inputs = {x};
  b.g.outputs = {l};
  const auto error_steps = [&](bool fold) {
    QuantizeOptions o;
    o.fold_input_standardisation = fold;
    const QuantizedModel m = quantize(b.g, samples, o);
    EXPECT_EQ(m.input_transform.empty(), !fold);
    const Tensor& out = m.graph.tensors[m.graph.outputs[0]];
    double worst = 0;
    for (int i = 0; i < 50; ++i) {
      const auto q = quantize_input(m, samples[i]);
      const auto y = run_int8(m.graph, {q})[0];
      const auto f = run_float(b.g, {samples[i]})[0];
      for (std::size_t k = 0; k < 2; ++k)
        worst = std::max<double>(worst, std::abs(out.quant.scale[0] * (y[k] - out.quant.zero_point[0]) - f[k]) / out.quant.scale[0]);
    }
    return worst;
  };
  const double folded = error_steps(true), raw = error_steps(false);
  EXPECT_LT(folded, 3.0);
  EXPECT_GT(raw, 10.0);
}

}  // namespace
}  // namespace tml::deploy
