#include "deploy/dequantized_graph.h"

#include <cstring>

namespace tml::deploy {
namespace {

float scale_of(const Quantization& q, std::size_t channel) {
  if (q.scale.empty()) return 1.0f;
  return q.scale.size() == 1 ? q.scale[0] : q.scale[channel];
}
std::int32_t zero_point_of(const Quantization& q, std::size_t channel) {
  if (q.zero_point.empty()) return 0;
  return q.zero_point.size() == 1 ? q.zero_point[0] : q.zero_point[channel];
}

// The channel of flat element i along axis `axis` of `shape` (0 when per tensor).
std::size_t channel_of(const Tensor& t, std::size_t i) {
  if (t.quant.scale.size() <= 1 || t.quant.axis < 0) return 0;
  std::size_t inner = 1;
  for (std::size_t d = static_cast<std::size_t>(t.quant.axis) + 1; d < t.shape.size(); ++d)
    inner *= static_cast<std::size_t>(t.shape[d]);
  return (i / inner) % static_cast<std::size_t>(t.shape[static_cast<std::size_t>(t.quant.axis)]);
}

}  // namespace

Graph dequantized_graph(const Graph& int8_graph) {
  Graph g = int8_graph;
  for (Tensor& t : g.tensors) {
    if (t.type == DType::float32) continue;
    if (t.is_constant()) {
      const std::size_t n = t.elements();
      std::vector<float> values(n);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = channel_of(t, i);
        std::int32_t q = 0;
        if (t.type == DType::int8) q = static_cast<std::int8_t>(t.data[i]);
        else std::memcpy(&q, t.data.data() + 4 * i, 4);
        // int32 constants other than biases (shape tensors) carry no quantization and stay integers.
        values[i] = t.quant.empty() ? static_cast<float>(q)
                                    : scale_of(t.quant, c) * static_cast<float>(q - zero_point_of(t.quant, c));
      }
      t.data.resize(n * 4);
      std::memcpy(t.data.data(), values.data(), n * 4);
    }
    t.type = DType::float32;
    t.quant = {};
  }
  // QUANTIZE / DEQUANTIZE become a reshape to the same shape: an identity the float executor runs.
  for (Op& op : g.ops) {
    if (op.kind != OpKind::quantize && op.kind != OpKind::dequantize) continue;
    op.kind = OpKind::reshape;
    op.new_shape = g.tensors[static_cast<std::size_t>(op.outputs[0])].shape;
  }
  return g;
}

}  // namespace tml::deploy
