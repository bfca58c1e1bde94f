#include "deploy/memory_planner.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace tml::deploy {
namespace {

using Bytes = std::int64_t;
constexpr Bytes kUnplaced = -1;

Bytes align_up(Bytes value, Bytes alignment) { return (value + alignment - 1) / alignment * alignment; }

bool is_power_of_two(Bytes value) { return value > 0 && (value & (value - 1)) == 0; }

bool lifetimes_intersect(int a_first, int a_last, int b_first, int b_last) {
  return a_first <= b_last && b_first <= a_last;
}

bool live_together(const PlanTensor& a, const PlanTensor& b) {
  return lifetimes_intersect(a.first_op, a.last_op, b.first_op, b.last_op);
}

Bytes footprint(const PlanTensor& t) { return align_up(t.size, t.alignment); }

int op_count(const PlanProblem& problem) {
  int count = 0;
  for (const PlanTensor& t : problem.tensors) count = std::max(count, t.last_op + 1);
  return count;
}

Bytes max_alignment(const PlanProblem& problem) {
  Bytes alignment = 1;
  for (const PlanTensor& t : problem.tensors) alignment = std::max(alignment, t.alignment);
  return alignment;
}

std::string tensor_label(const PlanProblem& problem, int index) {
  const std::string& name = problem.tensors[index].name;
  return "tensor " + std::to_string(index) + (name.empty() ? "" : " '" + name + "'");
}

[[noreturn]] void bad_problem(const std::string& what) {
  throw std::invalid_argument("memory planner: " + what);
}

void validate_problem(const PlanProblem& problem) {
  const int tensor_count = static_cast<int>(problem.tensors.size());
  for (int i = 0; i < tensor_count; ++i) {
    const PlanTensor& t = problem.tensors[i];
    if (t.size < 0) bad_problem(tensor_label(problem, i) + " has a negative size");
    if (!is_power_of_two(t.alignment)) bad_problem(tensor_label(problem, i) + ": alignment is not a power of two");
    if (t.first_op < 0 || t.last_op < t.first_op) {
      bad_problem(tensor_label(problem, i) + ": lifetime [" + std::to_string(t.first_op) + ", " +
                  std::to_string(t.last_op) + "] is not a valid op range");
    }
  }
  for (std::size_t h = 0; h < problem.hints.size(); ++h) {
    const InPlaceHint& hint = problem.hints[h];
    const std::string label = "in-place hint " + std::to_string(h);
    if (hint.source < 0 || hint.source >= tensor_count || hint.target < 0 || hint.target >= tensor_count ||
        hint.source == hint.target) {
      bad_problem(label + " names no valid (source, target) pair");
    }
    const PlanTensor& source = problem.tensors[hint.source];
    const PlanTensor& target = problem.tensors[hint.target];
    if (source.last_op != target.first_op) {
      bad_problem(label + ": the source's last reader (op " + std::to_string(source.last_op) +
                  ") is not the op producing the target (op " + std::to_string(target.first_op) + ")");
    }
    if (target.size > source.size) bad_problem(label + ": the target is larger than the source");
    if (hint.channel_scratch_bytes < 0) bad_problem(label + " has a negative channel buffer");
  }
}

bool hint_allowed(const InPlaceHint& hint, const PlannerOptions& options) {
  return hint.kind == InPlaceKind::kShareBuffer ? options.use_share_hints : options.inplace_depthwise;
}

// Bytes a hint saves at the op producing its target: the smaller footprint, less a depthwise channel buffer.
Bytes hint_saving(const PlanProblem& problem, const InPlaceHint& hint) {
  const PlanTensor& source = problem.tensors[hint.source];
  const PlanTensor& target = problem.tensors[hint.target];
  const Bytes channel_buffer = hint.kind == InPlaceKind::kDepthwiseChannelwise
                                   ? align_up(hint.channel_scratch_bytes, target.alignment)
                                   : 0;
  return std::min(footprint(source), footprint(target)) - channel_buffer;
}

// Disjoint sets of tensors that share one offset.
class SharedBuffers {
 public:
  explicit SharedBuffers(int count) : parent_(count), members_(count) {
    for (int i = 0; i < count; ++i) {
      parent_[i] = i;
      members_[i] = {i};
    }
  }
  int root(int i) const {
    while (parent_[i] != i) i = parent_[i];
    return i;
  }
  const std::vector<int>& members(int i) const { return members_[root(i)]; }
  void join(int a, int b) {
    a = root(a);
    b = root(b);
    if (a == b) return;
    parent_[b] = a;
    members_[a].insert(members_[a].end(), members_[b].begin(), members_[b].end());
    members_[b].clear();
  }

