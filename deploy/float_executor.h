#pragma once
// A float reference executor for the IR (deploy/graph.h): straightforward loops, double accumulation.
// It is the yardstick the int8 path is compared with, and it checks the graph as it goes: every
// tensor index, every constant's size and every op's output shape (recomputed from its inputs and
// attributes) must agree with the graph, so an importer bug shows up as an error, not as garbage.
//
// Semantics of each OpKind as run here (TFLite's):
//  - conv2d: weights {Cout,KH,KW,Cin/groups} (groups = Cin / weights' last dim), explicit pads,
//    strides, dilations; depthwise_conv2d: weights {1,KH,KW,Cin*depth_multiplier}, output channel
//    c*depth_multiplier+m reads input channel c; fully_connected: input flattened to {N,Cin};
//  - average_pool2d averages the in-bounds values of each window (padding is not counted);
//    max_pool2d ignores padding; mean_hw averages over H and W;
//  - add/mul broadcast numpy-style (right-aligned); concatenation along `axis` (negative counts from
//    the end); pad adds zeros, `paddings` = before/after for each dimension (2 x rank values);
//    reshape keeps the element order; softmax over the last axis with `beta`;
//  - every op's fused `activation` (relu, relu6) is applied to its output.
// quantize/dequantize and non-float32 constants are refused (this runs float graphs only).
#include <vector>

#include "deploy/graph.h"

namespace tml::deploy {

// Runs GRAPH on INPUTS (one vector per graph input, in the IR's layout: NHWC for rank 4) and returns
// one vector per graph output. An input may hold k times its tensor's elements when every graph
// input's first dimension is 1: the k samples run one after another and the outputs are
// concatenated (batch N with a batch-1 graph).
// Throws tml::Error: ExitCode::invalid_input when the inputs do not fit the graph,
// ExitCode::internal when the graph itself is malformed.
std::vector<std::vector<float>> run_float(const Graph& graph, const std::vector<std::vector<float>>& inputs);

// The same run, returning the values of every tensor instead (indexed like graph.tensors: graph inputs
// and every op output, the samples one after another; constants are left empty, their values are in
// the graph). For calibration and per-layer error reports (deploy/quantizer.h). Same errors as run_float.
std::vector<std::vector<float>> run_float_all(const Graph& graph, const std::vector<std::vector<float>>& inputs);

}  // namespace tml::deploy
