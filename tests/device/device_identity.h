#pragma once
// Host-side helpers for the host/device identity tests: run tests/device/portable_runner.cc,
// built for x86-64 (portable_runner_host) and for the Cortex-M4F (portable_runner.elf on QEMU
// mps2-an386 with semihosting), on the same job file. Compiled into tml_tests
// (tests/CMakeLists.txt, last block), which defines TML_RUNNER_HOST, TML_RUNNER_ELF and TML_QEMU.
//
// Job file format (see portable_runner.cc): one job per line, `KIND INPUT OUTPUT [PARAMS...]`.
// Paths must be absolute-or-relative-to-cwd, without spaces (QEMU joins semihosting args with spaces).
#include <filesystem>
#include <string>
#include <vector>

#include "core/project_file.h"
#include "preprocess/audio_features.h"
#include "preprocess/image_ops.h"
#include "preprocess/imu_features.h"

namespace tml::test {

struct DeviceRun {
  int exit_code;       // the runner's exit code; -1 when it was killed (timeout) or died by a signal
  std::string output;  // stdout (the runner's printf), then stderr if any, then a note when killed
};

// Kill the run after this many seconds (coreutils `timeout -s KILL`).
inline constexpr int kDeviceRunTimeoutSeconds = 120;

// qemu-system-arm -M mps2-an386 -cpu cortex-m4 -display none -monitor none -serial null
//   -semihosting-config enable=on,target=native,arg=portable_runner,arg=JOB -kernel ELF
// NOTE: a SIGTERM'd QEMU exits 0 (DESIGN.md §5): callers must also check the output and the files
// the job wrote, not only exit_code.
// extra_qemu_args go before -kernel (bench/device_preprocess_bench.cc adds -icount shift=10).
DeviceRun run_on_qemu(const std::filesystem::path& job_file, const std::vector<std::string>& extra_qemu_args = {});
// The same with portable_runner_nodsp.elf: the runtime's portable kernel loops (TML_RUNTIME_PORTABLE)
// instead of the Cortex-M4 DSP ones.
DeviceRun run_on_qemu_portable_kernels(const std::filesystem::path& job_file,
                                       const std::vector<std::string>& extra_qemu_args = {});

// portable_runner_host JOB
DeviceRun run_on_host(const std::filesystem::path& job_file);

// KEY=VALUE parameters of the runner's audio / image / imu job kinds for a configuration (floats
// as their bits). chunk: samples per audio_push, as the device's DMA block.
std::string audio_job_params(const pre::AudioConfig& config, unsigned chunk);
std::string image_job_params(const pre::ImageConfig& config);
std::string imu_job_params(const pre::ImuConfig& config);

// A project from the template projects/NAME.yaml of the source tree, rooted at ROOT (not written).
Project template_project(const std::string& name, const std::filesystem::path& root);

std::filesystem::path runner_host_binary();
std::filesystem::path runner_elf();
std::filesystem::path runner_elf_portable_kernels();
std::filesystem::path qemu_binary();

}  // namespace tml::test
