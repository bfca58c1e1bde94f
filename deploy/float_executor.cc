#include "deploy/float_executor.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"

namespace tml::deploy {
namespace {

using Dims = std::vector<int>;
constexpr std::size_t kMaxElements = std::size_t{1} << 28;

std::string dims_text(const Dims& d) {
  std::string s = "{";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "}";
}

class Runner {
 public:
  explicit Runner(const Graph& g) : g_(g) { check_graph(); }
  // One sample (or the graph's own batch): INPUTS[i] holds graph input i.
  void run(const std::vector<const float*>& inputs, std::vector<std::vector<float>>& outputs);
  // After run(): the values of tensor T (empty for constants and tensors nothing computed).
  const std::vector<float>& values(std::size_t t) const { return buf_[t]; }

 private:
  [[noreturn]] void bad(const std::string& what) const { throw Error(ExitCode::internal, "float executor: " + what); }
  [[noreturn]] void bad_op(const Op& op, const std::string& what) const {
    bad("op '" + op.name + "' (" + op_name(op.kind) + "): " + what);
  }
  void check_graph() const;
  const Dims& dims(int t) const { return g_.tensors[t].shape; }
  const float* data(const Op& op, int i) const {
    if (i >= static_cast<int>(op.inputs.size())) bad_op(op, "input " + std::to_string(i) + " is missing");
    const int t = op.inputs[i];
    const Tensor& tensor = g_.tensors[t];
    if (tensor.is_constant()) {
      if (tensor.type != DType::float32) bad_op(op, "the constant '" + tensor.name + "' is not float32");
      return tensor.floats();
    }
    if (!ready_[t]) bad_op(op, "reads the tensor '" + tensor.name + "' before anything computes it");
    return buf_[t].data();
  }
  const Dims& in_dims(const Op& op, int i, std::size_t rank) const {
    if (i >= static_cast<int>(op.inputs.size())) bad_op(op, "input " + std::to_string(i) + " is missing");
    const Dims& d = dims(op.inputs[i]);
    if (rank && d.size() != rank)
      bad_op(op, "input " + std::to_string(i) + " has the shape " + dims_text(d) + "; rank " + std::to_string(rank) + " expected");
    return d;
  }
  float* out(const Op& op, const Dims& expected) {
    if (op.outputs.size() != 1) bad_op(op, "must have exactly one output");
    const int t = op.outputs[0];
    const Tensor& tensor = g_.tensors[t];
    if (tensor.is_constant()) bad_op(op, "writes the constant '" + tensor.name + "'");
    if (ready_[t]) bad_op(op, "writes the tensor '" + tensor.name + "', which is already computed");
    if (tensor.shape != expected)
      bad_op(op, "the output '" + tensor.name + "' has the shape " + dims_text(tensor.shape) + "; the op computes " + dims_text(expected));
    buf_[t].assign(tensor.elements(), 0.0f);
    ready_[t] = 1;
    return buf_[t].data();
  }
  void conv(const Op& op, bool depthwise);
  void fully_connected(const Op& op);
  void pool(const Op& op, bool average);
  void mean_hw(const Op& op);
  void binary(const Op& op);
  void concatenation(const Op& op);
  void pad(const Op& op);
  void reshape(const Op& op);
  void unary(const Op& op);
  void check_window(const Op& op, int kh, int kw) const;