 private:
  std::vector<int> parent_;
  std::vector<std::vector<int>> members_;
};

// The hints the options allow that can be used all together: one target per source, one source per target,
// and no two other tensors of a shared buffer live at a common op (which only the hinted pair may be).
std::vector<int> usable_hints(const PlanProblem& problem, const PlannerOptions& options) {
  const int tensor_count = static_cast<int>(problem.tensors.size());
  SharedBuffers shared(tensor_count);
  std::vector<bool> gives(tensor_count, false), takes(tensor_count, false);
  std::vector<int> usable;
  for (int h = 0; h < static_cast<int>(problem.hints.size()); ++h) {
    const InPlaceHint& hint = problem.hints[h];
    if (!hint_allowed(hint, options) || hint_saving(problem, hint) <= 0) continue;  // a hint that saves nothing
    if (gives[hint.source] || takes[hint.target]) continue;
    if (shared.root(hint.source) == shared.root(hint.target)) continue;
    bool compatible = true;
    for (int a : shared.members(hint.source)) {
      for (int b : shared.members(hint.target)) {
        if (a == hint.source && b == hint.target) continue;
        const PlanTensor& ta = problem.tensors[a];
        const PlanTensor& tb = problem.tensors[b];
        if (ta.size > 0 && tb.size > 0 && live_together(ta, tb)) compatible = false;
      }
    }
    if (!compatible) continue;
    shared.join(hint.source, hint.target);
    gives[hint.source] = takes[hint.target] = true;
    usable.push_back(h);
  }
  return usable;
}

// ---------------------------------------------------------------------------------------------------------
// Layout: the problem with a hint choice applied. A "buffer" is a set of tensors placed at one offset
// (a chain of shared tensors, or a single tensor); the algorithms place buffers.

struct LayoutTensor {
  Bytes footprint = 0;
  Bytes alignment = 1;
  int first_op = 0;
  int last_op = 0;
};

// Placing buffer i at c is blocked by buffer j placed at o iff o - below < c < o + above: `below` is the
// largest footprint of i's tensors live together with one of j's, `above` the largest of j's such tensors.
struct Reach {
  Bytes below = 0;
  Bytes above = 0;
};

struct Layout {
  std::vector<LayoutTensor> tensors;     // the problem's tensors, then channel buffers of used depthwise hints
  std::vector<bool> hint_used;           // per problem hint
  std::vector<int> scratch_of_hint;      // per problem hint: layout tensor of its channel buffer, or -1
  std::vector<std::vector<int>> buffers; // members of each buffer
  std::vector<int> buffer_of_tensor;
  std::vector<Bytes> buffer_footprint;   // largest member footprint
  std::vector<Bytes> buffer_alignment;   // largest member alignment (powers of two: it satisfies all)
  std::vector<int> buffer_order_key;     // smallest member index: TFLM's insertion order
  int op_count = 0;
  Bytes max_alignment = 1;
  std::vector<std::vector<Bytes>> live_bytes;  // [buffer][op]: largest member footprint live at that op
  std::vector<std::vector<Reach>> reach;       // [placing][placed]
  std::vector<std::vector<int>> conflicts;     // per buffer: the buffers it may not overlap

  int buffer_count() const { return static_cast<int>(buffers.size()); }
};

void add_channel_buffers(const PlanProblem& problem, const std::vector<int>& applied, Layout& layout) {
  for (int h : applied) {
    layout.hint_used[h] = true;
    const InPlaceHint& hint = problem.hints[h];
    if (hint.kind != InPlaceKind::kDepthwiseChannelwise || hint.channel_scratch_bytes == 0) continue;
    const PlanTensor& target = problem.tensors[hint.target];
    layout.scratch_of_hint[h] = static_cast<int>(layout.tensors.size());
    layout.tensors.push_back({align_up(hint.channel_scratch_bytes, target.alignment), target.alignment,
                              target.first_op, target.first_op});
  }
}

void group_buffers(const PlanProblem& problem, const std::vector<int>& applied, Layout& layout) {
  const int tensor_count = static_cast<int>(layout.tensors.size());
  SharedBuffers shared(tensor_count);
  for (int h : applied) shared.join(problem.hints[h].source, problem.hints[h].target);
  std::vector<int> buffer_of_root(tensor_count, -1);
  layout.buffer_of_tensor.assign(tensor_count, -1);
  for (int i = 0; i < tensor_count; ++i) {  // index order: a buffer's key is its smallest member
    const int r = shared.root(i);
    if (buffer_of_root[r] < 0) {
      buffer_of_root[r] = layout.buffer_count();
      layout.buffers.emplace_back();
      layout.buffer_footprint.push_back(0);
      layout.buffer_alignment.push_back(1);
      layout.buffer_order_key.push_back(i);
    }
    const int b = buffer_of_root[r];
    layout.buffer_of_tensor[i] = b;
    layout.buffers[b].push_back(i);
    layout.buffer_footprint[b] = std::max(layout.buffer_footprint[b], layout.tensors[i].footprint);
    layout.buffer_alignment[b] = std::max(layout.buffer_alignment[b], layout.tensors[i].alignment);
  }
}

void compute_live_bytes(Layout& layout) {
  layout.live_bytes.assign(layout.buffer_count(), std::vector<Bytes>(layout.op_count, 0));
  for (int i = 0; i < static_cast<int>(layout.tensors.size()); ++i) {
    const LayoutTensor& t = layout.tensors[i];
    std::vector<Bytes>& live = layout.live_bytes[layout.buffer_of_tensor[i]];
    for (int op = t.first_op; op <= t.last_op; ++op) live[op] = std::max(live[op], t.footprint);
  }
}

void compute_reach(Layout& layout) {
  const int n = layout.buffer_count();
  layout.reach.assign(n, std::vector<Reach>(n));
  const int tensor_count = static_cast<int>(layout.tensors.size());
  for (int a = 0; a < tensor_count; ++a) {
    for (int b = a + 1; b < tensor_count; ++b) {
      const LayoutTensor& ta = layout.tensors[a];
      const LayoutTensor& tb = layout.tensors[b];
      const int ba = layout.buffer_of_tensor[a];
      const int bb = layout.buffer_of_tensor[b];
      if (ba == bb || ta.footprint == 0 || tb.footprint == 0) continue;
      if (!lifetimes_intersect(ta.first_op, ta.last_op, tb.first_op, tb.last_op)) continue;
      Reach& ab = layout.reach[ba][bb];
      ab.below = std::max(ab.below, ta.footprint);
      ab.above = std::max(ab.above, tb.footprint);
      Reach& ba_reach = layout.reach[bb][ba];
      ba_reach.below = std::max(ba_reach.below, tb.footprint);
      ba_reach.above = std::max(ba_reach.above, ta.footprint);
    }
  }
  layout.conflicts.assign(n, {});
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (layout.reach[i][j].below > 0) layout.conflicts[i].push_back(j);
    }
  }
}

