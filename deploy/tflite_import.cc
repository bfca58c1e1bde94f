#include "deploy/tflite_import.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "deploy/import_text.h"
#include "deploy/tflite_schema_generated.h"

namespace tml::deploy {
namespace {

namespace fb = ::tml::tflite;
using i64 = std::int64_t;
using Shape = std::vector<int>;

static_assert(std::endian::native == std::endian::little, "TFLite buffers are little-endian; read them in place");

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;      // flatbuffers' own limit is 2 GB
constexpr i64 kMaxElements = i64{1} << 24;                       // any one tensor
constexpr std::size_t kMaxConstantBytes = std::size_t{1} << 26;  // all constants together: 64 MB
constexpr int kMaxRank = 4;
constexpr i64 kMaxWindow = 1 << 16;  // strides, dilations, kernel sizes, dilated kernel spans

const char* const kSupported =
    "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN (over H and W), ADD, MUL, "
    "CONCATENATION, PAD, RESHAPE, SOFTMAX, LOGISTIC, TANH, RELU, RELU6, QUANTIZE, DEQUANTIZE";

const char* const kQuantizeAdvice =
    "quantize it to int8 with the TFLite converter (optimizations = [tf.lite.Optimize.DEFAULT], a "
    "representative_dataset, supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]), or give tml the float model "
    "as ONNX, which tml quantizes itself";


std::string num_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

i64 elements_of(const Shape& s) {
  i64 n = 1;
  for (int d : s) n *= d;
  return n;
}

// TFLite reads the larger of the two fields: old files fill only the byte deprecated_builtin_code,
// new ones builtin_code (with 127, PLACEHOLDER_FOR_GREATER_OP_CODES, in the old field above 126).
fb::BuiltinOperator builtin_of(const fb::OperatorCode& code) {
  return static_cast<fb::BuiltinOperator>(std::max<std::int32_t>(code.builtin_code(), code.deprecated_builtin_code()));
}

std::optional<OpKind> kind_of(fb::BuiltinOperator op) {
  switch (op) {
    case fb::BuiltinOperator_CONV_2D: return OpKind::conv2d;
    case fb::BuiltinOperator_DEPTHWISE_CONV_2D: return OpKind::depthwise_conv2d;
    case fb::BuiltinOperator_FULLY_CONNECTED: return OpKind::fully_connected;
    case fb::BuiltinOperator_AVERAGE_POOL_2D: return OpKind::average_pool2d;
    case fb::BuiltinOperator_MAX_POOL_2D: return OpKind::max_pool2d;
    case fb::BuiltinOperator_MEAN: return OpKind::mean_hw;
    case fb::BuiltinOperator_ADD: return OpKind::add;
    case fb::BuiltinOperator_MUL: return OpKind::mul;
    case fb::BuiltinOperator_CONCATENATION: return OpKind::concatenation;
    case fb::BuiltinOperator_PAD: return OpKind::pad;
    case fb::BuiltinOperator_RESHAPE: return OpKind::reshape;
    case fb::BuiltinOperator_SOFTMAX: return OpKind::softmax;
    case fb::BuiltinOperator_LOGISTIC: return OpKind::logistic;
    case fb::BuiltinOperator_TANH: return OpKind::tanh;
    case fb::BuiltinOperator_RELU: return OpKind::relu;
    case fb::BuiltinOperator_RELU6: return OpKind::relu6;
    case fb::BuiltinOperator_QUANTIZE: return OpKind::quantize;
    case fb::BuiltinOperator_DEQUANTIZE: return OpKind::dequantize;
    default: return std::nullopt;
  }
}

// "int8", "float32", ... as in TensorFlow's messages.
std::string type_name(fb::TensorType t) {
  std::string name = fb::EnumNameTensorType(t);
  if (name.empty()) return "type " + std::to_string(static_cast<int>(t));
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}

struct Window {
  int out = 0, before = 0, after = 0;
};

// Output size and padding along one axis, as TFLite's ComputeOutSize and ComputePaddingWithOffset
// (lite/kernels/padding.h); nullopt when no window fits (VALID with a kernel larger than the input).
// Arguments are already bounded (in <= 2^24, effective kernel and stride <= 2^16), so i64 is exact.
std::optional<Window> window(fb::Padding padding, i64 in, i64 kernel, i64 stride, i64 dilation) {
  const i64 effective = (kernel - 1) * dilation + 1;
  const i64 out = padding == fb::Padding_SAME ? (in + stride - 1) / stride : (in + stride - effective) / stride;
  if (out < 1) return std::nullopt;
  const i64 total = std::max<i64>((out - 1) * stride + effective - in, 0);
  return Window{static_cast<int>(out), static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
}

class Importer {
 public:
  Importer(std::span<const std::uint8_t> bytes, const std::string& source)
      : bytes_(bytes.begin(), bytes.end()), source_(source) {}
  Graph run();

 private:
  // The operator being converted; `in` may hold -1 (an omitted optional input).
  struct OpRef {
    int index = 0;
    const fb::Operator* op = nullptr;
    OpKind kind = OpKind::add;
    std::vector<int> in, out;
  };

  [[noreturn]] void fail(const std::string& what) const { throw invalid_input(source_, what); }
  [[noreturn]] void fail_op(const OpRef& r, const std::string& what) const { fail(label(r) + ": " + what); }
  static std::string label(const OpRef& r) { return std::string(op_name(r.kind)) + " #" + std::to_string(r.index); }
  std::string tname(int t) const;

  void load();
  void check_operators() const;
  const fb::Tensor& fb_tensor(int t) const { return *sg_->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t)); }
  Shape shape_of(int t) const;
  std::span<const std::uint8_t> data_of(int t) const;
  Quantization quant_of(int t, const Shape& shape, fb::TensorType type) const;
  std::vector<i64> int_values(const OpRef& r, int slot, Shape& shape) const;

