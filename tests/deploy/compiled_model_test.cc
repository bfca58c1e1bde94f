// compile_model + run_compiled + generate_model + model_runner on a hand-built int8 graph that uses
// every kernel kind: the planned arena gives the same bytes as unshared buffers, and the generated
// code gives the same bytes on the host board and on the Cortex-M4F (QEMU).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "core/errors.h"
#include "deploy/codegen.h"
#include "deploy/compiled_model.h"
#include "deploy/firmware_build.h"
#include "deploy/int8_executor.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

class GraphMaker {
 public:
  std::mt19937 rng{7};
  Graph g;

  int activation(const std::string& name, std::vector<int> shape, float scale, int zp) {
    Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = DType::int8;
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
    return g.add_tensor(t);
  }
  int weights(const std::string& name, std::vector<int> shape, int channels) {
    Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = DType::int8;
    t.data.resize(t.elements());
    std::uniform_int_distribution<int> d(-127, 127);
    for (auto& b : t.data) b = static_cast<std::uint8_t>(static_cast<std::int8_t>(d(rng)));
    std::uniform_real_distribution<float> s(0.002f, 0.02f);
    for (int c = 0; c < channels; ++c) {
      t.quant.scale.push_back(s(rng));
      t.quant.zero_point.push_back(0);
    }
    return g.add_tensor(t);
  }
  int bias(const std::string& name, int count) {
    Tensor t;
    t.name = name;
    t.shape = {count};
    t.type = DType::int32;
    std::vector<std::int32_t> v(static_cast<std::size_t>(count));
    std::uniform_int_distribution<int> d(-2000, 2000);
    for (auto& x : v) x = d(rng);
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return g.add_tensor(t);
  }
  Op& op(OpKind kind, std::vector<int> inputs, int output) {
    Op o;
    o.kind = kind;
    o.name = std::string(op_name(kind)) + "_" + std::to_string(g.ops.size());
    o.inputs = std::move(inputs);
    o.outputs = {output};
    g.ops.push_back(o);
    return g.ops.back();
  }
};

// input {1,12,10,1} -> conv 3x3 s1 pad 1 (8) relu -> depthwise 3x3 (8) relu6 -> conv 1x1 (8)
// -> add (residual with the depthwise output) -> max pool 2x2 -> pad -> avg pool 3x3 s2 -> concat
// with a mul branch -> mean -> reshape -> fc (4) -> softmax; a logistic and tanh branch feeds concat.
Graph test_graph() {
  GraphMaker m;
  const int in = m.activation("input", {1, 12, 10, 1}, 0.05f, -3);
  m.g.inputs = {in};
  const int c1 = m.activation("c1", {1, 12, 10, 8}, 0.04f, -128);
  Op& conv = m.op(OpKind::conv2d, {in, m.weights("w1", {8, 3, 3, 1}, 8), m.bias("b1", 8)}, c1);
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  conv.activation = Activation::relu;
  const int d1 = m.activation("d1", {1, 12, 10, 8}, 0.03f, -128);
  Op& dw = m.op(OpKind::depthwise_conv2d, {c1, m.weights("wd", {1, 3, 3, 8}, 8), m.bias("bd", 8)}, d1);
  dw.pad_top = dw.pad_left = dw.pad_bottom = dw.pad_right = 1;
  dw.activation = Activation::relu6;
  const int p1 = m.activation("p1", {1, 12, 10, 8}, 0.06f, 5);
  m.op(OpKind::conv2d, {d1, m.weights("wp", {8, 1, 1, 8}, 8), m.bias("bp", 8)}, p1);
  const int a1 = m.activation("a1", {1, 12, 10, 8}, 0.08f, 2);
  m.op(OpKind::add, {p1, d1}, a1).activation = Activation::relu;
  const int mp = m.activation("mp", {1, 6, 5, 8}, 0.08f, 2);
  Op& pool = m.op(OpKind::max_pool2d, {a1}, mp);
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride_h = pool.stride_w = 2;
  const int pd = m.activation("pd", {1, 8, 7, 8}, 0.08f, 2);
  m.op(OpKind::pad, {mp}, pd).paddings = {0, 0, 1, 1, 1, 1, 0, 0};
  const int ap = m.activation("ap", {1, 3, 3, 8}, 0.08f, 2);
  Op& avg = m.op(OpKind::average_pool2d, {pd}, ap);
  avg.kernel_h = avg.kernel_w = 3;
  avg.stride_h = avg.stride_w = 2;
  const int mu = m.activation("mu", {1, 3, 3, 8}, 0.1f, -10);
  m.op(OpKind::mul, {ap, ap}, mu);
  const int lg = m.activation("lg", {1, 3, 3, 8}, 1.0f / 256, -128);
  m.op(OpKind::logistic, {mu}, lg);
  const int th = m.activation("th", {1, 3, 3, 8}, 1.0f / 128, 0);
  m.op(OpKind::tanh, {ap}, th);
  const int cc = m.activation("cc", {1, 3, 3, 24}, 0.09f, 0);
  m.op(OpKind::concatenation, {ap, lg, th}, cc).axis = -1;
  const int mn = m.activation("mn", {1, 1, 1, 24}, 0.09f, 0);
  m.op(OpKind::mean_hw, {cc}, mn);
  const int rs = m.activation("rs", {1, 24}, 0.09f, 0);
  m.op(OpKind::reshape, {mn}, rs).new_shape = {1, 24};
  const int fc = m.activation("fc", {1, 4}, 0.2f, 1);
  m.op(OpKind::fully_connected, {rs, m.weights("wf", {4, 24}, 1), m.bias("bf", 4)}, fc);
  const int sm = m.activation("sm", {1, 4}, 1.0f / 256, -128);
  m.op(OpKind::softmax, {fc}, sm);
  m.g.outputs = {sm};
  return m.g;
}

