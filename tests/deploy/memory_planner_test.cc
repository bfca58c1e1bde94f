#include "deploy/memory_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace tml::deploy {
namespace {

using InPlace = PlanProblemBuilder::InPlace;
using Kind = PlanViolation::Kind;

std::string describe(const std::vector<PlanViolation>& violations) {
  std::string text;
  for (const PlanViolation& v : violations) text += v.message + "\n";
  return text;
}

bool has_violation(const std::vector<PlanViolation>& violations, Kind kind) {
  return std::any_of(violations.begin(), violations.end(), [&](const PlanViolation& v) { return v.kind == kind; });
}

bool bytes_overlap(std::int64_t a_offset, std::int64_t a_size, std::int64_t b_offset, std::int64_t b_size) {
  return a_offset < b_offset + b_size && b_offset < a_offset + a_size;
}

// ---------------------------------------------------------------------------------------------------------
// Hand cases.

TEST(MemoryPlanner, ChainNeedsTheLargestAdjacentPair) {
  PlanProblemBuilder g;
  const int a = g.add_input("a", 1024);
  const int b = g.add_op({a}, "b", 4096);
  const int c = g.add_op({b}, "c", 2048);
  const int d = g.add_op({c}, "d", 512);
  g.mark_output(d);
  const PlanProblem problem = g.build();
  EXPECT_EQ(problem.tensors[b].first_op, 0);
  EXPECT_EQ(problem.tensors[b].last_op, 1);

  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.arena_size, 4096 + 2048);
  EXPECT_EQ(plan.lower_bound, 4096 + 2048);
  EXPECT_TRUE(plan.proven_optimal);
  EXPECT_EQ(plan.algorithm, PlanAlgorithm::kGreedyBySize);  // TFLM's plan is already optimal: keep it
  EXPECT_EQ(plan_tflm_greedy(problem).arena_size, 4096 + 2048);
}

TEST(MemoryPlanner, ResidualSkipStaysLiveAcrossTheBlock) {
  PlanProblemBuilder g;
  const int x = g.add_input("x", 2048);
  const int c1 = g.add_op({x}, "c1", 2048);
  const int c2 = g.add_op({c1}, "c2", 2048);
  const int sum = g.add_op({x, c2}, "sum", 2048);
  const int out = g.add_op({sum}, "out", 64);
  g.mark_output(out);
  const PlanProblem problem = g.build();
  EXPECT_EQ(problem.tensors[x].last_op, 2);  // read again by the add

  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.arena_size, 3 * 2048);  // x, c2's input c1 and c2 at op 1; x, c2, sum at op 2
  EXPECT_EQ(plan.lower_bound, 3 * 2048);
  for (int t : {c1, c2, sum}) {
    EXPECT_FALSE(bytes_overlap(plan.offsets[x], 2048, plan.offsets[t], 2048)) << "tensor " << t;
  }
}

TEST(MemoryPlanner, InPlaceAddWritesOverItsInput) {
  PlanProblemBuilder g;
  const int x = g.add_input("x", 2048);
  const int c1 = g.add_op({x}, "c1", 2048);
  const int sum = g.add_op({x, c1}, "sum", 2048, InPlace::kElementwise);
  const int out = g.add_op({sum}, "out", 64);
  g.mark_output(out);
  const PlanProblem problem = g.build();
  ASSERT_EQ(problem.hints.size(), 2u);  // sum may take x's or c1's buffer

  EXPECT_EQ(plan_tflm_greedy(problem).arena_size, 3 * 2048);  // TFLM keeps x, c1 and sum apart
  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.arena_size, 2 * 2048);
  EXPECT_EQ(plan.lower_bound, 2 * 2048);
  EXPECT_TRUE(plan.hint_used[0]);   // the first offer wins
  EXPECT_FALSE(plan.hint_used[1]);  // a target takes one source
  EXPECT_EQ(plan.offsets[sum], plan.offsets[x]);

  const MemoryPlan without = plan_memory(problem, {.use_share_hints = false});
  EXPECT_EQ(without.arena_size, 3 * 2048);
  EXPECT_EQ(without.lower_bound, 3 * 2048);
}