Layout build_layout(const PlanProblem& problem, const std::vector<int>& applied_hints) {
  Layout layout;
  for (const PlanTensor& t : problem.tensors) {
    layout.tensors.push_back({footprint(t), t.alignment, t.first_op, t.last_op});
  }
  layout.hint_used.assign(problem.hints.size(), false);
  layout.scratch_of_hint.assign(problem.hints.size(), -1);
  add_channel_buffers(problem, applied_hints, layout);
  group_buffers(problem, applied_hints, layout);
  layout.op_count = op_count(problem);
  layout.max_alignment = max_alignment(problem);
  compute_live_bytes(layout);
  compute_reach(layout);
  return layout;
}

Bytes arena_of(const Layout& layout, const std::vector<Bytes>& offsets) {
  Bytes end = 0;
  for (int b = 0; b < layout.buffer_count(); ++b) end = std::max(end, offsets[b] + layout.buffer_footprint[b]);
  return align_up(end, layout.max_alignment);
}

// ---------------------------------------------------------------------------------------------------------
// Placement of one buffer among the placed ones.

using Interval = std::pair<Bytes, Bytes>;  // closed range of start offsets

// Start offsets where `buffer` would overlap a placed buffer, sorted by their first offset.
std::vector<Interval> blocked_starts(const Layout& layout, int buffer, const std::vector<Bytes>& offsets) {
  std::vector<Interval> blocked;
  for (int j = 0; j < layout.buffer_count(); ++j) {
    if (offsets[j] == kUnplaced || j == buffer) continue;
    const Reach& r = layout.reach[buffer][j];
    if (r.below == 0 || r.above == 0) continue;
    blocked.emplace_back(offsets[j] - r.below + 1, offsets[j] + r.above - 1);
  }
  std::sort(blocked.begin(), blocked.end());
  return blocked;
}

// The lowest aligned start >= min_start outside every blocked range.
Bytes lowest_fit(const std::vector<Interval>& blocked, Bytes alignment, Bytes min_start) {
  Bytes start = align_up(min_start, alignment);
  for (const auto& [first, last] : blocked) {
    if (first > start) break;
    if (last >= start) start = align_up(last + 1, alignment);
  }
  return start;
}

// The aligned start of the smallest run of free starts (the tightest gap that fits), or the start above
// everything when no bounded run exists.
Bytes best_fit(const std::vector<Interval>& blocked, Bytes alignment) {
  Bytes start = 0;
  Bytes best_start = kUnplaced;
  Bytes best_run = 0;
  for (const auto& [first, last] : blocked) {
    if (first > start) {
      const Bytes run = first - start;
      if (best_start == kUnplaced || run < best_run) {
        best_start = start;
        best_run = run;
      }
    }
    if (last >= start) start = align_up(last + 1, alignment);
  }
  return best_start == kUnplaced ? start : best_start;
}

enum class Fit { kLowest, kBest };

std::vector<Bytes> place_in_order(const Layout& layout, const std::vector<int>& order, Fit fit) {
  std::vector<Bytes> offsets(layout.buffer_count(), kUnplaced);
  for (int b : order) {
    const std::vector<Interval> blocked = blocked_starts(layout, b, offsets);
    offsets[b] = fit == Fit::kLowest ? lowest_fit(blocked, layout.buffer_alignment[b], 0)
                                     : best_fit(blocked, layout.buffer_alignment[b]);
  }
  return offsets;
}

// Size descending; equal sizes in reverse insertion order, as TFLM's tail-filled stable sort leaves them.
std::vector<int> order_by_size(const Layout& layout) {
  std::vector<int> order(layout.buffer_count());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (layout.buffer_footprint[a] != layout.buffer_footprint[b]) {
      return layout.buffer_footprint[a] > layout.buffer_footprint[b];
    }
    return layout.buffer_order_key[a] > layout.buffer_order_key[b];
  });
  return order;
}

// Pisarchyk & Lee: ops by descending breadth (live bytes), and within an op its live buffers by size.
std::vector<int> order_by_breadth(const Layout& layout) {
  std::vector<Bytes> breadth(layout.op_count, 0);
  for (int b = 0; b < layout.buffer_count(); ++b) {
    for (int op = 0; op < layout.op_count; ++op) breadth[op] += layout.live_bytes[b][op];
  }
  std::vector<int> ops(layout.op_count);
  std::iota(ops.begin(), ops.end(), 0);
  std::stable_sort(ops.begin(), ops.end(), [&](int a, int b) { return breadth[a] > breadth[b]; });

  const std::vector<int> by_size = order_by_size(layout);
  std::vector<bool> taken(layout.buffer_count(), false);
  std::vector<int> order;
  for (int op : ops) {
    for (int b : by_size) {
      if (!taken[b] && layout.live_bytes[b][op] > 0) {
        taken[b] = true;
        order.push_back(b);
      }
    }
  }
  for (int b : by_size) {  // empty buffers are live nowhere that matters
    if (!taken[b]) order.push_back(b);
  }
  return order;
}

// ---------------------------------------------------------------------------------------------------------
// Branch and bound.
//
// Completeness: push every buffer of an optimal plan down as far as it goes, sort by (offset, index) and
// place the buffers in that order, each at its lowest fit: no buffer lands higher (a lower buffer never
// blocks one above it that it did not block before), so this gives a plan at least as good. Repeating it
// reaches a plan that lowest-fit placement in (offset, index) order reproduces exactly. So it suffices to
// search sequences of lowest-fit placements whose (offset, buffer index) pairs increase.
//
// Bounds at a node whose last placement was (last_offset, last_buffer): every remaining buffer ends up at or
// above last_offset, so (1) each one ends at least at its lowest fit from there plus its footprint,
// (2) two remaining buffers that conflict stack one above the other from there, and (3) at each op, the
// remaining live bytes plus the placed live bytes above last_offset stack above it.
// A remaining buffer whose lowest fit is below the order waits for a conflicting buffer to lift it; a node
// where some waiting buffers can no longer be lifted (see has_stranded_set) leads nowhere.
//
// The search answers "is there a plan with arena <= limit?" and stops at the first one; exact_search()
// bisects the limit between the live-set bound and the best greedy arena, trying the bound first (usually
// reachable, and a tight limit prunes hardest).
class FitSearch {
 public:
  FitSearch(const Layout& layout, Bytes limit, std::int64_t node_budget)
      : layout_(layout), limit_(limit), node_budget_(node_budget), offsets_(layout.buffer_count(), kUnplaced) {}

