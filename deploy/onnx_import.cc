#include "deploy/onnx_import.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/errors.h"
#include "deploy/import_text.h"
#include "onnx/onnx_pb.h"

namespace tml::deploy {
namespace {

using i64 = std::int64_t;
using Shape = std::vector<i64>;

constexpr i64 kMaxDim = i64{1} << 24;
constexpr i64 kMaxElements = i64{1} << 24;  // any tensor: 16 M values (64 MB as float32)
constexpr i64 kMaxTotalElements = i64{1} << 25;  // all constants of one import together (memory bound)
constexpr i64 kMaxPermutation = 4096;       // values per sample an explicit NCHW<->NHWC reorder may move
constexpr i64 kMaxAttr = i64{1} << 16;      // strides, pads, kernel sizes, dilations
constexpr std::size_t kMaxConstRank = 8;
constexpr std::size_t kMaxActivationRank = 4;

const char* const kSupported =
    "Conv, Gemm, MatMul, BatchNormalization, Relu, Clip, AveragePool, MaxPool, GlobalAveragePool, "
    "ReduceMean, Add, Sub, Mul, Div, Concat, Pad, Reshape, Flatten, Squeeze, Unsqueeze, Softmax, Sigmoid, "
    "Tanh, Identity, Dropout, Constant (and, on constants, Shape, Gather, Slice, Cast, ConstantOfShape, Transpose)";


std::string num_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Product of already-validated dimensions.
i64 elements_of(const Shape& s) {
  i64 n = 1;
  for (i64 d : s) n *= d;
  return n;
}

// A constant in ONNX layout; numbers as double (exact for float32 and for integers up to 2^53).
struct Const {
  bool is_float = true;
  Shape shape;
  std::vector<double> v;
};
using ConstPtr = std::shared_ptr<const Const>;

// One ONNX value: a constant, or an activation held by an IR tensor.
struct Value {
  Shape shape;  // ONNX shape
  ConstPtr c;   // set for constants
  int tensor = -1;
  // Rank-2 activations made by flattening a rank-4 one: IR column j holds ONNX column col_perm[j].
  std::vector<int> col_perm;
  int plain = -1;  // cache: the IR tensor holding this value in plain IR layout (constant or reordered)
  bool is_const() const { return c != nullptr; }
};

// IR memory strides of each ONNX dimension: rank 4 is stored NHWC, everything else as in ONNX.
std::vector<i64> ir_strides(const Shape& s) {
  std::vector<i64> st(s.size(), 1);
  if (s.size() == 4) {
    st[1] = 1;
    st[3] = s[1];
    st[2] = s[1] * s[3];
    st[0] = s[1] * s[3] * s[2];
    return st;
  }
  i64 acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// NHWC memory order equals NCHW order when C == 1 or H*W == 1.
bool trivial_layout(const Shape& s) { return s.size() != 4 || s[1] == 1 || s[2] * s[3] == 1; }

std::vector<int> ir_shape(const Shape& s) {
  if (s.size() == 4) return {int(s[0]), int(s[2]), int(s[3]), int(s[1])};
  return std::vector<int>(s.begin(), s.end());
}

// A constant's values in IR order (rank 4 transposed NCHW -> NHWC), as float32.
std::vector<float> ir_floats(const Const& c) {
  std::vector<float> out(c.v.size());
  if (c.shape.size() != 4) {
    for (std::size_t i = 0; i < c.v.size(); ++i) out[i] = static_cast<float>(c.v[i]);
    return out;
  }
  const i64 N = c.shape[0], C = c.shape[1], H = c.shape[2], W = c.shape[3];
  for (i64 n = 0; n < N; ++n)
    for (i64 ch = 0; ch < C; ++ch)
      for (i64 h = 0; h < H; ++h)
        for (i64 w = 0; w < W; ++w)
          out[((n * H + h) * W + w) * C + ch] = static_cast<float>(c.v[((n * C + ch) * H + h) * W + w]);
  return out;
}

// numpy broadcasting of two shapes.
bool broadcast(const Shape& a, const Shape& b, Shape& out) {
  const std::size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const i64 da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const i64 db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

// Strides of S read as OUT (right-aligned, 0 along broadcast dimensions).
std::vector<i64> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<i64> st(out.size(), 0);
  i64 acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    const std::size_t j = i + (out.size() - s.size());
    st[j] = s[i] == 1 ? 0 : acc;
    acc *= s[i];
  }
  return st;
}

// Calls f(flat output index, offsets...) over OUT in row-major order.
template <class F>
void for_each_index(const Shape& out, const std::vector<std::vector<i64>>& strides, F f) {
  const std::size_t r = out.size();
  const i64 n = elements_of(out);
  std::vector<i64> idx(r, 0), off(strides.size(), 0);
  for (i64 k = 0; k < n; ++k) {
    f(k, off);
    for (std::size_t d = r; d-- > 0;) {
      ++idx[d];
      for (std::size_t s = 0; s < strides.size(); ++s) off[s] += strides[s][d];
      if (idx[d] < out[d]) break;
      for (std::size_t s = 0; s < strides.size(); ++s) off[s] -= strides[s][d] * out[d];
      idx[d] = 0;
    }
  }
}

class Importer {
 public:
  explicit Importer(std::string source) : source_(std::move(source)) {}
  Graph run(const onnx::ModelProto& model);

 private:
  // --- messages ---
  std::string node_label() const {
    if (!node_->name().empty()) return clean(node_->name());
    for (const auto& o : node_->output())
      if (!o.empty()) return clean(o);
    return "#" + std::to_string(node_index_);
  }
  [[noreturn]] void fail(const std::string& what) const {
    if (node_) throw invalid_input(source_, "node '" + node_label() + "' (" + clean(node_->op_type()) + "): " + what);
    throw invalid_input(source_, what);
  }
  [[noreturn]] void unsupported() const { fail(std::string("not supported; supported: ") + kSupported); }

  // --- numbers from the file ---
  i64 to_int(double v, const std::string& what) const {
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15) fail(what + " is not an integer (" + num_text(v) + ")");
    return static_cast<i64>(v);
  }
  // Like to_int but large magnitudes (INT64_MAX in Slice ends) are clamped to +-2^62.
  i64 to_int_clamped(double v, const std::string& what) const {
    if (std::isnan(v)) fail(what + " is not a number");
    if (v > 4.6e18) return i64{1} << 62;
    if (v < -4.6e18) return -(i64{1} << 62);
    return static_cast<i64>(v);
  }
  std::vector<i64> const_ints(const Const& c, const std::string& what) const {
    std::vector<i64> out;
    out.reserve(c.v.size());
    for (double v : c.v) out.push_back(to_int_clamped(v, what));
    return out;
  }
  void check_const_shape(const Shape& s, const std::string& what) const {
    if (s.size() > kMaxConstRank) fail(what + ": rank " + std::to_string(s.size()) + " is too high");
    i64 n = 1;
    for (i64 d : s) {
      if (d < 0 || d > kMaxElements) fail(what + ": dimension " + std::to_string(d) + " is out of range");
      n *= d;
      if (n > kMaxElements) fail(what + ": more than " + std::to_string(kMaxElements) + " values");
    }
    spend(n);
  }
  // Every constant made counts against one budget, so no model can make the importer use unbounded memory.
  void spend(i64 n) const {
    spent_ += n;
    if (spent_ > kMaxTotalElements) fail("the model's constants exceed " + std::to_string(kMaxTotalElements) + " values");
  }
  void check_activation_shape(const Shape& s, const std::string& what) const {
    if (s.empty() || s.size() > kMaxActivationRank)
      fail(what + " has rank " + std::to_string(s.size()) + "; tensors of rank 1 to 4 are supported");
    i64 n = 1;
    for (i64 d : s) {
      if (d < 1 || d > kMaxDim) fail(what + " has the shape " + shape_text(s) + "; every dimension must be 1.." + std::to_string(kMaxDim));
      n *= d;
      if (n > kMaxElements) fail(what + " has the shape " + shape_text(s) + ": more than " + std::to_string(kMaxElements) + " values");
    }
  }
  Const read_tensor(const onnx::TensorProto& t, const std::string& what) const;

