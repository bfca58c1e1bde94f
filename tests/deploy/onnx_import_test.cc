// ONNX import (deploy/onnx_import.h) + the float reference executor (deploy/float_executor.h):
//  1. Debian's libonnx-testdata: every model made of supported ops with float tensors is imported,
//     run and compared with its expected outputs; everything else must be refused with one line;
//     every model of the package must import or be refused cleanly (no crash, no internal error).
//  2. Networks exported by real PyTorch (Debian's python3-torch): a DS-CNN, a MobileNet-like CNN,
//     an MLP, and the bundled trainer's own networks through its own exporter.
//  3. Error cases: garbage, truncation, unsupported ops and attributes, malformed tensors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/npy.h"
#include "core/process.h"
#include "deploy/float_executor.h"
#include "deploy/onnx_import.h"
#include "onnx/onnx_pb.h"
#include "test_support.h"

namespace tml::deploy {
namespace {

namespace fs = std::filesystem;
using i64 = std::int64_t;

const fs::path kTestData = "/usr/share/libonnx-testdata/data";

// --- helpers ------------------------------------------------------------------------------------

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Graph import_string(const std::string& bytes, const std::string& source) {
  return import_onnx_bytes(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), source);
}

Graph import_model(const onnx::ModelProto& model, const std::string& source = "test.onnx") {
  return import_string(model.SerializeAsString(), source);
}

struct Array {
  std::vector<i64> shape;
  std::vector<float> v;
};

// A float TensorProto (raw_data or float_data).
bool tensor_floats(const onnx::TensorProto& t, Array& out) {
  if (t.data_type() != onnx::TensorProto::FLOAT) return false;
  out.shape.assign(t.dims().begin(), t.dims().end());
  i64 n = 1;
  for (i64 d : out.shape) n *= d;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<std::size_t>(n) * 4) return false;
    out.v.resize(static_cast<std::size_t>(n));
    if (n > 0) std::memcpy(out.v.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    if (t.float_data_size() != n) return false;
    out.v.assign(t.float_data().begin(), t.float_data().end());
  }
  return true;
}

// NCHW -> NHWC for rank 4, anything else unchanged: the IR's layout.
Array to_ir(const Array& a) {
  if (a.shape.size() != 4) return a;
  const i64 N = a.shape[0], C = a.shape[1], H = a.shape[2], W = a.shape[3];
  Array o{{N, H, W, C}, std::vector<float>(a.v.size())};
  for (i64 n = 0; n < N; ++n)
    for (i64 c = 0; c < C; ++c)
      for (i64 h = 0; h < H; ++h)
        for (i64 w = 0; w < W; ++w) o.v[((n * H + h) * W + w) * C + c] = a.v[((n * C + c) * H + h) * W + w];
  return o;
}

// "" when ACTUAL matches EXPECTED within |a-b| <= tol * (1 + |b|), else the first mismatch.
std::string mismatch(const std::vector<float>& actual, const std::vector<float>& expected, double tol = 1e-4) {
  if (actual.size() != expected.size())
    return std::to_string(actual.size()) + " values, " + std::to_string(expected.size()) + " expected";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], b = expected[i];
    if (std::isnan(b) && std::isnan(a)) continue;
    if (std::isinf(b) && a == b) continue;
    if (!(std::fabs(a - b) <= tol * (1.0 + std::fabs(b))))
      return "value " + std::to_string(i) + ": " + std::to_string(a) + ", expected " + std::to_string(b);
  }
  return "";
}

std::vector<int> ir_dims(const std::vector<i64>& onnx_shape) {
  std::vector<int> d(onnx_shape.begin(), onnx_shape.end());
  if (d.size() == 4) d = {d[0], d[2], d[3], d[1]};
  return d;
}

// The message of a one-line invalid_input error starting with SOURCE, or a description of what else happened.
template <class F>
std::string refusal(F f, const std::string& source) {
  try {
    f();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (e.code() != ExitCode::invalid_input) return "WRONG CODE: " + m;
    if (m.find('\n') != std::string::npos) return "MULTI-LINE: " + m;
    if (m.rfind(source + ": ", 0) != 0) return "NO SOURCE PREFIX: " + m;
    return m;
  } catch (const std::exception& e) {
    return std::string("OTHER EXCEPTION: ") + e.what();
  }
  return "ACCEPTED";
}

bool is_refusal(const std::string& r) {
  return r != "ACCEPTED" && r.find("WRONG CODE") != 0 && r.find("MULTI-LINE") != 0 && r.find("NO SOURCE") != 0 &&
         r.find("OTHER EXCEPTION") != 0;
}

// --- 1. libonnx-testdata ------------------------------------------------------------------------