  int tensor(int t);
  int at(const OpRef& r, int slot) const;
  int input(const OpRef& r, int slot, DType type = DType::int8);
  int weights(const OpRef& r, int slot, std::size_t rank, int channel_axis);
  int bias(const OpRef& r, int slot, int channels);
  int output(const OpRef& r, const Shape& shape, DType type = DType::int8);
  Op& emit(const OpRef& r, std::vector<int> inputs, int output, OpKind kind);
  void expect_counts(const OpRef& r, std::size_t min_in, std::size_t max_in) const;
  Activation activation(const OpRef& r, fb::ActivationFunctionType a) const;

  void convert(const OpRef& r);
  void conv(const OpRef& r);
  void fully_connected(const OpRef& r);
  void pool(const OpRef& r);
  void mean(const OpRef& r);
  void binary(const OpRef& r);
  void concatenation(const OpRef& r);
  void pad(const OpRef& r);
  void reshape(const OpRef& r);
  void unary(const OpRef& r);
  void quantize(const OpRef& r);

  // A copy of the file: flatbuffers reads scalars in place, which needs the buffer aligned.
  std::vector<std::uint8_t> bytes_;
  std::string source_;
  const fb::Model* model_ = nullptr;
  const fb::SubGraph* sg_ = nullptr;
  int tensor_count_ = 0;
  std::vector<int> ir_;      // TFLite tensor -> IR tensor, -1 until first used
  std::vector<char> ready_;  // the TFLite tensor holds a value at this point of the op sequence
  std::size_t constant_bytes_ = 0;
  Graph g_;
};

std::string Importer::tname(int t) const {
  const flatbuffers::String* name = fb_tensor(t).name();
  return name && name->size() ? "'" + clean(name->string_view()) + "'" : "#" + std::to_string(t);
}

void Importer::load() {
  if (bytes_.size() < 8) fail("not a TFLite model (" + std::to_string(bytes_.size()) + " bytes)");
  if (!fb::ModelBufferHasIdentifier(bytes_.data())) fail("not a TFLite model (no \"TFL3\" file identifier)");
  flatbuffers::Verifier verifier(bytes_.data(), bytes_.size());
  if (!fb::VerifyModelBuffer(verifier)) fail("malformed or truncated TFLite model (the flatbuffer does not verify)");
  model_ = fb::GetModel(bytes_.data());
  if (model_->version() != 3)
    fail("TFLite schema version " + std::to_string(model_->version()) + "; tml reads version 3 (what converters write)");
  const auto* subgraphs = model_->subgraphs();
  const std::size_t n = subgraphs ? subgraphs->size() : 0;
  if (n != 1) fail(std::to_string(n) + " subgraphs; tml reads models with exactly one (no control flow, no extra signatures)");
  sg_ = subgraphs->Get(0);
  if (!sg_->tensors() || sg_->tensors()->size() == 0) fail("the subgraph has no tensors");
  tensor_count_ = static_cast<int>(sg_->tensors()->size());  // bounded by the file size
}

// Model-level refusals first, each naming everything at once: unsupported operators, then float,
// uint8 and int16 models (the converter's options that make them int8 are named).
void Importer::check_operators() const {
  const auto* ops = sg_->operators();
  if (!ops) return;
  const auto* codes = model_->operator_codes();
  const std::size_t code_count = codes ? codes->size() : 0;
  std::vector<std::pair<std::string, int>> unsupported;
  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
    const std::uint32_t c = ops->Get(i)->opcode_index();
    if (c >= code_count)
      fail("operator #" + std::to_string(i) + " refers to operator code " + std::to_string(c) + " of " +
           std::to_string(code_count));
    const fb::OperatorCode& code = *codes->Get(c);
    const fb::BuiltinOperator op = builtin_of(code);
    if (kind_of(op)) continue;
    std::string name = fb::EnumNameBuiltinOperator(op);
    if (op == fb::BuiltinOperator_CUSTOM)
      name = "CUSTOM '" + (code.custom_code() ? clean(code.custom_code()->string_view()) : "") + "'";
    if (name.empty()) name = "builtin operator " + std::to_string(static_cast<int>(op));
    auto it = std::find_if(unsupported.begin(), unsupported.end(), [&](const auto& u) { return u.first == name; });
    if (it == unsupported.end())
      unsupported.emplace_back(name, 1);
    else
      ++it->second;
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& [name, count] : unsupported)
      list += (list.empty() ? "" : ", ") + name + (count > 1 ? " (x" + std::to_string(count) + ")" : "");
    fail("unsupported operator" + std::string(unsupported.size() > 1 ? "s: " : ": ") + list + "; supported: " + kSupported);
  }
  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
    const fb::Operator& op = *ops->Get(i);
    const fb::BuiltinOperator code = builtin_of(*codes->Get(op.opcode_index()));
    for (int side = 0; side < 2; ++side) {
      const auto* list = side == 0 ? op.inputs() : op.outputs();
      if (!list) continue;
      for (flatbuffers::uoffset_t k = 0; k < list->size(); ++k) {
        const int t = list->Get(k);
        if (t == -1 && side == 0) continue;
        if (t < 0 || t >= tensor_count_)
          fail("operator #" + std::to_string(i) + " refers to tensor " + std::to_string(t) + " of " +
               std::to_string(tensor_count_));
        const fb::TensorType type = fb_tensor(t).type();
        // float32 exists only where the model converts its float interface: QUANTIZE's input and
        // DEQUANTIZE's output.
        const bool float_io = type == fb::TensorType_FLOAT32 && ((side == 0 && k == 0 && code == fb::BuiltinOperator_QUANTIZE) ||
                                                                 (side == 1 && code == fb::BuiltinOperator_DEQUANTIZE));
        if ((type == fb::TensorType_FLOAT32 || type == fb::TensorType_FLOAT16 || type == fb::TensorType_FLOAT64) && !float_io)
          fail(type_name(type) + " model (tensor " + tname(t) + " is " + type_name(type) + "); " + kQuantizeAdvice);
        if (type == fb::TensorType_UINT8)
          fail("uint8-quantized model (tensor " + tname(t) +
               " is uint8); tml runs int8 models: convert it with full integer "
               "quantization and inference_input_type = inference_output_type = tf.int8");
        if (type == fb::TensorType_INT16)
          fail("int16 tensor " + tname(t) +
               " (16x8 quantization); tml runs int8 models: convert with "
               "supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]");
      }
    }
  }
}