  void run() {
    // Empty buffers block nothing: they sit at 0 and stay out of the search order.
    int empty = 0;
    for (int b = 0; b < layout_.buffer_count(); ++b) {
      if (layout_.buffer_footprint[b] == 0) {
        offsets_[b] = 0;
        ++empty;
      }
    }
    search(empty, 0, -1, 0);
  }
  bool found() const { return !found_offsets_.empty(); }
  bool completed() const { return found() || !aborted_; }  // answered yes, or proved no
  const std::vector<Bytes>& found_offsets() const { return found_offsets_; }
  std::int64_t nodes() const { return nodes_; }

 private:
  struct Candidate {
    int buffer;
    Bytes offset;
  };

  Bytes stacked_live_bound(Bytes last_offset) const {
    Bytes bound = 0;
    for (int op = 0; op < layout_.op_count; ++op) {
      Bytes remaining = 0;
      Bytes placed_above = 0;
      for (int b = 0; b < layout_.buffer_count(); ++b) {
        const Bytes live = layout_.live_bytes[b][op];
        if (live == 0) continue;
        if (offsets_[b] == kUnplaced) {
          remaining += live;
        } else {
          placed_above += std::max<Bytes>(0, offsets_[b] + live - std::max(offsets_[b], last_offset));
        }
      }
      if (remaining > 0) bound = std::max(bound, last_offset + placed_above + remaining);
    }
    return bound;
  }

  // A waiting buffer b (lowest fit below the order) can only be placed after a conflicting buffer lands on
  // its hole, i.e. starts below lowest[b] + footprint; a buffer can start no lower than its `earliest`. If
  // some waiting buffers can be lifted by no unplaced buffer outside their set, none of them ever goes first.
  bool has_stranded_set(std::vector<char>& waiting, const std::vector<Bytes>& lowest,
                        const std::vector<Bytes>& earliest) const {
    bool changed = true;
    while (changed) {
      changed = false;
      for (int b = 0; b < layout_.buffer_count(); ++b) {
        if (!waiting[b]) continue;
        for (int other : layout_.conflicts[b]) {
          if (offsets_[other] == kUnplaced && !waiting[other] &&
              earliest[other] < lowest[b] + layout_.buffer_footprint[b]) {
            waiting[b] = 0;  // `other` may still land on b's hole and lift it
            changed = true;
            break;
          }
        }
      }
    }
    return std::find(waiting.begin(), waiting.end(), 1) != waiting.end();
  }

  // Two remaining buffers that conflict stack one above the other, each no lower than it can start now: the
  // upper one starts at least the lower one's conflicting footprint (Reach::below) above it.
  Bytes pairwise_bound(const std::vector<Bytes>& earliest) const {
    Bytes bound = 0;
    for (int a = 0; a < layout_.buffer_count(); ++a) {
      if (offsets_[a] != kUnplaced) continue;
      for (int b : layout_.conflicts[a]) {
        if (b < a || offsets_[b] != kUnplaced) continue;
        const Bytes a_below =
            std::max(earliest[b], earliest[a] + layout_.reach[a][b].below) + layout_.buffer_footprint[b];
        const Bytes b_below =
            std::max(earliest[a], earliest[b] + layout_.reach[b][a].below) + layout_.buffer_footprint[a];
        bound = std::max(bound, std::min(a_below, b_below));
      }
    }
    return bound;
  }

  bool exceeds_limit(Bytes end) const { return align_up(end, layout_.max_alignment) > limit_; }

  // The next placements allowed by the order, or none when the node is dead or cannot fit the limit.
  std::vector<Candidate> candidates(Bytes last_offset, int last_buffer, Bytes peak) const {
    const int n = layout_.buffer_count();
    std::vector<Candidate> next;
    std::vector<char> waiting(n, 0);
    std::vector<Bytes> lowest(n, kUnplaced);    // lowest fit among the placed buffers
    std::vector<Bytes> earliest(n, kUnplaced);  // lowest start the order still allows
    Bytes bound = peak;
    for (int b = 0; b < n; ++b) {
      if (offsets_[b] != kUnplaced) continue;
      const std::vector<Interval> blocked = blocked_starts(layout_, b, offsets_);
      const Bytes alignment = layout_.buffer_alignment[b];
      lowest[b] = lowest_fit(blocked, alignment, 0);
      const Bytes min_start = b > last_buffer ? last_offset : last_offset + 1;
      // Later buffers all start at or above last_offset, so they can no longer lift b out of a hole that
      // ends there.
      if (lowest[b] + layout_.buffer_footprint[b] <= last_offset && lowest[b] < min_start) return {};
      earliest[b] = lowest[b] >= min_start ? lowest[b] : lowest_fit(blocked, alignment, min_start);
      bound = std::max(bound, earliest[b] + layout_.buffer_footprint[b]);
      if (exceeds_limit(bound)) return {};
      if (lowest[b] >= min_start) {
        next.push_back({b, lowest[b]});
      } else {
        waiting[b] = 1;
      }
    }
    if (next.empty() || has_stranded_set(waiting, lowest, earliest)) return {};
    if (exceeds_limit(std::max(bound, pairwise_bound(earliest)))) return {};
    if (exceeds_limit(stacked_live_bound(last_offset))) return {};
    std::sort(next.begin(), next.end(), [&](const Candidate& a, const Candidate& b) {
      if (a.offset != b.offset) return a.offset < b.offset;
      if (layout_.buffer_footprint[a.buffer] != layout_.buffer_footprint[b.buffer]) {
        return layout_.buffer_footprint[a.buffer] > layout_.buffer_footprint[b.buffer];
      }
      return a.buffer < b.buffer;
    });
    return next;
  }