std::vector<fs::path> testdata_models() {
  std::vector<fs::path> out;
  if (!fs::exists(kTestData)) return out;
  for (const auto& e : fs::recursive_directory_iterator(kTestData))
    if (e.path().filename() == "model.onnx") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

const std::set<std::string> kInScope = {
    "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "AveragePool", "MaxPool", "GlobalAveragePool",
    "ReduceMean", "Add", "Sub", "Mul", "Div", "Concat", "Pad", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
    "Softmax", "Sigmoid", "Tanh", "Identity", "Dropout", "Constant"};
// Ops whose extra inputs may stay activations; every other op gets its extra graph inputs baked in as
// initializers (the one-op test models pass weights, pads, shapes... as inputs).
const std::set<std::string> kActivationInputs = {"Add", "Sub", "Mul", "Concat"};

struct TestdataCase {
  std::string name;
  std::string outcome;  // "pass", "refused: ...", "FAIL: ..."
};

// Imports MODEL with the graph inputs in BAKE turned into initializers, runs it on the test data and
// compares.
TestdataCase run_testdata_case(const fs::path& file, const onnx::ModelProto& original, const std::set<std::string>& bake,
                               const std::string& label) {
  TestdataCase result{label, ""};
  const fs::path data_dir = file.parent_path() / "test_data_set_0";
  onnx::ModelProto model = original;
  std::set<std::string> inits;
  for (const auto& t : model.graph().initializer()) inits.insert(t.name());
  std::vector<std::string> free_inputs;
  for (const auto& in : model.graph().input())
    if (!inits.count(in.name())) free_inputs.push_back(in.name());
  std::vector<Array> run_inputs;
  auto* graph = model.mutable_graph();
  graph->clear_input();
  for (std::size_t i = 0; i < free_inputs.size(); ++i) {
    onnx::TensorProto t;
    std::ifstream in(data_dir / ("input_" + std::to_string(i) + ".pb"), std::ios::binary);
    if (!t.ParseFromIstream(&in)) return {label, "FAIL: cannot read input_" + std::to_string(i) + ".pb"};
    if (bake.count(free_inputs[i])) {
      t.set_name(free_inputs[i]);
      *graph->add_initializer() = t;
    } else {
      for (const auto& vi : original.graph().input())
        if (vi.name() == free_inputs[i]) *graph->add_input() = vi;
      Array a;
      if (!tensor_floats(t, a)) return {label, "FAIL: input_" + std::to_string(i) + ".pb is not float"};
      run_inputs.push_back(to_ir(a));
    }
  }
  Graph g;
  const std::string source = file.string();
  const std::string r = refusal([&] { g = import_model(model, source); }, source);
  if (r != "ACCEPTED") return {label, is_refusal(r) ? "refused: " + r.substr(source.size() + 2) : "FAIL: " + r};
  std::vector<std::vector<float>> inputs;
  for (std::size_t i = 0; i < run_inputs.size(); ++i) {
    if (i >= g.inputs.size()) return {label, "FAIL: fewer graph inputs than expected"};
    if (g.tensors[g.inputs[i]].shape != std::vector<int>(run_inputs[i].shape.begin(), run_inputs[i].shape.end()))
      return {label, "FAIL: input shape differs from the test data"};
    inputs.push_back(run_inputs[i].v);
  }
  std::vector<std::vector<float>> outputs;
  try {
    outputs = run_float(g, inputs);
  } catch (const Error& e) {
    return {label, std::string("FAIL: executor: ") + e.what()};
  }
  if (outputs.size() != static_cast<std::size_t>(model.graph().output_size())) return {label, "FAIL: output count"};
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    onnx::TensorProto t;
    std::ifstream in(data_dir / ("output_" + std::to_string(k) + ".pb"), std::ios::binary);
    Array expected;
    if (!t.ParseFromIstream(&in) || !tensor_floats(t, expected)) return {label, "FAIL: cannot read output_" + std::to_string(k) + ".pb"};
    const Array e = to_ir(expected);
    if (g.tensors[g.outputs[k]].shape != ir_dims(expected.shape) &&
        g.tensors[g.outputs[k]].elements() != e.v.size())
      return {label, "FAIL: output shape differs"};
    const std::string m = mismatch(outputs[k], e.v);
    if (!m.empty()) return {label, "FAIL: output " + std::to_string(k) + ": " + m};
  }
  return {label, "pass"};
}