Shape Importer::shape_of(int t) const {
  const fb::Tensor& tensor = fb_tensor(t);
  Shape shape;
  if (tensor.shape()) shape.assign(tensor.shape()->begin(), tensor.shape()->end());
  if (shape.size() > static_cast<std::size_t>(kMaxRank))
    fail("tensor " + tname(t) + " has rank " + std::to_string(shape.size()) + "; tml takes tensors of rank <= 4");
  i64 n = 1;
  for (int d : shape) {
    if (d < 1) fail("tensor " + tname(t) + " has the shape " + shape_text(shape) + " (dimensions must be >= 1)");
    n *= d;
    if (n > kMaxElements) fail("tensor " + tname(t) + " " + shape_text(shape) + " has more than 16M elements");
  }
  // shape_signature marks dynamic dimensions with -1 (shape then holds 1); only the batch may be.
  if (const auto* sig = tensor.shape_signature()) {
    for (flatbuffers::uoffset_t i = 0; i < sig->size(); ++i)
      if (i >= shape.size() || (sig->Get(i) != shape[i] && !(i == 0 && sig->Get(i) == -1)))
        fail("tensor " + tname(t) + " has a dynamic shape (shape_signature differs from " + shape_text(shape) +
             "); tml needs fixed shapes (a dynamic batch is fine)");
  }
  return shape;
}

std::span<const std::uint8_t> Importer::data_of(int t) const {
  const std::uint32_t b = fb_tensor(t).buffer();
  const auto* buffers = model_->buffers();
  const std::size_t count = buffers ? buffers->size() : 0;
  if (b == 0 && count == 0) return {};  // buffer 0 is the empty sentinel
  if (b >= count)
    fail("tensor " + tname(t) + " refers to buffer " + std::to_string(b) + ", but the model has " + std::to_string(count));
  const fb::Buffer& buffer = *buffers->Get(b);
  // Models over 2 GB keep data outside the flatbuffer: `size` bytes at `offset` (only when > 1).
  if (buffer.offset() > 1) {
    if (buffer.offset() > bytes_.size() || buffer.size() > bytes_.size() - buffer.offset())
      fail("tensor " + tname(t) + ": buffer " + std::to_string(b) + " (bytes " + std::to_string(buffer.offset()) + "+" +
           std::to_string(buffer.size()) + ") lies outside the " + std::to_string(bytes_.size()) + "-byte file");
    return {bytes_.data() + buffer.offset(), static_cast<std::size_t>(buffer.size())};
  }
  if (!buffer.data()) return {};
  return {buffer.data()->data(), buffer.data()->size()};
}

Quantization Importer::quant_of(int t, const Shape& shape, fb::TensorType type) const {
  Quantization q;
  const fb::QuantizationParameters* p = fb_tensor(t).quantization();
  if (!p || type == fb::TensorType_FLOAT32) return q;
  if (p->details_type() != fb::QuantizationDetails_NONE)
    fail("tensor " + tname(t) + " uses custom quantization (QuantizationDetails); tml reads scale/zero-point quantization");
  if (!p->scale() || p->scale()->size() == 0) return q;
  const std::size_t n = p->scale()->size();
  if (!p->zero_point() || p->zero_point()->size() != n)
    fail("tensor " + tname(t) + " has " + std::to_string(n) + " quantization scales but " +
         std::to_string(p->zero_point() ? p->zero_point()->size() : 0) + " zero points");
  const i64 zp_min = type == fb::TensorType_INT8 ? -128 : 0, zp_max = type == fb::TensorType_INT8 ? 127 : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float s = p->scale()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const i64 zp = p->zero_point()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (!std::isfinite(s) || s <= 0)
      fail("tensor " + tname(t) + " has the quantization scale " + num_text(s) + " (finite and > 0 expected)");
    if (zp < zp_min || zp > zp_max)
      fail("tensor " + tname(t) + " (" + type_name(type) + ") has the zero point " + std::to_string(zp) + " (" +
           std::to_string(zp_min) + ".." + std::to_string(zp_max) + " expected)");
    q.scale.push_back(s);
    q.zero_point.push_back(static_cast<std::int32_t>(zp));
  }
  if (n > 1) {
    int axis = p->quantized_dimension();
    const int rank = static_cast<int>(shape.size());
    // TOCO wrote depthwise biases {C} with the weights' quantized_dimension 3: one axis is the only one.
    if ((axis < 0 || axis >= rank) && rank == 1) axis = 0;
    if (axis < 0 || axis >= rank || shape[axis] != static_cast<int>(n))
      fail("tensor " + tname(t) + " " + shape_text(shape) + " has " + std::to_string(n) + " per-channel scales along dimension " +
           std::to_string(p->quantized_dimension()));
    q.axis = axis;
  }
  return q;
}