  void search(int placed, Bytes last_offset, int last_buffer, Bytes peak) {
    if (++nodes_ > node_budget_) {
      aborted_ = true;
      return;
    }
    if (placed == layout_.buffer_count()) {
      if (!exceeds_limit(peak)) found_offsets_ = offsets_;
      return;
    }
    for (const Candidate& c : candidates(last_offset, last_buffer, peak)) {
      offsets_[c.buffer] = c.offset;
      search(placed + 1, c.offset, c.buffer, std::max(peak, c.offset + layout_.buffer_footprint[c.buffer]));
      offsets_[c.buffer] = kUnplaced;
      if (aborted_ || found()) return;
    }
  }

  const Layout& layout_;
  Bytes limit_;
  std::int64_t node_budget_;
  std::vector<Bytes> offsets_;
  std::vector<Bytes> found_offsets_;
  std::int64_t nodes_ = 0;
  bool aborted_ = false;
};

struct ExactOutcome {
  std::vector<Bytes> improved_offsets;  // empty when nothing beats the incumbent
  Bytes arena = 0;                      // best known
  bool proven = false;                  // no plan of this layout is smaller than `arena`
  std::int64_t nodes = 0;
};

ExactOutcome exact_search(const Layout& layout, Bytes incumbent_arena, Bytes lower_bound, std::int64_t budget) {
  ExactOutcome outcome;
  outcome.arena = incumbent_arena;
  const Bytes step = layout.max_alignment;
  Bytes lo = align_up(lower_bound, step);  // every plan is at least this
  bool first = true;
  while (lo < outcome.arena && outcome.nodes < budget) {
    // First ask for the bound itself, then bisect between what is proven impossible and what is known.
    const Bytes limit = first ? lo : lo + (outcome.arena - lo) / step / 2 * step;
    first = false;
    FitSearch search(layout, limit, budget - outcome.nodes);
    search.run();
    outcome.nodes += search.nodes();
    if (search.found()) {
      outcome.improved_offsets = search.found_offsets();
      outcome.arena = arena_of(layout, outcome.improved_offsets);
    } else if (search.completed()) {
      lo = limit + step;
    } else {
      break;  // out of budget
    }
  }
  outcome.proven = lo >= outcome.arena;
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------
// From buffer offsets to a MemoryPlan.

MemoryPlan to_plan(const PlanProblem& problem, const Layout& layout, const std::vector<Bytes>& buffer_offsets,
                   PlanAlgorithm algorithm) {
  MemoryPlan plan;
  plan.offsets.resize(problem.tensors.size());
  for (std::size_t i = 0; i < problem.tensors.size(); ++i) {
    plan.offsets[i] = buffer_offsets[layout.buffer_of_tensor[i]];
  }
  plan.hint_used = layout.hint_used;
  plan.hint_scratch_offsets.assign(problem.hints.size(), -1);
  for (std::size_t h = 0; h < problem.hints.size(); ++h) {
    const int scratch = layout.scratch_of_hint[h];
    if (scratch >= 0) plan.hint_scratch_offsets[h] = buffer_offsets[layout.buffer_of_tensor[scratch]];
  }
  plan.arena_size = arena_of(layout, buffer_offsets);
  plan.algorithm = algorithm;
  return plan;
}

std::vector<Bytes> run_greedy(const Layout& layout, PlanAlgorithm algorithm) {
  switch (algorithm) {
    case PlanAlgorithm::kGreedyBySize:
      return place_in_order(layout, order_by_size(layout), Fit::kLowest);
    case PlanAlgorithm::kGreedyBySizeBestFit:
      return place_in_order(layout, order_by_size(layout), Fit::kBest);
    case PlanAlgorithm::kGreedyByBreadth:
      return place_in_order(layout, order_by_breadth(layout), Fit::kBest);
    case PlanAlgorithm::kBranchAndBound:
      break;
  }
  throw std::invalid_argument("memory planner: not a greedy algorithm");
}

constexpr PlanAlgorithm kGreedyAlgorithms[] = {PlanAlgorithm::kGreedyBySize, PlanAlgorithm::kGreedyBySizeBestFit,
                                               PlanAlgorithm::kGreedyByBreadth};

struct ExactResult {
  PlanAttempt attempt;
  std::vector<Bytes> improved_offsets;  // empty when the incumbent stands
};

// Root bound of a layout: the live bytes at each op with this hint choice.
Bytes layout_lower_bound(const Layout& layout) {
  Bytes peak = 0;
  for (int op = 0; op < layout.op_count; ++op) {
    Bytes live = 0;
    for (int b = 0; b < layout.buffer_count(); ++b) live += layout.live_bytes[b][op];
    peak = std::max(peak, live);
  }
  return peak;
}

ExactResult run_exact(const Layout& layout, Bytes incumbent_arena, bool used_hints, const PlannerOptions& options) {
  const ExactOutcome outcome =
      exact_search(layout, incumbent_arena, layout_lower_bound(layout), options.exact_node_budget);
  return {{PlanAlgorithm::kBranchAndBound, used_hints, outcome.arena, outcome.proven, outcome.nodes},
          outcome.improved_offsets};
}

}  // namespace