TEST(OnnxImportTestdata, SupportedOneOpModelsMatchTheirExpectedOutputs) {
  const std::vector<fs::path> models = testdata_models();
  ASSERT_GE(models.size(), 900u) << "libonnx-testdata is missing (apt-get install libonnx-testdata)";
  std::vector<TestdataCase> cases;
  for (const fs::path& file : models) {
    if (!fs::exists(file.parent_path() / "test_data_set_0")) continue;
    onnx::ModelProto model;
    const std::string bytes = read_bytes(file);
    if (!model.ParseFromString(bytes)) continue;
    bool in_scope = true;
    std::set<std::string> ops;
    for (const auto& n : model.graph().node()) {
      in_scope = in_scope && n.domain().empty() && kInScope.count(n.op_type());
      ops.insert(n.op_type());
    }
    std::set<std::string> inits;
    for (const auto& t : model.graph().initializer()) inits.insert(t.name());
    for (const auto& vi : model.graph().output())
      in_scope = in_scope && vi.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT;
    if (!in_scope || model.graph().node_size() == 0) continue;
    // Extra inputs consumed by weight-like positions become initializers; the rest must be float.
    std::set<std::string> bake, all_extra;
    bool first = true;
    for (const auto& vi : model.graph().input()) {
      if (inits.count(vi.name())) continue;
      if (!first) {
        all_extra.insert(vi.name());
        for (const auto& n : model.graph().node())
          for (const auto& in : n.input())
            if (in == vi.name() && !kActivationInputs.count(n.op_type())) bake.insert(vi.name());
      }
      first = false;
      if (!bake.count(vi.name())) in_scope = in_scope && vi.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT;
    }
    if (!in_scope) continue;
    const std::string name = file.parent_path().parent_path().filename().string() + "/" + file.parent_path().filename().string();
    cases.push_back(run_testdata_case(file, model, bake, name));
    if (bake != all_extra) cases.push_back(run_testdata_case(file, model, all_extra, name + " (constant operands)"));
  }
  int passed = 0, refused = 0;
  std::string failures, refusals;
  std::set<std::string> passed_names;
  for (const TestdataCase& c : cases) {
    if (c.outcome == "pass") {
      ++passed;
      passed_names.insert(c.name);
    } else if (c.outcome.rfind("refused: ", 0) == 0) {
      ++refused;
      refusals += "  " + c.name + ": " + c.outcome.substr(9) + "\n";
    } else {
      failures += "  " + c.name + ": " + c.outcome + "\n";
    }
  }
  std::printf("libonnx-testdata, models of supported ops with float tensors: %zu cases, %d passed, %d refused, %zu failed\n",
              cases.size(), passed, refused, cases.size() - passed - refused);
  std::printf("refused (documented limits):\n%s", refusals.c_str());
  EXPECT_TRUE(failures.empty()) << "failures:\n" << failures;
  EXPECT_GE(passed, 100) << "too few testdata models ran";
  for (const char* must : {"node/test_conv_with_strides_padding", "node/test_conv_with_autopad_same",
                           "node/test_conv_with_strides_and_asymmetric_padding", "node/test_gemm_transposeB",
                           "node/test_gemm_alpha", "node/test_gemm_beta", "node/test_gemm_default_matrix_bias", "node/test_matmul_2d",
                           "node/test_batchnorm_example", "node/test_batchnorm_epsilon", "node/test_relu", "node/test_sigmoid",
                           "node/test_tanh", "node/test_averagepool_2d_pads", "node/test_averagepool_2d_pads_count_include_pad",
                           "node/test_averagepool_2d_same_lower", "node/test_averagepool_2d_ceil", "node/test_maxpool_2d_ceil",
                           "node/test_maxpool_2d_same_upper", "node/test_globalaveragepool", "node/test_add_bcast",
                           "node/test_mul_bcast", "node/test_concat_3d_axis_1", "node/test_flatten_axis1",
                           "node/test_flatten_axis0", "node/test_reshape_reordered_all_dims", "node/test_softmax_example",
                           "node/test_clip_default_min", "node/test_unsqueeze_axis_1", "pytorch-converted/test_Conv2d_depthwise_with_multiplier",
                           "pytorch-converted/test_Conv2d_dilated", "pytorch-converted/test_BatchNorm2d_eval",
                           "pytorch-converted/test_Linear", "pytorch-converted/test_ZeroPad2d", "pytorch-operator/test_operator_flatten"})
    EXPECT_TRUE(passed_names.count(must)) << must << " did not pass";
}

TEST(OnnxImportTestdata, EveryModelImportsOrIsRefusedInOneLine) {
  const std::vector<fs::path> models = testdata_models();
  ASSERT_GE(models.size(), 900u) << "libonnx-testdata is missing (apt-get install libonnx-testdata)";
  int imported = 0, refused = 0;
  std::string bad;
  std::mt19937 rng(7);
  for (const fs::path& file : models) {
    Graph g;
    const std::string r = refusal([&] { g = import_onnx(file); }, file.string());
    if (r == "ACCEPTED") {
      ++imported;
      // The executor must accept what the importer makes (its shape checks double-check the importer).
      std::vector<std::vector<float>> inputs;
      for (int t : g.inputs) {
        std::vector<float> v(g.tensors[t].elements());
        for (float& x : v) x = std::uniform_real_distribution<float>(-2, 2)(rng);
        inputs.push_back(std::move(v));
      }
      try {
        run_float(g, inputs);
      } catch (const Error& e) {
        bad += "  " + file.string() + ": executor: " + e.what() + "\n";
      }
    } else if (is_refusal(r)) {
      ++refused;
    } else {
      bad += "  " + file.string() + ": " + r + "\n";
    }
  }
  std::printf("libonnx-testdata as shipped: %zu models, %d imported and ran, %d refused\n", models.size(), imported, refused);
  EXPECT_TRUE(bad.empty()) << bad;
  EXPECT_GE(imported, 90);
}

