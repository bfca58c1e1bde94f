// Board `qemu-m4`: QEMU's mps2-an386 (Cortex-M4F, DESIGN.md §4), bare metal, no heap.
//   serial:  CMSDK APB UART0 at 0x40004000, polled (QEMU connects it to -serial unix:PATH,...).
//   time:    CMSDK APB timer0 at 0x40000000, 25 MHz, free-running down-counter.
//   idle:    WFI with interrupts masked (PRIMASK): SysTick (set to the wait asked for) and the
//            UART0 RX interrupt only wake the core, no handler runs, so QEMU does not spin a host
//            core while the firmware waits.
//   sensors: --sensor options from the semihosting command line (startup.c builds argv), files read
//            through raw semihosting calls (SYS_OPEN/SYS_FLEN/SYS_READ/SYS_SEEK): newlib's stdio is
//            not linked because it pulls malloc in (tests/firmware checks the link map).
#include <cstddef>
#include <cstdint>

#include "hal/hal.h"
#include "hal/replay.h"

namespace tml::hal {

namespace {

// ---- registers ------------------------------------------------------------------------------
struct CmsdkUart {
  volatile std::uint32_t data;      // +0x00
  volatile std::uint32_t state;     // +0x04: bit0 TX buffer full, bit1 RX buffer full
  volatile std::uint32_t ctrl;      // +0x08: bit0 TX enable, bit1 RX enable, bit3 RX interrupt enable
  volatile std::uint32_t intstatus; // +0x0C: write 1 to clear; bit1 RX
  volatile std::uint32_t bauddiv;   // +0x10: QEMU requires >= 16 or the UART stays silent
};
struct CmsdkTimer {
  volatile std::uint32_t ctrl;    // +0x0: bit0 enable
  volatile std::uint32_t value;   // +0x4: counts down at 25 MHz
  volatile std::uint32_t reload;  // +0x8
};
struct SysTick {
  volatile std::uint32_t ctrl;  // bit0 enable, bit1 interrupt, bit2 processor clock
  volatile std::uint32_t load;
  volatile std::uint32_t val;
};

CmsdkUart* const kUart0 = reinterpret_cast<CmsdkUart*>(0x40004000u);
CmsdkTimer* const kTimer0 = reinterpret_cast<CmsdkTimer*>(0x40000000u);
SysTick* const kSysTick = reinterpret_cast<SysTick*>(0xE000E010u);
volatile std::uint32_t* const kNvicIser0 = reinterpret_cast<volatile std::uint32_t*>(0xE000E100u);
volatile std::uint32_t* const kNvicIcpr0 = reinterpret_cast<volatile std::uint32_t*>(0xE000E280u);
volatile std::uint32_t* const kScbIcsr = reinterpret_cast<volatile std::uint32_t*>(0xE000ED04u);
volatile std::uint32_t* const kFpgaLeds = reinterpret_cast<volatile std::uint32_t*>(0x40028000u);  // FPGAIO LED0

constexpr std::uint32_t kUartTxFull = 1u << 0, kUartRxFull = 1u << 1;
constexpr std::uint32_t kUartRxIrq = 0;  // AN386: UART0 RX is external interrupt 0
constexpr std::uint32_t kClockHz = 25000000u;

// ---- semihosting ----------------------------------------------------------------------------
enum : int {
  kSysOpen = 0x01,
  kSysWrite0 = 0x04,
  kSysRead = 0x06,
  kSysSeek = 0x0A,
  kSysFlen = 0x0C,
};

int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

long sh_open(const char* path, std::uint32_t* size) {
  std::size_t len = 0;
  while (path[len] != '\0') ++len;
  const std::uintptr_t open_args[3] = {reinterpret_cast<std::uintptr_t>(path), 1 /* "rb" */, len};
  const int handle = semihost(kSysOpen, open_args);
  if (handle < 0) return -1;
  const std::uintptr_t flen_args[1] = {static_cast<std::uintptr_t>(handle)};
  const int n = semihost(kSysFlen, flen_args);
  if (n < 0) return -1;
  *size = static_cast<std::uint32_t>(n);
  return handle;
}

bool sh_read(long handle, std::uint8_t* dst, std::size_t n) {
  while (n > 0) {
    const std::uintptr_t args[3] = {static_cast<std::uintptr_t>(handle), reinterpret_cast<std::uintptr_t>(dst), n};
    const int not_read = semihost(kSysRead, args);  // bytes NOT read
    if (not_read < 0 || static_cast<std::size_t>(not_read) >= n) return false;
    const std::size_t got = n - static_cast<std::size_t>(not_read);
    dst += got;
    n -= got;
  }
  return true;
}

bool sh_seek(long handle, std::uint32_t pos) {
  const std::uintptr_t args[2] = {static_cast<std::uintptr_t>(handle), pos};
  return semihost(kSysSeek, args) == 0;
}

const FileOps kFileOps = {sh_open, sh_read, sh_seek};

BoardArgs g_args;
ReplaySensor g_replay[kMaxSensors];

// µs from timer0 (its 32-bit count wraps every 171 s: micros() must run more often, which the
// main loop does; idle() waits at most 0.67 s).
std::uint32_t g_last_ticks = 0;
std::uint32_t g_tick_rest = 0;  // ticks not yet turned into µs (< 25)
std::uint32_t g_micros = 0;

}  // namespace

bool init(int argc, char** argv) {
  kTimer0->ctrl = 0;
  kTimer0->reload = 0xFFFFFFFFu;
  kTimer0->value = 0xFFFFFFFFu;
  kTimer0->ctrl = 1;
  g_last_ticks = kTimer0->value;

  kUart0->bauddiv = kClockHz / 115200u;  // 217: any value >= 16 works in QEMU
  kUart0->ctrl = 0x1u | 0x2u | 0x8u;     // TX, RX, RX interrupt (wakes WFI)

  // Interrupts stay masked: pending ones only end WFI.
  __asm__ volatile("cpsid i" ::: "memory");
  *kNvicIser0 = 1u << kUartRxIrq;

  ErrorText error;
  if (!parse_board_args(argc, argv, /*allow_socket=*/false, &g_args, &error)) {
    report(error.c_str());
    report("usage: firmware [--sensor KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH]... [--max-payload N]");
    return false;
  }
  for (std::size_t i = 0; i < g_args.sensor_count; ++i) {
    if (!g_replay[i].open(&kFileOps, g_args.sensors[i], &error)) {
      report(error.c_str());
      return false;
    }
  }
  return true;
}

bool running() { return true; }
void shutdown() {}

void report(const char* text) {
  semihost(kSysWrite0, text);
  semihost(kSysWrite0, "\n");
}

const char* board_id() { return "qemu-m4"; }
std::uint8_t board_revision() { return 1; }
std::uint16_t max_payload() { return g_args.max_payload; }

std::size_t serial_read(std::uint8_t* buf, std::size_t cap) {
  std::size_t n = 0;
  while (n < cap && (kUart0->state & kUartRxFull) != 0) buf[n++] = static_cast<std::uint8_t>(kUart0->data);
  return n;
}

bool serial_write(const std::uint8_t* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    while ((kUart0->state & kUartTxFull) != 0) {
    }
    kUart0->data = data[i];
  }
  return true;
}

