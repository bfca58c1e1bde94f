#include "deploy/quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "core/errors.h"
#include "deploy/float_executor.h"
#include "deploy/graph_passes.h"
#include "deploy/kernel_params.h"
#include "deploy/quantize_multiplier.h"
#include "runtime/activations.h"

namespace tml::deploy {
namespace {

constexpr std::size_t kMaxValues = std::size_t{1} << 18;     // values kept per tensor (reservoir sample)
constexpr std::size_t kSearchValues = std::size_t{1} << 14;  // of which the MSE search evaluates
constexpr double kMinRange = 1e-3;  // narrowest activation range: a dead (all-zero) tensor still gets
                                    // a scale that SOFTMAX and the conv multipliers accept
constexpr double kMinGain = 0.01;   // auto: a clipped range must beat min/max's MSE by 1%; otherwise
                                    // min/max, which clips nothing on unseen data, is kept
constexpr double kExact = 999.0;    // "SNR" of an exact quantization

[[noreturn]] void fail(const std::string& what) { throw Error(ExitCode::invalid_input, "quantizer: " + what); }
std::string describe(const Op& op) { return "op '" + op.name + "' (" + op_name(op.kind) + ")"; }

// TFLite's ChooseQuantizationParams for int8: scale = range / 255 and the zero point nudged to an
// integer, taken from the end (min or max) whose arithmetic loses less.
TensorQuant choose_quant(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < kMinRange) hi = lo + kMinRange;
  const double scale = (hi - lo) / 255.0;
  const double zp_from_min = -128.0 - lo / scale, zp_from_max = 127.0 - hi / scale;
  const double err_from_min = 128.0 + std::abs(lo / scale), err_from_max = 127.0 + std::abs(hi / scale);
  const double zp = err_from_min < err_from_max ? zp_from_min : zp_from_max;
  return {static_cast<float>(scale), static_cast<std::int32_t>(std::round(std::clamp(zp, -128.0, 127.0)))};
}

double real_min(TensorQuant q) { return double(q.scale) * (-128 - q.zero_point); }
double real_max(TensorQuant q) { return double(q.scale) * (127 - q.zero_point); }

// As the runtime's QUANTIZE/DEQUANTIZE kernels (float arithmetic, round half away from zero).
std::int8_t quantize_value(float v, TensorQuant q) {
  return static_cast<std::int8_t>(std::clamp(std::round(v / q.scale) + static_cast<float>(q.zero_point), -128.0f, 127.0f));
}
float dequantize_value(std::int8_t v, TensorQuant q) { return q.scale * static_cast<float>(v - q.zero_point); }
float fake_quant(float v, TensorQuant q) { return dequantize_value(quantize_value(v, q), q); }

double quant_mse(const std::vector<float>& v, TensorQuant q) {
  double sum = 0.0;
  for (float x : v) {
    const double e = double(x) - fake_quant(x, q);
    sum += e * e;
  }
  return v.empty() ? 0.0 : sum / double(v.size());
}

// Error statistics of a constant: float values against their dequantized int8/int32 values.
struct ErrorStats {
  double sum_sq = 0.0, err_sq = 0.0, max_abs = 0.0;
  std::size_t n = 0;
  void add(double f, double dq) {
    const double e = f - dq;
    sum_sq += f * f;
    err_sq += e * e;
    max_abs = std::max(max_abs, std::abs(e));
    ++n;
  }
  double snr_db() const {
    if (err_sq == 0.0) return kExact;
    return sum_sq == 0.0 ? -kExact : 10.0 * std::log10(sum_sq / err_sq);
  }
};

// Min, max and a deterministic reservoir sample of the values one tensor took during calibration.
struct Collector {
  float min = std::numeric_limits<float>::infinity(), max = -std::numeric_limits<float>::infinity();
  std::size_t seen = 0;
  std::vector<float> kept;
  std::uint64_t rng = 0x9E3779B97F4A7C15ull;
  void add(const std::vector<float>& values) {
    for (float x : values) {
      min = std::min(min, x);
      max = std::max(max, x);
      ++seen;
      if (kept.size() < kMaxValues) {
        kept.push_back(x);
        continue;
      }
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      const std::size_t j = static_cast<std::size_t>((rng >> 11) % seen);
      if (j < kMaxValues) kept[j] = x;
    }
  }
};

// A range clipped by the fused activation (the float values already are) and including 0.
std::pair<double, double> clip(double lo, double hi, Activation act) {
  if (act != Activation::none) lo = std::max(lo, 0.0);
  if (act == Activation::relu6) hi = std::min(hi, 6.0);
  return {std::min(lo, 0.0), std::max(hi, 0.0)};
}

double quantile(std::vector<float> v, double p) {  // by value: nth_element reorders
  const auto k = static_cast<std::size_t>(std::llround(p * double(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// The range with the lowest MSE on VALUES: [t*min, t*max] for t from 1 down to 0.05, then each
// end on its own.
std::pair<double, double> mse_search(const std::vector<float>& values, const Collector& c, Activation act) {
  std::vector<float> sample;
  const std::size_t step = std::max<std::size_t>(1, values.size() / kSearchValues);
  for (std::size_t i = 0; i < values.size(); i += step) sample.push_back(values[i]);
  const auto [mn, mx] = clip(c.min, c.max, act);
  auto cost = [&](double lo, double hi) {
    const auto [l, h] = clip(lo, hi, act);
    return quant_mse(sample, choose_quant(l, h));
  };
  double lo = mn, hi = mx, best = cost(lo, hi);
  for (int i = 1; i < 96; ++i) {
    const double t = 1.0 - 0.01 * i, e = cost(t * mn, t * mx);
    if (e < best) best = e, lo = t * mn, hi = t * mx;
  }
  for (int end = 0; end < 2; ++end) {
    const double full = end == 0 ? mn : mx;
    for (int i = 0; i < 96; ++i) {
      const double v = (1.0 - 0.01 * i) * full;
      const double e = end == 0 ? cost(v, hi) : cost(lo, v);
      if (e < best) best = e, (end == 0 ? lo : hi) = v;
    }
  }
  return {lo, hi};
}

// The three candidates, each with its MSE on the calibration values inside the percentile band
// [quantile(1 - p), quantile(p)]. The rarer values outside it are left out of the error on purpose:
// clipping a value M to C costs (M - C)^2 / n, while min/max's rounding costs about
// M^2 / (255^2 * 12) per value, so with every value counted, one glitch at M would beat any clipping
// for calibration sets under ~780,000 values and set the resolution of all the others.
std::vector<RangeCandidate> candidates(const Collector& c, Activation act, double percentile) {
  const double p = percentile / 100.0;
  const double band_lo = quantile(c.kept, 1.0 - p), band_hi = quantile(c.kept, p);
  std::vector<float> bulk;
  for (float v : c.kept)
    if (v >= band_lo && v <= band_hi) bulk.push_back(v);
  std::vector<RangeCandidate> out;
  auto add = [&](CalibrationMethod m, double lo, double hi) {
    const auto [l, h] = clip(lo, hi, act);
    out.push_back({m, static_cast<float>(l), static_cast<float>(h), quant_mse(bulk, choose_quant(l, h))});
  };
  add(CalibrationMethod::minmax, c.min, c.max);
  add(CalibrationMethod::percentile, band_lo, band_hi);
  const auto [lo, hi] = mse_search(bulk, c, act);
  add(CalibrationMethod::mse, lo, hi);
  return out;
}

RangeCandidate select(const std::vector<RangeCandidate>& cands, CalibrationMethod method) {
  if (method != CalibrationMethod::automatic) {
    for (const RangeCandidate& c : cands)
      if (c.method == method) return c;
  }
  const RangeCandidate& minmax = cands[0];
  const RangeCandidate* best = &minmax;
  for (const RangeCandidate& c : cands)
    if (c.mse < best->mse) best = &c;
  return best->mse < minmax.mse * (1.0 - kMinGain) ? *best : minmax;
}

FusedActivation fused(Activation a) {
  return a == Activation::relu ? FusedActivation::relu : a == Activation::relu6 ? FusedActivation::relu6 : FusedActivation::none;
}

void store(Tensor& t, const void* data, std::size_t bytes) {
  t.data.resize(bytes);
  if (bytes) std::memcpy(t.data.data(), data, bytes);
}

// The axis along which constant C varies when broadcast against SHAPE (-1: one value), or -2 when
// it varies along several axes or would change the shape.
int feature_axis(const Tensor& c, const std::vector<int>& shape) {
  if (c.shape.size() > shape.size()) return -2;
  int axis = -1;
  const std::size_t offset = shape.size() - c.shape.size();
  for (std::size_t j = 0; j < c.shape.size(); ++j) {
    if (c.shape[j] == 1) continue;
    if (c.shape[j] != shape[offset + j] || axis != -1) return -2;
    axis = static_cast<int>(offset + j);
  }
  return axis;
}

// QuantizeOptions::fold_input_standardisation: removes MUL/ADD ops by per-feature constants that
// read the graph input (and nothing else reads it), composing them into TF. Returns one log line per op.
std::vector<std::string> fold_input_affine(Graph& g, InputTransform& tf) {
  std::vector<std::string> log;
  int tf_axis = -1;
  for (;;) {
    const int x = g.inputs[0];
    const std::vector<int>& shape = g.tensors[x].shape;
    std::vector<std::size_t> readers;
    for (std::size_t i = 0; i < g.ops.size(); ++i)
      if (std::count(g.ops[i].inputs.begin(), g.ops[i].inputs.end(), x)) readers.push_back(i);
    if (readers.size() != 1 || std::count(g.outputs.begin(), g.outputs.end(), x)) break;
    const Op& op = g.ops[readers[0]];
    if ((op.kind != OpKind::mul && op.kind != OpKind::add) || op.inputs.size() != 2 || op.activation != Activation::none ||
        g.tensors[op.outputs[0]].shape != shape)
      break;
    const Tensor& c = g.tensors[op.inputs[0] == x ? op.inputs[1] : op.inputs[0]];
    const int axis = c.is_constant() && c.type == DType::float32 ? feature_axis(c, shape) : -2;
    if (axis == -2 || (axis >= 0 && tf_axis >= 0 && axis != tf_axis)) break;
    if (axis >= 0 && tf_axis < 0) {  // (re)shape the transform to one value per feature along AXIS
      tf_axis = axis;
      tf.stride = 1;
      for (std::size_t d = axis + 1; d < shape.size(); ++d) tf.stride *= static_cast<std::size_t>(shape[d]);
      const std::size_t n = static_cast<std::size_t>(shape[axis]);
      tf.scale = tf.empty() ? std::vector<float>(n, 1.0f) : std::vector<float>(n, tf.scale[0]);
      tf.shift = tf.shift.empty() ? std::vector<float>(n, 0.0f) : std::vector<float>(n, tf.shift[0]);
    }
    if (tf.empty()) tf = {1, {1.0f}, {0.0f}};
    for (std::size_t k = 0; k < tf.scale.size(); ++k) {
      const float v = c.floats()[axis < 0 ? 0 : k];
      if (op.kind == OpKind::mul) {
        tf.scale[k] *= v;
        tf.shift[k] *= v;
      } else {
        tf.shift[k] += v;
      }
    }
    log.push_back("folded " + describe(op) + " into the input transform");
    g.inputs[0] = op.outputs[0];
    g.ops.erase(g.ops.begin() + static_cast<long>(readers[0]));
  }
  remove_unused_tensors(g);
  return log;
}

// With fold_input_standardisation, a graph whose input feeds a FULLY_CONNECTED directly (the ONNX
// importer folded the trainer's standardisation into its weights) gets the standardisation back as
// the input transform: per feature k, z = (x - mean_k) / std_k from the calibration samples, and the
// weights take the inverse (W'[:,k] = W[:,k] * std_k, b' = b + W mean), exact in real arithmetic.
// Without it one int8 scale would have to hold raw features of very different magnitudes (IMU band
// powers next to peak frequencies in Hz) and the small ones would vanish.
std::vector<std::string> equalize_input_of_fully_connected(Graph& g, InputTransform& tf,
                                                           const std::vector<std::vector<float>>& calibration,
                                                           std::size_t n) {
  const int x = g.inputs[0];
  std::vector<std::size_t> readers;
  for (std::size_t i = 0; i < g.ops.size(); ++i)
    if (std::count(g.ops[i].inputs.begin(), g.ops[i].inputs.end(), x)) readers.push_back(i);
  if (!tf.empty() || readers.size() != 1 || n == 0 || std::count(g.outputs.begin(), g.outputs.end(), x)) return {};
  Op& fc = g.ops[readers[0]];
  if (fc.kind != OpKind::fully_connected || fc.inputs[0] != x || fc.inputs.size() < 2) return {};
  Tensor& w = g.tensors[fc.inputs[1]];
  const std::size_t features = g.tensors[x].elements();
  if (w.type != DType::float32 || w.shape.size() != 2 || static_cast<std::size_t>(w.shape[1]) != features) return {};
  const std::size_t outputs = static_cast<std::size_t>(w.shape[0]);
  std::vector<double> mean(features, 0.0), var(features, 0.0);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t k = 0; k < features; ++k) mean[k] += calibration[s][k];
  for (double& m : mean) m /= static_cast<double>(n);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t k = 0; k < features; ++k) var[k] += (calibration[s][k] - mean[k]) * (calibration[s][k] - mean[k]);
  tf.stride = 1;
  tf.scale.assign(features, 1.0f);
  tf.shift.assign(features, 0.0f);
  std::vector<float> spread(features, 1.0f);
  for (std::size_t k = 0; k < features; ++k) {
    const double sd = std::sqrt(var[k] / static_cast<double>(n));
    spread[k] = sd > 1e-6 ? static_cast<float>(sd) : 1.0f;
    tf.scale[k] = 1.0f / spread[k];
    tf.shift[k] = static_cast<float>(-mean[k]) / spread[k];
  }
  if (fc.inputs.size() < 3) {  // a bias to carry W mean
    Tensor b;
    b.name = w.name + "/bias";
    b.shape = {static_cast<int>(outputs)};
    b.data.assign(outputs * 4, 0);
    fc.inputs.push_back(g.add_tensor(b));
  }
  Tensor& weights = g.tensors[fc.inputs[1]];
  Tensor& bias = g.tensors[fc.inputs[2]];
  float* wv = reinterpret_cast<float*>(weights.data.data());
  float* bv = reinterpret_cast<float*>(bias.data.data());
  for (std::size_t o = 0; o < outputs; ++o) {
    // With z = tf(x) the float graph must compute what it computed on x: W x + b = W' z + b'.
    // z_k = x_k * scale_k + shift_k exactly as applied, so x_k = (z_k - shift_k) / scale_k.
    double shift_sum = 0.0;
    for (std::size_t k = 0; k < features; ++k) {
      const double wk = wv[o * features + k];
      shift_sum += wk * (-static_cast<double>(tf.shift[k]) / static_cast<double>(tf.scale[k]));
      wv[o * features + k] = static_cast<float>(wk / static_cast<double>(tf.scale[k]));
    }
    bv[o] = static_cast<float>(static_cast<double>(bv[o]) + shift_sum);
  }
  return {"standardised the input of " + describe(fc) + " per feature (mean and spread of " + std::to_string(n) +
          " calibration samples) and scaled its weights back"};
}

// Builds the int8 graph from the float graph G (after the passes) and the calibration statistics.
class Quantizer {
 public:
  Quantizer(const Graph& g, const std::vector<Collector>& stats, const QuantizeOptions& o, QuantizeReport& r)
      : g_(g), q_(g), stats_(stats), opt_(o), report_(r), has_quant_(g.tensors.size(), 0), origin_(g.tensors.size()) {
    for (std::size_t t = 0; t < origin_.size(); ++t) origin_[t] = static_cast<int>(t);
  }

  Graph run() {
    for (int t : g_.inputs) calibrate(t, Activation::none);
    for (std::size_t i = 0; i < q_.ops.size(); ++i) quantize_op(i);
    for (int t : q_.outputs)
      if (!has_quant_[t]) fail("the graph output '" + q_.tensors[t].name + "' is not computed by any op");
    return std::move(q_);
  }

 private:
  void quantize_op(std::size_t i) {
    const Op op = q_.ops[i];
    if (op.outputs.size() != 1 || op.inputs.empty()) fail(describe(op) + ": expected inputs and one output");
    const int out = op.outputs[0];
    switch (op.kind) {
      case OpKind::conv2d:
      case OpKind::depthwise_conv2d:
      case OpKind::fully_connected:
        calibrate(out, op.activation);
        conv_constants(i);
        break;
      case OpKind::add:
      case OpKind::mul:
        calibrate(out, op.activation);
        operands(i);
        break;
      case OpKind::softmax:
      case OpKind::logistic:
        operands(i);
        fixed(out, {1.0f / 256, -128}, std::string("fixed by ") + op_name(op.kind));
        break;
      case OpKind::tanh:
        operands(i);
        fixed(out, {1.0f / 128, 0}, "fixed by TANH");
        break;
      case OpKind::max_pool2d:
      case OpKind::average_pool2d:
      case OpKind::reshape:
      case OpKind::pad:
      case OpKind::mean_hw:
        // TFLite requires (and the kernels assume) the input's scale and zero point.
        operands(i);  // (may give the op its own copy of a shared constant)
        fixed(out, quant_of(q_.ops[i].inputs[0], op), std::string("input of ") + op_name(op.kind));
        break;
      case OpKind::concatenation: {
        operands(i);
        const TensorQuant first = quant_of(q_.ops[i].inputs[0], op);
        double lo = real_min(first), hi = real_max(first);
        bool same = true;
        for (int t : q_.ops[i].inputs) {
          const TensorQuant q = quant_of(t, op);
          same = same && q.scale == first.scale && q.zero_point == first.zero_point;
          lo = std::min(lo, real_min(q));
          hi = std::max(hi, real_max(q));
        }
        // Equal inputs keep their quantization: the kernel then copies bytes, as TFLite's.
        fixed(out, same ? first : choose_quant(lo, hi), "covers the inputs", lo, hi);
        break;
      }
      default:
        fail(describe(op) + ": not supported by the int8 runtime");
    }
  }

  TensorQuant quant_of(int t, const Op& op) const {
    if (!has_quant_[t]) fail(describe(op) + " reads '" + q_.tensors[t].name + "' before it is computed");
    const Quantization& q = q_.tensors[t].quant;
    return {q.scale[0], q.zero_point[0]};
  }

  void set_activation(int t, TensorQuant q, ActivationReport rep) {
    Tensor& tensor = q_.tensors[t];
    if (tensor.is_constant()) fail("the constant '" + tensor.name + "' is written by an op");
    if (has_quant_[t]) fail("the tensor '" + tensor.name + "' is written twice");
    tensor.type = DType::int8;
    tensor.quant = {{q.scale}, {q.zero_point}, -1};
    has_quant_[t] = 1;
    rep.tensor = tensor.name;
    rep.scale = q.scale;
    rep.zero_point = q.zero_point;
    report_.activations.push_back(std::move(rep));
  }

  void calibrate(int t, Activation act) {
    const Collector& c = stats_[t];
    if (c.kept.empty()) fail("the tensor '" + g_.tensors[t].name + "' got no calibration values");
    ActivationReport rep;
    rep.candidates = candidates(c, act, opt_.percentile);
    const RangeCandidate chosen = select(rep.candidates, opt_.method);
    rep.method = calibration_method_name(chosen.method);
    rep.min = chosen.min;
    rep.max = chosen.max;
    rep.mse = chosen.mse;
    set_activation(t, choose_quant(chosen.min, chosen.max), std::move(rep));
  }

  void fixed(int t, TensorQuant q, const std::string& why, double lo = NAN, double hi = NAN) {
    ActivationReport rep;
    rep.method = why;
    rep.min = static_cast<float>(std::isnan(lo) ? real_min(q) : lo);
    rep.max = static_cast<float>(std::isnan(hi) ? real_max(q) : hi);
    if (!stats_[t].kept.empty()) rep.mse = quant_mse(stats_[t].kept, q);
    set_activation(t, q, std::move(rep));
  }

  // The constant input SLOT of op I, made private to that op when another op already quantized it
  // (a bias shared by ops with different input scales, say). Returns its index in q_.
  int own_constant(std::size_t i, std::size_t slot) {
    int t = q_.ops[i].inputs[slot];
    if (!q_.tensors[t].is_constant()) fail(describe(q_.ops[i]) + ": input " + std::to_string(slot) + " must be a constant");
    if (has_quant_[t]) {
      Tensor copy = g_.tensors[origin_[t]];
      copy.name += "/" + q_.ops[i].name;
      origin_.push_back(origin_[t]);
      has_quant_.push_back(0);
      t = q_.add_tensor(std::move(copy));
      q_.ops[i].inputs[slot] = t;
    }
    const Tensor& f = g_.tensors[origin_[t]];
    if (f.type != DType::float32 || f.data.size() != f.bytes()) fail("the constant '" + f.name + "' is not float32 of its shape");
    if (!std::all_of(f.floats(), f.floats() + f.elements(), [](float v) { return std::isfinite(v); }))
      fail("the constant '" + f.name + "' holds a value that is not finite");
    has_quant_[t] = 1;
    return t;
  }
  const float* floats(int t) const { return g_.tensors[origin_[t]].floats(); }

  // Constant inputs of an element-wise/shape op: per-tensor asymmetric int8 from their own range.
  void operands(std::size_t i) {
    for (std::size_t k = 0; k < q_.ops[i].inputs.size(); ++k) {
      if (!q_.tensors[q_.ops[i].inputs[k]].is_constant()) continue;
      const int t = own_constant(i, k);
      Tensor& c = q_.tensors[t];
      const float* v = floats(t);
      const std::size_t n = c.elements();
      const auto [lo, hi] = std::minmax_element(v, v + n);
      const TensorQuant q = choose_quant(*lo, *hi);
      std::vector<std::int8_t> data(n);
      ErrorStats err;
      double worst_relative = 0.0;
      for (std::size_t j = 0; j < n; ++j) {
        data[j] = quantize_value(v[j], q);
        const float dq = dequantize_value(data[j], q);
        err.add(v[j], dq);
        if (v[j] != 0.0f) worst_relative = std::max(worst_relative, std::abs(double(dq) - v[j]) / std::abs(double(v[j])));
      }
      c.type = DType::int8;
      c.quant = {{q.scale}, {q.zero_point}, -1};
      store(c, data.data(), n);
      const Op& op = q_.ops[i];
      add_report(c.name, op, "operand", 1, err, 0);
      // A factor off by a few percent, or a term off by more than an output step, is worth a word.
      const int out = op.outputs[0];
      if (op.kind == OpKind::mul && worst_relative > 0.05)
        report_.warnings.push_back("the constant '" + c.name + "' of " + describe(op) + " is off by up to " +
                                   std::to_string(int(worst_relative * 100)) + "% in int8: its values span very different magnitudes");
      else if (op.kind == OpKind::add && has_quant_[out] && err.max_abs > q_.tensors[out].quant.scale[0])
        report_.warnings.push_back("the constant '" + c.name + "' of " + describe(op) + " is off by more than one output step in int8");
    }
  }

  // Weights per-channel symmetric and the int32 bias of a conv-type op.
  void conv_constants(std::size_t i) {
    const Op& op = q_.ops[i];
    if (op.inputs.size() < 2) fail(describe(op) + ": the weights are missing");
    const TensorQuant in = quant_of(op.inputs[0], op);
    const int wt = own_constant(i, 1);
    Tensor& w = q_.tensors[wt];
    const int axis = op.kind == OpKind::depthwise_conv2d ? 3 : 0;
    if (static_cast<int>(w.shape.size()) <= axis) fail(describe(op) + ": weights of rank " + std::to_string(w.shape.size()));
    const int channels = w.shape[axis];
    std::size_t inner = 1;  // elements between two consecutive values of the channel axis
    for (std::size_t d = axis + 1; d < w.shape.size(); ++d) inner *= static_cast<std::size_t>(w.shape[d]);
    const std::size_t n = w.elements();
    const float* v = floats(wt);
    auto channel = [&](std::size_t j) { return static_cast<int>((j / inner) % static_cast<std::size_t>(channels)); };

    std::vector<float> max_abs(channels, 0.0f);
    for (std::size_t j = 0; j < n; ++j) max_abs[channel(j)] = std::max(max_abs[channel(j)], std::abs(v[j]));
    float smallest = 0.0f;
    for (float m : max_abs)
      if (m > 0.0f && (smallest == 0.0f || m < smallest)) smallest = m;
    std::vector<float> scale(channels);
    for (int c = 0; c < channels; ++c) scale[c] = (max_abs[c] > 0.0f ? max_abs[c] : smallest > 0.0f ? smallest : 127.0f) / 127.0f;

    std::vector<std::int8_t> data(n);
    ErrorStats err;
    for (std::size_t j = 0; j < n; ++j) {
      const float s = scale[channel(j)];
      const double r = std::clamp(std::round(double(v[j]) / s), -127.0, 127.0);
      data[j] = static_cast<std::int8_t>(r);
      err.add(v[j], r * s);
    }
    w.type = DType::int8;
    w.quant = {scale, std::vector<std::int32_t>(channels, 0), axis};
    store(w, data.data(), n);
    add_report(w.name, op, "weights", channels, err, 0);

    if (op.inputs.size() < 3) return;
    const int bt = own_constant(i, 2);
    Tensor& b = q_.tensors[bt];
    if (b.elements() != static_cast<std::size_t>(channels))
      fail(describe(op) + ": the bias has " + std::to_string(b.elements()) + " values for " + std::to_string(channels) + " channels");
    const float* bv = floats(bt);
    std::vector<float> bias_scale(channels);
    std::vector<std::int32_t> bias(channels);
    ErrorStats berr;
    int saturated = 0;
    for (int c = 0; c < channels; ++c) {
      const double s = double(in.scale) * double(scale[c]);
      bias_scale[c] = static_cast<float>(s);
      double r = std::round(double(bv[c]) / s);  // half away from zero
      if (r > INT32_MAX || r < INT32_MIN) ++saturated;
      r = std::clamp(r, double(INT32_MIN), double(INT32_MAX));
      bias[c] = static_cast<std::int32_t>(r);
      berr.add(bv[c], r * s);
    }
    b.type = DType::int32;
    b.quant = {bias_scale, std::vector<std::int32_t>(channels, 0), 0};
    store(b, bias.data(), bias.size() * sizeof(std::int32_t));
    add_report(b.name, op, "bias", channels, berr, saturated);
    if (saturated)
      report_.warnings.push_back(std::to_string(saturated) + " bias values of " + describe(op) + " saturate int32");
  }

  void add_report(const std::string& tensor, const Op& op, const char* role, int channels, const ErrorStats& e, int saturated) {
    ConstantReport r;
    r.tensor = tensor;
    r.op = op.name;
    r.role = role;
    r.channels = channels;
    r.max_abs_error = e.max_abs;
    r.rms_error = e.n ? std::sqrt(e.err_sq / double(e.n)) : 0.0;
    r.snr_db = e.snr_db();
    r.saturated = saturated;
    report_.constants.push_back(std::move(r));
  }

  const Graph& g_;
  Graph q_;
  const std::vector<Collector>& stats_;
  const QuantizeOptions& opt_;
  QuantizeReport& report_;
  std::vector<char> has_quant_;  // per q_ tensor: quantization set (activations) or constant done
  std::vector<int> origin_;      // per q_ tensor: the g_ tensor it comes from (copies of shared constants)
};

// --- check_int8_kernels ------------------------------------------------------------------------

[[noreturn]] void bad_op(const Op& op, const std::string& what) { fail(describe(op) + ": " + what); }

TensorQuant activation_quant(const Graph& g, const Op& op, int t) {
  if (t < 0 || t >= static_cast<int>(g.tensors.size())) bad_op(op, "refers to a missing tensor");
  const Tensor& x = g.tensors[t];
  if (x.type != DType::int8 || x.quant.scale.size() != 1 || x.quant.zero_point.size() != 1)
    bad_op(op, "the tensor '" + x.name + "' is not int8 with one scale and zero point");
  const TensorQuant q{x.quant.scale[0], x.quant.zero_point[0]};
  if (!(std::isfinite(q.scale) && q.scale > 0.0f) || q.zero_point < -128 || q.zero_point > 127)
    bad_op(op, "the tensor '" + x.name + "' has scale " + std::to_string(q.scale) + ", zero point " + std::to_string(q.zero_point));
  return q;
}

bool same(TensorQuant a, TensorQuant b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

void check_conv(const Graph& g, const Op& op, TensorQuant in, TensorQuant out) {
  if (op.inputs.size() < 2) bad_op(op, "the weights are missing");
  const Tensor& w = g.tensors[op.inputs[1]];
  const int axis = op.kind == OpKind::depthwise_conv2d ? 3 : 0;
  if (w.type != DType::int8 || !w.is_constant() || static_cast<int>(w.shape.size()) <= axis)
    bad_op(op, "the weights '" + w.name + "' are not an int8 constant");
  const std::size_t channels = static_cast<std::size_t>(w.shape[axis]);
  const auto& ws = w.quant.scale;
  if ((ws.size() != channels && ws.size() != 1) || w.quant.zero_point.size() != ws.size() ||
      std::any_of(w.quant.zero_point.begin(), w.quant.zero_point.end(), [](std::int32_t z) { return z != 0; }))
    bad_op(op, "the weights '" + w.name + "' need one scale per output channel (or one) and zero points 0");
  if (op.inputs.size() > 2) {
    const Tensor& b = g.tensors[op.inputs[2]];
    if (b.type != DType::int32 || !b.is_constant() || b.elements() != channels || b.quant.scale.size() != ws.size())
      bad_op(op, "the bias '" + b.name + "' must be int32 with one value and scale per channel");
    for (std::size_t c = 0; c < ws.size(); ++c) {
      const double product = static_cast<double>(in.scale * ws[c]), bs = b.quant.scale[c];
      if (std::abs(product - bs) > 1e-6 * std::min(product, bs) || b.quant.zero_point[c] != 0)
        bad_op(op, "the bias scale of channel " + std::to_string(c) + " is not input scale x weight scale");
    }
  }
  for (std::size_t c = 0; c < ws.size(); ++c) {
    const double real = double(in.scale) * double(ws[c]) / double(out.scale);
    const QuantizedMultiplier m = quantize_multiplier(real);
    if (!(ws[c] > 0.0f) || !std::isfinite(real) || m.multiplier < 0 || m.shift < -31 || m.shift > 30)
      bad_op(op, "the output multiplier of channel " + std::to_string(c) + " (input scale x weight scale / output scale = " +
                     std::to_string(real) + ") cannot be represented");
  }
  if (!activation_range_s8(fused(op.activation), out)) bad_op(op, "the fused activation leaves no output value");
}

}  // namespace

const char* calibration_method_name(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::automatic: return "auto";
    case CalibrationMethod::minmax: return "minmax";
    case CalibrationMethod::percentile: return "percentile";
    case CalibrationMethod::mse: return "mse";
  }
  return "?";
}

QuantizedModel quantize(const Graph& float_graph, const std::vector<std::vector<float>>& calibration,
                        const QuantizeOptions& options) {
  if (!(options.percentile > 50.0 && options.percentile <= 100.0))
    fail("the percentile must be in (50, 100], not " + std::to_string(options.percentile));
  if (options.max_samples < 1) fail("at least one calibration sample must be used");
  if (float_graph.inputs.size() != 1) fail("the graph must have one input, not " + std::to_string(float_graph.inputs.size()));
  if (calibration.empty()) fail("no calibration samples");

  QuantizedModel m;
  Graph g = float_graph;
  m.report.passes = prepare_for_int8(g);
  if (options.fold_input_standardisation)
    for (std::string& line : fold_input_affine(g, m.input_transform)) m.report.passes.push_back(std::move(line));

  const Tensor& input = g.tensors[g.inputs[0]];
  const std::size_t n = std::min(calibration.size(), options.max_samples);
  for (std::size_t s = 0; s < n; ++s)
    if (calibration[s].size() != input.elements())
      fail("calibration sample " + std::to_string(s) + " has " + std::to_string(calibration[s].size()) + " values; the input '" +
           input.name + "' needs " + std::to_string(input.elements()));
  if (options.fold_input_standardisation)
    for (std::string& line : equalize_input_of_fully_connected(g, m.input_transform, calibration, n))
      m.report.passes.push_back(std::move(line));
  std::vector<Collector> stats(g.tensors.size());
  for (std::size_t s = 0; s < n; ++s) {
    if (calibration[s].size() != input.elements())
      fail("calibration sample " + std::to_string(s) + " has " + std::to_string(calibration[s].size()) + " values; the input '" +
           input.name + "' needs " + std::to_string(input.elements()));
    const auto values = run_float_all(g, {apply_input_transform(m.input_transform, calibration[s])});
    for (std::size_t t = 0; t < values.size(); ++t) {
      for (float v : values[t])
        if (!std::isfinite(v))
          fail("calibration sample " + std::to_string(s) + " makes the tensor '" + g.tensors[t].name + "' non-finite");
      stats[t].add(values[t]);
    }
  }
  m.report.samples_used = n;
  m.graph = Quantizer(g, stats, options, m.report).run();
  check_int8_kernels(m.graph);
  return m;
}

void check_int8_kernels(const Graph& g) {
  for (const Op& op : g.ops) {
    if (op.outputs.size() != 1 || op.inputs.empty()) bad_op(op, "expected inputs and one output");
    const TensorQuant out = activation_quant(g, op, op.outputs[0]);
    auto in = [&](std::size_t k) { return activation_quant(g, op, op.inputs.at(k)); };
    const FusedActivation act = fused(op.activation);
    switch (op.kind) {
      case OpKind::conv2d:
      case OpKind::depthwise_conv2d:
      case OpKind::fully_connected:
        check_conv(g, op, in(0), out);
        break;
      case OpKind::add:
      case OpKind::mul:
        if (op.inputs.size() != 2) bad_op(op, "needs two inputs");
        if (op.kind == OpKind::add ? !add_params(in(0), in(1), out, act) : !mul_params(in(0), in(1), out, act))
          bad_op(op, "the scales give no valid multipliers (TFLite's Prepare would fail)");
        break;
      case OpKind::max_pool2d:
      case OpKind::average_pool2d:
      case OpKind::reshape:
      case OpKind::pad:
        if (!same(in(0), out)) bad_op(op, "the output must keep the input's scale and zero point");
        if (!activation_range_s8(act, out)) bad_op(op, "the fused activation leaves no output value");
        break;
      case OpKind::mean_hw:
        if (!mean_params(in(0), out)) bad_op(op, "the scales give no valid multiplier");
        break;
      case OpKind::concatenation:
        for (std::size_t k = 0; k < op.inputs.size(); ++k)
          if (!concat_input(rt::Shape{}, nullptr, in(k), out)) bad_op(op, "input " + std::to_string(k) + " cannot be requantized");
        break;
      case OpKind::softmax: {
        const auto& shape = g.tensors[op.outputs[0]].shape;
        if (!shape.empty() && shape.back() > 4095) bad_op(op, "more than 4095 classes");
        if (!softmax_params(in(0), out, op.beta)) bad_op(op, "needs output scale 1/256, zero point -128 and a usable input scale");
        break;
      }
      case OpKind::logistic:
        if (!logistic_params(in(0), out)) bad_op(op, "needs output scale 1/256, zero point -128 and a usable input scale");
        break;
      case OpKind::tanh:
        if (!tanh_params(in(0), out)) bad_op(op, "needs output scale 1/128, zero point 0 and a usable input scale");
        break;
      default:
        bad_op(op, "has no int8 kernel in the runtime");
    }
  }
}

namespace {

rt::QuantizeParams tensor_params(const Tensor& t, const char* what) {
  if (t.type != DType::int8 || t.quant.scale.size() != 1 || t.quant.zero_point.size() != 1)
    fail(std::string(what) + " '" + t.name + "' is not an int8 tensor with one scale");
  const auto p = quantize_params({t.quant.scale[0], t.quant.zero_point[0]});
  if (!p) fail(std::string(what) + " '" + t.name + "' has an invalid scale or zero point");
  return *p;
}

}  // namespace

std::vector<std::int8_t> quantize_input(const Tensor& int8_input, std::span<const float> values) {
  const rt::QuantizeParams p = tensor_params(int8_input, "the input");
  std::vector<std::int8_t> out(values.size());
  if (!values.empty() &&
      rt::quantize_f32_s8(p, rt::Shape{1, 1, 1, static_cast<std::int32_t>(values.size())}, values.data(), out.data()) != rt::Status::ok)
    fail("cannot quantize " + std::to_string(values.size()) + " values");
  return out;
}

std::vector<float> dequantize_output(const Tensor& int8_output, std::span<const std::int8_t> values) {
  const rt::QuantizeParams p = tensor_params(int8_output, "the output");
  std::vector<float> out(values.size());
  if (!values.empty() &&
      rt::dequantize_s8_f32(p, rt::Shape{1, 1, 1, static_cast<std::int32_t>(values.size())}, values.data(), out.data()) != rt::Status::ok)
    fail("cannot dequantize " + std::to_string(values.size()) + " values");
  return out;
}

std::vector<float> apply_input_transform(const InputTransform& tf, std::span<const float> values) {
  std::vector<float> out(values.begin(), values.end());
  if (tf.empty()) return out;
  if (tf.shift.size() != tf.scale.size() || tf.stride == 0) fail("the input transform is malformed");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t k = (i / tf.stride) % tf.scale.size();
    const float scaled = out[i] * tf.scale[k];  // two roundings, as MUL then ADD
    out[i] = scaled + tf.shift[k];
  }
  return out;
}

std::vector<std::int8_t> quantize_input(const QuantizedModel& model, std::span<const float> values) {
  if (model.graph.inputs.size() != 1) fail("the model must have one input");
  return quantize_input(model.graph.tensors[model.graph.inputs[0]], apply_input_transform(model.input_transform, values));
}

std::vector<LayerError> layer_errors(const Graph& float_graph, const Graph& int8_graph,
                                     const std::vector<std::vector<float>>& samples, const Int8TensorRunner& run_int8_all,
                                     const InputTransform& transform) {
  if (int8_graph.inputs.size() != 1) fail("the int8 graph must have one input");
  std::map<std::string, int> float_tensor;
  for (std::size_t t = 0; t < float_graph.tensors.size(); ++t) float_tensor.emplace(float_graph.tensors[t].name, static_cast<int>(t));
  struct Acc {
    ErrorStats e;
    bool used = false;
  };
  std::vector<Acc> acc(int8_graph.ops.size());
  const Tensor& input = int8_graph.tensors[int8_graph.inputs[0]];
  for (const auto& sample : samples) {
    const auto f = run_float_all(float_graph, {sample});
    const auto q = run_int8_all(quantize_input(input, apply_input_transform(transform, sample)));
    if (q.size() != int8_graph.tensors.size())
      fail("the int8 runner returned " + std::to_string(q.size()) + " tensors; the graph has " + std::to_string(int8_graph.tensors.size()));
    for (std::size_t i = 0; i < int8_graph.ops.size(); ++i) {
      const Op& op = int8_graph.ops[i];
      if (op.outputs.size() != 1) continue;
      const Tensor& out = int8_graph.tensors[op.outputs[0]];
      const auto it = float_tensor.find(out.name);
      const auto& qv = q[op.outputs[0]];
      if (it == float_tensor.end() || qv.empty() || f[it->second].size() != qv.size()) continue;
      const auto dq = dequantize_output(out, qv);
      for (std::size_t j = 0; j < dq.size(); ++j) acc[i].e.add(f[it->second][j], dq[j]);
      acc[i].used = true;
    }
  }
  std::vector<LayerError> result;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    if (!acc[i].used) continue;
    const Op& op = int8_graph.ops[i];
    const Tensor& out = int8_graph.tensors[op.outputs[0]];
    const ErrorStats& e = acc[i].e;
    LayerError l;
    l.op = op.name;
    l.kind = op.kind;
    l.tensor = out.name;
    l.snr_db = e.snr_db();
    l.relative_rms = e.sum_sq > 0.0 ? std::sqrt(e.err_sq / e.sum_sq) : (e.err_sq > 0.0 ? INFINITY : 0.0);
    l.max_abs_error = e.max_abs;
    l.max_error_steps = e.max_abs / double(out.quant.scale[0]);
    result.push_back(std::move(l));
  }
  return result;
}

}  // namespace tml::deploy