std::vector<std::vector<std::uint8_t>> random_inputs(std::size_t count, std::size_t bytes) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::vector<std::uint8_t>> inputs(count, std::vector<std::uint8_t>(bytes));
  for (auto& in : inputs)
    for (auto& b : in) b = static_cast<std::uint8_t>(d(rng));
  return inputs;
}

// The same model with every tensor in its own bytes (no sharing, no in-place kernels).
CompiledModel unshared(CompiledModel m) {
  std::int64_t next = 0;
  for (std::size_t t = 0; t < m.arena_offset.size(); ++t) {
    if (m.arena_offset[t] < 0) continue;
    m.arena_offset[t] = next;
    next += (static_cast<std::int64_t>(m.graph.tensors[t].bytes()) + 15) / 16 * 16;
  }
  for (auto& c : m.calls) c.in_place = false;
  m.arena_bytes = next;
  return m;
}

TEST(CompiledModel, PlannedArenaGivesTheBytesOfUnsharedBuffers) {
  const CompiledModel m = compile_model(test_graph());
  EXPECT_EQ(m.calls.size(), 15u);
  EXPECT_LE(m.arena_bytes, m.tflm_greedy_bytes);
  EXPECT_GE(m.arena_bytes, m.plan.lower_bound);
  EXPECT_TRUE(check_plan(m.problem, m.plan).empty());
  const CompiledModel reference = unshared(m);
  EXPECT_GT(reference.arena_bytes, m.arena_bytes);
  EXPECT_TRUE(std::any_of(m.plan.hint_used.begin(), m.plan.hint_used.end(), [](bool b) { return b; }));
  EXPECT_TRUE(std::any_of(m.calls.begin(), m.calls.end(), [](const KernelCall& c) { return c.in_place; }));
  for (const auto& in : random_inputs(20, 120)) {
    const Int8Run planned = run_compiled(m, {in}, true);
    const Int8Run separate = run_compiled(reference, {in}, true);
    ASSERT_EQ(planned.outputs, separate.outputs);
    for (std::size_t t = 0; t < planned.activations.size(); ++t)
      ASSERT_EQ(planned.activations[t], separate.activations[t]) << m.graph.tensors[t].name;
  }
}

TEST(CompiledModel, MacsCountEveryMultiplyAccumulate) {
  const CompiledModel m = compile_model(test_graph());
  // conv 12*10*8*9 + depthwise 12*10*8*9 + pointwise 12*10*8*8 + fc 4*24
  EXPECT_EQ(m.macs, 8640 + 8640 + 7680 + 96);
}

TEST(CompiledModel, RefusesWhatNoKernelTakes) {
  Graph g = test_graph();
  g.ops[9].kind = OpKind::relu;  // a standalone activation
  try {
    compile_model(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("standalone activation"), std::string::npos) << e.what();
  }
  g = test_graph();
  g.tensors[static_cast<std::size_t>(g.ops.back().outputs[0])].quant.scale = {0.1f};  // softmax output
  EXPECT_THROW(compile_model(g), Error);
}

TEST(CompiledModel, GeneratedCodeGivesTheSameBytesOnHostAndCortexM4) {
  const CompiledModel m = compile_model(test_graph());
  const GeneratedModel code = generate_model(m, {.source_label = "compiled_model_test"});
  EXPECT_NE(code.source.find("depthwise_conv2d_s8"), std::string::npos);
  test::TempDir dir;
  test::write_text(dir / "model/model.h", code.header);
  test::write_text(dir / "model/model.cc", code.source);
  const auto inputs = random_inputs(20, 120);
  std::vector<std::vector<std::uint8_t>> expected;
  for (const auto& in : inputs) expected.push_back(run_compiled(m, {in}).outputs[0]);
  EXPECT_GT(std::set<std::vector<std::uint8_t>>(expected.begin(), expected.end()).size(), 5u);

  const FirmwareImage host = build_model_firmware(dir / "model", Board::host, dir / "build-host");
  EXPECT_EQ(run_model_firmware(host, inputs).outputs, expected);

  const FirmwareImage qemu = build_model_firmware(dir / "model", Board::qemu_m4, dir / "build-qemu");
  const RunnerResult device = run_model_firmware(qemu, inputs);
  EXPECT_EQ(device.outputs, expected);
  ASSERT_EQ(device.instructions.size(), inputs.size());
  ASSERT_EQ(device.op_instructions.size(), m.calls.size());
  EXPECT_GT(device.instructions[0], static_cast<double>(m.macs));  // at least one instruction per MAC
  const ImageUse use = read_link_map(qemu.map);
  EXPECT_GE(use.model_ram, m.arena_bytes);
  EXPECT_GE(use.model_flash, m.weight_bytes);
  EXPECT_GT(use.runtime_flash, 1000);
}

}  // namespace
}  // namespace tml::deploy
