// Host/device identity harness (tests/device/): the same portable_runner source, built for x86-64
// and for the Cortex-M4F (QEMU mps2-an386, semihosting), runs the same job file; every output file
// must be byte-identical. These tests prove the harness itself with the `selftest` job kind; the
// audio/image/imu kinds reuse run_on_host/run_on_qemu the same way.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "device/device_identity.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& file) { return read_text(file); }

void write_bytes(const fs::path& file, const std::string& bytes) { write_text(file, bytes); }

// Real files (recordings, images, models) plus synthetic edge cases (every byte value, odd sizes).
std::vector<fs::path> selftest_inputs(const fs::path& dir) {
  std::vector<fs::path> inputs;
  for (const char* rel :
       {"audio/yes_1000ms.wav", "audio/no_1000ms.wav", "audio/silence_1000ms.wav", "audio/noise_1000ms.wav",
        "images/person.bmp", "images/no_person.bmp", "models/hello_world_int8.tflite",
        "models/micro_speech_quantized.tflite", "models/person_detect.tflite", "models/mlperf-tiny/ad01_int8.tflite",
        "models/mlperf-tiny/kws_ref_model.tflite", "models/mlperf-tiny/pretrainedResnet_quant.tflite",
        "models/mlperf-tiny/vww_96_int8.tflite"}) {
    inputs.push_back(shared_data(rel));
  }
  std::uint32_t lcg = 12345;
  for (std::size_t size : {1u, 2u, 7u, 255u, 256u, 1000u, 4097u, 65536u}) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
      lcg = lcg * 1664525u + 1013904223u;
      bytes[i] = static_cast<char>(size == 256u ? i : (lcg >> 24));
    }
    fs::path file = dir / ("synthetic_" + std::to_string(size) + ".bin");
    write_bytes(file, bytes);
    inputs.push_back(file);
  }
  return inputs;
}

TEST(DeviceHarness, BinariesExist) {
  EXPECT_TRUE(fs::is_regular_file(runner_host_binary())) << runner_host_binary();
  EXPECT_TRUE(fs::is_regular_file(runner_elf())) << runner_elf();
  EXPECT_TRUE(fs::is_regular_file(qemu_binary())) << qemu_binary();
}

TEST(DeviceHarness, SelftestIsByteIdenticalOnHostAndQemu) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  fs::create_directories(tmp / "host");
  fs::create_directories(tmp / "qemu");
  const std::vector<fs::path> inputs = selftest_inputs(tmp / "in");
  ASSERT_GE(inputs.size(), 20u);

  std::string host_jobs = "# selftest jobs, host\n", qemu_jobs = "# selftest jobs, qemu\n";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(fs::is_regular_file(inputs[i])) << inputs[i];
    const std::string name = "out_" + std::to_string(i) + ".f32";
    host_jobs += "selftest " + inputs[i].string() + " " + (tmp / "host" / name).string() + "\n";
    qemu_jobs += "selftest " + inputs[i].string() + " " + (tmp / "qemu" / name).string() + "\n";
  }
  write_text(tmp / "host_jobs.txt", host_jobs);
  write_text(tmp / "qemu_jobs.txt", qemu_jobs);

  const DeviceRun host = run_on_host(tmp / "host_jobs.txt");
  const DeviceRun qemu = run_on_qemu(tmp / "qemu_jobs.txt");
  const std::string summary = "portable_runner: " + std::to_string(inputs.size()) + " jobs, 0 failed";
  ASSERT_EQ(host.exit_code, 0) << host.output;
  EXPECT_NE(host.output.find(summary), std::string::npos) << host.output;
  // QEMU really ran the program to its end: exit code from semihosting and the runner's own summary
  // (a SIGTERM'd QEMU exits 0 without it).
  ASSERT_EQ(qemu.exit_code, 0) << qemu.output;
  EXPECT_NE(qemu.output.find(summary), std::string::npos) << qemu.output;

  std::size_t compared = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "out_" + std::to_string(i) + ".f32";
    const fs::path host_file = tmp / "host" / name, qemu_file = tmp / "qemu" / name;
    ASSERT_TRUE(fs::is_regular_file(host_file)) << host_file;
    ASSERT_TRUE(fs::is_regular_file(qemu_file)) << qemu_file;
    const std::string h = read_bytes(host_file), q = read_bytes(qemu_file);
    const std::uintmax_t expected = 4 * fs::file_size(inputs[i]);
    EXPECT_GT(q.size(), 0u) << inputs[i];
    EXPECT_EQ(h.size(), expected) << inputs[i];
    EXPECT_EQ(q.size(), expected) << inputs[i];
    if (h != q) {
      std::size_t at = 0;
      while (at < h.size() && at < q.size() && h[at] == q[at]) ++at;
      ADD_FAILURE() << inputs[i] << ": host and QEMU outputs differ first at byte " << at << " (float "
                    << at / 4 << ")";
    } else {
      ++compared;
    }
  }
  EXPECT_EQ(compared, inputs.size());
}

// The harness must be able to fail: a failing job gives exit code 1 through semihosting, the error
// line reaches the host, and a missing input produces no output file.
TEST(DeviceHarness, QemuReportsJobFailures) {
  TempDir tmp;
  write_text(tmp / "jobs.txt", "nosuchkind " + (tmp / "a").string() + " " + (tmp / "b").string() + "\n" +
                                   "selftest " + (tmp / "missing.bin").string() + " " + (tmp / "c").string() +
                                   "\n");
  const DeviceRun qemu = run_on_qemu(tmp / "jobs.txt");
  EXPECT_EQ(qemu.exit_code, 1) << qemu.output;
  EXPECT_NE(qemu.output.find("unknown job kind 'nosuchkind'"), std::string::npos) << qemu.output;
  EXPECT_NE(qemu.output.find("cannot open input"), std::string::npos) << qemu.output;
  EXPECT_NE(qemu.output.find("2 jobs, 2 failed"), std::string::npos) << qemu.output;
  EXPECT_FALSE(fs::exists(tmp / "c"));

  const DeviceRun host = run_on_host(tmp / "jobs.txt");
  EXPECT_EQ(host.exit_code, 1) << host.output;
  EXPECT_EQ(host.output, qemu.output);

  const DeviceRun missing = run_on_qemu(tmp / "no_such_jobs.txt");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("cannot open job file"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace tml::test
