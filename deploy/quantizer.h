#pragma once
// Post-training int8 quantization (DESIGN.md §3): float Graph + calibration samples -> the int8 Graph
// the runtime kernels (and TFLite Micro) run, plus a report. Host only.
//
// What quantize() does, in order:
//  1. graph passes (deploy/graph_passes.h): drop no-ops, fuse RELU/RELU6 into their producer, lower
//     the rest to a 1x1 MAX_POOL_2D with a fused activation; with fold_input_standardisation, the
//     input's MUL/ADD by constants become QuantizedModel::input_transform;
//  2. calibration: the float graph runs on the samples (deploy/float_executor.h run_float_all) and
//     every activation tensor gets a range: min/max, a two-sided percentile, and the MSE-optimal
//     clipping (a search over shrunk ranges); the one with the lowest mean squared quantization
//     error is kept (QuantizeOptions::method can force one). The error is taken over the collected
//     values inside the percentile band: counting the rarest ones would let a single glitch win
//     over any clipping (see candidates() in quantizer.cc). Min/max is kept unless another candidate
//     is at least 1% better: it clips nothing on unseen data;
//  3. quantization, TFLite's int8 spec:
//     - weights per-channel symmetric int8 in [-127, 127], zero point 0, scale max|w|/127 per output
//       channel (axis 0 for CONV_2D {Cout,KH,KW,Cin} and FULLY_CONNECTED {Cout,Cin}; axis 3 for
//       DEPTHWISE_CONV_2D {1,KH,KW,C}); an all-zero channel takes the tensor's smallest non-zero scale
//       (1 if none), not a tiny one: the bias of that channel must stay representable;
//     - biases int32, scale input_scale x weight_scale[c], zero point 0, rounded half away from zero,
//       saturated;
//     - activations per-tensor asymmetric int8, range including 0, zero point nudged to an integer
//       in [-128, 127] (TFLite's ChooseQuantizationParams); a fused RELU/RELU6 clips the range to
//       [0, max] / [0, 6];
//     - SOFTMAX and LOGISTIC outputs 1/256, -128; TANH 1/128, 0; MAX/AVERAGE_POOL_2D, RESHAPE, PAD,
//       MEAN keep their input's quantization; CONCATENATION's output range covers its inputs' (the
//       kernel requantizes inputs that differ); ADD/MUL outputs are calibrated on their own;
//     - other constants (the ADD/MUL operands of the trainer's input standardisation x*a+b) are
//       per-tensor asymmetric int8 from their own min/max;
//     - the graph input and outputs are int8 (the firmware quantizes its floats with the input's
//       quantization: quantize_input below). No QUANTIZE/DEQUANTIZE op is added;
//  4. check_int8_kernels on the result.
// Errors: tml::Error(ExitCode::invalid_input) for a graph or calibration set that does not fit, or
// an op whose kernel parameters cannot be computed (the message names the op).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "deploy/graph.h"

namespace tml::deploy {

enum class CalibrationMethod : std::uint8_t {
  automatic,   // per tensor the lowest error of the three below
  minmax,      // the observed range
  percentile,  // [quantile(1 - p), quantile(p)] of the values
  mse,         // the clipping with the lowest mean squared quantization error
};
const char* calibration_method_name(CalibrationMethod m);  // "auto", "minmax", "percentile", "mse"

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::automatic;
  double percentile = 99.99;     // percent of the values kept inside the range on each side, in (50, 100]
  std::size_t max_samples = 200;  // calibration samples used (the first ones); >= 1
  // Off (the default): the input standardisation x*a+b stays as int8 MUL/ADD and the graph input is
  // the raw features, quantized per tensor. On: leading MUL/ADD ops by per-feature constants (one
  // value, or values along one axis) on the graph input are removed and returned as
  // QuantizedModel::input_transform, applied in float before quantizing (quantize_input(const
  // QuantizedModel&, ...)); the graph input becomes the standardised tensor. Per-tensor int8 cannot
  // hold raw features of very different magnitudes (MFCC c0 spans hundreds, c9 a few units): on the
  // trainer's DS-CNN with MFCC-like inputs the standardised tensor keeps 39 dB SNR instead of 18 dB.
  bool fold_input_standardisation = false;
};

// One calibration candidate of a tensor.
struct RangeCandidate {
  CalibrationMethod method = CalibrationMethod::minmax;
  float min = 0.0f, max = 0.0f;  // the real range (0 included, before nudging)
  double mse = 0.0;              // mean squared quantization error on the values inside the band
};