  const Graph& g_;
  std::vector<std::vector<float>> buf_;
  std::vector<char> ready_;
};

void Runner::check_graph() const {
  const int n = static_cast<int>(g_.tensors.size());
  for (const Tensor& t : g_.tensors) {
    std::size_t e = 1;
    for (int d : t.shape) {
      if (d < 1) bad("the tensor '" + t.name + "' has the shape " + dims_text(t.shape));
      e *= static_cast<std::size_t>(d);
      if (e > kMaxElements) bad("the tensor '" + t.name + "' is too large");
    }
    if (t.is_constant() && t.data.size() != t.bytes())
      bad("the constant '" + t.name + "' holds " + std::to_string(t.data.size()) + " bytes for the shape " + dims_text(t.shape));
  }
  auto check = [&](int t, const std::string& what) {
    if (t < 0 || t >= n) bad(what + " refers to the tensor #" + std::to_string(t) + " of " + std::to_string(n));
  };
  for (const Op& op : g_.ops) {
    for (int t : op.inputs) check(t, "op '" + op.name + "'");
    for (int t : op.outputs) check(t, "op '" + op.name + "'");
  }
  for (int t : g_.inputs) check(t, "a graph input");
  for (int t : g_.outputs) check(t, "a graph output");
}

void Runner::check_window(const Op& op, int kh, int kw) const {
  if (kh < 1 || kw < 1 || op.stride_h < 1 || op.stride_w < 1 || op.dilation_h < 1 || op.dilation_w < 1 || op.pad_top < 0 ||
      op.pad_left < 0 || op.pad_bottom < 0 || op.pad_right < 0)
    bad_op(op, "kernel, strides, dilations must be >= 1 and pads >= 0");
}

// Output size of a window op along one axis, or -1.
long window_out(long in, long pad_begin, long pad_end, long k_eff, long stride) {
  const long num = in + pad_begin + pad_end - k_eff;
  return num < 0 ? -1 : num / stride + 1;
}

void Runner::conv(const Op& op, bool depthwise) {
  const Dims& x = in_dims(op, 0, 4);
  const Dims& w = in_dims(op, 1, 4);
  if (!g_.tensors[op.inputs[1]].is_constant()) bad_op(op, "the weights must be constant");
  const int N = x[0], H = x[1], W = x[2], C = x[3], KH = w[1], KW = w[2];
  check_window(op, KH, KW);
  int cout, cg, groups = 1, mult = 1;
  if (depthwise) {
    mult = op.depth_multiplier;
    if (w[0] != 1 || mult < 1 || w[3] != C * mult) bad_op(op, "weights " + dims_text(w) + " do not fit the input " + dims_text(x) + " with depth_multiplier " + std::to_string(mult));
    cout = w[3];
    cg = 1;
  } else {
    cout = w[0];
    cg = w[3];
    if (C % cg != 0 || cout % (C / cg) != 0) bad_op(op, "weights " + dims_text(w) + " do not fit the input " + dims_text(x));
    groups = C / cg;
  }
  const float* bias = nullptr;
  if (op.inputs.size() > 2) {
    if (g_.tensors[op.inputs[2]].elements() != static_cast<std::size_t>(cout)) bad_op(op, "the bias must have " + std::to_string(cout) + " values");
    bias = data(op, 2);
  }
  const long keh = long(KH - 1) * op.dilation_h + 1, kew = long(KW - 1) * op.dilation_w + 1;
  const long OH = window_out(H, op.pad_top, op.pad_bottom, keh, op.stride_h), OW = window_out(W, op.pad_left, op.pad_right, kew, op.stride_w);
  if (OH < 1 || OW < 1) bad_op(op, "the kernel does not fit the padded input");
  const float* in = data(op, 0);
  const float* wt = data(op, 1);
  float* o = out(op, {N, int(OH), int(OW), cout});
  const int per_group = cout / groups;
  for (int n = 0; n < N; ++n)
    for (long oy = 0; oy < OH; ++oy)
      for (long ox = 0; ox < OW; ++ox)
        for (int co = 0; co < cout; ++co) {
          double acc = bias ? bias[co] : 0.0;
          for (int ky = 0; ky < KH; ++ky) {
            const long iy = oy * op.stride_h - op.pad_top + long(ky) * op.dilation_h;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < KW; ++kx) {
              const long ix = ox * op.stride_w - op.pad_left + long(kx) * op.dilation_w;
              if (ix < 0 || ix >= W) continue;
              const float* px = in + ((long(n) * H + iy) * W + ix) * C;
              if (depthwise) {
                acc += double(px[co / mult]) * wt[(long(ky) * KW + kx) * cout + co];
              } else {
                const float* pw = wt + ((long(co) * KH + ky) * KW + kx) * cg;
                const int c0 = (co / per_group) * cg;
                for (int ci = 0; ci < cg; ++ci) acc += double(px[c0 + ci]) * pw[ci];
              }
            }
          }
          o[((long(n) * OH + oy) * OW + ox) * cout + co] = static_cast<float>(acc);
        }
}

void Runner::fully_connected(const Op& op) {
  const Dims& w = in_dims(op, 1, 2);
  if (!g_.tensors[op.inputs[1]].is_constant()) bad_op(op, "the weights must be constant");
  const int cout = w[0], cin = w[1];
  const std::size_t elems = g_.tensors[op.inputs[0]].elements();
  if (elems % static_cast<std::size_t>(cin) != 0) bad_op(op, "the input " + dims_text(dims(op.inputs[0])) + " does not flatten to {N," + std::to_string(cin) + "}");
  const std::size_t N = elems / static_cast<std::size_t>(cin);
  const float* bias = nullptr;
  if (op.inputs.size() > 2) {
    if (g_.tensors[op.inputs[2]].elements() != static_cast<std::size_t>(cout)) bad_op(op, "the bias must have " + std::to_string(cout) + " values");
    bias = data(op, 2);
  }
  if (op.outputs.size() != 1) bad_op(op, "must have exactly one output");
  const Dims& od = dims(op.outputs[0]);
  if (g_.tensors[op.outputs[0]].elements() != N * static_cast<std::size_t>(cout) || od.empty() || od.back() != cout)
    bad_op(op, "the output has the shape " + dims_text(od) + "; {" + std::to_string(N) + "," + std::to_string(cout) + "} expected");
  const float* in = data(op, 0);
  const float* wt = data(op, 1);
  float* o = out(op, od);
  for (std::size_t n = 0; n < N; ++n)
    for (int co = 0; co < cout; ++co) {
      double acc = bias ? bias[co] : 0.0;
      const float* px = in + n * cin;
      const float* pw = wt + static_cast<std::size_t>(co) * cin;
      for (int ci = 0; ci < cin; ++ci) acc += double(px[ci]) * pw[ci];
      o[n * cout + co] = static_cast<float>(acc);
    }
}

void Runner::pool(const Op& op, bool average) {
  const Dims& x = in_dims(op, 0, 4);
  const int N = x[0], H = x[1], W = x[2], C = x[3];
  check_window(op, op.kernel_h, op.kernel_w);
  const long OH = window_out(H, op.pad_top, op.pad_bottom, op.kernel_h, op.stride_h);
  const long OW = window_out(W, op.pad_left, op.pad_right, op.kernel_w, op.stride_w);
  if (OH < 1 || OW < 1) bad_op(op, "the kernel does not fit the padded input");
  const float* in = data(op, 0);
  float* o = out(op, {N, int(OH), int(OW), C});
  for (int n = 0; n < N; ++n)
    for (long oy = 0; oy < OH; ++oy)
      for (long ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          double acc = average ? 0.0 : -INFINITY;
          long count = 0;
          for (int ky = 0; ky < op.kernel_h; ++ky) {
            const long iy = oy * op.stride_h - op.pad_top + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < op.kernel_w; ++kx) {
              const long ix = ox * op.stride_w - op.pad_left + kx;
              if (ix < 0 || ix >= W) continue;
              const double v = in[((long(n) * H + iy) * W + ix) * C + c];
              acc = average ? acc + v : std::max(acc, v);
              ++count;
            }
          }
          if (count == 0) acc = 0.0;
          else if (average) acc /= double(count);
          o[((long(n) * OH + oy) * OW + ox) * C + c] = static_cast<float>(acc);
        }
}

