#pragma once
// The board interface of the firmware (DESIGN.md §2, firmware_template/). The app (app/) is portable
// C++17 and talks to the hardware only through these functions; each board (boards/<name>/)
// implements them once. Rules for every implementation: no heap, no exceptions, static buffers.
//
// Boards: qemu-m4 (QEMU mps2-an386: CMSDK UART0, timer0, sensors replayed from host files through
// semihosting), host (a Linux process: a UNIX socket, files through stdio), nano33ble (Arduino Nano
// 33 BLE Sense: USB CDC, PDM microphone, LSM9DS1 IMU, OV7675 camera).
#include <cstddef>
#include <cstdint>

#include "protocol/messages.h"

namespace tml::hal {

inline constexpr std::size_t kMaxSensors = proto::kMaxSensors;

struct SensorInfo {
  proto::SensorDescriptor descriptor;
  // true: the samples come from a file and are available at once; the app paces them at the
  // sensor's rate (or not at all with START's "as fast as possible" flag). false: a real sensor
  // delivers them at its own rate (sensor_available grows with time).
  bool replayed = false;
};

// ---- board ----------------------------------------------------------------------------------
// Start-up: clocks, serial, timer, and the sensor configuration (qemu-m4 and host: from the command
// line, see firmware_template/README.md; nano33ble: fixed). Returns false after reporting the
// reason (report()) when the configuration is unusable; main() then exits with code 2.
bool init(int argc, char** argv);
// false once the board was asked to stop (host: SIGTERM/SIGINT); the main loop then returns.
bool running();
// Releases what init() took (host: removes the socket file). Called once after the main loop.
void shutdown();
// A line of diagnostics for a human (host: stderr; qemu-m4: semihosting console; nano33ble: none,
// the serial line carries frames only).
void report(const char* text);

const char* board_id();          // "qemu-m4", "host", "nano33ble" (printable ASCII, <= 16 chars)
std::uint8_t board_revision();
std::uint16_t max_payload();     // largest payload the board sends, <= proto::kMaxPayload

// ---- serial ---------------------------------------------------------------------------------
// Copies up to cap received bytes into buf without waiting; returns how many (0: none now).
std::size_t serial_read(std::uint8_t* buf, std::size_t cap);
// Sends all n bytes, waiting while the link is busy. Returns false when they could not be
// delivered (no host connected, the host went away): the caller counts the frame as dropped.
bool serial_write(const std::uint8_t* data, std::size_t n);
// Changes whenever a host connects or disconnects (host board: socket clients; nano33ble: DTR).
// A board that cannot see connections (a UART) keeps it constant. On a change the app starts a
// new connection: sequence numbers from 0, a lone 0x00 and HELLO, any running take abandoned.
std::uint32_t serial_session();
bool serial_connected();

// ---- time -----------------------------------------------------------------------------------
// Microseconds since an arbitrary start, wrapping at 2^32 (~71 min). Callers use differences.
std::uint32_t micros();
// Nothing to do: wait until serial input may have arrived or about max_us have passed (whichever
// is first; returning earlier is always allowed).
void idle(std::uint32_t max_us);

// ---- cost ------------------------------------------------------------------------------------
// A free-running up-counter for measuring work (wrapping at 2^32; callers use differences) and its
// rate. qemu-m4: timer0 at 25 MHz (under QEMU's -icount shift=N exactly 40 / 2^N instructions per
// tick); host: nanoseconds; nano33ble: the DWT cycle counter at 64 MHz.
std::uint32_t cost_ticks();
std::uint32_t cost_ticks_per_second();

// ---- LED ------------------------------------------------------------------------------------
void led(bool on);

// ---- sensors --------------------------------------------------------------------------------
std::size_t sensor_count();
const SensorInfo& sensor_info(std::size_t index);
// Starts delivering samples from the beginning (replayed sensors: the file's start). false: the
// sensor cannot start (the app answers ERROR sensor_failed).
bool sensor_start(std::size_t index);
// Bytes that can be read now (whole samples). Replayed sensors: always at least `wanted` (rounded
// down to whole samples), they are paced by the app.
std::size_t sensor_available(std::size_t index, std::size_t wanted);
// Copies exactly n bytes (n <= sensor_available, whole samples) into dst. false: the sensor failed
// (a file read error); the take ends.
bool sensor_read(std::size_t index, std::uint8_t* dst, std::size_t n);
// Bytes the sensor lost since the previous call (its buffer overran because the app read too
// late), whole samples; 0 for replayed sensors.
std::uint32_t sensor_take_dropped(std::size_t index);
void sensor_stop(std::size_t index);

}  // namespace tml::hal
