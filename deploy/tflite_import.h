#pragma once
// TFLite (.tflite flatbuffer, schema version 3) -> tml's model IR (deploy/graph.h). Host only.
//
// What comes in: an int8 model as the TFLite converter writes it with full integer quantization
// (TFLite Micro's examples, MLPerf Tiny's references, a user's own model). The file is read through
// deploy/tflite_schema.fbs (a subset of TFLite's schema, compiled by flatc at build time).
// What comes out: an int8 Graph in TFLite's own conventions, which are the IR's, so nothing moves:
//  - tensors keep their shapes (NHWC), names, int8/int32 types and quantization (scale/zero point
//    per tensor, or per channel with axis = quantized_dimension); constant buffers become
//    Tensor::data, little-endian bytes as stored. A float32 graph input/output is allowed only
//    around the model's QUANTIZE/DEQUANTIZE ops (kept as ops).
//  - operators map one to one, in the file's order, Op::name = "CONV_2D #3" (the operator's index):
//    CONV_2D, DEPTHWISE_CONV_2D (depth_multiplier = output channels / input channels),
//    FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, MUL, CONCATENATION (axis made
//    non-negative), PAD (paddings from its constant input), RESHAPE (new_shape = the output's
//    shape, checked against the shape input or options), SOFTMAX (beta), LOGISTIC, TANH, RELU,
//    RELU6, QUANTIZE (float -> int8, or int8 -> int8 requantization), DEQUANTIZE (int8 -> float).
//    MEAN over axes {1, 2} of a rank-4 tensor becomes mean_hw; without keep_dims it is followed by
//    a reshape to {N, C} (through an added tensor "<output>/mean_hw").
//  - SAME/VALID padding is resolved to explicit pads exactly as TFLite's ComputePaddingHeightWidth:
//    out = ceil(in / stride) (SAME) or (in - effective_kernel) / stride + 1 (VALID), total =
//    max((out - 1) * stride + effective_kernel - in, 0), before = total / 2, after = the rest.
//  - fused activations NONE/RELU/RELU6 become Op::activation.
//  - graph inputs/outputs are the subgraph's, in order.
//
// Refused, with one line starting with the file name (tml::Error, ExitCode::invalid_input):
// float models ("model.tflite: float32 model (tensor 'x' is float32); quantize it ..."), uint8 and
// int16 quantized models, unsupported operators (all of them named, with the supported list),
// fused activations other than NONE/RELU/RELU6, several subgraphs, schema versions other than 3,
// sparse, variable or dynamic-shape tensors, per-channel activations, weights with non-zero zero
// points, and every malformed or inconsistent file. flatbuffers' Verifier runs first, and every
// index, shape, quantization and buffer size is checked after it: a truncated or corrupted file is
// refused, never read out of bounds. Buffers stored outside the flatbuffer (offset/size, models
// over 2 GB) are read when they lie inside the given bytes.
// A missing/unreadable file is tml::Error(ExitCode::filesystem).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "deploy/graph.h"

namespace tml::deploy {

Graph import_tflite(const std::filesystem::path& file);

// The same from the file's bytes; SOURCE names the model in messages.
Graph import_tflite_bytes(std::span<const std::uint8_t> bytes, const std::string& source = "model.tflite");

// The TFLite operators the importer accepts (as in its "supported: ..." message).
const char* tflite_supported_ops();

}  // namespace tml::deploy