TEST(MemoryPlanner, ReshapeAliasesItsInput) {
  PlanProblemBuilder g;
  const int x = g.add_input("x", 1000);
  const int y = g.add_op({x}, "conv", 3000);
  const int r = g.add_op({y}, "reshape", 3000, InPlace::kReshape);
  const int out = g.add_op({r}, "fc", 40);
  g.mark_output(out);
  const PlanProblem problem = g.build();

  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.offsets[r], plan.offsets[y]);
  EXPECT_EQ(plan.arena_size, 1008 + 3008);  // footprints are 16-byte multiples
  EXPECT_EQ(plan_tflm_greedy(problem).arena_size, 3008 + 3008);
}

TEST(MemoryPlanner, DepthwiseInPlaceIsOptInAndPlacesItsChannelBuffer) {
  PlanProblemBuilder g;  // DS-CNN-like: 25x5x64 depthwise (runtime scratch: input + output plane), pool
  const int x = g.add_input("x", 8000);
  const int dw = g.add_op({x}, "dw", 8000, InPlace::kDepthwise, 25 * 5 + 25 * 5);
  const int pool = g.add_op({dw}, "pool", 64);
  g.mark_output(pool);
  const PlanProblem problem = g.build();
  ASSERT_EQ(problem.hints.size(), 1u);

  const MemoryPlan off = plan_memory(problem);
  EXPECT_FALSE(off.hint_used[0]);
  EXPECT_EQ(off.arena_size, 16000);

  const MemoryPlan on = plan_memory(problem, {.inplace_depthwise = true});
  EXPECT_TRUE(check_plan(problem, on).empty()) << describe(check_plan(problem, on));
  EXPECT_TRUE(on.hint_used[0]);
  EXPECT_EQ(on.offsets[dw], on.offsets[x]);
  EXPECT_GE(on.hint_scratch_offsets[0], 0);
  EXPECT_FALSE(bytes_overlap(on.hint_scratch_offsets[0], 250, on.offsets[x], 8000));
  EXPECT_EQ(on.arena_size, 8000 + 256);
  EXPECT_EQ(on.lower_bound, 8000 + 256);
}

TEST(MemoryPlanner, TflmGreedyReproducesTflmsOwnTests) {
  // tflite-micro greedy_memory_planner_test.cc, TestGreedyMedium (byte sizes, so alignment 1).
  PlanProblem medium;
  medium.tensors = {{"0", 10, 1, 0, 1}, {"1", 20, 1, 1, 2}, {"2", 30, 1, 2, 3}, {"3", 40, 1, 3, 4}, {"4", 50, 1, 0, 1}};
  const MemoryPlan plan = plan_tflm_greedy(medium);
  EXPECT_EQ(plan.offsets, (std::vector<std::int64_t>{50, 70, 40, 0, 0}));
  EXPECT_EQ(plan.arena_size, 90);
  // TestOverlapCase.
  PlanProblem overlap;
  overlap.tensors = {{"0", 100, 1, 0, 1}, {"1", 50, 1, 2, 3}, {"2", 20, 1, 1, 2}};
  EXPECT_EQ(plan_tflm_greedy(overlap).arena_size, 120);
  // TestGreedyBasics.
  PlanProblem basics;
  basics.tensors = {{"0", 10, 1, 0, 1}, {"1", 20, 1, 2, 3}};
  EXPECT_EQ(plan_tflm_greedy(basics).offsets, (std::vector<std::int64_t>{0, 0}));
}

TEST(MemoryPlanner, SearchClosesTheHoleGreedyLeaves) {
  // Five buffers where every greedy order strands a hole; the exact search reaches the live-set bound.
  PlanProblem problem;
  problem.tensors = {{"t0", 32, 16, 2, 3}, {"t1", 64, 16, 0, 1}, {"t2", 32, 16, 1, 2}, {"t3", 48, 16, 0, 3},
                     {"t4", 48, 16, 3, 4}};
  const MemoryPlan tflm = plan_tflm_greedy(problem);
  EXPECT_EQ(tflm.arena_size, 176);
  for (PlanAlgorithm greedy : {PlanAlgorithm::kGreedyBySizeBestFit, PlanAlgorithm::kGreedyByBreadth}) {
    EXPECT_GT(plan_with(problem, greedy, false).arena_size, 144) << to_string(greedy);
  }
  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.algorithm, PlanAlgorithm::kBranchAndBound);
  EXPECT_EQ(plan.arena_size, 144);
  EXPECT_EQ(plan.lower_bound, 144);
  EXPECT_TRUE(plan.proven_optimal);
}

