// libFuzzer target for the ONNX importer: arbitrary bytes go through import_onnx_bytes (protobuf
// parse, every check of the importer, the graph passes). Built with clang
// -fsanitize=fuzzer,address,undefined; seed it with libonnx-testdata's models.
// Properties checked besides "no crash, no sanitizer report, no uncaught exception":
//  - a refusal is a tml::Error with ExitCode::invalid_input and one line starting with the source;
//  - an accepted graph is well-formed: the float executor (which recomputes every op's output shape)
//    runs it without an internal error, when it is small enough to run quickly.
// Byte-level mutations rarely survive protobuf parsing with a meaningful graph, so a custom mutator
// also parses the input as a ModelProto and changes what the importer reads: attribute values,
// dimensions, op types, input names, tensor data sizes and types.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "deploy/float_executor.h"
#include "deploy/onnx_import.h"
#include "onnx/onnx_pb.h"

using namespace tml::deploy;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Rough multiply-accumulate count of running G once.
double cost(const Graph& g) {
  double total = 0;
  for (const Op& op : g.ops) {
    double out = 0;
    for (int t : op.outputs) out += static_cast<double>(g.tensors[t].elements());
    double per = 1;
    if ((op.kind == OpKind::conv2d || op.kind == OpKind::depthwise_conv2d) && op.inputs.size() > 1) {
      const auto& w = g.tensors[op.inputs[1]].shape;
      per = w.size() == 4 ? double(w[1]) * w[2] * (op.kind == OpKind::conv2d ? w[3] : 1) : 1;
    } else if (op.kind == OpKind::fully_connected && op.inputs.size() > 1) {
      const auto& w = g.tensors[op.inputs[1]].shape;
      per = w.size() == 2 ? w[1] : 1;
    } else if (op.kind == OpKind::average_pool2d || op.kind == OpKind::max_pool2d) {
      per = double(op.kernel_h) * op.kernel_w;
    } else if (op.kind == OpKind::mean_hw && !op.inputs.empty()) {
      const auto& x = g.tensors[op.inputs[0]].shape;
      per = x.size() == 4 ? double(x[1]) * x[2] : 1;
    }
    total += out * per + 1;
  }
  return total;
}

const char* const kOps[] = {"Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "AveragePool", "MaxPool",
                            "GlobalAveragePool", "ReduceMean", "Add", "Sub", "Mul", "Div", "Concat", "Pad", "Reshape",
                            "Flatten", "Squeeze", "Unsqueeze", "Softmax", "Sigmoid", "Tanh", "Identity", "Dropout",
                            "Constant", "Shape", "Gather", "Slice", "Cast", "ConstantOfShape", "Transpose", "LSTM"};
const long long kValues[] = {-9223372036854775807LL - 1, -65536, -5, -2, -1, 0, 1, 2, 3, 4, 6, 7, 16, 4096, 65537, 1LL << 31, 9223372036854775807LL};

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }
  long long value() { return below(3) ? kValues[below(sizeof kValues / sizeof kValues[0])] : static_cast<long long>(next() % 64) - 8; }
};

void mutate_tensor(onnx::TensorProto* t, Rng& r) {
  switch (r.below(5)) {
    case 0: if (t->dims_size()) t->set_dims(static_cast<int>(r.below(t->dims_size())), r.value()); break;
    case 1: t->add_dims(r.value()); break;
    case 2: t->set_data_type(static_cast<int>(r.below(17))); break;
    case 3: if (t->has_raw_data()) t->mutable_raw_data()->resize(r.below(t->raw_data().size() + 9)); break;
    default: t->add_float_data(static_cast<float>(r.value())); break;
  }
}

