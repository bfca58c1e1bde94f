#pragma once
// Graph passes that make an imported float graph fit the int8 runtime (deploy/quantizer.h runs them
// before calibration). They keep the graph's values: run_float gives the same outputs before and after.
//  1. drop_noops: RESHAPE to the input's own shape, RESHAPE of a RESHAPE, PAD by nothing, 1x1/stride-1
//     pooling without padding, single-input CONCATENATION, ADD of a zero constant and MUL by a
//     one constant (same shape as the output, no fused activation).
//  2. fuse_activations: a standalone RELU/RELU6 becomes the fused `activation` of the op producing
//     its input (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MUL, AVERAGE/MAX_POOL_2D) when
//     nothing else reads the pre-activation tensor (and it is not a graph input or output).
//  3. lower_relu: the runtime has no RELU kernel, so a RELU/RELU6 that could not be fused becomes a
//     MAX_POOL_2D 1x1 stride 1 with the fused activation (exact in int8: max over one value, then
//     clamped at the zero point / 6). A tensor of rank other than 4 is reshaped to {rows,1,1,C} and back.
//  4. remove_unused_tensors: tensors no op or graph input/output refers to are dropped (indices change).
// Surviving tensors keep their names: a fused op writes the activation's output tensor, and a dropped
// op's readers read its input, so names can match tensors between the float and the int8 graph.
// Host only.
#include <string>
#include <vector>

#include "deploy/graph.h"

namespace tml::deploy {

// Each pass appends one line per change to LOG (when given) and returns the number of changes.
int drop_noops(Graph& g, std::vector<std::string>* log = nullptr);
int fuse_activations(Graph& g, std::vector<std::string>* log = nullptr);
int lower_relu(Graph& g, std::vector<std::string>* log = nullptr);
void remove_unused_tensors(Graph& g);

// All of the above in order; returns the log.
std::vector<std::string> prepare_for_int8(Graph& g);

}  // namespace tml::deploy