  // --- attributes ---
  const onnx::AttributeProto* attr(const char* name) const {
    for (const auto& a : node_->attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  bool attr_is(const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType t) const {
    return a.type() == t || a.type() == onnx::AttributeProto::UNDEFINED;
  }
  i64 attr_int(const char* name, i64 def) const {
    const auto* a = attr(name);
    if (!a) return def;
    if (!attr_is(*a, onnx::AttributeProto::INT)) fail(std::string("attribute '") + name + "' must be an integer");
    return a->i();
  }
  double attr_float(const char* name, double def) const {
    const auto* a = attr(name);
    if (!a) return def;
    if (!attr_is(*a, onnx::AttributeProto::FLOAT)) fail(std::string("attribute '") + name + "' must be a float");
    return a->f();
  }
  std::vector<i64> attr_ints(const char* name) const {
    const auto* a = attr(name);
    if (!a) return {};
    if (!attr_is(*a, onnx::AttributeProto::INTS)) fail(std::string("attribute '") + name + "' must be a list of integers");
    if (a->ints_size() > 64) fail(std::string("attribute '") + name + "' is too long");
    return std::vector<i64>(a->ints().begin(), a->ints().end());
  }
  std::string attr_string(const char* name, const std::string& def) const {
    const auto* a = attr(name);
    if (!a) return def;
    if (!attr_is(*a, onnx::AttributeProto::STRING)) fail(std::string("attribute '") + name + "' must be a string");
    return a->s();
  }
  // Two values for H and W (kernel_shape, strides, dilations) within 1..kMaxAttr.
  std::vector<i64> attr_hw(const char* name, i64 def, bool required = false) const {
    std::vector<i64> v = attr_ints(name);
    if (v.empty()) {
      if (required) fail(std::string("attribute '") + name + "' is missing");
      return {def, def};
    }
    if (v.size() != 2) fail(std::string("attribute '") + name + "' must have 2 values for a 2-D op");
    for (i64 x : v)
      if (x < 1 || x > kMaxAttr) fail(std::string("attribute '") + name + "' has the value " + std::to_string(x));
    return v;
  }

  // --- values ---
  bool has_input(int i) const { return i < node_->input_size() && !node_->input(i).empty(); }
  Value& value(const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) fail("input '" + clean(name) + "' is not defined before this node");
    return it->second;
  }
  Value& input(int i) {
    if (!has_input(i)) fail("input " + std::to_string(i) + " is missing");
    return value(node_->input(i));
  }
  const Const& const_input(int i, const std::string& what) {
    Value& v = input(i);
    if (!v.is_const()) fail(what + " ('" + clean(node_->input(i)) + "') must be a constant (an initializer)");
    return *v.c;
  }
  Value& activation_input(int i, const std::string& what) {
    Value& v = input(i);
    if (v.is_const()) fail(what + " ('" + clean(node_->input(i)) + "') must not be a constant");
    return v;
  }
  std::string out_name(int i = 0) const {
    if (i < node_->output_size() && !node_->output(i).empty()) return node_->output(i);
    return node_label() + "/out" + std::to_string(i);
  }
  void define(int i, Value v) {
    if (i >= node_->output_size() || node_->output(i).empty()) return;
    if (!values_.emplace(node_->output(i), std::move(v)).second)
      fail("the value '" + clean(node_->output(i)) + "' is defined twice");
  }
  void define_const(int i, Const c) {
    check_const_shape(c.shape, "output");
    Value v;
    v.shape = c.shape;
    v.c = std::make_shared<const Const>(std::move(c));
    define(i, std::move(v));
  }
  void no_extra_outputs(int from, const std::string& what) const {
    for (int i = from; i < node_->output_size(); ++i)
      if (!node_->output(i).empty()) fail(what);
  }

  // --- IR building ---
  std::string unique_name(const std::string& name) {
    std::string n = name.empty() ? "t" : name;
    if (names_.insert(n).second) return n;
    for (int k = 2;; ++k) {
      std::string m = n + "_" + std::to_string(k);
      if (names_.insert(m).second) return m;
    }
  }
  int new_activation(const std::string& name, const Shape& s) {
    check_activation_shape(s, "the value '" + clean(name) + "'");
    Tensor t;
    t.name = unique_name(name);
    t.shape = ir_shape(s);
    return g_.add_tensor(std::move(t));
  }
  int new_constant(const std::string& name, std::vector<int> shape, const std::vector<float>& data) {
    if (data.empty()) fail("the constant '" + clean(name) + "' is empty");
    spend(static_cast<i64>(data.size()));
    Tensor t;
    t.name = unique_name(name);
    t.shape = std::move(shape);
    t.data.resize(data.size() * sizeof(float));
    std::memcpy(t.data.data(), data.data(), t.data.size());
    return g_.add_tensor(std::move(t));
  }
  Op& emit(OpKind kind, std::vector<int> inputs, std::vector<int> outputs) {
    Op op;
    op.kind = kind;
    op.name = node_ ? node_label() : "output";
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    g_.ops.push_back(std::move(op));
    return g_.ops.back();
  }
  Value activation(const Shape& s, int tensor) {
    Value v;
    v.shape = s;
    v.tensor = tensor;
    return v;
  }
  int tensor_of(Value& v, const std::string& name);
  Value reshape_value(Value& x, const Shape& out, const std::string& name);
  Value elementwise(OpKind kind, Value& a, Value& b, const std::string& name);
  int operand(Value& v, std::size_t rank, const std::string& name);
  Value unary(OpKind kind, Value& x, const std::string& name);
  Value fully_connected(Value& a, const std::vector<float>& weights_onnx_cols, i64 cout, const std::vector<float>* bias,
                        const std::string& name);

  // --- ops ---
  void import_node();
  void op_conv();
  void op_gemm();
  void op_matmul();
  void op_batchnorm();
  void op_relu() { define(0, unary(OpKind::relu, input(0), out_name())); }
  void op_sigmoid() { define(0, unary(OpKind::logistic, input(0), out_name())); }
  void op_tanh() { define(0, unary(OpKind::tanh, input(0), out_name())); }
  void op_clip();
  void op_pool(bool average);
  void op_global_average_pool();
  void op_reduce_mean();
  void op_binary();
  void op_concat();
  void op_pad();
  void op_reshape();
  void op_flatten();
  void op_squeeze(bool unsqueeze);
  void op_softmax();
  void op_identity() { define(0, input(0)); }
  void op_dropout();
  void op_constant();
  void op_shape();
  void op_gather();
  void op_slice();
  void op_cast();
  void op_constant_of_shape();
  void op_transpose();
  void reshape_to(const Shape& out);

  // 2-D padding from pads/auto_pad for input size IN, effective kernel K and stride S.
  struct Pads {
    i64 top = 0, left = 0, bottom = 0, right = 0;
  };
  Pads spatial_pads(i64 in_h, i64 in_w, i64 k_h, i64 k_w, i64 s_h, i64 s_w) const;

  std::string source_;
  Graph g_;
  std::unordered_map<std::string, Value> values_;
  std::set<std::string> names_;
  const onnx::NodeProto* node_ = nullptr;
  int node_index_ = 0;
  i64 opset_ = 1;
  mutable i64 spent_ = 0;
};

Const Importer::read_tensor(const onnx::TensorProto& t, const std::string& what) const {
  using TP = onnx::TensorProto;
  if (t.data_location() == TP::EXTERNAL || t.external_data_size() > 0)
    fail(what + " stores its data in an external file; save the model with its weights inside");
  if (t.has_segment()) fail(what + " is segmented; not supported");
  Const c;
  c.shape.assign(t.dims().begin(), t.dims().end());
  check_const_shape(c.shape, what);
  const i64 n = elements_of(c.shape);
  std::size_t item = 0;
  switch (t.data_type()) {
    case TP::FLOAT: item = 4; break;
    case TP::DOUBLE: item = 8; c.is_float = true; break;
    case TP::INT64: case TP::UINT64: item = 8; break;
    case TP::INT32: case TP::UINT32: item = 4; break;
    case TP::INT16: case TP::UINT16: item = 2; break;
    case TP::INT8: case TP::UINT8: case TP::BOOL: item = 1; break;
    default: fail(what + " has the element type " + std::to_string(t.data_type()) + "; supported: float, double, integers, bool");
  }
  c.is_float = t.data_type() == TP::FLOAT || t.data_type() == TP::DOUBLE;
  c.v.resize(static_cast<std::size_t>(n));
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != static_cast<std::size_t>(n) * item)
      fail(what + ": raw_data holds " + std::to_string(raw.size()) + " bytes, the shape " + shape_text(c.shape) + " needs " +
           std::to_string(static_cast<std::size_t>(n) * item));
    const char* p = raw.data();
    for (i64 i = 0; i < n; ++i, p += item) {
      switch (t.data_type()) {
        case TP::FLOAT: { float f; std::memcpy(&f, p, 4); c.v[i] = f; break; }
        case TP::DOUBLE: { double d; std::memcpy(&d, p, 8); c.v[i] = d; break; }
        case TP::INT64: { std::int64_t x; std::memcpy(&x, p, 8); c.v[i] = static_cast<double>(x); break; }
        case TP::UINT64: { std::uint64_t x; std::memcpy(&x, p, 8); c.v[i] = static_cast<double>(x); break; }
        case TP::INT32: { std::int32_t x; std::memcpy(&x, p, 4); c.v[i] = x; break; }
        case TP::UINT32: { std::uint32_t x; std::memcpy(&x, p, 4); c.v[i] = x; break; }
        case TP::INT16: { std::int16_t x; std::memcpy(&x, p, 2); c.v[i] = x; break; }
        case TP::UINT16: { std::uint16_t x; std::memcpy(&x, p, 2); c.v[i] = x; break; }
        case TP::INT8: c.v[i] = static_cast<std::int8_t>(*p); break;
        case TP::UINT8: c.v[i] = static_cast<std::uint8_t>(*p); break;
        default: c.v[i] = *p != 0; break;  // BOOL
      }
    }
    return c;
  }
  auto take = [&](const auto& field, const char* field_name) {
    if (field.size() != n)
      fail(what + ": " + field_name + " holds " + std::to_string(field.size()) + " values, the shape " + shape_text(c.shape) +
           " needs " + std::to_string(n));
    for (i64 i = 0; i < n; ++i) c.v[i] = static_cast<double>(field.Get(static_cast<int>(i)));
  };
  switch (t.data_type()) {
    case TP::FLOAT: take(t.float_data(), "float_data"); break;
    case TP::DOUBLE: take(t.double_data(), "double_data"); break;
    case TP::INT64: take(t.int64_data(), "int64_data"); break;
    case TP::UINT32: case TP::UINT64: take(t.uint64_data(), "uint64_data"); break;
    default: take(t.int32_data(), "int32_data"); break;
  }
  if (t.data_type() == TP::BOOL)
    for (double& v : c.v) v = v != 0;
  return c;
}

// --- IR helpers ---------------------------------------------------------------------------------

