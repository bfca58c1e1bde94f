#pragma once
// ONNX -> tml's model IR (deploy/graph.h). Host only.
//
// What comes in: a float32 ONNX model as torch.onnx.export writes it for CNNs and MLPs (opset 13;
// opsets 7..18 read where the op's inputs/attributes moved between versions). What comes out: a
// float Graph in TFLite's layout:
//  - a rank-4 ONNX value {N,C,H,W} becomes the IR tensor {N,H,W,C}; every other rank keeps ONNX's
//    shape and order (so {N,1,49,10} audio features are {N,49,10,1}, {N,F} stays {N,F});
//  - the IR graph's inputs are the ONNX graph inputs that are not initializers, in ONNX order; its
//    outputs are the ONNX graph outputs, in order. A symbolic dimension (a dynamic batch) becomes 1.
//  - Conv weights {M,C/g,KH,KW} -> {M,KH,KW,C/g} (conv2d) or {1,KH,KW,C*mult} (depthwise_conv2d,
//    group == C); Gemm/MatMul weights -> {Cout,Cin} (fully_connected), alpha/beta/transB applied.
//  - BatchNormalization becomes mul + add of per-channel constants, then folded (like a following
//    Mul/Add/Sub/Div by a per-channel constant, or MatMul's bias Add) into the weights and bias of the
//    conv2d/depthwise/fully_connected before it when nothing else reads that op's output. A
//    standalone BatchNormalization stays mul + add.
//  - Relu and Clip(0,6)/Clip(0,inf) fuse into the producer's `activation` when the producer is
//    conv2d/depthwise/fully_connected/add and nothing else reads the pre-activation tensor.
//  - Flatten/Reshape of a rank-4 value: ONNX flattens in C,H,W order, the IR holds H,W,C. When the
//    flattened value feeds Gemm/MatMul (possibly through Relu/Sigmoid/Tanh/Softmax/Identity/Dropout),
//    the weights' input columns are permuted instead, so nothing is added. Anywhere else (a graph
//    output, Add, Concat, a further Reshape...) the exact reordering is made explicit as a
//    fully_connected with a 0/1 permutation matrix (at most 4096 values per sample, else refused).
//  - Shape/Gather/Unsqueeze/Concat/Slice/Cast/... chains on constants (torch's x.view(x.size(0), -1))
//    are evaluated at import; Constant nodes become constants; Identity and eval-mode Dropout vanish.
//
// Errors: tml::Error(ExitCode::invalid_input) with one line starting with the file name, e.g.
//   "model.onnx: node 'lstm_1' (LSTM): not supported; supported: Conv, Gemm, ..."
//   "model.onnx: not a valid ONNX model (protobuf parse failed)"
// The importer never trusts the file: every index, shape, attribute and data size is checked.
// A missing/unreadable file is tml::Error(ExitCode::filesystem).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "deploy/graph.h"

namespace tml::deploy {

Graph import_onnx(const std::filesystem::path& file);

// The same from the file's bytes; SOURCE names the model in messages.
Graph import_onnx_bytes(std::span<const std::uint8_t> bytes, const std::string& source = "model.onnx");

// The ONNX op types the importer accepts (as in its "supported: ..." message).
const char* onnx_supported_ops();

}  // namespace tml::deploy