// A UART cannot see the host connect: one session for the board's life.
std::uint32_t serial_session() { return 0; }
bool serial_connected() { return true; }

std::uint32_t micros() {
  const std::uint32_t now = kTimer0->value;
  const std::uint32_t ticks = g_last_ticks - now + g_tick_rest;  // the timer counts down
  g_last_ticks = now;
  g_micros += ticks / (kClockHz / 1000000u);
  g_tick_rest = ticks % (kClockHz / 1000000u);
  return g_micros;
}

// timer0 counts down: its complement counts up.
std::uint32_t cost_ticks() { return ~kTimer0->value; }
std::uint32_t cost_ticks_per_second() { return kClockHz; }

void idle(std::uint32_t max_us) {
  if ((kUart0->state & kUartRxFull) != 0) return;
  // SysTick (24 bits: at most 0.67 s at 25 MHz) ends the wait after max_us.
  std::uint32_t ticks = max_us < 1000u ? 1000u * (kClockHz / 1000000u) : max_us * (kClockHz / 1000000u);
  if (max_us > 0x00FFFFFFu / (kClockHz / 1000000u)) ticks = 0x00FFFFFFu;
  kSysTick->ctrl = 0;
  kSysTick->load = ticks - 1u;
  kSysTick->val = 0;
  kSysTick->ctrl = 0x7u;
  __asm__ volatile("dsb\n\twfi" ::: "memory");
  // Clear what woke us so the next WFI waits again: the UART's RX interrupt, its NVIC pending
  // bit, and a pending SysTick (ICSR.PENDSTCLR).
  kUart0->intstatus = 0x2u;
  *kNvicIcpr0 = 1u << kUartRxIrq;
  *kScbIcsr = 1u << 25;
}

void led(bool on) { *kFpgaLeds = on ? 1u : 0u; }

std::size_t sensor_count() { return g_args.sensor_count; }
const SensorInfo& sensor_info(std::size_t index) { return g_args.sensors[index].info; }
bool sensor_start(std::size_t index) { return index < g_args.sensor_count && g_replay[index].start(); }
std::size_t sensor_available(std::size_t, std::size_t wanted) { return wanted; }
bool sensor_read(std::size_t index, std::uint8_t* dst, std::size_t n) { return g_replay[index].read(dst, n); }
std::uint32_t sensor_take_dropped(std::size_t) { return 0; }
void sensor_stop(std::size_t) {}

}  // namespace tml::hal
