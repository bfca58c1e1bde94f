#include "train_bridge/onnx_check.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tml::train {

namespace {

// One protobuf field: number, wire type, and the varint value or the length-delimited payload.
struct Field {
  std::uint32_t number = 0;
  int wire = 0;
  std::uint64_t varint = 0;
  std::span<const std::uint8_t> bytes;
};

class BadProto : public std::exception {
 public:
  BadProto(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> data, std::size_t base) : data_(data), base_(base) {}
  bool done() const { return pos_ >= data_.size(); }

  Field next() {
    Field f;
    std::size_t at = pos_;
    std::uint64_t key = varint();
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.number == 0) throw BadProto("field number 0 at byte " + std::to_string(base_ + at));
    switch (f.wire) {
      case 0: f.varint = varint(); break;
      case 1: f.bytes = take(8); break;
      case 2: {
        std::uint64_t n = varint();
        if (n > data_.size() - pos_) {
          throw BadProto("a field at byte " + std::to_string(base_ + at) + " runs past the end (truncated?)");
        }
        f.bytes = take(static_cast<std::size_t>(n));
        break;
      }
      case 5: f.bytes = take(4); break;
      default:
        throw BadProto("invalid protobuf wire type " + std::to_string(f.wire) + " at byte " + std::to_string(base_ + at));
    }
    return f;
  }

  std::size_t offset_of(const Field& f) const {
    return base_ + static_cast<std::size_t>(f.bytes.data() - data_.data());
  }

 private:
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) throw BadProto("truncated at byte " + std::to_string(base_ + pos_));
      std::uint8_t b = data_[pos_++];
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw BadProto("an overlong varint at byte " + std::to_string(base_ + pos_));
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    if (n > data_.size() - pos_) throw BadProto("truncated at byte " + std::to_string(base_ + pos_));
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  std::span<const std::uint8_t> data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

std::string text_of(const Field& f) {
  if (f.wire != 2) throw BadProto("field " + std::to_string(f.number) + " should be a string");
  return std::string(reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size());
}

// Walks a whole message; every field must parse. Returns the fields.
std::vector<Field> fields_of(std::span<const std::uint8_t> data, std::size_t base) {
  Reader r(data, base);
  std::vector<Field> out;
  while (!r.done()) out.push_back(r.next());
  return out;
}

std::size_t base_of(std::span<const std::uint8_t> whole, const Field& f) {
  return static_cast<std::size_t>(f.bytes.data() - whole.data());
}

// ValueInfoProto -> (name, dims): type (2) -> tensor_type (1) -> shape (2) -> dim (1) -> value (1) / param (2).
std::pair<std::string, std::vector<std::int64_t>> value_info(std::span<const std::uint8_t> whole, const Field& vi) {
  std::string name;
  std::vector<std::int64_t> dims;
  for (const Field& f : fields_of(vi.bytes, base_of(whole, vi))) {
    if (f.number == 1) name = text_of(f);
    if (f.number != 2 || f.wire != 2) continue;
    for (const Field& t : fields_of(f.bytes, base_of(whole, f))) {
      if (t.number != 1 || t.wire != 2) continue;
      for (const Field& tt : fields_of(t.bytes, base_of(whole, t))) {
        if (tt.number != 2 || tt.wire != 2) continue;
        for (const Field& d : fields_of(tt.bytes, base_of(whole, tt))) {
          if (d.number != 1 || d.wire != 2) continue;
          std::int64_t v = -1;
          for (const Field& dv : fields_of(d.bytes, base_of(whole, d))) {
            if (dv.number == 1 && dv.wire == 0) v = static_cast<std::int64_t>(dv.varint);
          }
          dims.push_back(v);
        }
      }
    }
  }
  return {name, dims};
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    s += (i ? ", " : "") + (dims[i] < 0 ? std::string("N") : std::to_string(dims[i]));
  }
  return s + "]";
}

}  // namespace

const std::vector<std::string>& supported_onnx_ops() {
  static const std::vector<std::string> ops = {
      "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "AveragePool", "MaxPool",
      "GlobalAveragePool", "Add", "Mul", "Concat", "Pad", "Reshape", "Flatten", "Softmax", "Sigmoid", "Tanh"};
  return ops;
}

const std::vector<std::string>& plumbing_onnx_ops() {
  static const std::vector<std::string> ops = {"Constant", "Identity", "Dropout", "Shape", "Gather", "Unsqueeze",
                                               "Squeeze", "Slice", "Cast", "Sub", "Div"};
  return ops;
}