void Runner::mean_hw(const Op& op) {
  const Dims& x = in_dims(op, 0, 4);
  const int N = x[0], H = x[1], W = x[2], C = x[3];
  const float* in = data(op, 0);
  float* o = out(op, {N, 1, 1, C});
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double acc = 0.0;
      for (long i = 0; i < long(H) * W; ++i) acc += in[(long(n) * H * W + i) * C + c];
      o[long(n) * C + c] = static_cast<float>(acc / (double(H) * W));
    }
}

void Runner::binary(const Op& op) {
  if (op.inputs.size() != 2) bad_op(op, "needs 2 inputs");
  const Dims& a = dims(op.inputs[0]);
  const Dims& b = dims(op.inputs[1]);
  const std::size_t r = std::max(a.size(), b.size());
  Dims o(r, 1);
  std::vector<long> sa(r, 0), sb(r, 0);
  long acc_a = 1, acc_b = 1;
  for (std::size_t i = r; i-- > 0;) {
    const int da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) bad_op(op, "the shapes " + dims_text(a) + " and " + dims_text(b) + " do not broadcast");
    o[i] = std::max(da, db);
    sa[i] = da == 1 ? 0 : acc_a;
    sb[i] = db == 1 ? 0 : acc_b;
    acc_a *= da;
    acc_b *= db;
  }
  const float* pa = data(op, 0);
  const float* pb = data(op, 1);
  float* po = out(op, o);
  const bool add = op.kind == OpKind::add;
  std::size_t total = 1;
  for (int d : o) total *= static_cast<std::size_t>(d);
  std::vector<int> idx(r, 0);
  long ia = 0, ib = 0;
  for (std::size_t k = 0; k < total; ++k) {
    po[k] = add ? pa[ia] + pb[ib] : pa[ia] * pb[ib];
    for (std::size_t d = r; d-- > 0;) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < o[d]) break;
      ia -= sa[d] * o[d];
      ib -= sb[d] * o[d];
      idx[d] = 0;
    }
  }
}