// The IR tensor of TFLite tensor T, made (and checked) on its first use.
int Importer::tensor(int t) {
  if (t < 0 || t >= tensor_count_) fail("tensor index " + std::to_string(t) + " of " + std::to_string(tensor_count_));
  if (ir_[t] >= 0) return ir_[t];
  const fb::Tensor& src = fb_tensor(t);
  Tensor out;
  out.name = src.name() && src.name()->size() ? src.name()->str() : "tensor #" + std::to_string(t);
  out.shape = shape_of(t);
  switch (src.type()) {
    case fb::TensorType_INT8: out.type = DType::int8; break;
    case fb::TensorType_INT32: out.type = DType::int32; break;
    case fb::TensorType_FLOAT32: out.type = DType::float32; break;
    default: fail("tensor " + tname(t) + " is " + type_name(src.type()) + "; tml's kernels take int8 tensors (int32 biases)");
  }
  if (src.is_variable()) fail("tensor " + tname(t) + " is a variable (stateful models are not supported)");
  if (src.sparsity()) fail("tensor " + tname(t) + " is sparse; convert the model without sparsity");
  out.quant = quant_of(t, out.shape, src.type());
  if (out.type == DType::int8 && out.quant.empty()) fail("int8 tensor " + tname(t) + " has no quantization parameters");
  const std::span<const std::uint8_t> data = data_of(t);
  if (!data.empty()) {
    if (data.size() != out.bytes())
      fail("tensor " + tname(t) + " " + shape_text(out.shape) + " " + type_name(src.type()) + " needs " +
           std::to_string(out.bytes()) + " bytes of data; its buffer holds " + std::to_string(data.size()));
    constant_bytes_ += data.size();
    if (constant_bytes_ > kMaxConstantBytes) fail("the constants add up to more than 64 MB; tml targets microcontrollers");
    out.data.assign(data.begin(), data.end());
  }
  ir_[t] = g_.add_tensor(std::move(out));
  return ir_[t];
}

void Importer::expect_counts(const OpRef& r, std::size_t min_in, std::size_t max_in) const {
  if (r.in.size() < min_in || r.in.size() > max_in)
    fail_op(r, std::to_string(r.in.size()) + " inputs; " + std::to_string(min_in) +
                   (max_in > min_in ? (max_in == SIZE_MAX ? " or more" : " to " + std::to_string(max_in)) : "") + " expected");
  if (r.out.size() != 1) fail_op(r, std::to_string(r.out.size()) + " outputs; 1 expected");
}

int Importer::at(const OpRef& r, int slot) const {
  if (slot >= static_cast<int>(r.in.size()) || r.in[slot] < 0) fail_op(r, "input " + std::to_string(slot) + " is missing");
  return r.in[slot];
}

// A data input: int8 with one scale (or float32 for QUANTIZE), constant or computed before this op.
int Importer::input(const OpRef& r, int slot, DType type) {
  const int t = at(r, slot);
  const int i = tensor(t);
  const Tensor& x = g_.tensors[i];
  if (x.type != type)
    fail_op(r, "input " + std::to_string(slot) + " " + tname(t) + " is " + type_name(fb_tensor(t).type()) + "; " +
                   (type == DType::int8 ? "int8" : "float32") + " expected");
  if (type == DType::int8 && x.quant.scale.size() != 1)
    fail_op(r, "input " + std::to_string(slot) + " " + tname(t) + " is quantized per channel; activations need one scale");
  if (!x.is_constant() && !ready_[t]) fail_op(r, "reads " + tname(t) + " before any operator computes it");
  return i;
}

// Constant int8 weights of the given rank, symmetric (zero points 0), per tensor or per channel
// along CHANNEL_AXIS.
int Importer::weights(const OpRef& r, int slot, std::size_t rank, int channel_axis) {
  const int t = at(r, slot);
  const int i = tensor(t);
  const Tensor& w = g_.tensors[i];
  if (!w.is_constant()) fail_op(r, "the weights " + tname(t) + " are not constant");
  if (w.type != DType::int8) fail_op(r, "the weights " + tname(t) + " are " + type_name(fb_tensor(t).type()) + "; int8 expected");
  if (w.shape.size() != rank)
    fail_op(
        r, "the weights " + tname(t) + " have the shape " + shape_text(w.shape) + "; rank " + std::to_string(rank) + " expected");
  if (std::any_of(w.quant.zero_point.begin(), w.quant.zero_point.end(), [](std::int32_t z) { return z != 0; }))
    fail_op(r, "the weights " + tname(t) +
                   " have a non-zero zero point; tml's kernels take symmetric int8 weights (as the converter writes them)");
  if (w.quant.scale.size() > 1 && w.quant.axis != channel_axis)
    fail_op(r, "the weights " + tname(t) + " are quantized per channel along dimension " + std::to_string(w.quant.axis) +
                   "; dimension " + std::to_string(channel_axis) + " expected");
  return i;
}

int Importer::bias(const OpRef& r, int slot, int channels) {
  const int t = at(r, slot);
  const int i = tensor(t);
  const Tensor& b = g_.tensors[i];
  if (!b.is_constant() || b.type != DType::int32 || b.shape != Shape{channels})
    fail_op(r, "the bias " + tname(t) + " must be a constant int32 {" + std::to_string(channels) + "}; it is " +
                   (b.is_constant() ? "a constant " : "a computed ") + type_name(fb_tensor(t).type()) + " " +
                   shape_text(b.shape));
  return i;
}

