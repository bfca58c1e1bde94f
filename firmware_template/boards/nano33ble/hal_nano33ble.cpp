// Board `nano33ble`: Arduino Nano 33 BLE Sense (rev1: nRF52840, LSM9DS1 IMU, MP34DT05 PDM
// microphone, OV7675 camera of the TinyML kit), Arduino mbed core ("arduino:mbed_nano").
//   serial:  USB CDC (Serial); a session is the host holding DTR (the port open).
//   sensors: 0 audio   PDM microphone, 1 channel int16 at 16 kHz (PDM library, ISR -> ring buffer)
//            1 imu     LSM9DS1 accelerometer (g) + gyroscope (deg/s), 6 x float32 at 119 Hz
//            2 camera  OV7675 160x120 (QQVGA) RGB565 as the sensor sends it (big-endian), ~1 fps
//   time:    micros() of the core.
// UNTESTED ON HARDWARE (no Arduino core in this repository's build): see firmware_template/README.md.
// The export (boards/nano33ble/export.sh) copies this file with the app and protocol sources into
// the sketch's src/ folder and rewrites the "protocol/...", "app/...", "hal/..." includes.
#include <Arduino.h>
#include <Arduino_LSM9DS1.h>
#include <Arduino_OV767X.h>
#include <PDM.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hal/hal.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace tml::hal {

namespace {

// Single-producer single-consumer byte ring (producer: the PDM interrupt or the main loop).
// Whole blocks go in or are dropped and counted; N is a power of two.
template <size_t N>
class Ring {
 public:
  void reset() {
    head_ = 0;
    tail_ = 0;
    dropped_ = 0;
  }
  size_t used() const { return static_cast<size_t>(head_ - tail_); }
  void push(const uint8_t* p, size_t n) {
    const uint32_t head = head_;
    if (N - static_cast<size_t>(head - tail_) < n) {
      dropped_ += static_cast<uint32_t>(n);
      return;
    }
    for (size_t i = 0; i < n; ++i) data_[(head + i) & (N - 1)] = p[i];
    head_ = head + static_cast<uint32_t>(n);
  }
  void pop(uint8_t* dst, size_t n) {
    const uint32_t tail = tail_;
    for (size_t i = 0; i < n; ++i) dst[i] = data_[(tail + i) & (N - 1)];
    tail_ = tail + static_cast<uint32_t>(n);
  }
  uint32_t take_dropped() {
    noInterrupts();
    const uint32_t d = dropped_;
    dropped_ = 0;
    interrupts();
    return d;
  }
  void add_dropped(uint32_t n) { dropped_ += n; }

 private:
  static_assert((N & (N - 1)) == 0, "N must be a power of two");
  uint8_t data_[N];
  volatile uint32_t head_ = 0;
  volatile uint32_t tail_ = 0;
  volatile uint32_t dropped_ = 0;
};

enum : size_t { kAudio = 0, kImu = 1, kCamera = 2, kSensorCount = 3 };

constexpr uint32_t kImuRateMilliHz = 119000;  // the library's fixed ODR (119 Hz)
constexpr uint32_t kImuPeriodUs = 1000000000u / kImuRateMilliHz;
constexpr size_t kImuSampleBytes = 6 * sizeof(float);
constexpr int kCameraWidth = 160, kCameraHeight = 120;
constexpr size_t kFrameBytes = static_cast<size_t>(kCameraWidth) * kCameraHeight * 2;

SensorInfo make_info(proto::SensorKind kind, proto::SampleFormat format, uint16_t channels, uint32_t rate, uint16_t w,
                     uint16_t h) {
  SensorInfo info;
  info.descriptor.kind = kind;
  info.descriptor.format = format;
  info.descriptor.channels = channels;
  info.descriptor.rate_millihertz = rate;
  info.descriptor.width = w;
  info.descriptor.height = h;
  info.replayed = false;
  return info;
}

const SensorInfo kSensors[kSensorCount] = {
    make_info(proto::SensorKind::audio, proto::SampleFormat::int16, 1, 16000000u, 0, 0),
    make_info(proto::SensorKind::imu, proto::SampleFormat::float32, 6, kImuRateMilliHz, 0, 0),
    make_info(proto::SensorKind::camera, proto::SampleFormat::rgb565, 1, 1000u, kCameraWidth, kCameraHeight),
};

Ring<16384> g_audio;     // 0.5 s of 16 kHz int16
Ring<2048> g_imu;        // 85 samples
uint8_t g_frame[kFrameBytes];
size_t g_frame_pos = kFrameBytes;  // == kFrameBytes: no frame held
bool g_camera_ready = false;
volatile bool g_audio_running = false;
bool g_imu_running = false;
bool g_imu_first = true;  // no gap check before the first sample (the sensor needs time to start)
uint32_t g_imu_last_us = 0;

bool g_was_connected = false;
uint32_t g_session = 0;

// PDM interrupt: move the block the driver just completed into our ring. Reading it at once keeps
// the driver's double buffer from overflowing (on overflow the nRF52 PDM driver stops for good).
void on_pdm_data() {
  int16_t block[256];
  int n = PDM.available();
  if (n > static_cast<int>(sizeof block)) n = static_cast<int>(sizeof block);
  n -= n % 2;
  if (n <= 0) return;
  PDM.read(block, static_cast<size_t>(n));
  if (g_audio_running) g_audio.push(reinterpret_cast<const uint8_t*>(block), static_cast<size_t>(n));
}

// One IMU sample if the sensor has a new one; a gap of more than 1.5 periods since the last one
// means samples were missed (the loop was busy writing): they are counted as dropped.
void poll_imu() {
  if (!IMU.accelerationAvailable() || !IMU.gyroscopeAvailable()) return;
  float v[6];
  IMU.readAcceleration(v[0], v[1], v[2]);
  IMU.readGyroscope(v[3], v[4], v[5]);
  const uint32_t now = ::micros();
  const uint32_t gap = now - g_imu_last_us;
  if (!g_imu_first && gap > kImuPeriodUs + kImuPeriodUs / 2) {
    const uint32_t missed = (gap + kImuPeriodUs / 2) / kImuPeriodUs - 1;
    g_imu.add_dropped(missed * static_cast<uint32_t>(kImuSampleBytes));
  }
  g_imu_first = false;
  g_imu_last_us = now;
  uint8_t bytes[kImuSampleBytes];
  memcpy(bytes, v, sizeof bytes);  // little-endian float32, as the protocol wants
  g_imu.push(bytes, sizeof bytes);
}

}  // namespace

