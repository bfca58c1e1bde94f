#include "deploy/graph.h"

namespace tml::deploy {

std::size_t Tensor::elements() const {
  std::size_t n = 1;
  for (int d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::size_t Tensor::bytes() const { return elements() * (type == DType::int8 ? 1 : 4); }

int Graph::add_tensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::conv2d: return "CONV_2D";
    case OpKind::depthwise_conv2d: return "DEPTHWISE_CONV_2D";
    case OpKind::fully_connected: return "FULLY_CONNECTED";
    case OpKind::average_pool2d: return "AVERAGE_POOL_2D";
    case OpKind::max_pool2d: return "MAX_POOL_2D";
    case OpKind::mean_hw: return "MEAN";
    case OpKind::add: return "ADD";
    case OpKind::mul: return "MUL";
    case OpKind::concatenation: return "CONCATENATION";
    case OpKind::pad: return "PAD";
    case OpKind::reshape: return "RESHAPE";
    case OpKind::softmax: return "SOFTMAX";
    case OpKind::logistic: return "LOGISTIC";
    case OpKind::tanh: return "TANH";
    case OpKind::relu: return "RELU";
    case OpKind::relu6: return "RELU6";
    case OpKind::quantize: return "QUANTIZE";
    case OpKind::dequantize: return "DEQUANTIZE";
  }
  return "?";
}

}  // namespace tml::deploy