// The op's output: SHAPE as computed from its inputs, TYPE (int8 with one scale, or float32).
int Importer::output(const OpRef& r, const Shape& shape, DType type) {
  const int t = r.out[0];
  const int i = tensor(t);
  const Tensor& y = g_.tensors[i];
  if (y.shape != shape)
    fail_op(r,
            "the output " + tname(t) + " has the shape " + shape_text(y.shape) + "; the operator computes " + shape_text(shape));
  if (y.type != type)
    fail_op(r, "the output " + tname(t) + " is " + type_name(fb_tensor(t).type()) + "; " +
                   (type == DType::int8 ? "int8" : "float32") + " expected");
  if (type == DType::int8 && y.quant.scale.size() != 1)
    fail_op(r, "the output " + tname(t) + " is quantized per channel; activations need one scale");
  if (y.is_constant() || ready_[t])
    fail_op(r, "writes " + tname(t) + ", which is a constant, a graph input or another operator's output");
  ready_[t] = 1;
  return i;
}

Op& Importer::emit(const OpRef& r, std::vector<int> inputs, int output, OpKind kind) {
  Op op;
  op.kind = kind;
  op.name = label(r);
  op.inputs = std::move(inputs);
  op.outputs = {output};
  g_.ops.push_back(std::move(op));
  return g_.ops.back();
}

Activation Importer::activation(const OpRef& r, fb::ActivationFunctionType a) const {
  switch (a) {
    case fb::ActivationFunctionType_NONE: return Activation::none;
    case fb::ActivationFunctionType_RELU: return Activation::relu;
    case fb::ActivationFunctionType_RELU6: return Activation::relu6;
    default: {
      const std::string name = fb::EnumNameActivationFunctionType(a);
      fail_op(r, "fused activation " + (name.empty() ? std::to_string(static_cast<int>(a)) : name) +
                     " is not supported (NONE, RELU, RELU6 are)");
    }
  }
}

// Values of a constant int32/int64 input that an op reads as attributes (paddings, axes, shapes).
std::vector<i64> Importer::int_values(const OpRef& r, int slot, Shape& shape) const {
  const int t = at(r, slot);
  shape = shape_of(t);
  const fb::TensorType type = fb_tensor(t).type();
  const std::span<const std::uint8_t> data = data_of(t);
  const std::size_t width = type == fb::TensorType_INT32 ? 4 : type == fb::TensorType_INT64 ? 8 : 0;
  const std::size_t n = static_cast<std::size_t>(elements_of(shape));
  if (width == 0 || data.size() != n * width)
    fail_op(r, "input " + std::to_string(slot) + " " + tname(t) + " must be a constant int32 or int64 " + shape_text(shape));
  std::vector<i64> values(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (width == 4) {
      std::int32_t v;
      std::memcpy(&v, data.data() + 4 * i, 4);
      values[i] = v;
    } else {
      std::memcpy(&values[i], data.data() + 8 * i, 8);
    }
  }
  return values;
}

void Importer::conv(const OpRef& r) {
  const bool depthwise = r.kind == OpKind::depthwise_conv2d;
  expect_counts(r, 2, 3);
  fb::Padding padding;
  i64 stride_w, stride_h, dilation_w, dilation_h, multiplier = 0;
  fb::ActivationFunctionType act;
  if (depthwise) {
    const auto* o = r.op->builtin_options_as_DepthwiseConv2DOptions();
    if (!o) fail_op(r, "DepthwiseConv2DOptions missing");
    padding = o->padding(), stride_w = o->stride_w(), stride_h = o->stride_h(), act = o->fused_activation_function();
    dilation_w = o->dilation_w_factor(), dilation_h = o->dilation_h_factor(), multiplier = o->depth_multiplier();
  } else {
    const auto* o = r.op->builtin_options_as_Conv2DOptions();
    if (!o) fail_op(r, "Conv2DOptions missing");
    padding = o->padding(), stride_w = o->stride_w(), stride_h = o->stride_h(), act = o->fused_activation_function();
    dilation_w = o->dilation_w_factor(), dilation_h = o->dilation_h_factor();
  }
  const int x = input(r, 0);
  const int w = weights(r, 1, 4, depthwise ? 3 : 0);
  const Shape xs = g_.tensors[x].shape, ws = g_.tensors[w].shape;
  if (xs.size() != 4) fail_op(r, "the input has the shape " + shape_text(xs) + "; NHWC expected");
  const int channels = xs[3];
  int cout = ws[0];
  if (depthwise) {
    // TFLite derives the multiplier from the shapes; the option is redundant (0 in some files).
    cout = ws[3];
    if (ws[0] != 1 || cout % channels != 0 || (multiplier != 0 && multiplier != cout / channels))
      fail_op(r, "the weights " + shape_text(ws) + " do not fit the input " + shape_text(xs) + " with depth_multiplier " +
                     std::to_string(multiplier));
  } else if (channels % ws[3] != 0 || cout % (channels / ws[3]) != 0) {
    fail_op(r, "the weights " + shape_text(ws) + " do not fit the input " + shape_text(xs));
  }
  std::vector<int> inputs{x, w};
  if (r.in.size() > 2 && r.in[2] >= 0) inputs.push_back(bias(r, 2, cout));
  if (padding != fb::Padding_SAME && padding != fb::Padding_VALID) fail_op(r, "unknown padding " + std::to_string(int(padding)));
  for (i64 v : {stride_w, stride_h, dilation_w, dilation_h})
    if (v < 1 || v > kMaxWindow) fail_op(r, "strides and dilations must be 1..65536");
  if ((ws[1] - 1) * dilation_h + 1 > kMaxWindow || (ws[2] - 1) * dilation_w + 1 > kMaxWindow)
    fail_op(r, "the dilated kernel spans more than 65536");
  const auto wh = window(padding, xs[1], ws[1], stride_h, dilation_h);
  const auto ww = window(padding, xs[2], ws[2], stride_w, dilation_w);
  if (!wh || !ww) fail_op(r, "the kernel " + shape_text(ws) + " does not fit the input " + shape_text(xs) + " (VALID padding)");
  Op& op = emit(r, std::move(inputs), output(r, {xs[0], wh->out, ww->out, cout}), r.kind);
  op.stride_h = int(stride_h), op.stride_w = int(stride_w), op.dilation_h = int(dilation_h), op.dilation_w = int(dilation_w);
  op.pad_top = wh->before, op.pad_bottom = wh->after, op.pad_left = ww->before, op.pad_right = ww->after;
  op.depth_multiplier = depthwise ? cout / channels : 1;
  op.activation = activation(r, act);
}