TEST(MemoryPlanner, SearchBudgetStopsWithoutProof) {
  PlanProblem problem;
  problem.tensors = {{"t0", 32, 16, 2, 3}, {"t1", 64, 16, 0, 1}, {"t2", 32, 16, 1, 2}, {"t3", 48, 16, 0, 3},
                     {"t4", 48, 16, 3, 4}};
  const MemoryPlan plan = plan_memory(problem, {.exact_node_budget = 1});
  EXPECT_EQ(plan.arena_size, 176);  // the greedy plan stands
  EXPECT_FALSE(plan.proven_optimal);
  const MemoryPlan skipped = plan_memory(problem, {.exact_max_buffers = 4});
  EXPECT_FALSE(skipped.proven_optimal);
  EXPECT_TRUE(std::none_of(skipped.attempts.begin(), skipped.attempts.end(),
                           [](const PlanAttempt& a) { return a.algorithm == PlanAlgorithm::kBranchAndBound; }));
}

TEST(MemoryPlanner, CheckPlanCatchesBrokenPlans) {
  PlanProblemBuilder g;
  const int x = g.add_input("x", 2048);
  const int c1 = g.add_op({x}, "c1", 2048);
  const int sum = g.add_op({x, c1}, "sum", 2048, InPlace::kElementwise);
  g.mark_output(sum);
  const PlanProblem problem = g.build();
  const MemoryPlan good = plan_memory(problem);
  ASSERT_TRUE(check_plan(problem, good).empty());
  ASSERT_TRUE(good.hint_used[0]);

  MemoryPlan overlap = good;
  overlap.offsets[c1] = overlap.offsets[x] + 1024;
  EXPECT_TRUE(has_violation(check_plan(problem, overlap), Kind::kOverlap));

  MemoryPlan misaligned = good;
  misaligned.offsets[c1] += 8;
  misaligned.arena_size += 16;
  EXPECT_TRUE(has_violation(check_plan(problem, misaligned), Kind::kMisaligned));

  MemoryPlan too_small = good;
  too_small.arena_size -= 16;
  EXPECT_TRUE(has_violation(check_plan(problem, too_small), Kind::kOutOfArena));

  MemoryPlan hint_moved = good;  // claims the in-place add but puts sum elsewhere
  hint_moved.offsets[sum] = 2 * 2048;
  hint_moved.arena_size = 3 * 2048;
  EXPECT_TRUE(has_violation(check_plan(problem, hint_moved), Kind::kBadHintUse));

  MemoryPlan hint_not_claimed = good;  // same bytes, but without the hint the overlap is an error
  hint_not_claimed.hint_used[0] = false;
  EXPECT_TRUE(has_violation(check_plan(problem, hint_not_claimed), Kind::kOverlap));

  MemoryPlan short_vector = good;
  short_vector.offsets.pop_back();
  EXPECT_TRUE(has_violation(check_plan(problem, short_vector), Kind::kShape));
}

TEST(MemoryPlanner, ProgrammerErrorsThrow) {
  PlanProblem negative;
  negative.tensors = {{"a", -1, 16, 0, 0}};
  EXPECT_THROW(plan_memory(negative), std::invalid_argument);
  PlanProblem alignment;
  alignment.tensors = {{"a", 10, 12, 0, 0}};
  EXPECT_THROW(plan_memory(alignment), std::invalid_argument);
  PlanProblem lifetime;
  lifetime.tensors = {{"a", 10, 16, 3, 2}};
  EXPECT_THROW(plan_memory(lifetime), std::invalid_argument);
  PlanProblem source_lives_on;  // the source is read after the op producing the target
  source_lives_on.tensors = {{"a", 64, 16, 0, 2}, {"b", 64, 16, 1, 2}};
  source_lives_on.hints = {{0, 1, InPlaceKind::kShareBuffer, 0}};
  EXPECT_THROW(plan_memory(source_lives_on), std::invalid_argument);
  EXPECT_THROW(check_plan(source_lives_on, MemoryPlan{}), std::invalid_argument);
}