int Importer::tensor_of(Value& v, const std::string& name) {
  if (v.is_const()) {
    if (v.plain >= 0) return v.plain;
    if (v.c->shape.size() > kMaxActivationRank) fail("the constant '" + clean(name) + "' has rank > 4");
    v.plain = new_constant(name, ir_shape(v.c->shape), ir_floats(*v.c));
    return v.plain;
  }
  if (v.col_perm.empty()) return v.tensor;
  if (v.plain >= 0) return v.plain;
  // Put a flattened NHWC value back in ONNX's C,H,W order: FC with a 0/1 permutation matrix (exact).
  const i64 f = v.shape[1];
  if (f > kMaxPermutation)
    fail("the value '" + clean(name) + "' " + shape_text(v.shape) +
         " flattens an NCHW tensor; tml keeps NHWC and can reorder at most " + std::to_string(kMaxPermutation) +
         " values here: let the flattened tensor feed Gemm/MatMul directly");
  std::vector<float> w(static_cast<std::size_t>(f * f), 0.0f);
  for (i64 j = 0; j < f; ++j) w[static_cast<std::size_t>(v.col_perm[j] * f + j)] = 1.0f;
  const int wt = new_constant(name + "/nchw_order_weights", {int(f), int(f)}, w);
  const int out = new_activation(name + "/nchw_order", v.shape);
  emit(OpKind::fully_connected, {v.tensor, wt}, {out});
  v.plain = out;
  return out;
}

// ONNX Reshape semantics (row-major over NCHW) on IR tensors (NHWC for rank 4).
Value Importer::reshape_value(Value& x, const Shape& out, const std::string& name) {
  if (x.shape == out) return x;
  check_activation_shape(out, "the value '" + clean(name) + "'");
  if (elements_of(out) != elements_of(x.shape)) fail("cannot reshape " + shape_text(x.shape) + " to " + shape_text(out));
  const int in_t = tensor_of(x, name + "/input");
  auto plain = [&](int src, const Shape& s, const std::string& n) {
    const int t = new_activation(n, s);
    emit(OpKind::reshape, {src}, {t}).new_shape = g_.tensors[t].shape;
    return t;
  };
  if (trivial_layout(x.shape) && trivial_layout(out)) return activation(out, plain(in_t, out, name));

  // The element order differs: src[k] = IR index (in the input) of the value at IR index k of the output.
  // When the leading dimension stays, the reordering is the same for each sample.
  const bool per_sample = x.shape[0] == out[0];
  Shape si = x.shape, so = out;
  if (per_sample) si[0] = so[0] = 1;
  const i64 block = elements_of(si);
  std::vector<int> src(static_cast<std::size_t>(block));
  {
    const std::vector<i64> sti = ir_strides(si), sto = ir_strides(so);
    std::vector<i64> ii(si.size(), 0), io(so.size(), 0);
    for (i64 f = 0; f < block; ++f) {
      i64 pi = 0, po = 0;
      for (std::size_t d = 0; d < si.size(); ++d) pi += ii[d] * sti[d];
      for (std::size_t d = 0; d < so.size(); ++d) po += io[d] * sto[d];
      src[static_cast<std::size_t>(po)] = static_cast<int>(pi);
      for (std::size_t d = si.size(); d-- > 0;) {
        if (++ii[d] < si[d]) break;
        ii[d] = 0;
      }
      for (std::size_t d = so.size(); d-- > 0;) {
        if (++io[d] < so[d]) break;
        io[d] = 0;
      }
    }
  }
  bool identity = true;
  for (i64 k = 0; k < block && identity; ++k) identity = src[k] == k;
  if (identity) return activation(out, plain(in_t, out, name));

  if (per_sample && out.size() == 2 && x.shape.size() == 4) {
    // Flatten at axis 1: keep the IR (H,W,C) order and remember the column order for Gemm/MatMul.
    Value v = activation(out, plain(in_t, out, name));
    v.col_perm.assign(static_cast<std::size_t>(block), 0);
    for (i64 f = 0; f < block; ++f) v.col_perm[src[f]] = static_cast<int>(f);
    return v;
  }
  if (block > kMaxPermutation)
    fail("reshaping " + shape_text(x.shape) + " to " + shape_text(out) + " reorders " + std::to_string(block) +
         " values between NCHW and NHWC order; at most " + std::to_string(kMaxPermutation) + " are supported");
  const i64 rows = elements_of(x.shape) / block;
  const int t1 = plain(in_t, {rows, block}, name + "/rows");
  std::vector<float> w(static_cast<std::size_t>(block * block), 0.0f);
  for (i64 k = 0; k < block; ++k) w[static_cast<std::size_t>(k * block + src[k])] = 1.0f;
  const int wt = new_constant(name + "/reorder_weights", {int(block), int(block)}, w);
  const int t2 = new_activation(name + "/reordered", {rows, block});
  emit(OpKind::fully_connected, {t1, wt}, {t2});
  return activation(out, plain(t2, out, name));
}

// An operand of an element-wise op whose output has RANK dimensions: same rank, IR layout.
int Importer::operand(Value& v, std::size_t rank, const std::string& name) {
  if (v.is_const()) {
    Const c = *v.c;
    c.shape.insert(c.shape.begin(), rank - c.shape.size(), 1);
    return new_constant(name, ir_shape(c.shape), ir_floats(c));
  }
  if (v.shape.size() == rank) return tensor_of(v, name);
  Shape e = v.shape;
  e.insert(e.begin(), rank - e.size(), 1);
  Value r = reshape_value(v, e, name + "/expanded");
  return tensor_of(r, name + "/expanded");
}

Value Importer::elementwise(OpKind kind, Value& a, Value& b, const std::string& name) {
  Shape out;
  if (!broadcast(a.shape, b.shape, out)) fail("the shapes " + shape_text(a.shape) + " and " + shape_text(b.shape) + " do not broadcast");
  if (a.is_const() && b.is_const()) {
    check_const_shape(out, "the result");
    Const c;
    c.is_float = a.c->is_float || b.c->is_float;
    c.shape = out;
    c.v.resize(static_cast<std::size_t>(elements_of(out)));
    for_each_index(out, {broadcast_strides(a.shape, out), broadcast_strides(b.shape, out)},
                   [&](i64 k, const std::vector<i64>& off) {
                     const double x = a.c->v[off[0]], y = b.c->v[off[1]];
                     c.v[k] = kind == OpKind::add ? x + y : x * y;
                   });
    if (!c.is_float)
      for (double& v : c.v) v = to_int_clamped(v, "an integer result");
    Value v;
    v.shape = out;
    v.c = std::make_shared<const Const>(std::move(c));
    return v;
  }
  check_activation_shape(out, "the result " + clean(name));
  const int ta = operand(a, out.size(), name + "/a");
  const int tb = operand(b, out.size(), name + "/b");
  const int t = new_activation(name, out);
  emit(kind, {ta, tb}, {t});
  return activation(out, t);
}

Value Importer::unary(OpKind kind, Value& x, const std::string& name) {
  auto f = [kind](double v) -> double {
    switch (kind) {
      case OpKind::relu: return v > 0 ? v : 0;
      case OpKind::relu6: return std::min(std::max(v, 0.0), 6.0);
      case OpKind::logistic: return 1.0 / (1.0 + std::exp(-v));
      default: return std::tanh(v);
    }
  };
  if (x.is_const()) {
    Const c = *x.c;
    c.is_float = true;
    for (double& v : c.v) v = static_cast<float>(f(v));
    Value out;
    out.shape = c.shape;
    out.c = std::make_shared<const Const>(std::move(c));
    return out;
  }
  // Element-wise: a flattened value keeps its column order.
  const int in = x.col_perm.empty() ? tensor_of(x, name) : x.tensor;
  const int t = new_activation(name, x.shape);
  emit(kind, {in}, {t});
  Value v = activation(x.shape, t);
  v.col_perm = x.col_perm;
  return v;
}

// fully_connected of A {N,K} with ONNX weights W[o*K + k] (o < cout): the IR weights take A's
// column order, so a flattened NCHW value needs no reordering.
Value Importer::fully_connected(Value& a, const std::vector<float>& w, i64 cout, const std::vector<float>* bias,
                                const std::string& name) {
  const i64 k = a.shape[1];
  std::vector<float> wir(w.size());
  for (i64 o = 0; o < cout; ++o)
    for (i64 j = 0; j < k; ++j)
      wir[static_cast<std::size_t>(o * k + j)] = w[static_cast<std::size_t>(o * k + (a.col_perm.empty() ? j : a.col_perm[j]))];
  const int in = a.col_perm.empty() ? tensor_of(a, name) : a.tensor;
  std::vector<int> inputs = {in, new_constant(name + "/weights", {int(cout), int(k)}, wir)};
  if (bias) inputs.push_back(new_constant(name + "/bias", {int(cout)}, *bias));
  const int t = new_activation(name, {a.shape[0], cout});
  emit(OpKind::fully_connected, std::move(inputs), {t});
  return activation({a.shape[0], cout}, t);
}

Importer::Pads Importer::spatial_pads(i64 in_h, i64 in_w, i64 k_h, i64 k_w, i64 s_h, i64 s_w) const {
  const std::string auto_pad = attr_string("auto_pad", "NOTSET");
  Pads p;
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    std::vector<i64> pads = attr_ints("pads");
    if (pads.empty()) return p;
    if (pads.size() != 4) fail("attribute 'pads' must have 4 values for a 2-D op");
    for (i64 x : pads)
      if (x < 0 || x > kMaxAttr) fail("attribute 'pads' has the value " + std::to_string(x));
    return {pads[0], pads[1], pads[2], pads[3]};
  }
  if (auto_pad == "VALID") return p;
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") fail("auto_pad '" + clean(auto_pad) + "' is not supported");
  auto split = [&](i64 in, i64 k, i64 s, i64& begin, i64& end) {
    const i64 out = (in + s - 1) / s;
    const i64 total = std::max<i64>(0, (out - 1) * s + k - in);
    const i64 small = total / 2;
    begin = auto_pad == "SAME_UPPER" ? small : total - small;
    end = total - begin;
  };
  split(in_h, k_h, s_h, p.top, p.bottom);
  split(in_w, k_w, s_w, p.left, p.right);
  return p;
}

