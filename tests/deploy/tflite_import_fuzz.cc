// libFuzzer target for the TFLite importer: arbitrary bytes go through import_tflite_bytes
// (flatbuffers' Verifier, then every check of the importer). Built with clang
// -fsanitize=fuzzer,address,undefined; seeded with the real models in ../shared/data/models.
// Properties checked besides "no crash, no sanitizer report, no uncaught exception":
//  - a refusal is a tml::Error with ExitCode::invalid_input and one line starting with the source;
//  - an accepted graph is well-formed: valid indices, constants of the right size, int8 tensors
//    quantized (per channel only along an existing axis of the right length), and a dequantized
//    float copy of it runs in the float executor (which recomputes every op's output shape) without
//    an internal error, when it is small enough to run quickly.
// Byte flips rarely get past the Verifier, so a custom mutator also edits verified models in place
// through the generated mutable accessors (flatc --gen-mutable): shapes, types, buffer and tensor
// indices, quantization, operator codes and option values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "deploy/dequantized_graph.h"
#include "deploy/float_executor.h"
#include "deploy/tflite_import.h"
#include "deploy/tflite_schema_generated.h"

using namespace tml::deploy;
namespace fb = ::tml::tflite;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Rough multiply-accumulate count of running G once.
double cost(const Graph& g) {
  double total = 0;
  for (const Op& op : g.ops) {
    double per = 1;
    if ((op.kind == OpKind::conv2d || op.kind == OpKind::depthwise_conv2d) && op.inputs.size() > 1) {
      const auto& w = g.tensors[op.inputs[1]].shape;
      per = w.size() == 4 ? double(w[1]) * w[2] * (op.kind == OpKind::conv2d ? w[3] : 1) : 1;
    } else if (op.kind == OpKind::fully_connected && op.inputs.size() > 1) {
      const auto& w = g.tensors[op.inputs[1]].shape;
      per = w.size() == 2 ? w[1] : 1;
    } else if (op.kind == OpKind::average_pool2d || op.kind == OpKind::max_pool2d) {
      per = double(op.kernel_h) * op.kernel_w;
    } else if (op.kind == OpKind::mean_hw) {
      const auto& x = g.tensors[op.inputs[0]].shape;
      per = x.size() == 4 ? double(x[1]) * x[2] : 1;
    }
    total += double(g.tensors[op.outputs[0]].elements()) * per + 1;
  }
  return total;
}

void check_graph(const Graph& g) {
  const int n = static_cast<int>(g.tensors.size());
  check(!g.inputs.empty() && !g.outputs.empty());
  for (int t : g.inputs) check(t >= 0 && t < n);
  for (int t : g.outputs) check(t >= 0 && t < n);
  for (const Op& op : g.ops) {
    check(op.outputs.size() == 1);
    for (int t : op.inputs) check(t >= 0 && t < n);
    for (int t : op.outputs) check(t >= 0 && t < n && !g.tensors[t].is_constant());
  }
  for (const Tensor& t : g.tensors) {
    check(t.shape.size() <= 4);
    if (t.is_constant()) check(t.data.size() == t.bytes());
    if (t.type == DType::int8) check(!t.quant.empty());
    check(t.quant.scale.size() == t.quant.zero_point.size());
    if (t.quant.scale.size() > 1)
      check(t.quant.axis >= 0 && t.quant.axis < int(t.shape.size()) && t.shape[t.quant.axis] == int(t.quant.scale.size()));
  }
}

// --- the structural mutator -------------------------------------------------------------------------

const int kValues[] = {
    -2147483647 - 1, -65536, -5,    -3,      -2,        -1, 0, 1, 2, 3, 4, 5, 7, 8, 16, 25, 64, 96, 127, 128, 255, 4096,
    65535,           65536,  65537, 1 << 24, 2147483647};
const float kFloats[] = {0.0f, -1.0f, 1e-30f, 1e30f, 0.5f, 1.0f / 256, __builtin_inff(), __builtin_nanf("")};
const int kCodes[] = {0, 1, 2, 3, 4, 6, 9, 14, 16, 17, 18, 19, 21, 22, 25, 28, 32, 34, 40, 43, 114, 127, 150, 205, 300, -1};

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }
  int value() { return below(3) ? kValues[below(std::size(kValues))] : static_cast<int>(next() % 40) - 4; }
  template <typename V>
  void poke(V* v) {  // one element of an int vector
    if (v && v->size()) v->Mutate(static_cast<flatbuffers::uoffset_t>(below(v->size())), value());
  }
};

