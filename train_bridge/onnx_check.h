#pragma once
// A structural check of a trainer's model.onnx without the ONNX library (train_bridge/ uses only
// core/): the protobuf wire format is walked completely, and the model must be opset 13, have an
// input named "input", use only operators tml's importer supports and end in a Softmax.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tml::train {

// The ONNX operators tml's importer supports (docs/train-bridge.md).
const std::vector<std::string>& supported_onnx_ops();
// Graph plumbing the importer evaluates on constants or removes (Constant, Identity, eval-mode
// Dropout, torch's Shape/Gather/Unsqueeze/... chains, Sub/Div by constants): accepted too.
const std::vector<std::string>& plumbing_onnx_ops();

struct OnnxInfo {
  std::int64_t ir_version = 0;
  std::int64_t opset = 0;            // of the default domain
  std::size_t nodes = 0;
  std::size_t initializers = 0;
  std::vector<std::string> ops;      // distinct operator types, sorted
  std::string input_name;
  std::vector<std::int64_t> input_shape;   // -1: a named (dynamic) dimension
  std::string output_name;
  std::vector<std::int64_t> output_shape;
  std::string output_producer;       // op type of the node producing the (first) output
};

struct OnnxExpectations {
  std::vector<std::int64_t> input_shape;  // without the batch axis; empty: not checked
  std::int64_t classes = 0;               // 0: not checked
  bool softmax_output = true;             // the classifier's probabilities
  std::string output_name;                // empty: any
};

// Parses BYTES as an ONNX ModelProto. Throws tml::Error(ExitCode::external_tool) "NAME: ..." with
// the reason (empty, not protobuf, truncated, wrong opset, unsupported operator, wrong input).
OnnxInfo check_onnx(std::span<const std::uint8_t> bytes, const std::string& name,
                    const OnnxExpectations& expect = {});
OnnxInfo check_onnx_file(const std::filesystem::path& file, const OnnxExpectations& expect = {});

}  // namespace tml::train