// One activation tensor (the graph input, every op output).
struct ActivationReport {
  std::string tensor;
  std::string method;  // "minmax" | "percentile" | "mse" (calibrated), or why it is fixed:
                       // "fixed by SOFTMAX" ..., "input of MAX_POOL_2D" ..., "covers the inputs"
  float min = 0.0f, max = 0.0f;  // the range quantized (0 included, before nudging)
  float scale = 0.0f;
  std::int32_t zero_point = 0;
  double mse = -1.0;  // calibrated: the chosen candidate's; fixed: on all the collected values
  std::vector<RangeCandidate> candidates;  // calibrated tensors: every candidate tried
};

// One constant: weights, bias or another constant operand.
struct ConstantReport {
  std::string tensor;
  std::string op;    // the op that reads it
  std::string role;  // "weights" | "bias" | "operand"
  int channels = 1;  // scales (1 = per tensor)
  double max_abs_error = 0.0;  // max |float - dequantized|
  double rms_error = 0.0;
  double snr_db = 0.0;      // 10 log10(sum float^2 / sum error^2); 999 when exact
  int saturated = 0;        // bias values clamped to the int32 range
};

struct QuantizeReport {
  std::size_t samples_used = 0;
  std::vector<std::string> passes;  // what the graph passes changed
  std::vector<ActivationReport> activations;
  std::vector<ConstantReport> constants;
  std::vector<std::string> warnings;  // e.g. a constant quantized with a large error
};

// Per feature of the raw input: element i becomes x * scale[k] + shift[k] in float, with
// k = (i / stride) % scale.size() (stride: the elements after the feature axis; one value: k = 0).
struct InputTransform {
  std::size_t stride = 1;
  std::vector<float> scale, shift;  // both empty (no transform) or one value per feature
  bool empty() const { return scale.empty(); }
};

struct QuantizedModel {
  Graph graph;  // int8: activations and weights int8, biases int32, every tensor with its quantization
  QuantizeReport report;
  InputTransform input_transform;  // empty unless QuantizeOptions::fold_input_standardisation folded ops
};

// CALIBRATION: samples for the graph's single input, each one sample (the input's elements, IR layout).
QuantizedModel quantize(const Graph& float_graph, const std::vector<std::vector<float>>& calibration,
                        const QuantizeOptions& options = {});

// Computes every op's kernel parameters from the tensors' quantization, as TFLite's Prepare does
// (deploy/kernel_params.h; conv-type ops: quantize_multiplier(input_scale * weight_scale[c] /
// output_scale) per channel). Throws tml::Error(ExitCode::invalid_input) naming the first op that fails.
void check_int8_kernels(const Graph& int8_graph);

// Float <-> int8 with a tensor's per-tensor quantization, exactly as the runtime's QUANTIZE /
// DEQUANTIZE kernels (round half away from zero, clamp to [-128, 127]). Any number of values.
std::vector<std::int8_t> quantize_input(const Tensor& int8_input, std::span<const float> values);
std::vector<float> dequantize_output(const Tensor& int8_output, std::span<const std::int8_t> values);

// TRANSFORM applied to raw input values (float arithmetic, as the float graph's MUL and ADD).
std::vector<float> apply_input_transform(const InputTransform& transform, std::span<const float> values);
// A model's input from raw features: its input_transform, then quantize_input with the graph input.
std::vector<std::int8_t> quantize_input(const QuantizedModel& model, std::span<const float> values);

// --- Per-layer quantization error ------------------------------------------------------------------

struct LayerError {
  std::string op;      // the int8 op's name
  OpKind kind = OpKind::add;
  std::string tensor;  // its output tensor (matched by name in the float graph)
  double snr_db = 0.0;        // 10 log10(sum float^2 / sum error^2) over the samples; 999 when exact
  double relative_rms = 0.0;  // sqrt(sum error^2 / sum float^2)
  double max_abs_error = 0.0;  // in real units
  double max_error_steps = 0.0;  // max_abs_error / output scale
};

// For one int8 input sample, the int8 values of every tensor of the int8 graph (indexed like its
// tensors; a vector left empty is skipped). The int8 executor provides it.
using Int8TensorRunner = std::function<std::vector<std::vector<std::int8_t>>(const std::vector<std::int8_t>& input)>;

// Runs FLOAT_GRAPH (before or after the graph passes) and RUN_INT8_ALL on each sample (the int8 input
// is quantize_input of the sample) and compares each int8 op's dequantized output with the float
// tensor of the same name: the error accumulated up to that layer. Ops whose output has no float
// counterpart (the reshapes a lowered RELU adds) are left out. One entry per op, in op order.
// TRANSFORM: the model's input_transform when the standardisation was folded (SAMPLES are raw features).
std::vector<LayerError> layer_errors(const Graph& float_graph, const Graph& int8_graph,
                                     const std::vector<std::vector<float>>& samples, const Int8TensorRunner& run_int8_all,
                                     const InputTransform& transform = {});

}  // namespace tml::deploy
