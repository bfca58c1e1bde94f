// Arena size of the static memory planner (deploy/memory_planner.h) on the int8 activations of the three
// MLPerf Tiny models, against the live-set lower bound and TFLite Micro's greedy planner. Prints a table;
// asserts nothing. Weights live in flash and are not planned; the op lists below are written down from the
// architectures (one byte per int8 element, batch 1, "same" padding), with no kernel scratch buffers.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "deploy/memory_planner.h"

namespace {

using tml::deploy::MemoryPlan;
using tml::deploy::PlanAlgorithm;
using tml::deploy::PlannerOptions;
using tml::deploy::PlanProblem;
using tml::deploy::PlanProblemBuilder;
using InPlace = PlanProblemBuilder::InPlace;

std::int64_t hwc(std::int64_t h, std::int64_t w, std::int64_t c) { return h * w * c; }

// The runtime's in-place depthwise gathers an input plane and computes an output plane in its scratch
// (rt::depthwise_in_place_scratch_bytes).
std::int64_t in_place_scratch(std::int64_t input_plane, std::int64_t output_plane) {
  return input_plane + output_plane;
}

// DS-CNN (KWS): 49x10x1 -> conv 10x4 /2 -> 25x5x64 -> 4 x (dw 3x3 + pw 64) -> avg pool -> FC 12 -> softmax.
PlanProblem ds_cnn() {
  PlanProblemBuilder g;
  int x = g.add_input("input", hwc(49, 10, 1));
  x = g.add_op({x}, "conv", hwc(25, 5, 64));
  for (int block = 1; block <= 4; ++block) {
    x = g.add_op({x}, "dw" + std::to_string(block), hwc(25, 5, 64), InPlace::kDepthwise,
                 in_place_scratch(25 * 5, 25 * 5));
    x = g.add_op({x}, "pw" + std::to_string(block), hwc(25, 5, 64));
  }
  x = g.add_op({x}, "avgpool", 64);
  x = g.add_op({x}, "reshape", 64, InPlace::kReshape);
  x = g.add_op({x}, "fc", 12);
  x = g.add_op({x}, "softmax", 12);
  g.mark_output(x);
  return g.build();
}

// MobileNetV1 alpha 0.25 (VWW): 96x96x3 -> conv 3x3 /2 (8) -> 13 depthwise-separable blocks -> avg pool ->
// FC 2 -> softmax.
PlanProblem mobilenet_v1_025() {
  struct Block {
    int stride;
    int channels;
  };
  const Block blocks[] = {{1, 16}, {2, 32}, {1, 32}, {2, 64}, {1, 64}, {2, 128}, {1, 128},
                          {1, 128}, {1, 128}, {1, 128}, {1, 128}, {2, 256}, {1, 256}};
  PlanProblemBuilder g;
  int x = g.add_input("input", hwc(96, 96, 3));
  std::int64_t side = 48, channels = 8;
  x = g.add_op({x}, "conv", hwc(side, side, channels));
  int index = 1;
  for (const Block& b : blocks) {
    const std::int64_t side_in = side;
    side = (side + b.stride - 1) / b.stride;
    x = g.add_op({x}, "dw" + std::to_string(index), hwc(side, side, channels), InPlace::kDepthwise,
                 in_place_scratch(side_in * side_in, side * side));
    channels = b.channels;
    x = g.add_op({x}, "pw" + std::to_string(index), hwc(side, side, channels));
    ++index;
  }
  x = g.add_op({x}, "avgpool", channels);
  x = g.add_op({x}, "fc", 2);
  x = g.add_op({x}, "softmax", 2);
  g.mark_output(x);
  return g.build();
}

// ResNet-8 (image classification): 32x32x3 -> conv 16 -> 3 residual stages (16, 32 /2, 64 /2; two 3x3 convs,
// a 1x1 /2 conv shortcut on the downsampling stages, ADD with fused ReLU) -> avg pool -> FC 10 -> softmax.
// Op order as the Keras reference model builds it: the two convs of a stage, then its shortcut, then ADD.
PlanProblem resnet8() {
  PlanProblemBuilder g;
  int x = g.add_input("input", hwc(32, 32, 3));
  x = g.add_op({x}, "conv", hwc(32, 32, 16));
  std::int64_t side = 32;
  const int stage_channels[] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    const bool downsample = stage > 0;
    if (downsample) side /= 2;
    const std::int64_t bytes = hwc(side, side, stage_channels[stage]);
    const std::string name = "s" + std::to_string(stage + 1);
    int y = g.add_op({x}, name + "conv1", bytes);
    y = g.add_op({y}, name + "conv2", bytes);
    const int shortcut = downsample ? g.add_op({x}, name + "shortcut", bytes) : x;
    x = g.add_op({shortcut, y}, name + "add", bytes, InPlace::kElementwise);
  }
  x = g.add_op({x}, "avgpool", 64);
  x = g.add_op({x}, "fc", 10);
  x = g.add_op({x}, "softmax", 10);
  g.mark_output(x);
  return g.build();
}