void Runner::concatenation(const Op& op) {
  if (op.inputs.empty()) bad_op(op, "has no inputs");
  const Dims& first = dims(op.inputs[0]);
  const int r = static_cast<int>(first.size());
  int axis = op.axis < 0 ? op.axis + r : op.axis;
  if (axis < 0 || axis >= r) bad_op(op, "axis " + std::to_string(op.axis) + " is out of range");
  Dims o = first;
  o[axis] = 0;
  for (int t : op.inputs) {
    const Dims& d = dims(t);
    if (static_cast<int>(d.size()) != r) bad_op(op, "inputs of different ranks");
    for (int i = 0; i < r; ++i)
      if (i != axis && d[i] != first[i]) bad_op(op, "input shapes " + dims_text(first) + " and " + dims_text(d) + " differ off the axis");
    o[axis] += d[axis];
  }
  std::vector<const float*> in;
  for (std::size_t i = 0; i < op.inputs.size(); ++i) in.push_back(data(op, static_cast<int>(i)));
  float* po = out(op, o);
  long outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= o[i];
  for (int i = axis + 1; i < r; ++i) inner *= o[i];
  for (long n = 0; n < outer; ++n)
    for (std::size_t i = 0; i < in.size(); ++i) {
      const long len = long(dims(op.inputs[i])[axis]) * inner;
      po = std::copy(in[i] + n * len, in[i] + (n + 1) * len, po);
    }
}

void Runner::pad(const Op& op) {
  const Dims& x = in_dims(op, 0, 0);
  const std::size_t r = x.size();
  if (op.paddings.size() != 2 * r) bad_op(op, "paddings must have " + std::to_string(2 * r) + " values");
  Dims o = x;
  for (std::size_t d = 0; d < r; ++d) {
    if (op.paddings[2 * d] < 0 || op.paddings[2 * d + 1] < 0) bad_op(op, "negative paddings");
    o[d] += op.paddings[2 * d] + op.paddings[2 * d + 1];
  }
  const float* in = data(op, 0);
  float* po = out(op, o);
  std::vector<long> so(r, 1);
  for (std::size_t d = r; d-- > 1;) so[d - 1] = so[d] * o[d];
  std::size_t total = 1;
  for (int d : x) total *= static_cast<std::size_t>(d);
  std::vector<int> idx(r, 0);
  for (std::size_t k = 0; k < total; ++k) {
    long off = 0;
    for (std::size_t d = 0; d < r; ++d) off += (idx[d] + op.paddings[2 * d]) * so[d];
    po[off] = in[k];
    for (std::size_t d = r; d-- > 0;) {
      if (++idx[d] < x[d]) break;
      idx[d] = 0;
    }
  }
}

