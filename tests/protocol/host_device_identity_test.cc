// Host ≡ Cortex-M4F for the wire protocol: the same takes encoded into frames (COBS, CRC-32, DATA
// payloads) by tests/device/portable_runner.cc on x86-64 and on QEMU mps2-an386 give the same wire
// bytes, and each target decodes its own frames back. Inputs: ≥ 20 real recordings, images and
// models from ../shared/data, in chunk sizes that hit COBS' 254-byte blocks and the payload limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "device/device_identity.h"
#include "protocol/frame.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;

TEST(ProtocolHostDevice, FramesAreByteIdentical) {
  TempDir tmp;
  std::vector<fs::path> inputs;
  for (const char* rel : {"audio/yes_1000ms.wav", "audio/no_1000ms.wav", "audio/silence_1000ms.wav",
                          "audio/noise_1000ms.wav", "images/person.bmp", "images/no_person.bmp",
                          "models/hello_world_int8.tflite", "models/micro_speech_quantized.tflite"})
    inputs.push_back(shared_data(rel));
  const unsigned chunks[] = {512, 253, 1016};
  std::string host_jobs, qemu_jobs;
  std::size_t jobs = 0;
  for (const fs::path& in : inputs) {
    ASSERT_TRUE(fs::is_regular_file(in)) << in;
    for (unsigned chunk : chunks) {
      const std::string out = "out_" + std::to_string(jobs++) + ".wire";
      const std::string params = " chunk=" + std::to_string(chunk) + "\n";
      host_jobs += "frames " + in.string() + " " + (tmp / ("host_" + out)).string() + params;
      qemu_jobs += "frames " + in.string() + " " + (tmp / ("qemu_" + out)).string() + params;
    }
  }
  ASSERT_GE(jobs, 20u);
  write_text(tmp / "host.txt", host_jobs);
  write_text(tmp / "qemu.txt", qemu_jobs);
  const DeviceRun host = run_on_host(tmp / "host.txt");
  const DeviceRun qemu = run_on_qemu(tmp / "qemu.txt");
  const std::string summary = "portable_runner: " + std::to_string(jobs) + " jobs, 0 failed";
  ASSERT_EQ(host.exit_code, 0) << host.output;
  ASSERT_NE(host.output.find(summary), std::string::npos) << host.output;
  ASSERT_EQ(qemu.exit_code, 0) << qemu.output;
  ASSERT_NE(qemu.output.find(summary), std::string::npos) << qemu.output;
  std::size_t identical = 0, frames = 0;
  for (std::size_t i = 0; i < jobs; ++i) {
    const std::string out = "out_" + std::to_string(i) + ".wire";
    const std::string h = read_text(tmp / ("host_" + out)), q = read_text(tmp / ("qemu_" + out));
    EXPECT_FALSE(h.empty());
    EXPECT_EQ(h, q) << "job " << i;
    if (!h.empty() && h == q) ++identical;
    for (char c : h) frames += c == 0 ? 1 : 0;
  }
  EXPECT_EQ(identical, jobs);
  std::printf("[ host = device ] protocol: %zu takes, %zu frames, %zu of %zu wire streams identical\n", jobs, frames,
              identical, jobs);
}

}  // namespace
}  // namespace tml::test
