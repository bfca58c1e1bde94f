#include "deploy/graph_passes.h"

#include <algorithm>

#include "core/errors.h"

namespace tml::deploy {
namespace {

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// How many op inputs read tensor T.
int readers(const Graph& g, int t) {
  int n = 0;
  for (const Op& op : g.ops) n += static_cast<int>(std::count(op.inputs.begin(), op.inputs.end(), t));
  return n;
}

int producer(const Graph& g, int t) {
  for (std::size_t i = 0; i < g.ops.size(); ++i)
    if (contains(g.ops[i].outputs, t)) return static_cast<int>(i);
  return -1;
}

// T is read only by one op and is no graph input/output: its producer may write something else.
bool private_tensor(const Graph& g, int t) {
  return readers(g, t) == 1 && !contains(g.inputs, t) && !contains(g.outputs, t);
}

std::string describe(const Op& op) { return std::string(op_name(op.kind)) + " '" + op.name + "'"; }

// Removes ops[I], whose output holds exactly the values of its input IN. Readers of the output read
// IN instead; a graph output is kept by letting IN's producer write it. False when impossible.
bool bypass(Graph& g, std::size_t i, int in) {
  const int out = g.ops[i].outputs[0];
  if (contains(g.outputs, out)) {
    const int p = producer(g, in);
    if (p < 0 || !private_tensor(g, in)) return false;
    g.ops[p].outputs[0] = out;
  } else {
    for (Op& op : g.ops)
      for (int& t : op.inputs)
        if (t == out) t = in;
  }
  g.ops.erase(g.ops.begin() + static_cast<long>(i));
  return true;
}

bool constant_filled_with(const Tensor& t, float value) {
  if (!t.is_constant() || t.type != DType::float32) return false;
  return std::all_of(t.floats(), t.floats() + t.elements(), [&](float v) { return v == value; });
}

// The input whose values the op passes through unchanged, or -1.
int identity_input(const Graph& g, const Op& op) {
  if (op.outputs.size() != 1 || op.inputs.empty() || op.activation != Activation::none) return -1;
  const auto& out_shape = g.tensors[op.outputs[0]].shape;
  const int x = op.inputs[0];
  switch (op.kind) {
    case OpKind::reshape:
      return g.tensors[x].shape == out_shape ? x : -1;
    case OpKind::pad:
      return std::all_of(op.paddings.begin(), op.paddings.end(), [](int p) { return p == 0; }) ? x : -1;
    case OpKind::max_pool2d:
    case OpKind::average_pool2d:
      return op.kernel_h == 1 && op.kernel_w == 1 && op.stride_h == 1 && op.stride_w == 1 && op.pad_top == 0 &&
                     op.pad_left == 0 && op.pad_bottom == 0 && op.pad_right == 0
                 ? x
                 : -1;
    case OpKind::concatenation:
      return op.inputs.size() == 1 ? x : -1;
    case OpKind::add:
    case OpKind::mul: {
      if (op.inputs.size() != 2) return -1;
      const float neutral = op.kind == OpKind::add ? 0.0f : 1.0f;
      for (int k = 0; k < 2; ++k) {
        const int v = op.inputs[k], c = op.inputs[1 - k];
        if (constant_filled_with(g.tensors[c], neutral) && g.tensors[v].shape == out_shape) return v;
      }
      return -1;
    }
    default:
      return -1;
  }
}

// The activation of relu(act(x)).
Activation combine(Activation inner, Activation outer) {
  return inner == Activation::relu6 || outer == Activation::relu6 ? Activation::relu6 : Activation::relu;
}

bool fusable_producer(OpKind k) {
  switch (k) {
    case OpKind::conv2d:
    case OpKind::depthwise_conv2d:
    case OpKind::fully_connected:
    case OpKind::add:
    case OpKind::mul:
    case OpKind::average_pool2d:
    case OpKind::max_pool2d:
      return true;
    default:
      return false;
  }
}

bool is_relu(const Op& op) { return op.kind == OpKind::relu || op.kind == OpKind::relu6; }

// The passes index tensors freely: refuse a graph whose indices are out of range up front.
void check_indices(const Graph& g) {
  const int n = static_cast<int>(g.tensors.size());
  auto check = [&](int t) {
    if (t < 0 || t >= n)
      throw Error(ExitCode::internal, "graph passes: a tensor index " + std::to_string(t) + " is out of range");
  };
  for (const Op& op : g.ops) {
    for (int t : op.inputs) check(t);
    for (int t : op.outputs) check(t);
  }
  for (int t : g.inputs) check(t);
  for (int t : g.outputs) check(t);
}

}  // namespace

int drop_noops(Graph& g, std::vector<std::string>* log) {
  check_indices(g);
  int changes = 0;
  for (bool again = true; again;) {
    again = false;
    for (std::size_t i = 0; i < g.ops.size() && !again; ++i) {
      Op& op = g.ops[i];
      // RESHAPE of a RESHAPE: the second reads the first's input.
      if (op.kind == OpKind::reshape && !op.inputs.empty()) {
        const int p = producer(g, op.inputs[0]);
        if (p >= 0 && g.ops[p].kind == OpKind::reshape && private_tensor(g, op.inputs[0])) {
          if (log) log->push_back("merged " + describe(g.ops[p]) + " into the following " + describe(op));
          op.inputs[0] = g.ops[p].inputs[0];
          g.ops.erase(g.ops.begin() + p);
          again = true;
          ++changes;
          continue;
        }
      }
      const int in = identity_input(g, op);
      if (in < 0) continue;
      const std::string what = describe(op);
      if (bypass(g, i, in)) {
        if (log) log->push_back("dropped " + what + " (no-op)");
        again = true;
        ++changes;
      }
    }
  }
  return changes;
}

int fuse_activations(Graph& g, std::vector<std::string>* log) {
  check_indices(g);
  int changes = 0;
  for (std::size_t i = 0; i < g.ops.size();) {
    const Op& relu = g.ops[i];
    if (!is_relu(relu) || relu.inputs.size() != 1 || relu.outputs.size() != 1) {
      ++i;
      continue;
    }
    const int pre = relu.inputs[0];
    const int p = producer(g, pre);
    if (p < 0 || !fusable_producer(g.ops[p].kind) || !private_tensor(g, pre) || g.ops[p].outputs.size() != 1) {
      ++i;
      continue;
    }
    Op& prod = g.ops[p];
    const Activation a = relu.kind == OpKind::relu6 ? Activation::relu6 : Activation::relu;
    prod.activation = prod.activation == Activation::none ? a : combine(prod.activation, a);
    prod.outputs[0] = relu.outputs[0];
    if (log) log->push_back("fused " + describe(relu) + " into " + describe(prod));
    g.ops.erase(g.ops.begin() + static_cast<long>(i));
    ++changes;
  }
  return changes;
}

int lower_relu(Graph& g, std::vector<std::string>* log) {
  check_indices(g);
  int changes = 0;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    if (!is_relu(g.ops[i]) || g.ops[i].inputs.size() != 1 || g.ops[i].outputs.size() != 1) continue;
    Op pool = g.ops[i];
    pool.activation = pool.kind == OpKind::relu6 ? Activation::relu6 : Activation::relu;
    pool.kind = OpKind::max_pool2d;
    pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 1;
    pool.pad_top = pool.pad_left = pool.pad_bottom = pool.pad_right = 0;
    const std::vector<int> shape = g.tensors[pool.inputs[0]].shape;
    if (log) log->push_back("lowered " + describe(g.ops[i]) + " to a 1x1 MAX_POOL_2D with a fused activation");
    ++changes;
    if (shape.size() == 4) {
      g.ops[i] = pool;
      continue;
    }
    // {..., C} -> {rows, 1, 1, C} -> pool -> back to the original shape.
    const int c = shape.empty() ? 1 : shape.back();
    int rows = 1;
    for (std::size_t d = 0; d + 1 < shape.size(); ++d) rows *= shape[d];
    const std::vector<int> shape4 = {rows, 1, 1, c};
    const std::string base = g.tensors[pool.outputs[0]].name;
    Tensor t4;
    t4.shape = shape4;
    t4.name = base + "/in4d";
    const int in4 = g.add_tensor(t4);
    t4.name = base + "/out4d";
    const int out4 = g.add_tensor(t4);
    Op to4;
    to4.kind = OpKind::reshape;
    to4.name = pool.name + "/to4d";
    to4.inputs = {pool.inputs[0]};
    to4.outputs = {in4};
    to4.new_shape = shape4;
    Op back = to4;
    back.name = pool.name + "/back";
    back.inputs = {out4};
    back.outputs = {pool.outputs[0]};
    back.new_shape = shape;
    pool.inputs = {in4};
    pool.outputs = {out4};
    g.ops[i] = pool;
    g.ops.insert(g.ops.begin() + static_cast<long>(i) + 1, back);
    g.ops.insert(g.ops.begin() + static_cast<long>(i), to4);
    i += 2;
  }
  return changes;
}

void remove_unused_tensors(Graph& g) {
  check_indices(g);
  std::vector<int> used(g.tensors.size(), 0);
  for (const Op& op : g.ops) {
    for (int t : op.inputs) used[t] = 1;
    for (int t : op.outputs) used[t] = 1;
  }
  for (int t : g.inputs) used[t] = 1;
  for (int t : g.outputs) used[t] = 1;
  std::vector<int> index(g.tensors.size(), -1);
  std::vector<Tensor> kept;
  for (std::size_t t = 0; t < g.tensors.size(); ++t)
    if (used[t]) {
      index[t] = static_cast<int>(kept.size());
      kept.push_back(std::move(g.tensors[t]));
    }
  g.tensors = std::move(kept);
  auto remap = [&](std::vector<int>& v) {
    for (int& t : v) t = index[t];
  };
  for (Op& op : g.ops) {
    remap(op.inputs);
    remap(op.outputs);
  }
  remap(g.inputs);
  remap(g.outputs);
}

std::vector<std::string> prepare_for_int8(Graph& g) {
  std::vector<std::string> log;
  drop_noops(g, &log);
  fuse_activations(g, &log);
  lower_relu(g, &log);
  remove_unused_tensors(g);
  return log;
}

}  // namespace tml::deploy