// --- ops ----------------------------------------------------------------------------------------

void Importer::op_conv() {
  Value& x = activation_input(0, "input X");
  if (x.shape.size() != 4) fail("only 2-D convolutions (rank-4 input) are supported; the input is " + shape_text(x.shape));
  const Const& w = const_input(1, "weights W");
  if (w.shape.size() != 4) fail("the weights must have rank 4, not " + shape_text(w.shape));
  const i64 M = w.shape[0], Cg = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  const i64 C = x.shape[1], H = x.shape[2], W = x.shape[3];
  if (M < 1 || Cg < 1 || KH < 1 || KW < 1) fail("empty weights " + shape_text(w.shape));
  const i64 group = attr_int("group", 1);
  std::vector<i64> ks = attr_ints("kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != KH || ks[1] != KW))
    fail("kernel_shape does not match the weights " + shape_text(w.shape));
  const std::vector<i64> st = attr_hw("strides", 1), dl = attr_hw("dilations", 1);
  const i64 keh = (KH - 1) * dl[0] + 1, kew = (KW - 1) * dl[1] + 1;
  const Pads p = spatial_pads(H, W, keh, kew, st[0], st[1]);
  const i64 OH = (H + p.top + p.bottom - keh), OW = (W + p.left + p.right - kew);
  if (OH < 0 || OW < 0) fail("the kernel " + shape_text({KH, KW}) + " is larger than the padded input " + shape_text(x.shape));
  const Shape out = {x.shape[0], M, OH / st[0] + 1, OW / st[1] + 1};
  std::vector<float> bias;
  if (has_input(2)) {
    const Const& b = const_input(2, "bias B");
    if (elements_of(b.shape) != M || b.shape.size() != 1) fail("the bias " + shape_text(b.shape) + " must be {" + std::to_string(M) + "}");
    for (double v : b.v) bias.push_back(static_cast<float>(v));
  }
  const std::string name = out_name();
  OpKind kind;
  std::vector<float> wir(w.v.size());
  std::vector<int> wshape;
  int mult = 1;
  if (group == 1 && Cg == C) {
    kind = OpKind::conv2d;
    for (i64 m = 0; m < M; ++m)
      for (i64 c = 0; c < C; ++c)
        for (i64 kh = 0; kh < KH; ++kh)
          for (i64 kw = 0; kw < KW; ++kw)
            wir[((m * KH + kh) * KW + kw) * C + c] = static_cast<float>(w.v[((m * C + c) * KH + kh) * KW + kw]);
    wshape = {int(M), int(KH), int(KW), int(C)};
  } else if (group == C && Cg == 1 && M % C == 0) {
    kind = OpKind::depthwise_conv2d;
    mult = static_cast<int>(M / C);
    for (i64 m = 0; m < M; ++m)
      for (i64 kh = 0; kh < KH; ++kh)
        for (i64 kw = 0; kw < KW; ++kw) wir[(kh * KW + kw) * M + m] = static_cast<float>(w.v[(m * KH + kh) * KW + kw]);
    wshape = {1, int(KH), int(KW), int(M)};
  } else {
    fail("group=" + std::to_string(group) + " with " + std::to_string(C) + " input and " + std::to_string(M) +
         " output channels (weights " + shape_text(w.shape) +
         ") is not supported: only group 1 (convolution) or group = input channels (depthwise)");
  }
  std::vector<int> inputs = {tensor_of(x, name), new_constant(name + "/weights", wshape, wir)};
  if (!bias.empty()) inputs.push_back(new_constant(name + "/bias", {int(M)}, bias));
  const int t = new_activation(name, out);
  Op& op = emit(kind, std::move(inputs), {t});
  op.stride_h = int(st[0]);
  op.stride_w = int(st[1]);
  op.dilation_h = int(dl[0]);
  op.dilation_w = int(dl[1]);
  op.pad_top = int(p.top);
  op.pad_left = int(p.left);
  op.pad_bottom = int(p.bottom);
  op.pad_right = int(p.right);
  op.depth_multiplier = mult;
  define(0, activation(out, t));
}

void Importer::op_gemm() {
  Value& a = activation_input(0, "input A");
  if (a.shape.size() != 2) fail("input A must have rank 2, not " + shape_text(a.shape));
  if (attr_int("transA", 0) != 0) fail("transA=1 is not supported");
  const bool trans_b = attr_int("transB", 0) != 0;
  const double alpha = attr_float("alpha", 1.0), beta = attr_float("beta", 1.0);
  const Const& b = const_input(1, "weights B");
  if (b.shape.size() != 2) fail("B must have rank 2, not " + shape_text(b.shape));
  const i64 K = a.shape[1], M = trans_b ? b.shape[0] : b.shape[1];
  if ((trans_b ? b.shape[1] : b.shape[0]) != K || M < 1)
    fail("A " + shape_text(a.shape) + " and B " + shape_text(b.shape) + (trans_b ? " (transposed)" : "") + " do not multiply");
  std::vector<float> w(static_cast<std::size_t>(M * K));
  for (i64 o = 0; o < M; ++o)
    for (i64 k = 0; k < K; ++k)
      w[o * K + k] = static_cast<float>(alpha * (trans_b ? b.v[o * K + k] : b.v[k * M + o]));
  const std::string name = out_name();
  if (!has_input(2) || beta == 0.0) {
    define(0, fully_connected(a, w, M, nullptr, name));
    return;
  }
  const Const& c = const_input(2, "bias C");
  Shape both;
  if (c.shape.size() > 2 || !broadcast(c.shape, {a.shape[0], M}, both) || both != Shape{a.shape[0], M})
    fail("C " + shape_text(c.shape) + " does not broadcast to " + shape_text({a.shape[0], M}));
  const bool per_output = elements_of(c.shape) == 1 || (c.shape.back() == M && elements_of(c.shape) == M);
  if (per_output) {
    std::vector<float> bias(static_cast<std::size_t>(M));
    for (i64 o = 0; o < M; ++o) bias[o] = static_cast<float>(beta * c.v[c.v.size() == 1 ? 0 : o]);
    define(0, fully_connected(a, w, M, &bias, name));
    return;
  }
  // A bias that differs between rows: fully_connected, then add.
  Value y = fully_connected(a, w, M, nullptr, name + "/matmul");
  Const cb = c;
  for (double& v : cb.v) v = static_cast<float>(beta * v);
  Value cv;
  cv.shape = cb.shape;
  cv.c = std::make_shared<const Const>(std::move(cb));
  define(0, elementwise(OpKind::add, y, cv, name));
}

void Importer::op_matmul() {
  Value& a = activation_input(0, "input A");
  if (a.shape.size() != 2) fail("MatMul is supported as A{N,K} x constant B{K,M}; A is " + shape_text(a.shape));
  const Const& b = const_input(1, "B");
  if (b.shape.size() != 2 || b.shape[0] != a.shape[1] || b.shape[1] < 1)
    fail("A " + shape_text(a.shape) + " and B " + shape_text(b.shape) + " do not multiply");
  const i64 K = b.shape[0], M = b.shape[1];
  std::vector<float> w(static_cast<std::size_t>(M * K));
  for (i64 o = 0; o < M; ++o)
    for (i64 k = 0; k < K; ++k) w[o * K + k] = static_cast<float>(b.v[k * M + o]);
  define(0, fully_connected(a, w, M, nullptr, out_name()));
}

void Importer::op_batchnorm() {
  Value& x = activation_input(0, "input X");
  if (x.shape.size() < 2) fail("the input must have rank 2 or more, not " + shape_text(x.shape));
  if (attr_int("training_mode", 0) != 0) fail("training_mode=1 is not supported (export the model in eval mode)");
  no_extra_outputs(1, "the training outputs (running mean/var) are not supported (export the model in eval mode)");
  const i64 C = x.shape[1];
  const char* names[4] = {"scale", "B", "mean", "var"};
  const Const* p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = &const_input(i + 1, names[i]);
    if (p[i]->shape.size() != 1 || p[i]->shape[0] != C)
      fail(std::string(names[i]) + " " + shape_text(p[i]->shape) + " must be {" + std::to_string(C) + "}");
  }
  const double eps = attr_float("epsilon", 1e-5);
  Const s, t;
  s.shape.assign(x.shape.size(), 1);
  s.shape[1] = C;
  t.shape = s.shape;
  for (i64 c = 0; c < C; ++c) {
    const double scale = p[0]->v[c] / std::sqrt(p[3]->v[c] + eps);
    s.v.push_back(static_cast<float>(scale));
    t.v.push_back(static_cast<float>(p[1]->v[c] - p[2]->v[c] * scale));
  }
  Value sv, tv;
  sv.shape = tv.shape = s.shape;
  sv.c = std::make_shared<const Const>(std::move(s));
  tv.c = std::make_shared<const Const>(std::move(t));
  const std::string name = out_name();
  Value y = elementwise(OpKind::mul, x, sv, name + "/bn_scale");
  define(0, elementwise(OpKind::add, y, tv, name));
}