TEST(MemoryPlanner, EmptyProblem) {
  const MemoryPlan plan = plan_memory(PlanProblem{});
  EXPECT_EQ(plan.arena_size, 0);
  EXPECT_TRUE(plan.proven_optimal);
}

// ---------------------------------------------------------------------------------------------------------
// Random graphs: chains, residual blocks, branches joined by concat, long skips, reshapes, depthwise.

class GraphGenerator {
 public:
  GraphGenerator(std::uint32_t seed, bool unit_sizes) : rng_(seed), unit_sizes_(unit_sizes) {}

  PlanProblem make(int target_ops) {
    builder_ = PlanProblemBuilder();
    bytes_.clear();
    outputs_.clear();
    int current = track(builder_.add_input("in", random_size()));
    while (builder_.op_count() < target_ops) current = add_block(current);
    builder_.mark_output(current);
    return builder_.build();
  }

  std::mt19937& rng() { return rng_; }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::int64_t random_size() {
    if (unit_sizes_) return 16 * pick(1, 6);
    const std::int64_t scale = std::int64_t{1} << pick(4, 10);  // 16 B .. 1 KiB steps
    return scale * pick(1, 8) - (pick(0, 1) != 0 ? pick(0, 15) : 0);
  }

  int track(int tensor) {
    bytes_.resize(tensor + 1, 0);
    return tensor;
  }
  int op(const std::vector<int>& inputs, std::int64_t size, InPlace in_place = InPlace::kNone,
         std::int64_t channel = 0) {
    const int t = track(builder_.add_op(inputs, "t", size, in_place, channel));
    bytes_[t] = size;
    outputs_.push_back(t);
    if (!unit_sizes_ && pick(0, 9) == 0) track(builder_.add_scratch("scratch", random_size() / 4 + 1));
    return t;
  }

  int add_block(int current) {
    switch (pick(0, 7)) {
      case 0:
      case 1:
        return op({current}, random_size());
      case 2:
        return op({current}, bytes_[current], InPlace::kElementwise);
      case 3: {  // residual block: 1-2 convs, then ADD with the skip
        const int skip = current;
        for (int i = pick(1, 2); i > 0; --i) current = op({current}, i == 1 ? bytes_[skip] : random_size());
        return op({skip, current}, bytes_[skip], InPlace::kElementwise);
      }
      case 4: {  // two branches, concat
        int left = op({current}, random_size());
        const int right = op({current}, random_size());
        if (pick(0, 1) != 0) left = op({left}, random_size());
        return op({left, right}, bytes_[left] + bytes_[right]);
      }
      case 5:
        return op({current}, bytes_[current], InPlace::kReshape);
      case 6: {  // depthwise, stride 1 or 2
        const std::int64_t channels = pick(1, 4) * 4;
        const std::int64_t out = std::max<std::int64_t>(1, pick(0, 1) != 0 ? bytes_[current] : bytes_[current] / 4);
        return op({current}, out, InPlace::kDepthwise, std::max<std::int64_t>(1, out / channels));
      }
      default: {  // concat with an earlier output: a long skip
        const int earlier = outputs_.empty() ? current : outputs_[pick(0, static_cast<int>(outputs_.size()) - 1)];
        return op({current, earlier}, bytes_[current] + bytes_[earlier]);
      }
    }
  }

  std::mt19937 rng_;
  bool unit_sizes_;
  PlanProblemBuilder builder_;
  std::vector<std::int64_t> bytes_;
  std::vector<int> outputs_;
};

constexpr PlanAlgorithm kGreedies[] = {PlanAlgorithm::kGreedyBySize, PlanAlgorithm::kGreedyBySizeBestFit,
                                       PlanAlgorithm::kGreedyByBreadth};

