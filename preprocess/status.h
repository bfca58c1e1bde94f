#pragma once
// Portable core (DESIGN.md §2): freestanding C++17, no heap, no exceptions, no libm transcendental
// calls, compiled with -ffp-contract=off on every target. Functions report problems through Status.
namespace tml::pre {

enum class Status : int {
  ok = 0,
  bad_argument = 1,      // a parameter the math cannot honour (size, range, format)
  buffer_too_small = 2,  // a caller-provided buffer or workspace is too small
};

}  // namespace tml::pre
