/* Startup for QEMU mps2-an386 (Cortex-M4F): vector table and Reset_Handler.
 *
 * Replaces newlib's rdimon crt0 (_start), which is still linked by --specs=rdimon.specs but never
 * runs: that crt0 takes its stack and heap from SYS_HEAPINFO, which QEMU derives from the region
 * the image was loaded into (code memory at 0x0 here), not from our RAM at 0x20000000. This file
 * does the same jobs with the linker script's symbols (mps2_an386.ld):
 *   FPU on (CPACR) -> copy .data -> zero .bss -> semihosting handles -> argv from
 *   SYS_GET_CMDLINE (as rdimon's crt0 does) -> static constructors -> main -> exit(rc).
 * exit() goes through newlib's rdimon _exit, which reports the code to QEMU (SYS_EXIT /
 * SYS_EXIT_EXTENDED), so `qemu-system-arm ... -semihosting-config enable=on` exits with it.
 *
 * With TML_STARTUP_BARE defined (the firmware, firmware_template/CMakeLists.txt) no newlib I/O is
 * touched: rdimon's initialise_monitor_handles() and exit() pull newlib's stdio and with it
 * malloc into the image. Then: FPU -> .data -> .bss -> argv -> constructors -> main -> the exit
 * code straight to QEMU (SYS_EXIT_EXTENDED); link with --specs=nosys.specs, not rdimon.
 */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack, __heap_end__;
extern unsigned int __heap_limit; /* librdimon's sbrk honours it (0xcafedead = unset) */

extern int main(int argc, char** argv);
extern void __libc_init_array(void);
extern void __libc_fini_array(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);

/* Every handler but reset loops forever: a fault shows up as a QEMU timeout, which the host-side
 * harness kills and reports. */
void Default_Handler(void) {
  for (;;) {
  }
}

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

typedef void (*Vector)(void);

/* 16 system exceptions + 32 external IRQs (UARTs, timers, ... on the AN386 FPGA image). */
__attribute__((section(".isr_vector"), used)) const Vector g_vectors[16 + 32] = {
    (Vector)(uintptr_t)&_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0,
    0,
    0,
    0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 47] = Default_Handler,
};

/* ARM semihosting call (Thumb: BKPT 0xAB; r0 = operation, r1 = parameter block, r0 = result). */
static int semihost(int op, void* arg) {
  register int r0 __asm__("r0") = op;
  register void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define TML_CMDLINE_BYTES 1024
#define TML_MAX_ARGS 32

static char g_cmdline[TML_CMDLINE_BYTES];
static char* g_argv[TML_MAX_ARGS + 1];

/* QEMU joins the `arg=` values of -semihosting-config with single spaces, so arguments cannot
 * contain spaces; we split on blanks (no quoting). */
static int fetch_argv(void) {
  struct {
    char* buf;
    int len;
  } block = {g_cmdline, TML_CMDLINE_BYTES - 1};
  if (semihost(SYS_GET_CMDLINE, &block) != 0 || block.len < 0) return 0;
  if (block.len > TML_CMDLINE_BYTES - 1) block.len = TML_CMDLINE_BYTES - 1;
  g_cmdline[block.len] = '\0';
  int argc = 0;
  char* p = g_cmdline;
  while (*p != '\0' && argc < TML_MAX_ARGS) {
    while (*p == ' ' || *p == '\t') *p++ = '\0';
    if (*p == '\0') break;
    g_argv[argc++] = p;
    while (*p != '\0' && *p != ' ' && *p != '\t') ++p;
  }
  g_argv[argc] = 0;
  return argc;
}

void Reset_Handler(void) {
  /* FPU first: with -mfloat-abi=hard any VFP instruction before this would UsageFault.
   * SCB->CPACR (0xE000ED88): CP10 and CP11 full access. */
  volatile uint32_t* const cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");

  uint32_t* src = &_sidata;
  for (uint32_t* dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t* dst = &_sbss; dst < &_ebss;) *dst++ = 0u;

#ifdef TML_STARTUP_BARE
  int argc = fetch_argv();
  __libc_init_array();
  int rc = main(argc, g_argv);
  /* SYS_EXIT_EXTENDED: reason ADP_Stopped_ApplicationExit with the exit code. */
  struct {
    uint32_t reason;
    int32_t code;
  } stopped = {0x20026u, rc};
  semihost(SYS_EXIT_EXTENDED, &stopped);
  for (;;) {
  }
#else
  __heap_limit = (unsigned int)(uintptr_t)&__heap_end__;
  initialise_monitor_handles();
  int argc = fetch_argv();
  atexit(__libc_fini_array);
  __libc_init_array();
  int rc = main(argc, g_argv);
  exit(rc);
#endif
}