void Runner::reshape(const Op& op) {
  in_dims(op, 0, 0);
  if (op.outputs.size() != 1) bad_op(op, "must have exactly one output");
  const Dims& od = dims(op.outputs[0]);
  if (g_.tensors[op.outputs[0]].elements() != g_.tensors[op.inputs[0]].elements())
    bad_op(op, "cannot reshape " + dims_text(dims(op.inputs[0])) + " to " + dims_text(od));
  if (!op.new_shape.empty() && op.new_shape != od) bad_op(op, "new_shape " + dims_text(op.new_shape) + " differs from the output " + dims_text(od));
  const float* in = data(op, 0);
  float* po = out(op, od);
  std::copy(in, in + g_.tensors[op.outputs[0]].elements(), po);
}

void Runner::unary(const Op& op) {
  const Dims& x = in_dims(op, 0, 0);
  const float* in = data(op, 0);
  float* po = out(op, x);
  const std::size_t n = g_.tensors[op.inputs[0]].elements();
  switch (op.kind) {
    case OpKind::relu:
      for (std::size_t i = 0; i < n; ++i) po[i] = std::max(in[i], 0.0f);
      break;
    case OpKind::relu6:
      for (std::size_t i = 0; i < n; ++i) po[i] = std::min(std::max(in[i], 0.0f), 6.0f);
      break;
    case OpKind::logistic:
      for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(in[i]))));
      break;
    case OpKind::tanh:
      for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<float>(std::tanh(double(in[i])));
      break;
    default: {  // softmax over the last axis
      const std::size_t len = x.empty() ? 1 : static_cast<std::size_t>(x.back());
      for (std::size_t row = 0; row < n / len; ++row) {
        const float* pi = in + row * len;
        double mx = -INFINITY, sum = 0.0;
        for (std::size_t i = 0; i < len; ++i) mx = std::max(mx, double(pi[i]));
        std::vector<double> e(len);
        for (std::size_t i = 0; i < len; ++i) sum += e[i] = std::exp(double(op.beta) * (double(pi[i]) - mx));
        for (std::size_t i = 0; i < len; ++i) po[row * len + i] = static_cast<float>(e[i] / sum);
      }
    }
  }
}

void Runner::run(const std::vector<const float*>& inputs, std::vector<std::vector<float>>& outputs) {
  buf_.assign(g_.tensors.size(), {});
  ready_.assign(g_.tensors.size(), 0);
  for (std::size_t i = 0; i < g_.inputs.size(); ++i) {
    const int t = g_.inputs[i];
    if (g_.tensors[t].is_constant()) bad("the graph input '" + g_.tensors[t].name + "' is a constant");
    buf_[t].assign(inputs[i], inputs[i] + g_.tensors[t].elements());
    ready_[t] = 1;
  }
  for (const Op& op : g_.ops) {
    switch (op.kind) {
      case OpKind::conv2d: conv(op, false); break;
      case OpKind::depthwise_conv2d: conv(op, true); break;
      case OpKind::fully_connected: fully_connected(op); break;
      case OpKind::average_pool2d: pool(op, true); break;
      case OpKind::max_pool2d: pool(op, false); break;
      case OpKind::mean_hw: mean_hw(op); break;
      case OpKind::add:
      case OpKind::mul: binary(op); break;
      case OpKind::concatenation: concatenation(op); break;
      case OpKind::pad: pad(op); break;
      case OpKind::reshape: reshape(op); break;
      case OpKind::softmax:
      case OpKind::logistic:
      case OpKind::tanh:
      case OpKind::relu:
      case OpKind::relu6: unary(op); break;
      default: bad_op(op, "not supported by the float executor (float graphs only)");
    }
    if (op.activation != Activation::none) {
      for (float& v : buf_[op.outputs[0]]) {
        v = std::max(v, 0.0f);
        if (op.activation == Activation::relu6) v = std::min(v, 6.0f);
      }
    }
  }
  for (std::size_t i = 0; i < g_.outputs.size(); ++i) {
    const int t = g_.outputs[i];
    const Tensor& tensor = g_.tensors[t];
    if (tensor.is_constant()) {
      if (tensor.type != DType::float32) bad("the graph output '" + tensor.name + "' is a non-float constant");
      outputs[i].insert(outputs[i].end(), tensor.floats(), tensor.floats() + tensor.elements());
      continue;
    }
    if (!ready_[t]) bad("nothing computes the graph output '" + tensor.name + "'");
    outputs[i].insert(outputs[i].end(), buf_[t].begin(), buf_[t].end());
  }
}