void Importer::op_clip() {
  Value& x = input(0);
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  auto scalar = [&](int i, const char* what) {
    const Const& c = const_input(i, what);
    if (c.v.size() != 1) fail(std::string(what) + " must be a scalar, not " + shape_text(c.shape));
    return c.v[0];
  };
  if (opset_ < 11) {
    lo = attr_float("min", lo);
    hi = attr_float("max", hi);
  } else {
    if (has_input(1)) lo = scalar(1, "min");
    if (has_input(2)) hi = scalar(2, "max");
  }
  if (lo <= -std::numeric_limits<float>::max()) lo = -std::numeric_limits<double>::infinity();
  if (hi >= std::numeric_limits<float>::max()) hi = std::numeric_limits<double>::infinity();
  if (std::isinf(lo) && lo < 0 && std::isinf(hi) && hi > 0) {
    define(0, x);
  } else if (lo == 0.0 && hi == 6.0) {
    define(0, unary(OpKind::relu6, x, out_name()));
  } else if (lo == 0.0 && std::isinf(hi) && hi > 0) {
    define(0, unary(OpKind::relu, x, out_name()));
  } else {
    fail("Clip(" + num_text(lo) + ", " + num_text(hi) + ") is not supported: only Clip(0, 6) (ReLU6) and Clip(0) (ReLU)");
  }
}

void Importer::op_pool(bool average) {
  Value& x = activation_input(0, "input X");
  if (x.shape.size() != 4) fail("only 2-D pooling (rank-4 input) is supported; the input is " + shape_text(x.shape));
  no_extra_outputs(1, "the Indices output is not supported");
  const std::vector<i64> k = attr_hw("kernel_shape", 1, true), s = attr_hw("strides", 1), dl = attr_hw("dilations", 1);
  if (dl[0] != 1 || dl[1] != 1) fail("dilations other than 1 are not supported");
  const bool ceil_mode = attr_int("ceil_mode", 0) != 0;
  const bool include_pad = average && attr_int("count_include_pad", 0) != 0;
  const i64 H = x.shape[2], W = x.shape[3];
  Pads p = spatial_pads(H, W, k[0], k[1], s[0], s[1]);
  if (p.top >= k[0] || p.bottom >= k[0] || p.left >= k[1] || p.right >= k[1])
    fail("pads must be smaller than the kernel " + shape_text(k));
  // Output size; ceil_mode adds windows that hang over the end (PyTorch's rule: a window must start
  // inside the input or its begin padding), which the IR sees as extra end padding that is not counted.
  auto size = [&](i64 in, i64 kk, i64 ss, i64 begin, i64& end) {
    const i64 num = in + begin + end - kk;
    if (num < 0) fail("the kernel " + shape_text(k) + " is larger than the padded input " + shape_text(x.shape));
    i64 out = num / ss + 1;
    if (ceil_mode && attr_string("auto_pad", "NOTSET").rfind("SAME", 0) != 0) {
      out = (num + ss - 1) / ss + 1;
      if ((out - 1) * ss >= in + begin) --out;
      end += std::max<i64>(0, (out - 1) * ss + kk - (in + begin + end));
    }
    return out;
  };
  i64 extra_b = p.bottom, extra_r = p.right;
  const i64 OH = size(H, k[0], s[0], p.top, extra_b), OW = size(W, k[1], s[1], p.left, extra_r);
  const std::string name = out_name();
  int in = tensor_of(x, name);
  if (include_pad && (p.top || p.left || p.bottom || p.right)) {
    // Counted padding: pad with zeros first, then pool without padding (the ceil overhang stays uncounted).
    const Shape padded = {x.shape[0], x.shape[1], H + p.top + p.bottom, W + p.left + p.right};
    const int t = new_activation(name + "/padded", padded);
    emit(OpKind::pad, {in}, {t}).paddings = {0, 0, int(p.top), int(p.bottom), int(p.left), int(p.right), 0, 0};
    in = t;
    extra_b -= p.bottom;
    extra_r -= p.right;
    p = Pads{};
  }
  const Shape out = {x.shape[0], x.shape[1], OH, OW};
  const int t = new_activation(name, out);
  Op& op = emit(average ? OpKind::average_pool2d : OpKind::max_pool2d, {in}, {t});
  op.kernel_h = int(k[0]);
  op.kernel_w = int(k[1]);
  op.stride_h = int(s[0]);
  op.stride_w = int(s[1]);
  op.pad_top = int(p.top);
  op.pad_left = int(p.left);
  op.pad_bottom = int(extra_b);
  op.pad_right = int(extra_r);
  define(0, activation(out, t));
}

void Importer::op_global_average_pool() {
  Value& x = activation_input(0, "input X");
  if (x.shape.size() != 4) fail("only rank-4 inputs are supported; the input is " + shape_text(x.shape));
  const Shape out = {x.shape[0], x.shape[1], 1, 1};
  const std::string name = out_name();
  const int in = tensor_of(x, name);
  const int t = new_activation(name, out);
  emit(OpKind::mean_hw, {in}, {t});
  define(0, activation(out, t));
}

void Importer::op_reduce_mean() {
  Value& x = activation_input(0, "input data");
  std::vector<i64> axes = attr_ints("axes");
  if (opset_ >= 18 && has_input(1)) axes = const_ints(const_input(1, "axes"), "axes");
  const i64 r = static_cast<i64>(x.shape.size());
  for (i64& a : axes) {
    if (a < -r || a >= r) fail("axis " + std::to_string(a) + " is out of range");
    if (a < 0) a += r;
  }
  std::sort(axes.begin(), axes.end());
  if (r != 4 || axes != std::vector<i64>{2, 3})
    fail("ReduceMean is supported over the spatial axes {2,3} of a rank-4 tensor only");
  const Shape pooled = {x.shape[0], x.shape[1], 1, 1};
  const std::string name = out_name();
  const int in = tensor_of(x, name);
  const int t = new_activation(attr_int("keepdims", 1) ? name : name + "/keepdims", pooled);
  emit(OpKind::mean_hw, {in}, {t});
  Value v = activation(pooled, t);
  if (attr_int("keepdims", 1)) {
    define(0, v);
  } else {
    define(0, reshape_value(v, {x.shape[0], x.shape[1]}, name));
  }
}

void Importer::op_binary() {
  const std::string& op = node_->op_type();
  Value& a = input(0);
  Value& b = input(1);
  const std::string name = out_name();
  auto const_value = [](Const c) {
    Value v;
    v.shape = c.shape;
    v.c = std::make_shared<const Const>(std::move(c));
    return v;
  };
  if (op == "Add") {
    define(0, elementwise(OpKind::add, a, b, name));
  } else if (op == "Mul") {
    define(0, elementwise(OpKind::mul, a, b, name));
  } else if (op == "Sub") {
    if (b.is_const()) {
      Const nb = *b.c;
      for (double& v : nb.v) v = -v;
      Value bv = const_value(std::move(nb));
      define(0, elementwise(OpKind::add, a, bv, name));
    } else {
      Const m1;
      m1.v = {-1.0};
      Value mv = const_value(std::move(m1));
      Value neg = elementwise(OpKind::mul, b, mv, name + "/neg");
      define(0, elementwise(OpKind::add, a, neg, name));
    }
  } else {  // Div
    if (!b.is_const()) fail("division is supported by a constant only");
    Const rb = *b.c;
    if (a.is_const() && !a.c->is_float && !rb.is_float) {  // integer shape arithmetic
      Shape out;
      if (!broadcast(a.shape, rb.shape, out)) fail("the shapes do not broadcast");
      check_const_shape(out, "the result");
      Const c;
      c.is_float = false;
      c.shape = out;
      c.v.resize(static_cast<std::size_t>(elements_of(out)));
      for_each_index(out, {broadcast_strides(a.shape, out), broadcast_strides(rb.shape, out)},
                     [&](i64 k, const std::vector<i64>& off) {
                       const i64 x = to_int_clamped(a.c->v[off[0]], "a"), y = to_int_clamped(rb.v[off[1]], "b");
                       if (y == 0) fail("integer division by zero");
                       c.v[k] = static_cast<double>(x / y);
                     });
      define_const(0, std::move(c));
      return;
    }
    for (double& v : rb.v) v = 1.0 / v;
    rb.is_float = true;
    Value bv = const_value(std::move(rb));
    define(0, elementwise(OpKind::mul, a, bv, name));
  }
}

void Importer::op_concat() {
  if (node_->input_size() < 1) fail("no inputs");
  std::vector<Value*> in;
  for (int i = 0; i < node_->input_size(); ++i) in.push_back(&input(i));
  const i64 r = static_cast<i64>(in[0]->shape.size());
  if (!attr("axis")) fail("attribute 'axis' is missing");
  i64 axis = attr_int("axis", 0);
  if (axis < -r || axis >= r) fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  Shape out = in[0]->shape;
  out[axis] = 0;
  bool all_const = true;
  for (Value* v : in) {
    if (static_cast<i64>(v->shape.size()) != r) fail("inputs of different ranks");
    for (i64 d = 0; d < r; ++d)
      if (d != axis && v->shape[d] != out[d]) fail("input shapes " + shape_text(in[0]->shape) + " and " + shape_text(v->shape) + " differ off the axis");
    out[axis] += v->shape[axis];
    all_const = all_const && v->is_const();
  }
  if (all_const) {
    check_const_shape(out, "the result");
    Const c;
    c.shape = out;
    c.is_float = false;
    i64 outer = 1, inner = 1;
    for (i64 d = 0; d < axis; ++d) outer *= out[d];
    for (i64 d = axis + 1; d < r; ++d) inner *= out[d];
    for (i64 o = 0; o < outer; ++o)
      for (Value* v : in) {
        const i64 n = v->shape[axis] * inner;
        c.v.insert(c.v.end(), v->c->v.begin() + o * n, v->c->v.begin() + (o + 1) * n);
        c.is_float = c.is_float || v->c->is_float;
      }
    define_const(0, std::move(c));
    return;
  }
  if (in.size() == 1) {
    define(0, *in[0]);
    return;
  }
  const std::string name = out_name();
  check_activation_shape(out, "the result");
  std::vector<int> tensors;
  for (std::size_t i = 0; i < in.size(); ++i) tensors.push_back(tensor_of(*in[i], name + "/in" + std::to_string(i)));
  const int t = new_activation(name, out);
  static const int kNhwcAxis[4] = {0, 3, 1, 2};
  emit(OpKind::concatenation, std::move(tensors), {t}).axis = r == 4 ? kNhwcAxis[axis] : static_cast<int>(axis);
  define(0, activation(out, t));
}