void Importer::fully_connected(const OpRef& r) {
  expect_counts(r, 2, 3);
  const auto* o = r.op->builtin_options_as_FullyConnectedOptions();  // absent: TFLite's defaults
  if (o && o->weights_format() != fb::FullyConnectedOptionsWeightsFormat_DEFAULT)
    fail_op(r, "shuffled weights (weights_format SHUFFLED4x16INT8) are not supported");
  const int x = input(r, 0);
  const int w = weights(r, 1, 2, 0);
  const Shape xs = g_.tensors[x].shape;
  const int cout = g_.tensors[w].shape[0], cin = g_.tensors[w].shape[1];
  const i64 elements = elements_of(xs);
  if (elements % cin != 0) fail_op(r, "the input " + shape_text(xs) + " does not flatten to {N," + std::to_string(cin) + "}");
  // keep_num_dims keeps the input's leading dimensions; otherwise the output is {N, Cout}.
  Shape ys{static_cast<int>(elements / cin), cout};
  if (o && o->keep_num_dims()) {
    if (xs.empty() || xs.back() != cin) fail_op(r, "keep_num_dims needs the input's last dimension to be " + std::to_string(cin));
    ys = xs;
    ys.back() = cout;
  }
  std::vector<int> inputs{x, w};
  if (r.in.size() > 2 && r.in[2] >= 0) inputs.push_back(bias(r, 2, cout));
  Op& op = emit(r, std::move(inputs), output(r, ys), r.kind);
  op.activation = activation(r, o ? o->fused_activation_function() : fb::ActivationFunctionType_NONE);
}

void Importer::pool(const OpRef& r) {
  expect_counts(r, 1, 1);
  const auto* o = r.op->builtin_options_as_Pool2DOptions();
  if (!o) fail_op(r, "Pool2DOptions missing");
  const int x = input(r, 0);
  const Shape xs = g_.tensors[x].shape;
  if (xs.size() != 4) fail_op(r, "the input has the shape " + shape_text(xs) + "; NHWC expected");
  for (i64 v : {i64{o->filter_height()}, i64{o->filter_width()}, i64{o->stride_h()}, i64{o->stride_w()}})
    if (v < 1 || v > kMaxWindow) fail_op(r, "filter sizes and strides must be 1..65536");
  if (o->padding() != fb::Padding_SAME && o->padding() != fb::Padding_VALID)
    fail_op(r, "unknown padding " + std::to_string(int(o->padding())));
  const auto wh = window(o->padding(), xs[1], o->filter_height(), o->stride_h(), 1);
  const auto ww = window(o->padding(), xs[2], o->filter_width(), o->stride_w(), 1);
  if (!wh || !ww)
    fail_op(r, "the filter " + std::to_string(o->filter_height()) + "x" + std::to_string(o->filter_width()) +
                   " does not fit the input " + shape_text(xs) + " (VALID padding)");
  Op& op = emit(r, {x}, output(r, {xs[0], wh->out, ww->out, xs[3]}), r.kind);
  op.kernel_h = o->filter_height(), op.kernel_w = o->filter_width(), op.stride_h = o->stride_h(), op.stride_w = o->stride_w();
  op.pad_top = wh->before, op.pad_bottom = wh->after, op.pad_left = ww->before, op.pad_right = ww->after;
  op.activation = activation(r, o->fused_activation_function());
}

// MEAN over H and W of an NHWC tensor (global average pooling), with or without keep_dims.
void Importer::mean(const OpRef& r) {
  expect_counts(r, 2, 2);
  const int x = input(r, 0);
  const Shape xs = g_.tensors[x].shape;
  Shape axes_shape;
  std::vector<i64> axes = int_values(r, 1, axes_shape);
  for (i64& a : axes)
    if (a < 0) a += static_cast<i64>(xs.size());
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  if (xs.size() != 4 || axes != std::vector<i64>{1, 2})
    fail_op(r,
            "only the mean over H and W of an NHWC tensor is supported (axes 1, 2 of a rank-4 input); input " + shape_text(xs));
  const auto* o = r.op->builtin_options_as_ReducerOptions();  // absent: keep_dims false
  if (o && o->keep_dims()) {
    emit(r, {x}, output(r, {xs[0], 1, 1, xs[3]}), OpKind::mean_hw);
    return;
  }
  const int y = output(r, {xs[0], xs[3]});
  Tensor mid = g_.tensors[y];
  mid.name += "/mean_hw";
  mid.shape = {xs[0], 1, 1, xs[3]};
  const int m = g_.add_tensor(std::move(mid));
  emit(r, {x}, m, OpKind::mean_hw);
  emit(r, {m}, y, OpKind::reshape).new_shape = g_.tensors[y].shape;
}