// How many samples INPUTS hold: k samples of a batch-1 graph, or exactly the graph's sizes.
std::size_t sample_count(const Graph& graph, const std::vector<std::vector<float>>& inputs) {
  if (inputs.size() != graph.inputs.size())
    throw Error(ExitCode::invalid_input, "float executor: the graph has " + std::to_string(graph.inputs.size()) + " inputs, " +
                                             std::to_string(inputs.size()) + " given");
  std::size_t k = 0;
  bool batch_one = true;
  for (int t : graph.inputs) batch_one = batch_one && !graph.tensors[t].shape.empty() && graph.tensors[t].shape[0] == 1;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = graph.tensors[graph.inputs[i]];
    const std::size_t e = t.elements();
    const bool fits = inputs[i].size() == e || (batch_one && !inputs[i].empty() && inputs[i].size() % e == 0);
    const std::size_t ki = inputs[i].size() / e;
    if (!fits || (k != 0 && ki != k))
      throw Error(ExitCode::invalid_input, "float executor: input '" + t.name + "' " + dims_text(t.shape) + " needs " +
                                               std::to_string(e) + (batch_one ? " values per sample" : " values") + ", " +
                                               std::to_string(inputs[i].size()) + " given");
    k = ki;
  }
  return inputs.empty() ? 1 : k;
}

// Runs every sample; AFTER(runner) is called after each one.
template <class After>
void run_samples(Runner& runner, const Graph& graph, const std::vector<std::vector<float>>& inputs,
                 std::vector<std::vector<float>>& outputs, After after) {
  const std::size_t k = sample_count(graph, inputs);
  std::vector<const float*> ptrs(inputs.size());
  for (std::size_t s = 0; s < k; ++s) {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      ptrs[i] = inputs[i].data() + s * graph.tensors[graph.inputs[i]].elements();
    runner.run(ptrs, outputs);
    after(runner);
  }
}

}  // namespace

std::vector<std::vector<float>> run_float(const Graph& graph, const std::vector<std::vector<float>>& inputs) {
  Runner runner(graph);
  std::vector<std::vector<float>> outputs(graph.outputs.size());
  run_samples(runner, graph, inputs, outputs, [](const Runner&) {});
  return outputs;
}

std::vector<std::vector<float>> run_float_all(const Graph& graph, const std::vector<std::vector<float>>& inputs) {
  Runner runner(graph);
  std::vector<std::vector<float>> outputs(graph.outputs.size());
  std::vector<std::vector<float>> all(graph.tensors.size());
  run_samples(runner, graph, inputs, outputs, [&](const Runner& r) {
    for (std::size_t t = 0; t < all.size(); ++t) all[t].insert(all[t].end(), r.values(t).begin(), r.values(t).end());
  });
  return all;
}

}  // namespace tml::deploy