void Importer::op_pad() {
  Value& x = activation_input(0, "input data");
  const i64 r = static_cast<i64>(x.shape.size());
  std::vector<i64> pads;
  double value = 0.0;
  const std::string mode = attr_string("mode", "constant");
  if (opset_ < 11) {
    pads = attr_ints("pads");
    value = attr_float("value", 0.0);
  } else {
    pads = const_ints(const_input(1, "pads"), "pads");
    if (has_input(2)) {
      const Const& v = const_input(2, "constant_value");
      if (v.v.size() != 1) fail("constant_value must be a scalar");
      value = v.v[0];
    }
    if (has_input(3)) fail("the axes input is not supported");
  }
  if (mode != "constant") fail("mode '" + clean(mode) + "' is not supported (only constant)");
  if (value != 0.0) fail("padding with " + num_text(value) + " is not supported (only 0)");
  if (static_cast<i64>(pads.size()) != 2 * r) fail("pads must have " + std::to_string(2 * r) + " values");
  Shape out = x.shape;
  for (i64 d = 0; d < r; ++d) {
    if (pads[d] < 0 || pads[d + r] < 0 || pads[d] > kMaxAttr || pads[d + r] > kMaxAttr)
      fail("pads must be 0.." + std::to_string(kMaxAttr) + " (no cropping)");
    out[d] += pads[d] + pads[d + r];
  }
  if (out == x.shape) {
    define(0, x);
    return;
  }
  const std::string name = out_name();
  const int in = tensor_of(x, name);
  const int t = new_activation(name, out);
  std::vector<int> paddings;
  static const int kOnnxDim[4] = {0, 2, 3, 1};  // NHWC dim -> NCHW dim
  for (i64 d = 0; d < r; ++d) {
    const i64 od = r == 4 ? kOnnxDim[d] : d;
    paddings.push_back(int(pads[od]));
    paddings.push_back(int(pads[od + r]));
  }
  emit(OpKind::pad, {in}, {t}).paddings = std::move(paddings);
  define(0, activation(out, t));
}

void Importer::reshape_to(const Shape& out) {
  Value& x = input(0);
  if (x.is_const()) {
    Const c = *x.c;
    c.shape = out;
    define_const(0, std::move(c));
    return;
  }
  define(0, reshape_value(x, out, out_name()));
}

void Importer::op_reshape() {
  Value& x = input(0);
  std::vector<i64> target = opset_ < 5 ? attr_ints("shape") : const_ints(const_input(1, "shape"), "shape");
  if (target.size() > kMaxConstRank) fail("the target shape has too many dimensions");
  const bool allow_zero = attr_int("allowzero", 0) != 0;
  Shape out(target.size());
  i64 known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    i64 d = target[i];
    if (d == 0 && !allow_zero) {
      if (i >= x.shape.size()) fail("shape " + shape_text(target) + ": 0 copies a dimension the input " + shape_text(x.shape) + " lacks");
      d = x.shape[i];
    }
    if (d == -1) {
      if (infer >= 0) fail("shape " + shape_text(target) + " has more than one -1");
      infer = static_cast<int>(i);
      continue;
    }
    if (d < 0 || d > kMaxElements) fail("shape " + shape_text(target) + " has the dimension " + std::to_string(d));
    out[i] = d;
    known *= d;
    if (known > kMaxElements) fail("shape " + shape_text(target) + " is too large");
  }
  const i64 total = elements_of(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) fail("cannot reshape " + shape_text(x.shape) + " to " + shape_text(target));
    out[infer] = total / known;
  }
  if (elements_of(out) != total) fail("cannot reshape " + shape_text(x.shape) + " to " + shape_text(target));
  reshape_to(out);
}