TEST(OnnxImportTestdata, UnsupportedOpsAreRefusedNamingTheNodeAndTheSupportedList) {
  for (const char* name : {"test_lstm_defaults", "test_convtranspose", "test_abs", "test_resize_upsample_scales_nearest"}) {
    const fs::path file = kTestData / "node" / name / "model.onnx";
    ASSERT_TRUE(fs::exists(file)) << file;
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(read_bytes(file)));
    const std::string op = m.graph().node(0).op_type();
    std::string node = m.graph().node(0).name();
    for (int k = 0; k < m.graph().node(0).output_size() && node.empty(); ++k) node = m.graph().node(0).output(k);
    const std::string r = refusal([&] { import_onnx(file); }, file.string());
    EXPECT_EQ(r, file.string() + ": node '" + node + "' (" + op + "): not supported; supported: " + onnx_supported_ops());
  }
  const std::string supported = onnx_supported_ops();
  EXPECT_EQ(supported.rfind("Conv, Gemm, MatMul, BatchNormalization, Relu, Clip,", 0), 0u);
}

// --- 2. Networks exported by PyTorch --------------------------------------------------------------

const char* kTorchScript = R"PY(
import os, sys
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import torch
from torch import nn
torch.set_num_threads(1)
torch.manual_seed(1234)
out_dir, trainers = sys.argv[1], sys.argv[2]

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

class DSCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*cbr(1, 16, (10, 4), (2, 2), (5, 1)),
                                      *cbr(16, 16, 3, 1, 1, 16), *cbr(16, 24, 1),
                                      *cbr(24, 24, 3, 1, 1, 24), *cbr(24, 24, 1),
                                      nn.AvgPool2d(2))  # 25x5 -> 12x2: the flatten below needs reordering
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(24 * 12 * 2, 5)
    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return torch.softmax(self.fc(self.drop(x)), dim=1)

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
        self.dw2 = nn.Sequential(nn.Conv2d(8, 16, 3, 1, 1, groups=8), nn.BatchNorm2d(16), nn.ReLU6())  # multiplier 2
        self.block = Inverted(16, 2)
        self.smooth = nn.AvgPool2d(3, 1, 1)  # count_include_pad=True
        self.bn = nn.BatchNorm2d(16)  # after an Add: stays Mul + Add
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
        a = self.gap(x)
        a = a.view(a.size(0), -1)
        b = x.mean([2, 3])
        return torch.softmax(self.fc(torch.cat([a, b], 1)), dim=1)

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.rand(40) + 0.5)
        self.register_buffer("shift", torch.randn(40))
        self.l1, self.bn, self.l2, self.l3 = nn.Linear(40, 32), nn.BatchNorm1d(32), nn.Linear(32, 16), nn.Linear(16, 8)
        self.w4 = nn.Parameter(torch.randn(8, 4))
        self.b4 = nn.Parameter(torch.randn(4))
    def forward(self, x):
        x = x * self.scale + self.shift
        x = torch.relu(self.bn(self.l1(x)))
        x = torch.sigmoid(self.l2(nn.functional.dropout(x, 0.1, self.training)))
        x = torch.tanh(self.l3(x))
        return torch.softmax(x @ self.w4 + self.b4, -1)

