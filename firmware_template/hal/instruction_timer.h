#pragma once
// Instruction timing for the runners (tests/device/portable_runner.cc, app/model_runner.cc).
// Cortex-M4F under QEMU mps2-an386: CMSDK APB timer0 (0x40000000: CTRL, VALUE, RELOAD), a 32-bit
// down-counter at 25 MHz; with `-icount shift=10` it advances 25.6 ticks per instruction, exactly
// and identically run to run (DESIGN.md §5). Other builds measure nothing (kTimed is false).
#include <cstdint>

namespace tml::hal {

#if defined(__arm__)
inline volatile std::uint32_t* const kTimer0 = reinterpret_cast<volatile std::uint32_t*>(0x40000000u);
inline void timer_start() {
  kTimer0[0] = 0;
  kTimer0[2] = 0xFFFFFFFFu;
  kTimer0[1] = 0xFFFFFFFFu;
  kTimer0[0] = 1;
}
inline std::uint32_t timer_now() { return kTimer0[1]; }
inline constexpr bool kTimed = true;
#else
inline void timer_start() {}
inline std::uint32_t timer_now() { return 0; }
inline constexpr bool kTimed = false;
#endif

// Ticks elapsed since `start` (the counter runs down).
inline std::uint32_t ticks_since(std::uint32_t start) { return start - timer_now(); }

}  // namespace tml::hal