void Importer::op_flatten() {
  Value& x = input(0);
  const i64 r = static_cast<i64>(x.shape.size());
  i64 axis = attr_int("axis", 1);
  if (axis < -r || axis > r) fail("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += r;
  i64 a = 1, b = 1;
  for (i64 d = 0; d < r; ++d) (d < axis ? a : b) *= x.shape[d];
  reshape_to({a, b});
}

void Importer::op_squeeze(bool unsqueeze) {
  Value& x = input(0);
  std::vector<i64> axes = attr_ints("axes");
  if (opset_ >= 13 && has_input(1)) axes = const_ints(const_input(1, "axes"), "axes");
  const i64 r = static_cast<i64>(x.shape.size());
  Shape out;
  if (unsqueeze) {
    const i64 ro = r + static_cast<i64>(axes.size());
    if (axes.empty() || ro > static_cast<i64>(kMaxConstRank)) fail("bad axes");
    std::vector<bool> is_new(static_cast<std::size_t>(ro), false);
    for (i64 a : axes) {
      if (a < -ro || a >= ro) fail("axis " + std::to_string(a) + " is out of range");
      if (a < 0) a += ro;
      if (is_new[a]) fail("axis " + std::to_string(a) + " is repeated");
      is_new[a] = true;
    }
    std::size_t k = 0;
    for (i64 d = 0; d < ro; ++d) out.push_back(is_new[d] ? 1 : x.shape[k++]);
  } else {
    std::vector<bool> drop(static_cast<std::size_t>(r), false);
    if (axes.empty()) {
      for (i64 d = 0; d < r; ++d) drop[d] = x.shape[d] == 1;
    }
    for (i64 a : axes) {
      if (a < -r || a >= r) fail("axis " + std::to_string(a) + " is out of range");
      if (a < 0) a += r;
      if (x.shape[a] != 1) fail("axis " + std::to_string(a) + " of " + shape_text(x.shape) + " is not 1");
      drop[a] = true;
    }
    for (i64 d = 0; d < r; ++d)
      if (!drop[d]) out.push_back(x.shape[d]);
  }
  reshape_to(out);
}

void Importer::op_softmax() {
  Value& x = activation_input(0, "input");
  const i64 r = static_cast<i64>(x.shape.size());
  i64 axis = attr_int("axis", opset_ < 13 ? 1 : -1);
  if (axis < -r || axis >= r) fail("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += r;
  // The IR's softmax runs over the last IR axis (ONNX's last axis, or C for a rank-4 value). ONNX's
  // reduced axes (opset < 13: axis..r-1 flattened) must be that axis, size-1 axes aside.
  static const int kIrDim[4] = {0, 3, 1, 2};  // NCHW dim -> NHWC dim
  const std::vector<int> ird = ir_shape(x.shape);
  bool ok = true;
  bool last_reduced = false;
  for (i64 d = 0; d < r; ++d) {
    const bool reduced = opset_ < 13 ? d >= axis : d == axis;
    const i64 at = r == 4 ? kIrDim[d] : d;
    if (reduced && at == r - 1) last_reduced = true;
    if (reduced && x.shape[d] > 1 && at != r - 1) ok = false;
  }
  if (!last_reduced && ird.back() > 1) ok = false;
  if (!ok)
    fail("softmax over axis " + std::to_string(axis) + " of " + shape_text(x.shape) +
         " is not supported (only the last axis, or the channel axis 1 of a rank-4 tensor)");
  Value v = unary(OpKind::softmax, x, out_name());
  define(0, v);
}

void Importer::op_dropout() {
  Value& x = input(0);
  if (opset_ >= 12 && has_input(2)) {
    const Const& t = const_input(2, "training_mode");
    if (t.v.size() != 1 || t.v[0] != 0) fail("training_mode must be false (export the model in eval mode)");
  }
  if (opset_ < 7 && attr_int("is_test", 0) == 0) fail("is_test must be 1 (export the model in eval mode)");
  no_extra_outputs(1, "the mask output is not supported");
  define(0, x);
}

void Importer::op_constant() {
  Const c;
  if (node_->attribute_size() != 1) fail("a Constant needs exactly one attribute");
  const auto& a = node_->attribute(0);
  const std::string& n = a.name();
  if (n == "value") {
    if (!a.has_t()) fail("attribute 'value' holds no tensor");
    c = read_tensor(a.t(), "the constant");
  } else if (n == "value_float") {
    c.v = {a.f()};
  } else if (n == "value_floats") {
    c.shape = {a.floats_size()};
    check_const_shape(c.shape, "the constant");
    c.v.assign(a.floats().begin(), a.floats().end());
  } else if (n == "value_int") {
    c.is_float = false;
    c.v = {static_cast<double>(a.i())};
  } else if (n == "value_ints") {
    c.is_float = false;
    c.shape = {a.ints_size()};
    check_const_shape(c.shape, "the constant");
    for (i64 v : a.ints()) c.v.push_back(static_cast<double>(v));
  } else {
    fail("attribute '" + clean(n) + "' is not supported (only value, value_float(s), value_int(s))");
  }
  define_const(0, std::move(c));
}

void Importer::op_shape() {
  Value& x = input(0);
  const i64 r = static_cast<i64>(x.shape.size());
  i64 start = attr_int("start", 0), end = attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<i64>(start, 0, r);
  end = std::clamp<i64>(end, 0, r);
  Const c;
  c.is_float = false;
  for (i64 d = start; d < end; ++d) c.v.push_back(static_cast<double>(x.shape[d]));
  c.shape = {static_cast<i64>(c.v.size())};
  define_const(0, std::move(c));
}

void Importer::op_gather() {
  if (!input(0).is_const() || !input(1).is_const()) fail("Gather is supported on constants only (shape computations)");
  const Const& data = *input(0).c;
  const Const& idx = *input(1).c;
  const i64 r = static_cast<i64>(data.shape.size());
  i64 axis = attr_int("axis", 0);
  if (r == 0 || axis < -r || axis >= r) fail("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += r;
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  check_const_shape(out, "the result");
  i64 outer = 1, inner = 1;
  for (i64 d = 0; d < axis; ++d) outer *= data.shape[d];
  for (i64 d = axis + 1; d < r; ++d) inner *= data.shape[d];
  const i64 n = data.shape[axis];
  Const c;
  c.is_float = data.is_float;
  c.shape = out;
  for (i64 o = 0; o < outer; ++o)
    for (double iv : idx.v) {
      i64 i = to_int(iv, "an index");
      if (i < -n || i >= n) fail("index " + std::to_string(i) + " is out of range");
      if (i < 0) i += n;
      c.v.insert(c.v.end(), data.v.begin() + (o * n + i) * inner, data.v.begin() + (o * n + i + 1) * inner);
    }
  define_const(0, std::move(c));
}

void Importer::op_slice() {
  if (!input(0).is_const()) fail("Slice is supported on constants only (shape computations)");
  const Const& data = *input(0).c;
  const i64 r = static_cast<i64>(data.shape.size());
  std::vector<i64> starts, ends, axes, steps;
  if (opset_ < 10) {
    starts = attr_ints("starts");
    ends = attr_ints("ends");
    axes = attr_ints("axes");
  } else {
    starts = const_ints(const_input(1, "starts"), "starts");
    ends = const_ints(const_input(2, "ends"), "ends");
    if (has_input(3)) axes = const_ints(const_input(3, "axes"), "axes");
    if (has_input(4)) steps = const_ints(const_input(4, "steps"), "steps");
  }
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<i64>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("starts, ends, axes and steps differ in length");
  std::vector<i64> begin(r, 0), step(r, 1), count(data.shape.begin(), data.shape.end());
  std::vector<bool> seen(r, false);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    i64 a = axes[i];
    if (a < -r || a >= r) fail("axis " + std::to_string(a) + " is out of range");
    if (a < 0) a += r;
    if (seen[a]) fail("axis " + std::to_string(a) + " is repeated");
    seen[a] = true;
    const i64 d = data.shape[a], s = steps[i];
    if (s == 0) fail("step 0");
    i64 b = starts[i], e = ends[i];
    if (b < 0) b += d;
    if (e < 0) e += d;
    if (s > 0) {
      b = std::clamp<i64>(b, 0, d);
      e = std::clamp<i64>(e, 0, d);
      count[a] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = std::clamp<i64>(b, 0, d - 1);
      e = std::clamp<i64>(e, -1, d - 1);
      count[a] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    begin[a] = b;
    step[a] = s;
  }
  Const c;
  c.is_float = data.is_float;
  c.shape = count;
  const i64 n = elements_of(count);
  std::vector<i64> stride(r, 1);
  for (i64 d = r - 1; d > 0; --d) stride[d - 1] = stride[d] * data.shape[d];
  std::vector<i64> idx(r, 0);
  for (i64 k = 0; k < n; ++k) {
    i64 off = 0;
    for (i64 d = 0; d < r; ++d) off += (begin[d] + idx[d] * step[d]) * stride[d];
    c.v.push_back(data.v[off]);
    for (i64 d = r; d-- > 0;) {
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
  }
  define_const(0, std::move(c));
}

void Importer::op_cast() {
  Value& x = input(0);
  const i64 to = attr_int("to", 0);
  using TP = onnx::TensorProto;
  const bool to_float = to == TP::FLOAT || to == TP::DOUBLE;
  if (!x.is_const()) {
    if (to != TP::FLOAT) fail("casting an activation to type " + std::to_string(to) + " is not supported");
    define(0, x);
    return;
  }
  Const c = *x.c;
  c.is_float = to_float;
  for (double& v : c.v) {
    if (to == TP::FLOAT) v = static_cast<float>(v);
    else if (to == TP::BOOL) v = v != 0;
    else if (!to_float) v = static_cast<double>(to_int_clamped(std::trunc(v), "a value"));
  }
  define_const(0, std::move(c));
}

void Importer::op_constant_of_shape() {
  const std::vector<i64> dims = const_ints(const_input(0, "shape"), "shape");
  Shape s(dims.begin(), dims.end());
  check_const_shape(s, "the result");
  Const c;
  c.shape = s;
  double fill = 0.0;
  if (const auto* a = attr("value")) {
    Const v = read_tensor(a->t(), "attribute 'value'");
    if (v.v.size() != 1) fail("attribute 'value' must hold one value");
    fill = v.v[0];
    c.is_float = v.is_float;
  }
  c.v.assign(static_cast<std::size_t>(elements_of(s)), fill);
  define_const(0, std::move(c));
}

void Importer::op_transpose() {
  Value& x = input(0);
  const std::size_t r = x.shape.size();
  std::vector<i64> perm = attr_ints("perm");
  if (perm.empty())
    for (std::size_t d = r; d-- > 0;) perm.push_back(static_cast<i64>(d));
  if (perm.size() != r) fail("perm must have " + std::to_string(r) + " values");
  std::vector<bool> seen(r, false);
  for (i64 p : perm) {
    if (p < 0 || p >= static_cast<i64>(r) || seen[p]) fail("perm " + shape_text(perm) + " is not a permutation");
    seen[p] = true;
  }
  Shape out(r);
  for (std::size_t d = 0; d < r; ++d) out[d] = x.shape[perm[d]];
  if (!x.is_const()) {
    // Moving only dimensions of size 1 keeps the element order: a reshape. Anything else is refused.
    std::vector<i64> moved;
    for (i64 p : perm)
      if (x.shape[p] != 1) moved.push_back(p);
    if (!std::is_sorted(moved.begin(), moved.end()))
      fail("Transpose " + shape_text(perm) + " of an activation " + shape_text(x.shape) + " is not supported");
    define(0, reshape_value(x, out, out_name()));
    return;
  }
  // out index -> input offset: the input strides in output order.
  std::vector<i64> in_stride(r, 1), st(r);
  for (std::size_t d = r; d-- > 1;) in_stride[d - 1] = in_stride[d] * x.shape[d];
  for (std::size_t d = 0; d < r; ++d) st[d] = in_stride[perm[d]];
  Const c;
  c.is_float = x.c->is_float;
  c.shape = out;
  c.v.resize(x.c->v.size());
  for_each_index(out, {st}, [&](i64 k, const std::vector<i64>& off) { c.v[k] = x.c->v[off[0]]; });
  define_const(0, std::move(c));
}

void Importer::import_node() {
  using Handler = void (Importer::*)();
  static const std::map<std::string, Handler> handlers = {
      {"Conv", &Importer::op_conv},
      {"Gemm", &Importer::op_gemm},
      {"MatMul", &Importer::op_matmul},
      {"BatchNormalization", &Importer::op_batchnorm},
      {"Relu", &Importer::op_relu},
      {"Clip", &Importer::op_clip},
      {"AveragePool", nullptr},
      {"MaxPool", nullptr},
      {"GlobalAveragePool", &Importer::op_global_average_pool},
      {"ReduceMean", &Importer::op_reduce_mean},
      {"Add", &Importer::op_binary},
      {"Sub", &Importer::op_binary},
      {"Mul", &Importer::op_binary},
      {"Div", &Importer::op_binary},
      {"Concat", &Importer::op_concat},
      {"Pad", &Importer::op_pad},
      {"Reshape", &Importer::op_reshape},
      {"Flatten", &Importer::op_flatten},
      {"Squeeze", nullptr},
      {"Unsqueeze", nullptr},
      {"Softmax", &Importer::op_softmax},
      {"Sigmoid", &Importer::op_sigmoid},
      {"Tanh", &Importer::op_tanh},
      {"Identity", &Importer::op_identity},
      {"Dropout", &Importer::op_dropout},
      {"Constant", &Importer::op_constant},
      {"Shape", &Importer::op_shape},
      {"Gather", &Importer::op_gather},
      {"Slice", &Importer::op_slice},
      {"Cast", &Importer::op_cast},
      {"ConstantOfShape", &Importer::op_constant_of_shape},
      {"Transpose", &Importer::op_transpose},
  };
  if (!node_->domain().empty() && node_->domain() != "ai.onnx") unsupported();
  const std::string& op = node_->op_type();
  const auto it = handlers.find(op);
  if (it == handlers.end()) unsupported();
  if (op == "AveragePool" || op == "MaxPool") {
    op_pool(op == "AveragePool");
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    op_squeeze(op == "Unsqueeze");
  } else {
    (this->*(it->second))();
  }
}

// --- graph passes -------------------------------------------------------------------------------

std::vector<int> use_counts(const Graph& g) {
  std::vector<int> uses(g.tensors.size(), 0);
  for (const Op& op : g.ops)
    for (int t : op.inputs) ++uses[t];
  for (int t : g.outputs) uses[t] += 2;  // a graph output is never folded away
  return uses;
}

std::vector<int> producers(const Graph& g) {
  std::vector<int> p(g.tensors.size(), -1);
  for (std::size_t i = 0; i < g.ops.size(); ++i)
    for (int t : g.ops[i].outputs) p[t] = static_cast<int>(i);
  return p;
}

bool has_weights(OpKind k) {
  return k == OpKind::conv2d || k == OpKind::depthwise_conv2d || k == OpKind::fully_connected;
}

float* floats_of(Tensor& t) { return reinterpret_cast<float*>(t.data.data()); }

// Folds mul/add by a per-output-channel constant into the conv2d/depthwise/fully_connected before it
// (BatchNormalization, a bias Add after MatMul). Returns true when something changed.
bool fold_affine_once(Graph& g) {
  const std::vector<int> uses = use_counts(g), prod = producers(g);
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    Op& m = g.ops[i];
    if ((m.kind != OpKind::mul && m.kind != OpKind::add) || m.activation != Activation::none || m.inputs.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      const int t = m.inputs[side], c = m.inputs[1 - side];
      if (t == c || !g.tensors[c].is_constant() || g.tensors[t].is_constant() || prod[t] < 0 || uses[t] != 1) continue;
      Op& p = g.ops[prod[t]];
      if (!has_weights(p.kind) || p.activation != Activation::none || p.outputs.size() != 1) continue;
      const Tensor& ct = g.tensors[c];
      const std::vector<int>& ts = g.tensors[t].shape;
      if (g.tensors[m.outputs[0]].shape != ts || ts.empty() || ct.type != DType::float32) continue;
      const int cout = ts.back();
      bool per_channel = ct.shape.size() <= ts.size();
      for (std::size_t d = 0; d + 1 < ct.shape.size() && per_channel; ++d) per_channel = ct.shape[d] == 1;
      if (!per_channel || (!ct.shape.empty() && ct.shape.back() != 1 && ct.shape.back() != cout)) continue;
      const int wt = p.inputs.size() > 1 ? p.inputs[1] : -1;
      if (wt < 0 || uses[wt] != 1 || g.tensors[wt].type != DType::float32) continue;
      const int bt = p.inputs.size() > 2 ? p.inputs[2] : -1;
      if (bt >= 0 && (uses[bt] != 1 || g.tensors[bt].type != DType::float32 || static_cast<int>(g.tensors[bt].elements()) != cout)) continue;
      std::vector<float> k(static_cast<std::size_t>(cout));
      for (int o = 0; o < cout; ++o) k[o] = ct.floats()[ct.elements() == 1 ? 0 : o];
      if (m.kind == OpKind::mul) {
        Tensor& w = g.tensors[wt];
        const std::size_t n = w.elements();
        float* wf = floats_of(w);
        for (std::size_t e = 0; e < n; ++e) {
          const std::size_t o = p.kind == OpKind::depthwise_conv2d ? e % cout : e / (n / cout);
          wf[e] *= k[o];
        }
        if (bt >= 0)
          for (int o = 0; o < cout; ++o) floats_of(g.tensors[bt])[o] *= k[o];
      } else {
        if (bt < 0) {
          Tensor b;
          b.name = g.tensors[p.outputs[0]].name + "/bias";
          b.shape = {cout};
          b.data.assign(static_cast<std::size_t>(cout) * 4, 0);
          const int nb = g.add_tensor(std::move(b));
          g.ops[prod[t]].inputs.push_back(nb);
          for (int o = 0; o < cout; ++o) floats_of(g.tensors[nb])[o] = k[o];
        } else {
          for (int o = 0; o < cout; ++o) floats_of(g.tensors[bt])[o] += k[o];
        }
      }
      g.ops[prod[t]].outputs[0] = m.outputs[0];
      g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

// Fuses relu/relu6 into the conv2d/depthwise/fully_connected/add that produces its input.
void fuse_activations(Graph& g) {
  for (bool changed = true; changed;) {
    changed = false;
    const std::vector<int> uses = use_counts(g), prod = producers(g);
    for (std::size_t i = 0; i < g.ops.size() && !changed; ++i) {
      const Op& r = g.ops[i];
      if ((r.kind != OpKind::relu && r.kind != OpKind::relu6) || r.inputs.size() != 1 || r.activation != Activation::none) continue;
      const int t = r.inputs[0];
      if (prod[t] < 0 || uses[t] != 1) continue;
      Op& p = g.ops[prod[t]];
      if ((!has_weights(p.kind) && p.kind != OpKind::add) || p.activation != Activation::none) continue;
      p.activation = r.kind == OpKind::relu ? Activation::relu : Activation::relu6;
      p.outputs[0] = r.outputs[0];
      g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
  }
}

// Drops ops whose outputs nobody reads and tensors nothing refers to.
void remove_dead(Graph& g) {
  for (bool changed = true; changed;) {
    changed = false;
    const std::vector<int> uses = use_counts(g);
    for (std::size_t i = g.ops.size(); i-- > 0;) {
      bool used = false;
      for (int t : g.ops[i].outputs) used = used || uses[t] > 0;
      if (!used) {
        g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(i));
        changed = true;
      }
    }
  }
  std::vector<int> remap(g.tensors.size(), -1);
  std::vector<char> keep(g.tensors.size(), 0);
  for (const Op& op : g.ops) {
    for (int t : op.inputs) keep[t] = 1;
    for (int t : op.outputs) keep[t] = 1;
  }
  for (int t : g.inputs) keep[t] = 1;
  for (int t : g.outputs) keep[t] = 1;
  std::vector<Tensor> kept;
  for (std::size_t t = 0; t < g.tensors.size(); ++t)
    if (keep[t]) {
      remap[t] = static_cast<int>(kept.size());
      kept.push_back(std::move(g.tensors[t]));
    }
  g.tensors = std::move(kept);
  for (Op& op : g.ops) {
    for (int& t : op.inputs) t = remap[t];
    for (int& t : op.outputs) t = remap[t];
  }
  for (int& t : g.inputs) t = remap[t];
  for (int& t : g.outputs) t = remap[t];
}

Graph Importer::run(const onnx::ModelProto& model) {
  bool have_opset = false;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset_ = o.version();
      have_opset = true;
    }
  if (!have_opset) fail("the model declares no opset of the default ONNX domain (opset_import)");
  if (!model.has_graph()) fail("not a valid ONNX model (no graph)");
  const onnx::GraphProto& graph = model.graph();
  if (graph.sparse_initializer_size() > 0) fail("sparse initializers are not supported");
  for (const auto& init : graph.initializer()) {
    if (init.name().empty()) fail("an initializer has no name");
    const std::string what = "initializer '" + clean(init.name()) + "'";
    Value v;
    Const c = read_tensor(init, what);
    v.shape = c.shape;
    v.c = std::make_shared<const Const>(std::move(c));
    if (!values_.emplace(init.name(), std::move(v)).second) fail(what + " is defined twice");
  }
  for (const auto& in : graph.input()) {
    if (values_.count(in.name()) && values_.at(in.name()).is_const()) continue;  // an initializer listed as input
    const std::string what = "graph input '" + clean(in.name()) + "'";
    if (in.name().empty()) fail("a graph input has no name");
    if (!in.type().has_tensor_type()) fail(what + " is not a tensor");
    const auto& tt = in.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto::FLOAT)
      fail(what + " has the element type " + std::to_string(tt.elem_type()) + "; only float32 inputs are supported");
    if (!tt.has_shape()) fail(what + " has no shape");
    Shape s;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 1 || d.dim_value() > kMaxDim) fail(what + " has the dimension " + std::to_string(d.dim_value()));
        s.push_back(d.dim_value());
      } else {
        s.push_back(1);  // symbolic (a dynamic batch): 1
      }
    }
    if (values_.count(in.name())) fail(what + " is defined twice");
    const int t = new_activation(in.name(), s);
    values_.emplace(in.name(), activation(s, t));
    g_.inputs.push_back(t);
  }
  if (g_.inputs.empty()) fail("the graph has no inputs");
  for (const auto& n : graph.node()) {
    node_ = &n;
    import_node();
    node_ = nullptr;
    ++node_index_;
  }
  if (graph.output_size() == 0) fail("the graph has no outputs");
  for (const auto& o : graph.output()) {
    const std::string what = "graph output '" + clean(o.name()) + "'";
    auto it = values_.find(o.name());
    if (it == values_.end()) fail(what + " is not computed by any node");
    if (it->second.is_const()) fail(what + " is a constant; nothing to run");
    const int t = tensor_of(it->second, o.name());
    g_.outputs.push_back(t);
  }
  // Graph outputs carry the ONNX output names.
  for (int i = 0; i < graph.output_size(); ++i) {
    const int t = g_.outputs[i];
    if (std::find(g_.inputs.begin(), g_.inputs.end(), t) != g_.inputs.end()) continue;
    const std::string& want = graph.output(i).name();
    if (g_.tensors[t].name == want) continue;
    bool taken = false;
    for (const Tensor& x : g_.tensors) taken = taken || x.name == want;
    if (!taken) g_.tensors[t].name = want;
  }
  while (fold_affine_once(g_)) {
  }
  fuse_activations(g_);
  remove_dead(g_);
  return std::move(g_);
}

}  // namespace

const char* onnx_supported_ops() { return kSupported; }

Graph import_onnx_bytes(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw invalid_input(source, "the model is larger than 2 GB");
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw invalid_input(source, "not a valid ONNX model (protobuf parse failed)");
  return Importer(source).run(model);
}

Graph import_onnx(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw filesystem_error(file.string(), "is a folder, not an ONNX model file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw filesystem_error(file.string(), "cannot open the model: " + errno_text(errno));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw filesystem_error(file.string(), "cannot read the model: " + errno_text(errno));
  return import_onnx_bytes(bytes, file.string());
}

}  // namespace tml::deploy
