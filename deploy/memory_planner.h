#pragma once
// Static arena planner (DESIGN.md §3 "Generated firmware"): every activation and scratch buffer of an int8
// model gets a fixed offset in one static arena at build time. Weights, biases and multipliers live in flash
// and are not planned here. Host only (C++20, standard library).
//
// Model of the problem
// - Ops are numbered 0..N-1 in execution order. A tensor is live on the inclusive op range
//   [first_op, last_op]: first_op is the op that writes it (0 for graph inputs), last_op the last op that
//   reads it (== first_op for a graph output written by the last op, or for an op's scratch buffer).
// - Two tensors live at a common op must not share bytes, unless an in-place hint between them is used.
// - Each tensor occupies its footprint [offset, offset + round_up(size, alignment)), like TFLite Micro,
//   which aligns every request to 16 bytes; offsets are multiples of the tensor's alignment (a power of two).
//   The arena size is the largest footprint end, rounded up to the largest alignment.
//
// In-place hints ("target may be written over source")
// - kShareBuffer: target starts at source's offset. Valid when source's last reader is the op producing
//   target, target.size <= source.size, and the kernel reads element i before writing element i:
//   element-wise ADD/MUL, activations, requantize (int8 -> int8), and RESHAPE (a pure alias).
// - kDepthwiseChannelwise (TinyEngine / MCUNet in-place depthwise, runtime depthwise_conv2d_s8_in_place):
//   the kernel works one channel at a time through a temporary of `channel_scratch_bytes` (tml's runtime
//   gathers the input plane and computes the output plane there: H*W + OH*OW bytes, see
//   rt::depthwise_in_place_scratch_bytes), then scatters the output plane back. With depth multiplier 1 and
//   HWC layout, output channel c only lands on bytes of input channel c, which is dead once output channel c
//   is done, so target may start at source's offset (target.size <= source.size) at the price of the
//   temporary, live during that op only. The planner places that temporary itself. Off by default
//   (PlannerOptions::inplace_depthwise): the generated code must then call the in-place kernel.
// Hints are optional: the planner tries all usable hints together and none (see PlannerOptions). A hint is
// usable when the options allow its kind and it saves bytes (a depthwise channel buffer as large as the
// target saves nothing). A source gives its buffer to at most one target and a target takes at most one
// source (the first listed hint wins); a hint whose use would make two other tensors of the shared buffer
// overlap is dropped.
//
// Programmer errors in the problem (negative sizes, bad alignment, lifetimes or hint preconditions) throw
// std::invalid_argument. A plan that breaks the rules is not an exception: check_plan() lists why.
#include <cstdint>
#include <string>
#include <vector>

