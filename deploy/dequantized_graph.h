#pragma once
// The float twin of an int8 graph: every constant dequantized (real = scale * (q - zero point)),
// every activation float32 with the same index, QUANTIZE/DEQUANTIZE ops turned into identities.
// deploy/float_executor runs it; comparing its tensors with the int8 run's dequantized tensors shows
// which layer loses accuracy (or, for an imported model, where an import or kernel bug starts).
// Host only.
#include "deploy/graph.h"

namespace tml::deploy {

Graph dequantized_graph(const Graph& int8_graph);

}  // namespace tml::deploy