// The buffers of TFLM's own planner test "TestPersonDetectionModel" (the 250 KB person_detect MobileNet,
// grayscale 96x96 input, lifetimes as TFLM's allocator recorded them): a reference point, not a model we build.
PlanProblem tflm_person_detect_buffers() {
  const int sizes[][3] = {{9216, 0, 29},  {3, 28, 29},     {256, 27, 28},   {2304, 26, 27}, {2304, 25, 26},
                          {2304, 24, 25}, {1152, 23, 24},  {4608, 22, 23},  {4608, 21, 22}, {4608, 20, 21},
                          {4608, 19, 20}, {4608, 18, 19},  {4608, 17, 18},  {4608, 16, 17}, {4608, 15, 16},
                          {4608, 14, 15}, {4608, 13, 14},  {4608, 12, 13},  {2304, 11, 12}, {9216, 10, 11},
                          {9216, 9, 10},  {9216, 8, 9},    {4608, 7, 8},    {18432, 6, 7},  {18432, 5, 6},
                          {18432, 4, 5},  {9216, 3, 4},    {36864, 2, 3},   {18432, 1, 2},  {18432, 0, 1}};
  PlanProblem problem;
  for (const auto& s : sizes) problem.tensors.push_back({"buffer", s[0], 16, s[1], s[2]});
  return problem;
}

std::int64_t best_arena(const PlanProblem& problem, PlanAlgorithm algorithm, const PlannerOptions& options) {
  const std::int64_t without = tml::deploy::plan_with(problem, algorithm, false, options).arena_size;
  const std::int64_t with = tml::deploy::plan_with(problem, algorithm, true, options).arena_size;
  return std::min(without, with);
}

void print_row(const std::string& label, const PlanProblem& problem, const PlannerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const MemoryPlan best = tml::deploy::plan_memory(problem, options);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const std::int64_t tflm = tml::deploy::plan_tflm_greedy(problem).arena_size;
  const std::int64_t by_size = best_arena(problem, PlanAlgorithm::kGreedyBySize, options);
  const std::int64_t best_fit = best_arena(problem, PlanAlgorithm::kGreedyBySizeBestFit, options);
  const std::int64_t breadth = best_arena(problem, PlanAlgorithm::kGreedyByBreadth, options);

  std::string search = "skipped";
  std::int64_t nodes = 0;
  bool searched = false, completed = true;
  for (const auto& attempt : best.attempts) {
    if (attempt.algorithm != PlanAlgorithm::kBranchAndBound) continue;
    searched = true;
    completed = completed && attempt.proven_optimal;
    nodes += attempt.search_nodes;
  }
  if (searched) search = (completed ? "proved " : "budget ") + std::to_string(nodes) + "n";
  int used_hints = 0;
  for (bool used : best.hint_used) used_hints += used;

  const double lb = static_cast<double>(best.lower_bound);
  std::printf("%-32s %4zu %5d/%-3zu %9lld %9lld %9lld %9lld %9lld %-14s %9lld %-7s %7.3f %7.3f %7.3f %8.2f\n",
              label.c_str(), problem.tensors.size(), used_hints, problem.hints.size(),
              static_cast<long long>(best.lower_bound), static_cast<long long>(tflm), static_cast<long long>(by_size),
              static_cast<long long>(best_fit), static_cast<long long>(breadth), search.c_str(),
              static_cast<long long>(best.arena_size), best.proven_optimal ? "proven" : "-",
              best.arena_size / lb, tflm / lb, static_cast<double>(best.arena_size) / static_cast<double>(tflm), ms);
}

}  // namespace

int main() {
  struct Model {
    const char* name;
    PlanProblem problem;
  };
  const Model models[] = {{"DS-CNN KWS", ds_cnn()},
                          {"MobileNetV1-0.25 VWW", mobilenet_v1_025()},
                          {"ResNet-8 IC", resnet8()},
                          {"TFLM person_detect test", tflm_person_detect_buffers()}};
  // Branch and bound on every model here: up to 64 buffers, 2 M nodes per hint choice.
  const PlannerOptions share_only{.exact_max_buffers = 64, .exact_node_budget = 2'000'000};
  PlannerOptions with_depthwise = share_only;
  with_depthwise.inplace_depthwise = true;
  const PlannerOptions no_hints{.use_share_hints = false, .exact_max_buffers = 64,
                                .exact_node_budget = 2'000'000};

  std::printf("int8 activation arena in bytes (footprints rounded to 16). columns: tensors, hints used/offered, "
              "live-set lower bound, TFLM greedy-by-size, greedy-by-size / best-fit / breadth (best of with and "
              "without hints), branch and bound (nodes), best plan, proof, best/LB, TFLM/LB, best/TFLM, ms for "
              "plan_memory\n\n");
  std::printf("%-32s %4s %9s %9s %9s %9s %9s %9s %-14s %9s %-7s %7s %7s %7s %8s\n", "model / hints", "tens",
              "hints", "LB", "TFLM", "by-size", "best-fit", "breadth", "B&B", "best", "proof", "best/LB", "TFLM/LB",
              "b/TFLM", "ms");
  for (const Model& m : models) {
    print_row(std::string(m.name) + " / none", m.problem, no_hints);
    if (m.problem.hints.empty()) continue;
    print_row(std::string(m.name) + " / share", m.problem, share_only);
    print_row(std::string(m.name) + " / share+dw", m.problem, with_depthwise);
  }
  return 0;
}