const char* to_string(PlanAlgorithm algorithm) {
  switch (algorithm) {
    case PlanAlgorithm::kGreedyBySize: return "greedy-by-size";
    case PlanAlgorithm::kGreedyBySizeBestFit: return "greedy-by-size-best-fit";
    case PlanAlgorithm::kGreedyByBreadth: return "greedy-by-breadth";
    case PlanAlgorithm::kBranchAndBound: return "branch-and-bound";
  }
  return "unknown";
}

std::int64_t live_set_lower_bound(const PlanProblem& problem, const PlannerOptions& options) {
  validate_problem(problem);
  const int ops = op_count(problem);
  std::vector<Bytes> live(ops, 0);
  for (const PlanTensor& t : problem.tensors) {
    for (int op = t.first_op; op <= t.last_op; ++op) live[op] += footprint(t);
  }
  for (int h : usable_hints(problem, options)) {  // each saves > 0, and only at the op producing its target
    const InPlaceHint& hint = problem.hints[h];
    live[problem.tensors[hint.target].first_op] -= hint_saving(problem, hint);
  }
  const Bytes peak = live.empty() ? 0 : *std::max_element(live.begin(), live.end());
  return align_up(peak, max_alignment(problem));
}

MemoryPlan plan_tflm_greedy(const PlanProblem& problem) {
  validate_problem(problem);
  const int count = static_cast<int>(problem.tensors.size());
  std::vector<Bytes> size(count);
  for (int i = 0; i < count; ++i) size[i] = footprint(problem.tensors[i]);

  // TFLM fills its sort array from the tail, then bubble-sorts it stably by descending size.
  std::vector<int> order(count);
  for (int i = 0; i < count; ++i) order[count - 1 - i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return size[a] > size[b]; });

  struct Entry {
    Bytes offset;
    int id;
  };
  std::vector<Entry> by_offset;  // placed buffers, ascending offset; equal offsets in placement order
  std::vector<Bytes> offsets(count, 0);
  for (int id : order) {
    const PlanTensor& wanted = problem.tensors[id];
    if (size[id] == 0) continue;  // TFLM does not allocate empty tensors
    auto active = [&](const Entry& e) { return live_together(problem.tensors[e.id], wanted); };
    Bytes candidate = 0;
    const Entry* prior = nullptr;
    std::size_t next_index = 0;
    while (true) {
      while (next_index < by_offset.size() && !active(by_offset[next_index])) ++next_index;
      const Entry* next = next_index < by_offset.size() ? &by_offset[next_index] : nullptr;
      if (prior != nullptr) candidate = std::max(candidate, prior->offset + size[prior->id]);
      candidate = align_up(candidate, wanted.alignment);  // a no-op with TFLM's uniform 16-byte sizes
      if (next == nullptr || next->offset - candidate >= size[id]) break;
      prior = next;
      ++next_index;
    }
    offsets[id] = candidate;
    auto insert_at = std::upper_bound(by_offset.begin(), by_offset.end(), candidate,
                                      [](Bytes offset, const Entry& e) { return offset < e.offset; });
    by_offset.insert(insert_at, Entry{candidate, id});
  }

  const Layout layout = build_layout(problem, {});  // no hints: one buffer per tensor, same index
  MemoryPlan plan = to_plan(problem, layout, offsets, PlanAlgorithm::kGreedyBySize);
  plan.lower_bound = live_set_lower_bound(problem, PlannerOptions{.use_share_hints = false});
  plan.proven_optimal = plan.arena_size == plan.lower_bound;
  plan.attempts.push_back({PlanAlgorithm::kGreedyBySize, false, plan.arena_size, false, 0});
  return plan;
}

MemoryPlan plan_with(const PlanProblem& problem, PlanAlgorithm algorithm, bool use_hints,
                     const PlannerOptions& options) {
  validate_problem(problem);
  if (algorithm == PlanAlgorithm::kGreedyBySize && !use_hints) {
    MemoryPlan plan = plan_tflm_greedy(problem);
    plan.lower_bound = live_set_lower_bound(problem, options);
    plan.proven_optimal = plan.arena_size == plan.lower_bound;
    return plan;
  }
  const Layout layout = build_layout(problem, use_hints ? usable_hints(problem, options) : std::vector<int>{});
  const Bytes lower_bound = live_set_lower_bound(problem, options);
  MemoryPlan plan;
  if (algorithm != PlanAlgorithm::kBranchAndBound) {
    plan = to_plan(problem, layout, run_greedy(layout, algorithm), algorithm);
    plan.attempts.push_back({algorithm, use_hints, plan.arena_size, false, 0});
  } else {
    std::vector<Bytes> seed;
    for (PlanAlgorithm greedy : kGreedyAlgorithms) {
      std::vector<Bytes> offsets = run_greedy(layout, greedy);
      if (seed.empty() || arena_of(layout, offsets) < arena_of(layout, seed)) seed = std::move(offsets);
    }
    const ExactResult exact = run_exact(layout, arena_of(layout, seed), use_hints, options);
    plan = to_plan(problem, layout, exact.improved_offsets.empty() ? seed : exact.improved_offsets, algorithm);
    plan.attempts.push_back(exact.attempt);
    plan.proven_optimal = exact.attempt.proven_optimal;
  }
  plan.lower_bound = lower_bound;
  plan.proven_optimal = plan.proven_optimal || plan.arena_size == lower_bound;
  return plan;
}

