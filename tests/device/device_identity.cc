#include "device/device_identity.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/process.h"

namespace tml::test {

namespace fs = std::filesystem;

fs::path runner_host_binary() { return TML_RUNNER_HOST; }
fs::path runner_elf() { return TML_RUNNER_ELF; }
fs::path runner_elf_portable_kernels() {
  fs::path elf = runner_elf();
  return elf.replace_filename("portable_runner_nodsp.elf");
}
fs::path qemu_binary() { return TML_QEMU; }

namespace {

// Runs ARGV under `timeout -s KILL`, so a hung QEMU (a fault handler loops forever) cannot hang
// the test; `timeout` exits 137 when it had to kill, 124/125/126/127 for its own failures.
DeviceRun run_with_timeout(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"timeout", "-s", "KILL", std::to_string(kDeviceRunTimeoutSeconds)};
  full.insert(full.end(), argv.begin(), argv.end());
  ProcessResult r = run_process(full);
  DeviceRun run{r.exit_code, r.out};
  if (!r.err.empty()) run.output += "\n[stderr]\n" + r.err;
  if (r.signal != 0) {
    run.exit_code = -1;
    run.output += "\n[killed by signal " + std::to_string(r.signal) + "]";
  } else if (r.exit_code == 137) {
    run.exit_code = -1;
    run.output += "\n[timeout: killed after " + std::to_string(kDeviceRunTimeoutSeconds) + " s]";
  } else if (r.exit_code >= 124 && r.exit_code <= 127) {
    run.exit_code = -1;
    run.output += "\n[timeout(1) failed with " + std::to_string(r.exit_code) + "]";
  }
  return run;
}


std::string float_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(b));
  return text;
}
std::string num(unsigned v) { return std::to_string(v); }
template <typename E>
std::string en(E e) {
  return std::to_string(static_cast<unsigned>(e));
}

DeviceRun run_elf_on_qemu(const fs::path& elf, const fs::path& job_file, const std::vector<std::string>& extra_qemu_args) {
  const std::string job = job_file.string();
  if (job.find_first_of(" \t") != std::string::npos)
    throw Error(ExitCode::internal, "run_on_qemu: semihosting arguments cannot contain spaces: " + job);
  std::vector<std::string> argv = {qemu_binary().string(), "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none",
                                   "-monitor", "none", "-serial", "null", "-semihosting-config",
                                   "enable=on,target=native,arg=portable_runner,arg=" + qemu_option_value(job)};
  argv.insert(argv.end(), extra_qemu_args.begin(), extra_qemu_args.end());
  argv.insert(argv.end(), {"-kernel", elf.string()});
  return run_with_timeout(argv);
}

}  // namespace

// Parameters of the runner's job kinds (see tests/device/portable_runner.cc).
std::string audio_job_params(const pre::AudioConfig& c, unsigned chunk) {
  return "rate=" + num(c.sample_rate) + " kind=" + en(c.kind) + " frame=" + num(c.frame_length) +
         " hop=" + num(c.hop_length) + " fft=" + num(c.fft_size) + " window=" + en(c.window) +
         " periodic=" + num(c.window_periodic) + " preemph=" + float_bits(c.pre_emphasis) + " spectrum=" + en(c.spectrum) +
         " mels=" + num(c.mel_bands) + " scale=" + en(c.mel_scale) + " fmin=" + float_bits(c.fmin) +
         " fmax=" + float_bits(c.fmax) + " floor=" + float_bits(c.log_floor) + " coeffs=" + num(c.mfcc_coeffs) +
         " lifter=" + num(c.lifter) + " meannorm=" + num(c.mean_normalize) + " chunk=" + num(chunk);
}
std::string image_job_params(const pre::ImageConfig& c) {
  return "format=" + en(c.input_format) + " iw=" + num(c.input_width) + " ih=" + num(c.input_height) +
         " w=" + num(c.width) + " h=" + num(c.height) + " crop=" + en(c.crop) + " interp=" + en(c.interpolation) +
         " color=" + en(c.color) + " norm=" + en(c.normalize);
}
std::string imu_job_params(const pre::ImuConfig& c) {
  return "rate=" + float_bits(c.sample_rate) + " channels=" + num(c.channels) + " window=" + num(c.window_samples) +
         " mean=" + num(c.remove_mean) + " filter=" + en(c.filter) + " cutoff=" + float_bits(c.filter_cutoff_hz) +
         " order=" + num(c.filter_order) + " fft=" + num(c.fft_size) + " bands=" + num(c.spectral_bands) +
         " spacing=" + en(c.band_spacing) + " rms=" + num(c.rms) + " peaks=" + num(c.spectral_peaks);
}

Project template_project(const std::string& name, const fs::path& root) {
  const fs::path file = fs::path(TML_SOURCE_DIR) / "projects" / (name + ".yaml");
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return Project{root, resolve_project_yaml(text.str(), file.string())};
}

DeviceRun run_on_qemu(const fs::path& job_file, const std::vector<std::string>& extra_qemu_args) {
  return run_elf_on_qemu(runner_elf(), job_file, extra_qemu_args);
}

DeviceRun run_on_qemu_portable_kernels(const fs::path& job_file, const std::vector<std::string>& extra_qemu_args) {
  return run_elf_on_qemu(runner_elf_portable_kernels(), job_file, extra_qemu_args);
}


DeviceRun run_on_host(const fs::path& job_file) {
  return run_with_timeout({runner_host_binary().string(), job_file.string()});
}

}  // namespace tml::test