def save(name, model, shape, batch, dynamic, fold=True):
    model = randomize(model)
    x = torch.randn((batch,) + shape)
    with torch.no_grad():
        y = model(x)
        kwargs = {}
        if dynamic:
            kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
        torch.onnx.export(model, torch.zeros((1,) + shape), os.path.join(out_dir, name + ".onnx"), opset_version=13,
                          do_constant_folding=fold, training=torch.onnx.TrainingMode.EVAL,
                          input_names=["input"], output_names=["output"], **kwargs)
    np.save(os.path.join(out_dir, name + "_in.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + "_out.npy"), y.numpy().astype(np.float32))

save("dscnn", DSCNN(), (1, 49, 10), 1, False, fold=False)
save("mobilenet", MobileNetLike(), (3, 32, 32), 1, False)
save("mlp", MLP(), (40,), 3, True)

# The bundled trainer's own networks, exported by its own exporter (dynamic batch axis).
sys.path.insert(0, trainers)
import tml_models, tml_export
nets = {
    "trainer_dscnn": (tml_models.DSCNN((1, 49, 10), 4, filters=16, blocks=2), (1, 49, 10)),
    "trainer_cnn": (tml_models.PlainCNN((1, 28, 28), 3, filters=8, blocks=3), (1, 28, 28)),
    "trainer_mobilenet": (tml_models.MobileNetV1((1, 32, 32), 2, alpha=0.25), (1, 32, 32)),
    "trainer_dense": (tml_models.DenseNet((12,), 3).folded(), (12,)),
    "trainer_conv1d": (tml_models.Conv1dNet((12,), 3, filters=4, blocks=2), (12,)),
}
for name, (net, shape) in nets.items():
    net = randomize(net)
    if name == "trainer_conv1d":
        with torch.no_grad():
            net.standardize.scale.uniform_(0.5, 2.0)
            net.standardize.shift.uniform_(-1, 1)
    module = tml_export.WithSoftmax(net).eval()
    tml_export.export(module, shape, os.path.join(out_dir, name + ".onnx"))
    x = torch.randn((2,) + shape)
    with torch.no_grad():
        y = module(x)
    np.save(os.path.join(out_dir, name + "_in.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + "_out.npy"), y.numpy().astype(np.float32))
ae = randomize(tml_models.Autoencoder(10, hidden=4))
scorer = ae.scorer().eval()
tml_export.export(scorer, (10,), os.path.join(out_dir, "trainer_autoencoder.onnx"), output_name="score")
x = torch.randn(2, 10)
with torch.no_grad():
    y = scorer(x)
np.save(os.path.join(out_dir, "trainer_autoencoder_in.npy"), x.numpy().astype(np.float32))
np.save(os.path.join(out_dir, "trainer_autoencoder_out.npy"), y.numpy().astype(np.float32))
print("ok")
)PY";

class OnnxImportTorch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const fs::path script = *dir_ / "export.py";
    test::write_text(script, kTorchScript);
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

  // Imports NAME.onnx, runs NAME_in.npy (every sample of the batch) and compares with NAME_out.npy.
  static Graph check(const std::string& name) {
    const Graph g = import_onnx(*dir_ / (name + ".onnx"));
    const NpyArray in = npy_read(*dir_ / (name + "_in.npy"));
    const NpyArray out = npy_read(*dir_ / (name + "_out.npy"));
    Array x;
    x.shape.assign(in.shape.begin(), in.shape.end());
    x.v.resize(in.data.size() / 4);
    std::memcpy(x.v.data(), in.data.data(), in.data.size());
    Array y;
    y.shape.assign(out.shape.begin(), out.shape.end());
    y.v.resize(out.data.size() / 4);
    std::memcpy(y.v.data(), out.data.data(), out.data.size());
    const auto result = run_float(g, {to_ir(x).v});
    EXPECT_EQ(result.size(), 1u);
    EXPECT_EQ(mismatch(result.at(0), to_ir(y).v), "") << name;
    return g;
  }
  static int count(const Graph& g, OpKind kind) {
    return static_cast<int>(std::count_if(g.ops.begin(), g.ops.end(), [&](const Op& op) { return op.kind == kind; }));
  }

  static test::TempDir* dir_;
  static ProcessResult* result_;
};
test::TempDir* OnnxImportTorch::dir_ = nullptr;
ProcessResult* OnnxImportTorch::result_ = nullptr;

TEST_F(OnnxImportTorch, DsCnnMatchesTorch) {
  const Graph g = check("dscnn");
  // {1,1,49,10} NCHW is {1,49,10,1} NHWC.
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int>{1, 49, 10, 1}));
  EXPECT_EQ(count(g, OpKind::conv2d), 3);
  EXPECT_EQ(count(g, OpKind::depthwise_conv2d), 2);
  EXPECT_EQ(count(g, OpKind::relu), 0) << "every ReLU fuses into its convolution";
  EXPECT_EQ(count(g, OpKind::pad), 0) << "the zero Pad before AvgPool vanishes";
  // Flatten of {1,24,12,2} feeds the Linear: the weights' columns are permuted, nothing is added.
  EXPECT_EQ(count(g, OpKind::fully_connected), 1);
  EXPECT_EQ(count(g, OpKind::reshape), 1);
  EXPECT_EQ(count(g, OpKind::softmax), 1);
  for (const Op& op : g.ops)
    if (op.kind == OpKind::conv2d || op.kind == OpKind::depthwise_conv2d) {
      EXPECT_EQ(op.activation, Activation::relu) << op.name;
    }
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "output");
}