TEST(MemoryPlannerRandom, PlansAreValidBoundedAndNoWorseThanTflm) {
  GraphGenerator generator(20240611u, false);
  int graphs = 0, beat_tflm = 0, small_graphs = 0, small_proven = 0, small_at_bound = 0, search_improved = 0;
  int medium_proven = 0, medium_at_bound = 0, beat_tflm_without_hints = 0;
  double saved_fraction_sum = 0;
  for (int n = 0; n < 300; ++n) {
    const bool small = n < 200;
    PlanProblem problem = generator.make(small ? 2 + n % 6 : 12 + n % 25);
    if (n % 5 == 4) {  // mixed alignments
      for (PlanTensor& t : problem.tensors) {
        t.alignment = std::int64_t{1} << std::uniform_int_distribution<int>(0, 5)(generator.rng());
      }
    }
    const PlannerOptions options{.inplace_depthwise = n % 2 == 0, .exact_node_budget = 20'000};
    SCOPED_TRACE("graph " + std::to_string(n) + ", " + std::to_string(problem.tensors.size()) + " tensors");

    const MemoryPlan tflm = plan_tflm_greedy(problem);
    const MemoryPlan best = plan_memory(problem, options);
    ASSERT_TRUE(check_plan(problem, tflm).empty()) << describe(check_plan(problem, tflm));
    ASSERT_TRUE(check_plan(problem, best).empty()) << describe(check_plan(problem, best));
    EXPECT_GE(best.arena_size, best.lower_bound);
    EXPECT_LE(best.arena_size, tflm.arena_size);

    std::int64_t best_greedy = tflm.arena_size;
    for (PlanAlgorithm algorithm : kGreedies) {
      for (bool hints : {false, true}) {
        const MemoryPlan plan = plan_with(problem, algorithm, hints, options);
        ASSERT_TRUE(check_plan(problem, plan).empty()) << to_string(algorithm) << describe(check_plan(problem, plan));
        EXPECT_GE(plan.arena_size, best.lower_bound);
        best_greedy = std::min(best_greedy, plan.arena_size);
      }
    }
    EXPECT_LE(best.arena_size, best_greedy);

    ++graphs;
    if (best.arena_size < tflm.arena_size) {
      ++beat_tflm;
      beat_tflm_without_hints += std::none_of(best.hint_used.begin(), best.hint_used.end(), [](bool u) { return u; });
      saved_fraction_sum += 1.0 - static_cast<double>(best.arena_size) / static_cast<double>(tflm.arena_size);
    }
    if (best.algorithm == PlanAlgorithm::kBranchAndBound) ++search_improved;
    if (small) {
      ++small_graphs;
      // Small graphs stay under the exact-search size limit and its node budget: the result is proven.
      EXPECT_TRUE(best.proven_optimal);
      small_proven += best.proven_optimal;
      small_at_bound += best.arena_size == best.lower_bound;
    } else {
      medium_proven += best.proven_optimal;
      medium_at_bound += best.arena_size == best.lower_bound;
    }
  }
  std::printf("[ summary  ] %d random graphs: beat TFLM's greedy on %d (%.1f%%; %d by placement alone, no in-place "
              "hint), saving %.1f%% of its arena on average when we do (%.1f%% over all graphs); branch and bound "
              "beat every greedy on %d; proven optimal: %d/%d small, %d/%d medium; at the live-set lower bound: "
              "%d/%d small, %d/%d medium\n",
              graphs, beat_tflm, 100.0 * beat_tflm / graphs, beat_tflm_without_hints,
              beat_tflm ? 100.0 * saved_fraction_sum / beat_tflm : 0.0, 100.0 * saved_fraction_sum / graphs,
              search_improved, small_proven, small_graphs, medium_proven,
              graphs - small_graphs, small_at_bound, small_graphs, medium_at_bound, graphs - small_graphs);
}

TEST(MemoryPlannerRandom, GenericLowestFitMatchesTflmWalk) {
  // plan_with(greedy-by-size, hints on) runs the generic lowest-fit placement; with no hints to use it must
  // reproduce TFLM's list walk offset for offset.
  GraphGenerator generator(7u, false);
  for (int n = 0; n < 100; ++n) {
    const PlanProblem problem = generator.make(3 + n % 30);
    const MemoryPlan tflm = plan_tflm_greedy(problem);
    const MemoryPlan generic = plan_with(problem, PlanAlgorithm::kGreedyBySize, true, {.use_share_hints = false});
    EXPECT_EQ(generic.offsets, tflm.offsets) << "graph " << n;
  }
}

// Smallest arena over every assignment of 16-byte-multiple offsets for the hint choice of a given plan: an
// independent check of the branch and bound. With offsets on 16-byte multiples, a tensor of n bytes blocks
// the same offsets as its 16-byte footprint, so footprints give the arena directly.
class Exhaustive {
 public:
  Exhaustive(const PlanProblem& problem, const MemoryPlan& hint_choice, std::int64_t upper)
      : problem_(problem), hints_(hint_choice), best_(upper), offsets_(problem.tensors.size(), -1),
        order_(problem.tensors.size()) {
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int>(i);
    // Large tensors first: conflicts show up early.
    std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return footprint(a) > footprint(b); });
  }

  // The smallest arena below `upper`, or `upper` when there is none.
  std::int64_t solve() {
    place(0, 0);
    return best_;
  }

 private:
  std::int64_t footprint(int i) const { return (problem_.tensors[i].size + 15) / 16 * 16; }
  const InPlaceHint* used_hint_between(int a, int b) const {
    for (std::size_t h = 0; h < problem_.hints.size(); ++h) {
      const InPlaceHint& hint = problem_.hints[h];
      if (hints_.hint_used[h] && ((hint.source == a && hint.target == b) || (hint.source == b && hint.target == a))) {
        return &hint;
      }
    }
    return nullptr;
  }
  // The offset tensor i must take to honour a used hint with an already placed partner, or -1.
  std::int64_t forced_offset(int i) const {
    for (std::size_t j = 0; j < offsets_.size(); ++j) {
      if (offsets_[j] >= 0 && used_hint_between(i, static_cast<int>(j)) != nullptr) return offsets_[j];
    }
    return -1;
  }
  bool fits(int i) const {
    const PlanTensor& t = problem_.tensors[i];
    for (std::size_t j = 0; j < offsets_.size(); ++j) {
      const PlanTensor& u = problem_.tensors[j];
      if (offsets_[j] < 0 || static_cast<int>(j) == i) continue;
      if (t.first_op > u.last_op || u.first_op > t.last_op) continue;
      if (used_hint_between(i, static_cast<int>(j)) != nullptr) continue;  // same offset, forced
      if (bytes_overlap(offsets_[i], footprint(i), offsets_[j], footprint(static_cast<int>(j)))) return false;
    }
    return true;
  }
  void place(std::size_t depth, std::int64_t end) {
    if (end >= best_) return;
    if (depth == order_.size()) {
      best_ = end;
      return;
    }
    const int i = order_[depth];
    const std::int64_t size = footprint(i);
    const std::int64_t forced = forced_offset(i);
    for (std::int64_t offset = forced >= 0 ? forced : 0; offset + size < best_; offset += 16) {
      offsets_[i] = offset;
      if (fits(i)) place(depth + 1, std::max(end, offset + size));
      if (forced >= 0) break;
    }
    offsets_[i] = -1;
  }

  const PlanProblem& problem_;
  const MemoryPlan& hints_;
  std::int64_t best_;
  std::vector<std::int64_t> offsets_;
  std::vector<int> order_;
};