namespace tml::deploy {

struct PlanTensor {
  std::string name;                // for messages only
  std::int64_t size = 0;           // bytes
  std::int64_t alignment = 16;     // power of two
  int first_op = 0;                // op that writes it (0 for graph inputs)
  int last_op = 0;                 // last op that reads it, inclusive
};

enum class InPlaceKind { kShareBuffer, kDepthwiseChannelwise };

struct InPlaceHint {
  int source = 0;  // tensor index: an input of the op producing `target`, last read by that op
  int target = 0;  // tensor index: the output that may be written over `source`
  InPlaceKind kind = InPlaceKind::kShareBuffer;
  std::int64_t channel_scratch_bytes = 0;  // kDepthwiseChannelwise only: the kernel's per-channel temporary
};

struct PlanProblem {
  std::vector<PlanTensor> tensors;
  std::vector<InPlaceHint> hints;
};

enum class PlanAlgorithm {
  kGreedyBySize,          // TFLite Micro's GreedyMemoryPlanner: size descending, lowest offset that fits
  kGreedyBySizeBestFit,   // Pisarchyk & Lee 2020 greedy by size: size descending, smallest gap that fits
  kGreedyByBreadth,       // Pisarchyk & Lee 2020 greedy by breadth: ops by live bytes, then size; best fit
  kBranchAndBound,        // exact search between the live-set bound and the best greedy plan
};

const char* to_string(PlanAlgorithm algorithm);

struct PlannerOptions {
  bool use_share_hints = true;      // kShareBuffer hints
  bool inplace_depthwise = false;   // kDepthwiseChannelwise hints (needs the runtime's in-place kernel)
  // Branch and bound runs on a hint choice with at most this many buffers (tensors after sharing), for at
  // most this many search nodes per hint choice (a node costs ~1-3 us at 30-90 buffers). When it finishes
  // within the budget its result is proven optimal for that hint choice.
  int exact_max_buffers = 64;
  std::int64_t exact_node_budget = 200'000;
};

// One algorithm run on one hint choice, kept for reports and benchmarks.
struct PlanAttempt {
  PlanAlgorithm algorithm = PlanAlgorithm::kGreedyBySize;
  bool used_hints = false;        // run with every usable hint applied (false: with none)
  std::int64_t arena_size = 0;    // the plan it found (branch and bound: the best known when it stopped)
  bool proven_optimal = false;    // branch and bound only: no smaller plan exists for this hint choice
  std::int64_t search_nodes = 0;  // branch and bound only
};

struct MemoryPlan {
  std::vector<std::int64_t> offsets;               // one per PlanProblem::tensors entry
  std::vector<bool> hint_used;                     // one per PlanProblem::hints entry
  std::vector<std::int64_t> hint_scratch_offsets;  // one per hint: a used depthwise hint's channel buffer, else -1
  std::int64_t arena_size = 0;
  std::int64_t lower_bound = 0;                    // live_set_lower_bound() of the problem and options
  PlanAlgorithm algorithm = PlanAlgorithm::kGreedyBySize;  // which algorithm produced these offsets
  // True when no plan is smaller: arena_size == lower_bound, or branch and bound finished on every hint
  // choice the planner tries (all usable hints / none). Mixed hint subsets are not searched.
  bool proven_optimal = false;
  std::vector<PlanAttempt> attempts;               // every run, in the order made
};

// Runs every applicable algorithm on both hint choices (with the usable hints, and without) and keeps the
// smallest arena. Ties keep the earlier attempt (TFLM's greedy first) and prefer no hints: in-place kernels
// are only asked for when they make the arena smaller.
MemoryPlan plan_memory(const PlanProblem& problem, const PlannerOptions& options = {});

// TFLite Micro's GreedyMemoryPlanner, step for step (stable size-descending order with ties in reverse
// insertion order, first-fit walk of the offset-sorted list), on footprints; hints are ignored, as TFLM does.
// This is "TFLM's plan" the others are compared with.
MemoryPlan plan_tflm_greedy(const PlanProblem& problem);

// One algorithm alone, with every usable hint (per options) applied or none. Branch and bound starts from
// the best greedy plan of that hint choice; greedy-by-size without hints is plan_tflm_greedy().
MemoryPlan plan_with(const PlanProblem& problem, PlanAlgorithm algorithm, bool use_hints,
                     const PlannerOptions& options = {});

// max over ops of the bytes that must be live at that op: the sum of footprints of the tensors live there,
// minus what each usable hint at that op saves (the smaller footprint, less a depthwise channel buffer),
// rounded up to the largest alignment. No plan using any subset of the usable hints is smaller. A bound on
// footprints, so exact for uniform alignment; with mixed alignments it bounds footprint-disjoint plans
// (the only kind this planner makes).
std::int64_t live_set_lower_bound(const PlanProblem& problem, const PlannerOptions& options = {});

struct PlanViolation {
  enum class Kind { kShape, kOverlap, kMisaligned, kOutOfArena, kBadHintUse };
  Kind kind = Kind::kShape;
  // Tensor indices; index tensors.size() + h names the channel buffer of hint h. -1 when not applicable.
  int first = -1;
  int second = -1;
  std::string message;
};

// Every rule the plan breaks, on real bytes [offset, offset + size): two buffers live at a common op that
// overlap (allowed only for a used hint's source and target at the same offset), an offset that is not a
// multiple of the alignment, a buffer outside [0, arena_size), a used hint whose preconditions fail, or
// vectors of the wrong length. Empty when the plan is valid.
std::vector<PlanViolation> check_plan(const PlanProblem& problem, const MemoryPlan& plan);

// Builds a PlanProblem from an op sequence with one output per op; lifetimes and hints follow from it.
// Every tensor it makes has 16-byte alignment; edit the built problem for others.
class PlanProblemBuilder {
 public:
  enum class InPlace { kNone, kElementwise, kReshape, kDepthwise };

  // A graph input, written before op 0.
  int add_input(std::string name, std::int64_t size, std::int64_t alignment = 16);
  // Appends an op reading `inputs` and writing one new tensor; returns that tensor's index. kElementwise and
  // kReshape offer the output each input (in order) whose last reader is this op and that is at least as
  // large; kDepthwise offers the first input with a per-channel temporary of `channel_scratch_bytes`.
  int add_op(const std::vector<int>& inputs, std::string output_name, std::int64_t output_size,
             InPlace in_place = InPlace::kNone, std::int64_t channel_scratch_bytes = 0);
  // A scratch buffer of the most recently added op (live during that op only); returns its index.
  int add_scratch(std::string name, std::int64_t size);
  // Graph outputs stay live until the last op.
  void mark_output(int tensor);

  int op_count() const { return static_cast<int>(ops_.size()); }
  PlanProblem build() const;

 private:
  struct OpRecord {
    std::vector<int> inputs;
    int output = -1;
    InPlace in_place = InPlace::kNone;
    std::int64_t channel_scratch_bytes = 0;
  };
  std::vector<PlanTensor> tensors_;
  std::vector<bool> is_output_;
  std::vector<OpRecord> ops_;
};

}  // namespace tml::deploy