TEST_F(OnnxImportTorch, MobileNetLikeMatchesTorch) {
  const Graph g = check("mobilenet");
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int>{1, 32, 32, 3}));
  EXPECT_EQ(count(g, OpKind::relu6), 0) << "every Clip(0,6) fuses into its convolution";
  int relu6 = 0, multiplier2 = 0;
  for (const Op& op : g.ops) {
    relu6 += op.activation == Activation::relu6;
    multiplier2 += op.kind == OpKind::depthwise_conv2d && op.depth_multiplier == 2;
  }
  EXPECT_EQ(relu6, 4);
  EXPECT_EQ(multiplier2, 1);
  EXPECT_EQ(count(g, OpKind::mean_hw), 2);          // GlobalAveragePool and ReduceMean
  EXPECT_EQ(count(g, OpKind::concatenation), 2);
  EXPECT_EQ(count(g, OpKind::max_pool2d), 1);
  EXPECT_EQ(count(g, OpKind::average_pool2d), 1);
  EXPECT_EQ(count(g, OpKind::mul), 1);  // the BatchNorm after the residual Add stays mul + add
}

TEST_F(OnnxImportTorch, MlpMatchesTorchForEverySampleOfTheBatch) {
  const Graph g = check("mlp");  // three samples through the batch-1 graph
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int>{1, 40}));  // dynamic batch -> 1
  EXPECT_EQ(count(g, OpKind::fully_connected), 4);  // BatchNorm1d folded into the first, the bias Add into the last
  EXPECT_EQ(count(g, OpKind::relu), 0);
  EXPECT_EQ(count(g, OpKind::logistic), 1);
  EXPECT_EQ(count(g, OpKind::tanh), 1);
  EXPECT_EQ(count(g, OpKind::add), 1);  // x * scale + shift
  EXPECT_EQ(count(g, OpKind::mul), 1);
}

TEST_F(OnnxImportTorch, TheTrainersOwnNetworksMatchTorch) {
  for (const char* name : {"trainer_dscnn", "trainer_cnn", "trainer_mobilenet", "trainer_dense", "trainer_conv1d", "trainer_autoencoder"}) {
    SCOPED_TRACE(name);
    const Graph g = check(name);
    EXPECT_EQ(count(g, OpKind::relu) + count(g, OpKind::relu6), 0);
  }
}

// --- 3. Errors and hand-made graphs --------------------------------------------------------------

// A small ONNX model builder.
struct ModelBuilder {
  onnx::ModelProto m;
  ModelBuilder(int opset = 13) {
    m.set_ir_version(7);
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
  }
  onnx::GraphProto* g() { return m.mutable_graph(); }
  void input(const std::string& name, const std::vector<i64>& dims, int type = onnx::TensorProto::FLOAT) {
    auto* vi = g()->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* shape = tt->mutable_shape();
    for (i64 d : dims) shape->add_dim()->set_dim_value(d);
  }
  void output(const std::string& name) { g()->add_output()->set_name(name); }
  onnx::TensorProto* init(const std::string& name, const std::vector<i64>& dims, const std::vector<float>& v) {
    auto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (i64 d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return t;
  }
  void init_ints(const std::string& name, const std::vector<i64>& v) {
    auto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<i64>(v.size()));
    for (i64 x : v) t->add_int64_data(x);
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                        const std::string& name = "") {
    auto* n = g()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return n;
  }
  static void attr_int(onnx::NodeProto* n, const std::string& name, i64 v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<i64>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (i64 x : v) a->add_ints(x);
  }
};

std::vector<float> ramp(std::size_t n, float scale = 0.1f, float offset = -0.3f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>((i * 7) % 13);
  return v;
}

TEST(OnnxImportErrors, GarbageAndTruncatedFilesAreRefusedInOneLine) {
  EXPECT_EQ(refusal([] { import_string("this is not an ONNX model at all \x01\xff\xfe", "junk.onnx"); }, "junk.onnx"),
            "junk.onnx: not a valid ONNX model (protobuf parse failed)");
  EXPECT_EQ(refusal([] { import_string("", "empty.onnx"); }, "empty.onnx"), "empty.onnx: not a valid ONNX model (protobuf parse failed)");
  // Every prefix of a real model: refused cleanly (never a crash), the middle one as a parse failure.
  const fs::path file = kTestData / "pytorch-converted/test_Conv2d/model.onnx";
  const std::string bytes = read_bytes(file);
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(refusal([&] { import_string(bytes.substr(0, bytes.size() / 2), "cut.onnx"); }, "cut.onnx"),
            "cut.onnx: not a valid ONNX model (protobuf parse failed)");
  int refused = 0;
  for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 64) {
    const std::string r = refusal([&] { import_string(bytes.substr(0, n), "cut.onnx"); }, "cut.onnx");
    EXPECT_TRUE(is_refusal(r)) << n << ": " << r;
    refused += is_refusal(r);
  }
  EXPECT_GT(refused, 50);
  // Random bytes and random bit flips of a real model.
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string b = bytes;
    for (int k = 0; k < 1 + i % 8; ++k) b[rng() % b.size()] ^= static_cast<char>(1 << (rng() % 8));
    Graph g;
    const std::string r = refusal([&] { g = import_string(b, "flip.onnx"); }, "flip.onnx");
    if (r == "ACCEPTED") continue;
    EXPECT_TRUE(is_refusal(r)) << r;
  }
  // A missing file or a folder is a filesystem error.
  for (const char* path : {"/nonexistent/model.onnx", "/tmp"}) {
    try {
      import_onnx(path);
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::filesystem) << e.what();
    }
  }
}