// One structural change of a parsed model.
void mutate_model(onnx::ModelProto& m, Rng& r) {
  onnx::GraphProto* g = m.mutable_graph();
  const std::size_t pick = r.below(8);
  if (pick <= 2 && g->node_size() > 0) {
    onnx::NodeProto* n = g->mutable_node(static_cast<int>(r.below(g->node_size())));
    if (pick == 0 && n->attribute_size() > 0) {
      onnx::AttributeProto* a = n->mutable_attribute(static_cast<int>(r.below(n->attribute_size())));
      if (a->ints_size() > 0 && r.below(2)) a->set_ints(static_cast<int>(r.below(a->ints_size())), r.value());
      else if (a->ints_size() > 0) a->add_ints(r.value());
      else if (a->has_t()) mutate_tensor(a->mutable_t(), r);
      else if (a->has_f()) a->set_f(static_cast<float>(r.value()));
      else a->set_i(r.value());
    } else if (pick == 1) {
      n->set_op_type(kOps[r.below(sizeof kOps / sizeof kOps[0])]);
    } else if (n->input_size() > 0) {
      // Point an input at another value (or a missing one).
      const int i = static_cast<int>(r.below(n->input_size()));
      const onnx::NodeProto& other = g->node(static_cast<int>(r.below(g->node_size())));
      if (other.output_size() > 0 && r.below(4)) n->set_input(i, other.output(0));
      else if (g->initializer_size() > 0 && r.below(2)) n->set_input(i, g->initializer(static_cast<int>(r.below(g->initializer_size()))).name());
      else n->set_input(i, r.below(2) ? "" : "missing");
    }
  } else if (pick == 3 && g->input_size() > 0) {
    auto* shape = g->mutable_input(static_cast<int>(r.below(g->input_size())))->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() > 0 && r.below(3)) shape->mutable_dim(static_cast<int>(r.below(shape->dim_size())))->set_dim_value(r.value());
    else if (r.below(2)) shape->add_dim()->set_dim_value(r.value());
    else if (shape->dim_size() > 0) shape->mutable_dim()->RemoveLast();
  } else if (pick == 4 && g->initializer_size() > 0) {
    mutate_tensor(g->mutable_initializer(static_cast<int>(r.below(g->initializer_size()))), r);
  } else if (pick == 5 && g->node_size() > 1) {
    g->mutable_node()->SwapElements(static_cast<int>(r.below(g->node_size())), static_cast<int>(r.below(g->node_size())));
  } else if (pick == 6 && g->node_size() > 0) {
    *g->add_node() = g->node(static_cast<int>(r.below(g->node_size())));
    onnx::NodeProto* n = g->mutable_node(g->node_size() - 1);
    if (n->output_size() > 0) n->set_output(0, "dup" + std::to_string(r.below(4)));
  } else if (m.opset_import_size() > 0) {
    m.mutable_opset_import(0)->set_version(static_cast<long long>(r.below(20)));
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned int seed) {
  Rng r{seed * 0x9E3779B97F4A7C15ull + 1};
  onnx::ModelProto m;
  if (r.below(3) == 0 || !m.ParseFromArray(data, static_cast<int>(size))) return LLVMFuzzerMutate(data, size, max_size);
  for (std::size_t k = 1 + r.below(3); k > 0; --k) mutate_model(m, r);
  const std::string out = m.SerializeAsString();
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Graph g;
  try {
    g = import_onnx_bytes(std::span<const std::uint8_t>(data, size), "fuzz.onnx");
  } catch (const tml::Error& e) {
    const std::string m = e.what();
    check(e.code() == tml::ExitCode::invalid_input);
    check(m.rfind("fuzz.onnx: ", 0) == 0 && m.find('\n') == std::string::npos);
    return 0;
  }
  check(!g.inputs.empty() && !g.outputs.empty());
  for (const Op& op : g.ops) {
    for (int t : op.inputs) check(t >= 0 && t < static_cast<int>(g.tensors.size()));
    for (int t : op.outputs) check(t >= 0 && t < static_cast<int>(g.tensors.size()));
  }
  double input_values = 0;
  for (int t : g.inputs) input_values += static_cast<double>(g.tensors[t].elements());
  if (cost(g) > 2e6 || input_values > 1e6) return 0;
  std::vector<std::vector<float>> inputs;
  for (int t : g.inputs) inputs.emplace_back(g.tensors[t].elements(), 0.5f);
  try {
    run_float(g, inputs);
  } catch (const tml::Error& e) {
    if (e.code() == tml::ExitCode::internal) {
      std::fprintf(stderr, "malformed graph from the importer: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
