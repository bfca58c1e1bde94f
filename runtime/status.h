#pragma once
// Portable core (DESIGN.md §2): freestanding C++17, no heap, no exceptions, no libm transcendental
// calls, -ffp-contract=off. Kernels report problems through Status and never trap.
namespace tml::rt {

enum class Status : int {
  ok = 0,
  bad_argument = 1,      // shapes that do not fit together, a parameter out of range, a null pointer
  buffer_too_small = 2,  // a caller-provided scratch buffer is too small
};

}  // namespace tml::rt
