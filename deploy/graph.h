#pragma once
// The model IR that deploy/ works on: tensors (NHWC activations, constant weights) and a topologically
// ordered list of ops. Filled by the importers (ONNX from the train bridge, TFLite from users), then
// transformed by graph passes, quantized, planned and turned into code. Host only (std allowed).
//
// Conventions (TFLite's, so the runtime kernels take tensors as they are):
//  - activations are NHWC ({N, H, W, C}); a vector is {N, C}; rank <= 4;
//  - conv2d weights {Cout, KH, KW, Cin/groups}; depthwise_conv2d weights {1, KH, KW, Cin*multiplier};
//    fully_connected weights {Cout, Cin}; biases {Cout};
//  - float tensors hold float32 data; quantized tensors hold int8 (weights, activations) or int32
//    (biases) data with their Quantization.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tml::deploy {

enum class DType : std::uint8_t { float32, int8, int32 };

struct Quantization {
  std::vector<float> scale;             // one value (per tensor) or one per channel
  std::vector<std::int32_t> zero_point;  // same length as scale
  int axis = -1;                        // the channel axis when per-channel
  bool empty() const { return scale.empty(); }
};

struct Tensor {
  std::string name;
  std::vector<int> shape;
  DType type = DType::float32;
  std::vector<std::uint8_t> data;  // constants only (weights, biases, shapes); empty for activations
  Quantization quant;
  bool is_constant() const { return !data.empty(); }
  std::size_t elements() const;
  std::size_t bytes() const;  // elements x size of type
  const float* floats() const { return reinterpret_cast<const float*>(data.data()); }
};

enum class OpKind : std::uint8_t {
  conv2d,            // inputs: x, weights, [bias]
  depthwise_conv2d,  // inputs: x, weights, [bias]; attribute depth_multiplier
  fully_connected,   // inputs: x (flattened to {N, Cin}), weights, [bias]
  average_pool2d,    // attributes kernel, strides, pads
  max_pool2d,
  mean_hw,           // global average pool: mean over H and W, keeps {N, 1, 1, C}
  add,               // element-wise with broadcasting
  mul,
  concatenation,     // attribute axis (NHWC)
  pad,               // attribute paddings: before/after for each dimension; constant 0
  reshape,           // attribute new_shape
  softmax,           // over the last axis; attribute beta
  logistic,
  tanh,
  relu,              // standalone activations (fused into the producer by graph passes)
  relu6,
  quantize,          // float -> int8
  dequantize,        // int8 -> float
};
const char* op_name(OpKind kind);

enum class Activation : std::uint8_t { none, relu, relu6 };

struct Op {
  OpKind kind = OpKind::add;
  std::string name;  // the source node's name, for messages
  std::vector<int> inputs;   // tensor indices
  std::vector<int> outputs;  // tensor indices
  // Attributes (the ones the kind uses):
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int kernel_h = 1, kernel_w = 1;  // pooling
  int depth_multiplier = 1;
  int axis = 0;
  float beta = 1.0f;
  std::vector<int> paddings;  // pad: 2 x rank values, before/after for each dimension (NHWC for rank 4)
  std::vector<int> new_shape;  // reshape
  Activation activation = Activation::none;  // fused activation of the op's output
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // in execution order
  std::vector<int> inputs, outputs;
  int add_tensor(Tensor t);
};

}  // namespace tml::deploy