void mutate_options(fb::Operator& op, Rng& r) {
  void* o = op.mutable_builtin_options();
  if (!o) return;
  const int v = r.value();
  switch (op.builtin_options_type()) {
    case fb::BuiltinOptions_Conv2DOptions: {
      auto* c = static_cast<fb::Conv2DOptions*>(o);
      const std::size_t k = r.below(5);
      if (k == 0)
        c->mutate_padding(static_cast<fb::Padding>(r.below(3)));
      else if (k == 1)
        c->mutate_stride_w(v), c->mutate_stride_h(v);
      else if (k == 2)
        c->mutate_dilation_h_factor(v);
      else if (k == 3)
        c->mutate_fused_activation_function(static_cast<fb::ActivationFunctionType>(r.below(7)));
      else
        c->mutate_stride_w(v);
      break;
    }
    case fb::BuiltinOptions_DepthwiseConv2DOptions: {
      auto* c = static_cast<fb::DepthwiseConv2DOptions*>(o);
      const std::size_t k = r.below(4);
      if (k == 0)
        c->mutate_depth_multiplier(v);
      else if (k == 1)
        c->mutate_stride_h(v);
      else if (k == 2)
        c->mutate_dilation_w_factor(v);
      else
        c->mutate_padding(static_cast<fb::Padding>(r.below(3)));
      break;
    }
    case fb::BuiltinOptions_Pool2DOptions: {
      auto* p = static_cast<fb::Pool2DOptions*>(o);
      const std::size_t k = r.below(4);
      if (k == 0)
        p->mutate_filter_height(v);
      else if (k == 1)
        p->mutate_filter_width(v);
      else if (k == 2)
        p->mutate_stride_w(v);
      else
        p->mutate_padding(static_cast<fb::Padding>(r.below(3)));
      break;
    }
    case fb::BuiltinOptions_FullyConnectedOptions: {
      auto* f = static_cast<fb::FullyConnectedOptions*>(o);
      if (r.below(2))
        f->mutate_keep_num_dims(r.below(2));
      else
        f->mutate_fused_activation_function(static_cast<fb::ActivationFunctionType>(r.below(7)));
      break;
    }
    case fb::BuiltinOptions_SoftmaxOptions:
      static_cast<fb::SoftmaxOptions*>(o)->mutate_beta(kFloats[r.below(std::size(kFloats))]);
      break;
    case fb::BuiltinOptions_ConcatenationOptions: static_cast<fb::ConcatenationOptions*>(o)->mutate_axis(v); break;
    case fb::BuiltinOptions_ReshapeOptions: r.poke(static_cast<fb::ReshapeOptions*>(o)->mutable_new_shape()); break;
    case fb::BuiltinOptions_ReducerOptions: static_cast<fb::ReducerOptions*>(o)->mutate_keep_dims(r.below(2)); break;
    default: break;
  }
}

void mutate_tensor(fb::Tensor& t, Rng& r) {
  switch (r.below(7)) {
    case 0: r.poke(t.mutable_shape()); break;
    case 1: t.mutate_type(static_cast<fb::TensorType>(r.below(19))); break;
    case 2: t.mutate_buffer(static_cast<std::uint32_t>(r.below(3) ? r.below(100) : std::uint32_t(r.value()))); break;
    case 3:
      if (auto* q = t.mutable_quantization()) q->mutate_quantized_dimension(r.value());
      break;
    case 4:
      if (auto* q = t.mutable_quantization(); q && q->mutable_scale() && q->mutable_scale()->size())
        q->mutable_scale()->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(q->scale()->size())),
                                   kFloats[r.below(std::size(kFloats))]);
      break;
    case 5:
      if (auto* q = t.mutable_quantization(); q && q->mutable_zero_point() && q->mutable_zero_point()->size())
        q->mutable_zero_point()->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(q->zero_point()->size())), r.value());
      break;
    default: r.poke(t.mutable_shape_signature()); break;
  }
}