OnnxInfo check_onnx(std::span<const std::uint8_t> bytes, const std::string& name, const OnnxExpectations& expect) {
  auto fail = [&](const std::string& what) { return Error(ExitCode::external_tool, name + ": " + what); };
  if (bytes.empty()) throw fail("the file is empty; the trainer must write the exported model there");
  OnnxInfo info;
  std::set<std::string> ops;
  bool has_graph = false;
  std::vector<std::string> unsupported;
  try {
    for (const Field& f : fields_of(bytes, 0)) {
      if (f.number == 1 && f.wire == 0) info.ir_version = static_cast<std::int64_t>(f.varint);
      if (f.number == 8 && f.wire == 2) {  // OperatorSetIdProto
        std::string domain;
        std::int64_t version = 0;
        for (const Field& o : fields_of(f.bytes, base_of(bytes, f))) {
          if (o.number == 1) domain = text_of(o);
          if (o.number == 2 && o.wire == 0) version = static_cast<std::int64_t>(o.varint);
        }
        if (domain.empty() || domain == "ai.onnx") info.opset = version;
      }
      if (f.number != 7 || f.wire != 2) continue;
      has_graph = true;
      std::set<std::string> initializer_names;
      std::vector<std::pair<std::string, std::vector<std::int64_t>>> inputs, outputs;
      std::vector<std::pair<std::string, std::vector<std::string>>> producers;  // op, outputs
      for (const Field& g : fields_of(f.bytes, base_of(bytes, f))) {
        if (g.number == 1 && g.wire == 2) {  // NodeProto
          ++info.nodes;
          std::string op, domain;
          std::vector<std::string> outs;
          for (const Field& n : fields_of(g.bytes, base_of(bytes, g))) {
            if (n.number == 4) op = text_of(n);
            if (n.number == 7) domain = text_of(n);
            if (n.number == 2) outs.push_back(text_of(n));
          }
          if (op.empty()) throw BadProto("a node without an operator type");
          std::string qualified = domain.empty() || domain == "ai.onnx" ? op : domain + "." + op;
          ops.insert(qualified);
          producers.emplace_back(qualified, outs);
        } else if (g.number == 5 && g.wire == 2) {  // TensorProto initializer: name is field 8
          ++info.initializers;
          for (const Field& t : fields_of(g.bytes, base_of(bytes, g))) {
            if (t.number == 8) initializer_names.insert(text_of(t));
          }
        } else if (g.number == 11 && g.wire == 2) {
          inputs.push_back(value_info(bytes, g));
        } else if (g.number == 12 && g.wire == 2) {
          outputs.push_back(value_info(bytes, g));
        } else if (g.number == 13 && g.wire == 2) {
          value_info(bytes, g);
        }
      }
      for (const auto& in : inputs) {
        if (initializer_names.count(in.first)) continue;  // old exporters list weights as inputs
        if (info.input_name.empty()) {
          info.input_name = in.first;
          info.input_shape = in.second;
        } else {
          throw BadProto("the graph has more than one input ('" + info.input_name + "', '" + in.first +
                         "'); tml models take one input named \"input\"");
        }
      }
      if (!outputs.empty()) {
        info.output_name = outputs.front().first;
        info.output_shape = outputs.front().second;
        for (const auto& [op, outs] : producers) {
          if (std::find(outs.begin(), outs.end(), info.output_name) != outs.end()) info.output_producer = op;
        }
      }
    }
  } catch (const BadProto& e) {
    throw fail(std::string("not a valid ONNX model (") + e.what() + "); the trainer wrote a corrupt or partial file");
  }
  info.ops.assign(ops.begin(), ops.end());
  if (!has_graph || info.nodes == 0) {
    throw fail("not a valid ONNX model (no graph or no nodes); the trainer wrote a corrupt or partial file");
  }
  if (info.ir_version < 3) throw fail("not a valid ONNX model (ir_version " + std::to_string(info.ir_version) + ")");
  if (info.opset != 13) {
    throw fail("opset " + std::to_string(info.opset) + "; tml imports opset 13: export with opset_version=13");
  }
  for (const std::string& op : info.ops) {
    const auto& ok = supported_onnx_ops();
    const auto& plumbing = plumbing_onnx_ops();
    if (std::find(ok.begin(), ok.end(), op) == ok.end() &&
        std::find(plumbing.begin(), plumbing.end(), op) == plumbing.end()) {
      unsupported.push_back(op);
    }
  }
  if (!unsupported.empty()) {
    std::string list, supported;
    for (const auto& op : unsupported) list += (list.empty() ? "" : ", ") + op;
    for (const auto& op : supported_onnx_ops()) supported += (supported.empty() ? "" : ", ") + op;
    throw fail("uses operator(s) tml cannot import: " + list + "; use only " + supported);
  }
  if (info.input_name != "input") {
    throw fail("the model's input is named '" + info.input_name + "'; name it \"input\" (torch.onnx.export input_names=[\"input\"])");
  }
  if (!expect.input_shape.empty()) {
    std::vector<std::int64_t> want = {-1};
    want.insert(want.end(), expect.input_shape.begin(), expect.input_shape.end());
    bool ok = info.input_shape.size() == want.size() && (info.input_shape[0] == -1 || info.input_shape[0] == 1);
    for (std::size_t i = 1; ok && i < want.size(); ++i) ok = info.input_shape[i] == want[i];
    if (!ok) {
      throw fail("input shape " + dims_text(info.input_shape) + " does not match the features: expected " +
                 dims_text(want) + " (batch N or 1; see docs/train-bridge.md)");
    }
  }
  if (info.output_name.empty()) throw fail("the graph has no output");
  if (!expect.output_name.empty() && info.output_name != expect.output_name) {
    throw fail("the output is named '" + info.output_name + "'; expected \"" + expect.output_name + "\"");
  }
  if (expect.classes > 0 && !info.output_shape.empty() && info.output_shape.back() > 0 &&
      info.output_shape.back() != expect.classes) {
    throw fail("output shape " + dims_text(info.output_shape) + " but the project has " +
               std::to_string(expect.classes) + " labels");
  }
  if (expect.softmax_output && info.output_producer != "Softmax") {
    throw fail("the output '" + info.output_name + "' comes from " +
               (info.output_producer.empty() ? std::string("no node") : info.output_producer) +
               ", not a Softmax; export the classifier with its final Softmax (probabilities)");
  }
  return info;
}

OnnxInfo check_onnx_file(const std::filesystem::path& file, const OnnxExpectations& expect) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    throw Error(ExitCode::external_tool, file.filename().string() + ": the trainer did not write it");
  }
  std::vector<std::uint8_t> bytes = read_file_bytes(file);
  return check_onnx(bytes, file.filename().string(), expect);
}

}  // namespace tml::train