TEST(MemoryPlanner, ProvesAnOptimumAboveTheLiveSetBound) {
  // Four 16-byte units are live at every op, yet no plan fits in 64 bytes: t2 must sit at an end beside
  // the 3-unit t1 (op 1), t5 at an end beside the 3-unit t8 (op 5), and at op 4 t4 and t5 must leave two
  // adjacent units for t7; with t3 at op 2 the cases run out. Only the exhausted search can say so.
  PlanProblem problem;
  problem.tensors = {{"t0", 16, 16, 0, 0}, {"t1", 48, 16, 0, 1}, {"t2", 16, 16, 1, 3},
                     {"t3", 32, 16, 2, 2}, {"t4", 16, 16, 2, 4}, {"t5", 16, 16, 3, 5},
                     {"t6", 16, 16, 3, 3}, {"t7", 32, 16, 4, 4}, {"t8", 48, 16, 5, 5}};
  const MemoryPlan plan = plan_memory(problem);
  EXPECT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
  EXPECT_EQ(plan.lower_bound, 64);
  EXPECT_EQ(plan.arena_size, 80);
  EXPECT_TRUE(plan.proven_optimal);
  EXPECT_EQ(Exhaustive(problem, plan, plan.arena_size).solve(), 80);  // nothing smaller
  const MemoryPlan starved = plan_memory(problem, {.exact_node_budget = 2});
  EXPECT_EQ(starved.arena_size, 80);
  EXPECT_FALSE(starved.proven_optimal);  // same plan, but no proof
}