// One in-place change of a verified model.
void mutate_model(fb::Model& m, Rng& r) {
  fb::SubGraph* sg = m.mutable_subgraphs()->GetMutableObject(0);
  auto* tensors = sg->mutable_tensors();
  auto* ops = sg->mutable_operators();
  const std::size_t pick = r.below(10);
  if (pick <= 2 && tensors && tensors->size()) {
    mutate_tensor(*tensors->GetMutableObject(static_cast<flatbuffers::uoffset_t>(r.below(tensors->size()))), r);
  } else if (pick <= 6 && ops && ops->size()) {
    fb::Operator& op = *ops->GetMutableObject(static_cast<flatbuffers::uoffset_t>(r.below(ops->size())));
    const std::size_t k = r.below(4);
    const int n = tensors ? static_cast<int>(tensors->size()) : 0;
    if (k == 0)
      mutate_options(op, r);
    else if (k == 1 && op.mutable_inputs() && op.inputs()->size())
      op.mutable_inputs()->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(op.inputs()->size())),
                                  static_cast<int>(r.below(n + 3)) - 2);
    else if (k == 2 && op.mutable_outputs() && op.outputs()->size())
      op.mutable_outputs()->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(op.outputs()->size())),
                                   static_cast<int>(r.below(n + 3)) - 2);
    else
      op.mutate_opcode_index(static_cast<std::uint32_t>(r.below(m.operator_codes() ? m.operator_codes()->size() + 2 : 2)));
  } else if (pick == 7 && m.mutable_operator_codes() && m.operator_codes()->size()) {
    fb::OperatorCode& c =
        *m.mutable_operator_codes()->GetMutableObject(static_cast<flatbuffers::uoffset_t>(r.below(m.operator_codes()->size())));
    const int code = kCodes[r.below(std::size(kCodes))];
    c.mutate_builtin_code(static_cast<fb::BuiltinOperator>(code));
    c.mutate_deprecated_builtin_code(static_cast<std::int8_t>(code < 127 ? code : 127));
  } else if (pick == 8) {
    const int n = tensors ? static_cast<int>(tensors->size()) : 0;
    auto* list = r.below(2) ? sg->mutable_inputs() : sg->mutable_outputs();
    if (list && list->size())
      list->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(list->size())), static_cast<int>(r.below(n + 2)) - 1);
  } else if (m.mutable_buffers() && m.buffers()->size()) {
    fb::Buffer& b = *m.mutable_buffers()->GetMutableObject(static_cast<flatbuffers::uoffset_t>(r.below(m.buffers()->size())));
    if (b.mutable_data() && b.data()->size())
      b.mutable_data()->Mutate(static_cast<flatbuffers::uoffset_t>(r.below(b.data()->size())),
                               static_cast<std::uint8_t>(r.next()));
    b.mutate_offset(r.below(2) ? r.below(1 << 20) : std::uint64_t(r.next()));
    b.mutate_size(r.below(1 << 16));
  }
}

// A verified model: its objects may still overlap (the Verifier does not check that), so an edit can
// break the structure; every edit therefore starts from a fresh verification.
bool verified(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  return size >= 8 && fb::ModelBufferHasIdentifier(data) && fb::VerifyModelBuffer(verifier) &&
         fb::GetModel(data)->subgraphs() && fb::GetModel(data)->subgraphs()->size() > 0;
}

}  // namespace

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned int seed) {
  Rng r{seed * 0x9E3779B97F4A7C15ull + 1};
  if (r.below(3) == 0 || !verified(data, size)) return LLVMFuzzerMutate(data, size, max_size);
  for (std::size_t k = 1 + r.below(3); k > 0 && verified(data, size); --k) mutate_model(*fb::GetMutableModel(data), r);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Graph g;
  try {
    g = import_tflite_bytes(std::span<const std::uint8_t>(data, size), "fuzz.tflite");
  } catch (const tml::Error& e) {
    const std::string m = e.what();
    check(e.code() == tml::ExitCode::invalid_input);
    check(m.rfind("fuzz.tflite: ", 0) == 0 && m.find('\n') == std::string::npos);
    return 0;
  }
  check_graph(g);
  double input_values = 0;
  for (int t : g.inputs) input_values += static_cast<double>(g.tensors[t].elements());
  if (cost(g) > 2e6 || input_values > 1e6) return 0;
  std::vector<std::vector<float>> inputs;
  for (int t : g.inputs) inputs.emplace_back(g.tensors[t].elements(), 0.5f);
  try {
    run_float(dequantized_graph(g), inputs);
  } catch (const tml::Error& e) {
    std::fprintf(stderr, "malformed graph from the importer: %s\n", e.what());
    std::abort();
  }
  return 0;
}