TEST(OnnxImportErrors, LstmIsRefusedWithTheSupportedList) {
  const fs::path file = kTestData / "node/test_lstm_defaults/model.onnx";
  const std::string r = refusal([&] { import_onnx(file); }, file.string());
  EXPECT_NE(r.find("(LSTM): not supported; supported: Conv, Gemm, MatMul"), std::string::npos) << r;
}

TEST(OnnxImportErrors, ConvWithGroupsOtherThanOneOrDepthwiseIsRefused) {
  ModelBuilder b;
  b.input("x", {1, 4, 5, 5});
  b.init("w", {4, 2, 3, 3}, ramp(72));
  ModelBuilder::attr_int(b.node("Conv", {"x", "w"}, {"y"}, "grouped"), "group", 2);
  b.output("y");
  EXPECT_EQ(refusal([&] { import_model(b.m, "g.onnx"); }, "g.onnx"),
            "g.onnx: node 'grouped' (Conv): group=2 with 4 input and 4 output channels (weights {4,2,3,3}) is not supported: "
            "only group 1 (convolution) or group = input channels (depthwise)");
}

TEST(OnnxImportErrors, AttributesAndTensorsOutsideWhatIsSupportedAreRefused) {
  {  // Clip(-1, 1)
    ModelBuilder b;
    b.input("x", {1, 4});
    b.init("lo", {}, {-1});
    b.init("hi", {}, {1});
    b.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
    b.output("y");
    EXPECT_EQ(refusal([&] { import_model(b.m, "c.onnx"); }, "c.onnx"),
              "c.onnx: node 'clip' (Clip): Clip(-1, 1) is not supported: only Clip(0, 6) (ReLU6) and Clip(0) (ReLU)");
  }
  {  // external data
    ModelBuilder b;
    b.input("x", {1, 4});
    auto* t = b.init("w", {3, 4}, {});
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* kv = t->add_external_data();
    kv->set_key("location");
    kv->set_value("weights.bin");
    b.node("MatMul", {"x", "w"}, {"y"});
    b.output("y");
    const std::string r = refusal([&] { import_model(b.m, "e.onnx"); }, "e.onnx");
    EXPECT_NE(r.find("external file"), std::string::npos) << r;
  }
  {  // raw_data of the wrong size, float_data of the wrong count, negative dims
    for (int variant = 0; variant < 3; ++variant) {
      ModelBuilder b;
      b.input("x", {1, 4});
      auto* t = b.init("w", {4, 3}, variant == 1 ? ramp(11) : ramp(12));
      if (variant == 0) {
        t->clear_float_data();
        t->set_raw_data(std::string(47, '\0'));
      }
      if (variant == 2) t->set_dims(0, -4);
      b.node("MatMul", {"x", "w"}, {"y"});
      b.output("y");
      const std::string r = refusal([&] { import_model(b.m, "t.onnx"); }, "t.onnx");
      EXPECT_TRUE(is_refusal(r)) << r;
      EXPECT_NE(r.find("initializer 'w'"), std::string::npos) << r;
    }
  }
  {  // an undefined input, an integer graph input, a softmax over a non-channel axis of NCHW
    ModelBuilder b;
    b.input("x", {1, 4});
    b.node("Relu", {"nothing"}, {"y"}, "r");
    b.output("y");
    EXPECT_EQ(refusal([&] { import_model(b.m, "u.onnx"); }, "u.onnx"), "u.onnx: node 'r' (Relu): input 'nothing' is not defined before this node");
    ModelBuilder b2;
    b2.input("x", {1, 4}, onnx::TensorProto::INT32);
    b2.node("Relu", {"x"}, {"y"});
    b2.output("y");
    EXPECT_TRUE(is_refusal(refusal([&] { import_model(b2.m, "i.onnx"); }, "i.onnx")));
    ModelBuilder b3;
    b3.input("x", {1, 3, 4, 5});
    ModelBuilder::attr_int(b3.node("Softmax", {"x"}, {"y"}, "sm"), "axis", -1);
    b3.output("y");
    EXPECT_NE(refusal([&] { import_model(b3.m, "s.onnx"); }, "s.onnx").find("softmax over axis 3"), std::string::npos);
  }
}