TEST(MemoryPlanner, HintsThatSaveNothingAreNotUsed) {
  // Depthwise with a 16-byte output and a 64-byte channel buffer: in place costs more than it saves.
  PlanProblemBuilder g;
  const int x = g.add_input("x", 1024);
  const int dw = g.add_op({x}, "dw", 16, InPlace::kDepthwise, 64);
  g.mark_output(dw);
  const PlanProblem problem = g.build();
  ASSERT_EQ(problem.hints.size(), 1u);
  const MemoryPlan plan = plan_memory(problem, {.inplace_depthwise = true});
  EXPECT_FALSE(plan.hint_used[0]);
  EXPECT_EQ(plan.arena_size, 1024 + 16);
  EXPECT_EQ(plan.lower_bound, 1024 + 16);
}

TEST(MemoryPlannerRandom, BranchAndBoundMatchesExhaustiveSearch) {
  GraphGenerator generator(99u, true);
  int checked = 0, below_greedy = 0;
  for (int n = 0; n < 300; ++n) {
    const PlanProblem problem = generator.make(2 + n % 6);
    if (problem.tensors.size() > 9) continue;
    SCOPED_TRACE("graph " + std::to_string(n));
    for (bool hints : {false, true}) {
      const MemoryPlan exact = plan_with(problem, PlanAlgorithm::kBranchAndBound, hints);
      ASSERT_TRUE(check_plan(problem, exact).empty()) << describe(check_plan(problem, exact));
      ASSERT_TRUE(exact.proven_optimal);
      const std::int64_t optimum = Exhaustive(problem, exact, exact.arena_size).solve();  // anything smaller?
      EXPECT_EQ(exact.arena_size, optimum);
      std::int64_t best_greedy = INT64_MAX;
      for (PlanAlgorithm algorithm : kGreedies) {
        best_greedy = std::min(best_greedy, plan_with(problem, algorithm, hints).arena_size);
      }
      EXPECT_LE(exact.arena_size, best_greedy);
      below_greedy += exact.arena_size < best_greedy;
      ++checked;
    }
  }
  EXPECT_GT(checked, 400);
  std::printf("[ summary  ] branch and bound = exhaustive optimum on %d tiny plans; below every greedy on %d\n",
              checked, below_greedy);
}

TEST(MemoryPlannerRandom, BranchAndBoundMatchesExhaustiveSearchOnRandomIntervals) {
  // Arbitrary lifetimes (not from a graph), empty tensors included, and share hints between any tensor and a
  // smaller one starting where it ends: shared buffers whose tensors differ in size.
  std::mt19937 rng(3u);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0, hinted = 0;
  for (int n = 0; n < 300; ++n) {
    PlanProblem problem;
    const int ops = pick(2, 7);
    for (int i = pick(3, 7); i > 0; --i) {
      int first = pick(0, ops - 1), last = pick(0, ops - 1);
      if (first > last) std::swap(first, last);
      problem.tensors.push_back({"t", std::max(0, 16 * pick(0, 6) - pick(0, 1)), 16, first, last});
    }
    const int count = static_cast<int>(problem.tensors.size());
    for (int a = 0; a < count; ++a) {
      for (int b = 0; b < count; ++b) {
        const PlanTensor& source = problem.tensors[a];
        const PlanTensor& target = problem.tensors[b];
        if (a != b && source.last_op == target.first_op && target.size <= source.size && pick(0, 2) == 0) {
          problem.hints.push_back({a, b, InPlaceKind::kShareBuffer, 0});
        }
      }
    }
    SCOPED_TRACE("case " + std::to_string(n));
    for (bool hints : {false, true}) {
      const MemoryPlan plan = plan_with(problem, PlanAlgorithm::kBranchAndBound, hints);
      ASSERT_TRUE(check_plan(problem, plan).empty()) << describe(check_plan(problem, plan));
      ASSERT_TRUE(plan.proven_optimal);
      EXPECT_EQ(Exhaustive(problem, plan, plan.arena_size).solve(), plan.arena_size);
      ++checked;
      hinted += std::count(plan.hint_used.begin(), plan.hint_used.end(), true) > 0;
    }
  }
  std::printf("[ summary  ] %d random interval plans (%d sharing buffers): branch and bound = exhaustive optimum\n",
              checked, hinted);
}

}  // namespace
}  // namespace tml::deploy