void Importer::binary(const OpRef& r) {
  expect_counts(r, 2, 2);
  fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE;  // absent options: TFLite's defaults
  if (const auto* o = r.op->builtin_options_as_AddOptions(); o && r.kind == OpKind::add) act = o->fused_activation_function();
  if (const auto* o = r.op->builtin_options_as_MulOptions(); o && r.kind == OpKind::mul) act = o->fused_activation_function();
  const int a = input(r, 0), b = input(r, 1);
  const Shape as = g_.tensors[a].shape;
  const Shape bs = g_.tensors[b].shape;
  // numpy broadcasting, right-aligned.
  const std::size_t rank = std::max(as.size(), bs.size());
  Shape ys(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const int da = i < rank - as.size() ? 1 : as[i - (rank - as.size())];
    const int db = i < rank - bs.size() ? 1 : bs[i - (rank - bs.size())];
    if (da != db && da != 1 && db != 1)
      fail_op(r, "the shapes " + shape_text(as) + " and " + shape_text(bs) + " do not broadcast");
    ys[i] = std::max(da, db);
  }
  emit(r, {a, b}, output(r, ys), r.kind).activation = activation(r, act);
}

void Importer::concatenation(const OpRef& r) {
  expect_counts(r, 1, SIZE_MAX);
  const auto* o = r.op->builtin_options_as_ConcatenationOptions();
  if (!o) fail_op(r, "ConcatenationOptions missing");
  std::vector<int> inputs;
  for (std::size_t k = 0; k < r.in.size(); ++k) inputs.push_back(input(r, static_cast<int>(k)));
  const Shape first = g_.tensors[inputs[0]].shape;
  const i64 rank = static_cast<i64>(first.size());
  const i64 axis = o->axis() < 0 ? i64{o->axis()} + rank : i64{o->axis()};
  if (axis < 0 || axis >= rank)
    fail_op(r, "axis " + std::to_string(o->axis()) + " is outside the rank-" + std::to_string(rank) + " inputs");
  i64 total = 0;
  for (int i : inputs) {
    const Shape& s = g_.tensors[i].shape;
    bool fits = s.size() == first.size();
    for (i64 d = 0; fits && d < rank; ++d) fits = d == axis || s[d] == first[d];
    if (!fits)
      fail_op(r, "the inputs " + shape_text(first) + " and " + shape_text(s) + " differ off the axis " + std::to_string(axis));
    total += s[axis];
  }
  if (total > kMaxElements) fail_op(r, "the output is too large");
  Shape ys = first;
  ys[axis] = static_cast<int>(total);
  Op& op = emit(r, std::move(inputs), output(r, ys), r.kind);
  op.axis = static_cast<int>(axis);
  op.activation = activation(r, o->fused_activation_function());
}

void Importer::pad(const OpRef& r) {
  expect_counts(r, 2, 2);
  const int x = input(r, 0);
  const Shape xs = g_.tensors[x].shape;
  Shape ps;
  const std::vector<i64> paddings = int_values(r, 1, ps);
  if (ps != Shape{static_cast<int>(xs.size()), 2})
    fail_op(r, "the paddings " + shape_text(ps) + " do not fit the input " + shape_text(xs) + " ({rank,2} expected)");
  Shape ys = xs;
  for (std::size_t d = 0; d < xs.size(); ++d) {
    const i64 before = paddings[2 * d], after = paddings[2 * d + 1];
    if (before < 0 || after < 0 || before > kMaxElements || after > kMaxElements) fail_op(r, "paddings must be 0..16M");
    if (xs[d] + before + after > kMaxElements) fail_op(r, "the output is too large");
    ys[d] = static_cast<int>(xs[d] + before + after);
  }
  Op& op = emit(r, {x}, output(r, ys), r.kind);
  op.paddings.assign(paddings.begin(), paddings.end());
}

// The output's shape is the result; the shape input (which TFLite prefers) or the options'
// new_shape, with at most one -1, must agree with it.
void Importer::reshape(const OpRef& r) {
  expect_counts(r, 1, 2);
  const int x = input(r, 0);
  const Shape ys = shape_of(r.out[0]);
  const i64 elements = elements_of(g_.tensors[x].shape);
  if (elements_of(ys) != elements)
    fail_op(r, "cannot reshape " + shape_text(g_.tensors[x].shape) + " to the output " + shape_text(ys));
  std::vector<i64> requested;
  bool given = false;
  if (r.in.size() > 1 && r.in[1] >= 0) {
    Shape s;
    requested = int_values(r, 1, s);
    given = true;
  } else if (const auto* o = r.op->builtin_options_as_ReshapeOptions(); o && o->new_shape() && o->new_shape()->size()) {
    requested.assign(o->new_shape()->begin(), o->new_shape()->end());
    given = true;
  }
  if (given) {
    i64 known = 1;
    int unknown = 0;
    for (i64 d : requested) {
      if (d == -1) {
        ++unknown;
      } else if (d < 1 || d > kMaxElements || (known *= d) > kMaxElements) {
        unknown = 2;  // refused below
        break;
      }
    }
    if (unknown == 1 && known > 0 && elements % known == 0)
      for (i64& d : requested)
        if (d == -1) d = elements / known;
    if (unknown > 1 || !std::equal(requested.begin(), requested.end(), ys.begin(), ys.end()))
      fail_op(r, "the new shape does not give the output " + shape_text(ys));
  }
  emit(r, {x}, output(r, ys), r.kind).new_shape = ys;
}