bool init(int, char**) {
  Serial.begin(115200);  // USB CDC: the baud rate is ignored
  pinMode(LED_BUILTIN, OUTPUT);
  digitalWrite(LED_BUILTIN, LOW);
  return true;
}

bool running() { return true; }
void shutdown() {}
void report(const char*) {}  // the serial line carries frames only

const char* board_id() { return "nano33ble"; }
uint8_t board_revision() { return 1; }
uint16_t max_payload() { return static_cast<uint16_t>(proto::kMaxPayload); }

size_t serial_read(uint8_t* buf, size_t cap) {
  size_t n = 0;
  while (n < cap && Serial.available() > 0) {
    const int c = Serial.read();
    if (c < 0) break;
    buf[n++] = static_cast<uint8_t>(c);
  }
  return n;
}

bool serial_write(const uint8_t* data, size_t n) {
  if (!Serial) return false;
  return Serial.write(data, n) == n;
}

uint32_t serial_session() {
  const bool connected = static_cast<bool>(Serial);
  if (connected != g_was_connected) {
    g_was_connected = connected;
    ++g_session;
  }
  return g_session;
}

bool serial_connected() { return g_was_connected; }

uint32_t micros() { return static_cast<uint32_t>(::micros()); }

// The DWT cycle counter (CMSIS names from the mbed core), enabled on first use.
uint32_t cost_ticks() {
  static bool enabled = false;
  if (!enabled) {
    CoreDebug->DEMCR |= CoreDebug_DEMCR_TRCENA_Msk;
    DWT->CYCCNT = 0;
    DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;
    enabled = true;
  }
  return DWT->CYCCNT;
}
uint32_t cost_ticks_per_second() { return SystemCoreClock; }

void idle(uint32_t) {}

void led(bool on) { digitalWrite(LED_BUILTIN, on ? HIGH : LOW); }

size_t sensor_count() { return kSensorCount; }
const SensorInfo& sensor_info(size_t index) { return kSensors[index]; }

bool sensor_start(size_t index) {
  switch (index) {
    case kAudio:
      g_audio_running = false;
      g_audio.reset();
      PDM.onReceive(on_pdm_data);
      if (!PDM.begin(1, 16000)) return false;
      g_audio_running = true;
      return true;
    case kImu:
      if (!IMU.begin()) return false;
      g_imu.reset();
      g_imu_first = true;
      g_imu_last_us = ::micros();
      g_imu_running = true;
      return true;
    case kCamera:
      // begin() takes about a second (it waits for the sensor); the camera stays on afterwards.
      if (!g_camera_ready) {
        if (!Camera.begin(QQVGA, RGB565, 1)) return false;
        g_camera_ready = true;
      }
      g_frame_pos = kFrameBytes;
      return true;
    default: return false;
  }
}

size_t sensor_available(size_t index, size_t) {
  switch (index) {
    case kAudio: return g_audio.used() & ~static_cast<size_t>(1);
    case kImu:
      if (g_imu_running) poll_imu();
      return g_imu.used() - g_imu.used() % kImuSampleBytes;
    case kCamera:
      if (!g_camera_ready) return 0;
      if (g_frame_pos == kFrameBytes) {
        // Blocks until the next whole frame (up to ~1 s at 1 fps, interrupts off while it reads).
        Camera.readFrame(g_frame);
        g_frame_pos = 0;
      }
      return kFrameBytes - g_frame_pos;
    default: return 0;
  }
}

bool sensor_read(size_t index, uint8_t* dst, size_t n) {
  switch (index) {
    case kAudio: g_audio.pop(dst, n); return true;
    case kImu: g_imu.pop(dst, n); return true;
    case kCamera:
      if (n > kFrameBytes - g_frame_pos) return false;
      memcpy(dst, g_frame + g_frame_pos, n);
      g_frame_pos += n;
      return true;
    default: return false;
  }
}

uint32_t sensor_take_dropped(size_t index) {
  switch (index) {
    case kAudio: return g_audio.take_dropped();
    case kImu: return g_imu.take_dropped();
    default: return 0;
  }
}

void sensor_stop(size_t index) {
  switch (index) {
    case kAudio:
      g_audio_running = false;
      PDM.end();
      break;
    case kImu:
      g_imu_running = false;
      IMU.end();
      break;
    default: break;  // the camera stays configured
  }
}

}  // namespace tml::hal