MemoryPlan plan_memory(const PlanProblem& problem, const PlannerOptions& options) {
  validate_problem(problem);
  const std::vector<int> usable = usable_hints(problem, options);
  std::vector<Layout> layouts;  // [0]: no hints, [1]: every usable hint
  layouts.push_back(build_layout(problem, {}));
  if (!usable.empty()) layouts.push_back(build_layout(problem, usable));

  // The best plan of each hint choice; strictly smaller wins, so ties keep the earlier attempt.
  std::vector<MemoryPlan> best_of(layouts.size());
  std::vector<PlanAttempt> attempts;
  best_of[0] = plan_tflm_greedy(problem);
  attempts.push_back(best_of[0].attempts.front());
  for (std::size_t choice = 0; choice < layouts.size(); ++choice) {
    const bool used_hints = choice == 1;
    for (PlanAlgorithm greedy : kGreedyAlgorithms) {
      if (greedy == PlanAlgorithm::kGreedyBySize && !used_hints) continue;  // that is TFLM's plan, done above
      MemoryPlan plan = to_plan(problem, layouts[choice], run_greedy(layouts[choice], greedy), greedy);
      attempts.push_back({greedy, used_hints, plan.arena_size, false, 0});
      if (best_of[choice].offsets.empty() || plan.arena_size < best_of[choice].arena_size) {
        best_of[choice] = std::move(plan);
      }
    }
  }

  // Without hints first, so that a plan as small with hints as without them does without.
  bool every_choice_proven = true;
  for (std::size_t choice = 0; choice < layouts.size(); ++choice) {
    const Layout& layout = layouts[choice];
    if (layout.buffer_count() > options.exact_max_buffers) {
      every_choice_proven = false;
      continue;
    }
    const Bytes incumbent =
        choice == 0 ? best_of[0].arena_size : std::min(best_of[0].arena_size, best_of[1].arena_size);
    const ExactResult exact = run_exact(layout, incumbent, choice == 1, options);
    attempts.push_back(exact.attempt);
    every_choice_proven = every_choice_proven && exact.attempt.proven_optimal;
    if (!exact.improved_offsets.empty()) {
      best_of[choice] = to_plan(problem, layout, exact.improved_offsets, PlanAlgorithm::kBranchAndBound);
    }
  }

  MemoryPlan best = std::move(best_of[0]);
  if (best_of.size() > 1 && best_of[1].arena_size < best.arena_size) best = std::move(best_of[1]);
  best.lower_bound = live_set_lower_bound(problem, options);
  best.proven_optimal = best.arena_size == best.lower_bound || every_choice_proven;
  best.attempts = std::move(attempts);
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// Validation.

namespace {

struct PlacedBytes {
  int index;  // tensor index, or tensors.size() + hint for a channel buffer
  Bytes offset;
  Bytes size;
  Bytes alignment;
  int first_op;
  int last_op;
};

std::string placed_label(const PlanProblem& problem, int index) {
  const int tensor_count = static_cast<int>(problem.tensors.size());
  if (index < tensor_count) return tensor_label(problem, index);
  return "channel buffer of hint " + std::to_string(index - tensor_count);
}

bool shape_matches(const PlanProblem& problem, const MemoryPlan& plan, std::vector<PlanViolation>& violations) {
  const std::size_t hints = problem.hints.size();
  if (plan.offsets.size() == problem.tensors.size() && plan.hint_used.size() == hints &&
      plan.hint_scratch_offsets.size() == hints) {
    return true;
  }
  violations.push_back({PlanViolation::Kind::kShape, -1, -1,
                        "plan vectors do not match the problem (" + std::to_string(plan.offsets.size()) +
                            " offsets for " + std::to_string(problem.tensors.size()) + " tensors, " +
                            std::to_string(plan.hint_used.size()) + "/" +
                            std::to_string(plan.hint_scratch_offsets.size()) + " hint entries for " +
                            std::to_string(hints) + " hints)"});
  return false;
}

std::vector<PlacedBytes> placed_bytes(const PlanProblem& problem, const MemoryPlan& plan,
                                      std::vector<PlanViolation>& violations) {
  std::vector<PlacedBytes> placed;
  const int tensor_count = static_cast<int>(problem.tensors.size());
  for (int i = 0; i < tensor_count; ++i) {
    const PlanTensor& t = problem.tensors[i];
    placed.push_back({i, plan.offsets[i], t.size, t.alignment, t.first_op, t.last_op});
  }
  for (int h = 0; h < static_cast<int>(problem.hints.size()); ++h) {
    const InPlaceHint& hint = problem.hints[h];
    if (!plan.hint_used[h] || hint.kind != InPlaceKind::kDepthwiseChannelwise || hint.channel_scratch_bytes == 0) {
      continue;
    }
    const PlanTensor& target = problem.tensors[hint.target];
    if (plan.hint_scratch_offsets[h] < 0) {
      violations.push_back({PlanViolation::Kind::kBadHintUse, tensor_count + h, -1,
                            "depthwise hint " + std::to_string(h) + " is used but its channel buffer has no offset"});
      continue;
    }
    placed.push_back({tensor_count + h, plan.hint_scratch_offsets[h], hint.channel_scratch_bytes, target.alignment,
                      target.first_op, target.first_op});
  }
  return placed;
}

void check_each_placement(const PlanProblem& problem, const MemoryPlan& plan, const std::vector<PlacedBytes>& placed,
                          std::vector<PlanViolation>& violations) {
  for (const PlacedBytes& p : placed) {
    if (p.offset < 0 || p.offset + p.size > plan.arena_size) {
      violations.push_back({PlanViolation::Kind::kOutOfArena, p.index, -1,
                            placed_label(problem, p.index) + " at [" + std::to_string(p.offset) + ", " +
                                std::to_string(p.offset + p.size) + ") is outside the arena of " +
                                std::to_string(plan.arena_size) + " bytes"});
    }
    if (p.offset % p.alignment != 0) {
      violations.push_back({PlanViolation::Kind::kMisaligned, p.index, -1,
                            placed_label(problem, p.index) + " at offset " + std::to_string(p.offset) +
                                " is not a multiple of " + std::to_string(p.alignment)});
    }
  }
}

// Pairs (source, target) of used hints whose offsets agree: the only overlaps allowed.
std::vector<std::pair<int, int>> allowed_overlaps(const PlanProblem& problem, const MemoryPlan& plan,
                                                  std::vector<PlanViolation>& violations) {
  std::vector<std::pair<int, int>> allowed;
  for (int h = 0; h < static_cast<int>(problem.hints.size()); ++h) {
    if (!plan.hint_used[h]) continue;
    const InPlaceHint& hint = problem.hints[h];
    if (plan.offsets[hint.source] != plan.offsets[hint.target]) {
      violations.push_back({PlanViolation::Kind::kBadHintUse, hint.source, hint.target,
                            "hint " + std::to_string(h) + " is used but " + tensor_label(problem, hint.target) +
                                " does not start where " + tensor_label(problem, hint.source) + " does"});
      continue;
    }
    allowed.emplace_back(std::min(hint.source, hint.target), std::max(hint.source, hint.target));
  }
  std::sort(allowed.begin(), allowed.end());
  return allowed;
}

void check_overlaps(const PlanProblem& problem, const std::vector<PlacedBytes>& placed,
                    const std::vector<std::pair<int, int>>& allowed, std::vector<PlanViolation>& violations) {
  for (std::size_t i = 0; i < placed.size(); ++i) {
    for (std::size_t j = i + 1; j < placed.size(); ++j) {
      const PlacedBytes& a = placed[i];
      const PlacedBytes& b = placed[j];
      if (a.size == 0 || b.size == 0 || !lifetimes_intersect(a.first_op, a.last_op, b.first_op, b.last_op)) continue;
      if (a.offset >= b.offset + b.size || b.offset >= a.offset + a.size) continue;
      const std::pair<int, int> pair{std::min(a.index, b.index), std::max(a.index, b.index)};
      if (std::binary_search(allowed.begin(), allowed.end(), pair)) continue;
      violations.push_back({PlanViolation::Kind::kOverlap, a.index, b.index,
                            placed_label(problem, a.index) + " and " + placed_label(problem, b.index) +
                                " are live at a common op and overlap in memory"});
    }
  }
}

}  // namespace

std::vector<PlanViolation> check_plan(const PlanProblem& problem, const MemoryPlan& plan) {
  validate_problem(problem);
  std::vector<PlanViolation> violations;
  if (!shape_matches(problem, plan, violations)) return violations;
  const std::vector<PlacedBytes> placed = placed_bytes(problem, plan, violations);
  check_each_placement(problem, plan, placed, violations);
  const std::vector<std::pair<int, int>> allowed = allowed_overlaps(problem, plan, violations);
  check_overlaps(problem, placed, allowed, violations);
  return violations;
}

// ---------------------------------------------------------------------------------------------------------
// Builder.

int PlanProblemBuilder::add_input(std::string name, std::int64_t size, std::int64_t alignment) {
  tensors_.push_back({std::move(name), size, alignment, 0, 0});
  is_output_.push_back(false);
  return static_cast<int>(tensors_.size()) - 1;
}

int PlanProblemBuilder::add_op(const std::vector<int>& inputs, std::string output_name, std::int64_t output_size,
                               InPlace in_place, std::int64_t channel_scratch_bytes) {
  for (int input : inputs) {
    if (input < 0 || input >= static_cast<int>(tensors_.size())) {
      throw std::invalid_argument("memory planner: op input " + std::to_string(input) + " is not a tensor");
    }
  }
  const int op = op_count();
  tensors_.push_back({std::move(output_name), output_size, 16, op, op});
  is_output_.push_back(false);
  const int output = static_cast<int>(tensors_.size()) - 1;
  ops_.push_back({inputs, output, in_place, channel_scratch_bytes});
  return output;
}

int PlanProblemBuilder::add_scratch(std::string name, std::int64_t size) {
  if (ops_.empty()) throw std::invalid_argument("memory planner: a scratch buffer needs an op");
  const int op = op_count() - 1;
  tensors_.push_back({std::move(name), size, 16, op, op});
  is_output_.push_back(false);
  return static_cast<int>(tensors_.size()) - 1;
}

void PlanProblemBuilder::mark_output(int tensor) {
  if (tensor < 0 || tensor >= static_cast<int>(tensors_.size())) {
    throw std::invalid_argument("memory planner: output " + std::to_string(tensor) + " is not a tensor");
  }
  is_output_[tensor] = true;
}

PlanProblem PlanProblemBuilder::build() const {
  PlanProblem problem;
  problem.tensors = tensors_;
  const int last_op = std::max(0, op_count() - 1);
  for (int op = 0; op < op_count(); ++op) {
    for (int input : ops_[op].inputs) problem.tensors[input].last_op = std::max(problem.tensors[input].last_op, op);
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    if (is_output_[i]) problem.tensors[i].last_op = last_op;
  }
  for (int op = 0; op < op_count(); ++op) {
    const OpRecord& record = ops_[op];
    if (record.in_place == InPlace::kNone) continue;
    const bool depthwise = record.in_place == InPlace::kDepthwise;
    // A depthwise conv may only write over its data input (inputs[0]).
    const std::size_t offered = depthwise ? std::min<std::size_t>(1, record.inputs.size()) : record.inputs.size();
    for (std::size_t k = 0; k < offered; ++k) {
      const int input = record.inputs[k];
      const PlanTensor& source = problem.tensors[input];
      if (source.last_op != op || is_output_[input] || source.size < tensors_[record.output].size) continue;
      problem.hints.push_back({input, record.output,
                               depthwise ? InPlaceKind::kDepthwiseChannelwise : InPlaceKind::kShareBuffer,
                               depthwise ? record.channel_scratch_bytes : 0});
    }
  }
  return problem;
}

}  // namespace tml::deploy