// Conv -> BatchNormalization -> Relu -> Flatten -> Gemm, built by hand: BN folds into the conv,
// Relu fuses, the flatten costs nothing, and the result equals the unfolded computation.
TEST(OnnxImportGraphs, BatchNormFoldsIntoTheConvolutionExactly) {
  const std::vector<float> w = ramp(6 * 2 * 3 * 3, 0.05f), bias = {0.1f, -0.2f, 0.3f, 0.0f, 0.05f, -0.1f};
  const std::vector<float> scale = {1.2f, 0.8f, 1.0f, 0.5f, 1.5f, 0.9f}, shift = {0.1f, 0.2f, -0.3f, 0.0f, 0.4f, -0.1f};
  const std::vector<float> mean = {0.05f, -0.1f, 0.2f, 0.0f, 0.1f, 0.3f}, var = {1.0f, 0.5f, 2.0f, 1.5f, 0.7f, 1.1f};
  const std::vector<float> fc = ramp(3 * 6 * 4 * 4, 0.02f, -0.1f);
  auto make = [&](bool with_bn) {
    ModelBuilder b;
    b.input("x", {1, 2, 6, 6});
    b.init("w", {6, 2, 3, 3}, w);
    b.init("b", {6}, bias);
    b.init("s", {6}, scale);
    b.init("t", {6}, shift);
    b.init("m", {6}, mean);
    b.init("v", {6}, var);
    b.init("fc", {3, 96}, fc);
    ModelBuilder::attr_ints(b.node("Conv", {"x", "w", "b"}, {"c"}, "conv"), "strides", {1, 1});
    if (with_bn) {
      b.node("BatchNormalization", {"c", "s", "t", "m", "v"}, {"n"}, "bn");
      b.node("Relu", {"n"}, {"r"}, "relu");
    } else {
      b.node("Identity", {"c"}, {"r"});
    }
    b.node("Flatten", {"r"}, {"f"}, "flatten");
    ModelBuilder::attr_int(b.node("Gemm", {"f", "fc"}, {"y"}, "fc"), "transB", 1);
    b.output("y");
    if (!with_bn) b.output("c");
    return import_model(b.m);
  };
  const Graph folded = make(true);
  ASSERT_EQ(folded.ops.size(), 3u);  // conv (+relu), reshape, fully_connected
  EXPECT_EQ(folded.ops[0].kind, OpKind::conv2d);
  EXPECT_EQ(folded.ops[0].activation, Activation::relu);
  EXPECT_EQ(folded.ops[1].kind, OpKind::reshape);
  EXPECT_EQ(folded.ops[2].kind, OpKind::fully_connected);
  const std::vector<float> x = ramp(72, 0.3f, -1.5f);
  const std::vector<float> y = run_float(folded, {x})[0];
  // Reference: the conv alone (NHWC), then BN and ReLU by hand, then the FC in NCHW flatten order.
  const Graph plain = make(false);
  const std::vector<float> c = run_float(plain, {x})[1];  // {1,4,4,6} NHWC
  std::vector<double> nchw(96);
  for (int h = 0; h < 4; ++h)
    for (int wq = 0; wq < 4; ++wq)
      for (int ch = 0; ch < 6; ++ch) {
        double v = (c[(h * 4 + wq) * 6 + ch] - mean[ch]) / std::sqrt(var[ch] + 1e-5) * scale[ch] + shift[ch];
        nchw[(ch * 4 + h) * 4 + wq] = std::max(v, 0.0);
      }
  std::vector<float> expected(3);
  for (int o = 0; o < 3; ++o) {
    double acc = 0;
    for (int i = 0; i < 96; ++i) acc += fc[o * 96 + i] * nchw[i];
    expected[o] = static_cast<float>(acc);
  }
  EXPECT_EQ(mismatch(y, expected, 1e-5), "");
}

// A flattened NCHW value that reaches the graph output (not a Gemm) is reordered exactly.
TEST(OnnxImportGraphs, FlattenToTheOutputIsReorderedExactly) {
  ModelBuilder b;
  b.input("x", {2, 3, 2, 2});
  b.node("Flatten", {"x"}, {"y"});
  b.node("Relu", {"y"}, {"z"});
  b.output("z");
  const Graph g = import_model(b.m);
  std::vector<float> nchw(24);
  for (int i = 0; i < 24; ++i) nchw[i] = static_cast<float>(i);
  const std::vector<float> y = run_float(g, {to_ir(Array{{2, 3, 2, 2}, nchw}).v})[0];
  EXPECT_EQ(y, nchw);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (std::vector<int>{2, 12}));
}

TEST(OnnxImportGraphs, ExecutorRejectsMalformedGraphsAndWrongInputs) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  Graph g = import_model(b.m);
  try {
    run_float(g, {std::vector<float>(3)});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
  }
  EXPECT_EQ(run_float(g, {std::vector<float>(8, -1.0f)})[0].size(), 8u);  // two samples
  g.ops[0].outputs[0] = 99;
  try {
    run_float(g, {std::vector<float>(4)});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::internal);
  }
}

}  // namespace
}  // namespace tml::deploy