void Importer::unary(const OpRef& r) {
  expect_counts(r, 1, 1);
  float beta = 1.0f;
  if (r.kind == OpKind::softmax) {
    const auto* o = r.op->builtin_options_as_SoftmaxOptions();
    if (!o) fail_op(r, "SoftmaxOptions missing");
    beta = o->beta();
    if (!std::isfinite(beta) || beta <= 0) fail_op(r, "beta " + num_text(beta) + " (finite and > 0 expected)");
  }
  const int x = input(r, 0);
  const Shape xs = g_.tensors[x].shape;
  if (r.kind == OpKind::softmax && xs.empty()) fail_op(r, "the input is a scalar");
  emit(r, {x}, output(r, xs), r.kind).beta = beta;
}

// QUANTIZE: float32 -> int8, or int8 -> int8 (a requantization); DEQUANTIZE: int8 -> float32.
void Importer::quantize(const OpRef& r) {
  expect_counts(r, 1, 1);
  const bool dequantize = r.kind == OpKind::dequantize;
  DType in_type = DType::int8;
  if (!dequantize && fb_tensor(at(r, 0)).type() == fb::TensorType_FLOAT32) in_type = DType::float32;
  const int x = input(r, 0, in_type);
  const Shape xs = g_.tensors[x].shape;  // a copy: output() may add tensors
  emit(r, {x}, output(r, xs, dequantize ? DType::float32 : DType::int8), r.kind);
}

void Importer::convert(const OpRef& r) {
  switch (r.kind) {
    case OpKind::conv2d:
    case OpKind::depthwise_conv2d: return conv(r);
    case OpKind::fully_connected: return fully_connected(r);
    case OpKind::average_pool2d:
    case OpKind::max_pool2d: return pool(r);
    case OpKind::mean_hw: return mean(r);
    case OpKind::add:
    case OpKind::mul: return binary(r);
    case OpKind::concatenation: return concatenation(r);
    case OpKind::pad: return pad(r);
    case OpKind::reshape: return reshape(r);
    case OpKind::softmax:
    case OpKind::logistic:
    case OpKind::tanh:
    case OpKind::relu:
    case OpKind::relu6: return unary(r);
    case OpKind::quantize:
    case OpKind::dequantize: return quantize(r);
  }
}

Graph Importer::run() {
  load();
  check_operators();
  ir_.assign(tensor_count_, -1);
  ready_.assign(tensor_count_, 0);

  const auto* inputs = sg_->inputs();
  if (!inputs || inputs->size() == 0) fail("the subgraph has no inputs");
  for (const int t : *inputs) {
    if (t < 0 || t >= tensor_count_)
      fail("the graph inputs refer to tensor " + std::to_string(t) + " of " + std::to_string(tensor_count_));
    const int i = tensor(t);
    const Tensor& x = g_.tensors[i];
    if (x.is_constant() || ready_[t]) fail("the graph input " + tname(t) + " is a constant or listed twice");
    if (x.type == DType::int32) fail("the graph input " + tname(t) + " is int32; int8 (or float32 before a QUANTIZE) expected");
    if (x.type == DType::int8 && x.quant.scale.size() != 1) fail("the graph input " + tname(t) + " is quantized per channel");
    ready_[t] = 1;
    g_.inputs.push_back(i);
  }

  const auto* ops = sg_->operators();
  const auto* codes = model_->operator_codes();
  for (flatbuffers::uoffset_t k = 0; ops && k < ops->size(); ++k) {
    OpRef r;
    r.index = static_cast<int>(k);
    r.op = ops->Get(k);
    r.kind = *kind_of(builtin_of(*codes->Get(r.op->opcode_index())));  // check_operators() made sure
    if (r.op->inputs()) r.in.assign(r.op->inputs()->begin(), r.op->inputs()->end());
    if (r.op->outputs()) r.out.assign(r.op->outputs()->begin(), r.op->outputs()->end());
    convert(r);
  }

  const auto* outputs = sg_->outputs();
  if (!outputs || outputs->size() == 0) fail("the subgraph has no outputs");
  for (const int t : *outputs) {
    if (t < 0 || t >= tensor_count_)
      fail("the graph outputs refer to tensor " + std::to_string(t) + " of " + std::to_string(tensor_count_));
    const int i = tensor(t);
    if (!ready_[t]) fail("no operator computes the graph output " + tname(t));
    if (g_.tensors[i].type == DType::int32) fail("the graph output " + tname(t) + " is int32; int8 or float32 expected");
    g_.outputs.push_back(i);
  }
  return std::move(g_);
}

}  // namespace

const char* tflite_supported_ops() { return kSupported; }

Graph import_tflite_bytes(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.size() > kMaxFileBytes) throw invalid_input(source, "the model is larger than 1 GB");
  return Importer(bytes, source).run();
}

Graph import_tflite(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw filesystem_error(file.string(), "is a folder, not a TFLite model file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw filesystem_error(file.string(), "cannot open the model: " + errno_text(errno));
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > kMaxFileBytes) throw invalid_input(file.string(), "the model is larger than 1 GB");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw filesystem_error(file.string(), "cannot read the model: " + errno_text(errno));
  return import_tflite_bytes(bytes, file.string());
}

}  // namespace tml::deploy
