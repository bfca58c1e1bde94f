#include "device/device_identity.h"

#include <string>
#include <vector>

#include "core/errors.h"
#include "core/process.h"

namespace tml::test {

namespace fs = std::filesystem;

fs::path runner_host_binary() { return TML_RUNNER_HOST; }
fs::path runner_elf() { return TML_RUNNER_ELF; }
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

// QEMU option values are comma-separated: a literal comma is written twice.
std::string qemu_option_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

}  // namespace

DeviceRun run_on_qemu(const fs::path& job_file) {
  const std::string job = job_file.string();
  if (job.find_first_of(" \t") != std::string::npos)
    throw Error(ExitCode::internal, "run_on_qemu: semihosting arguments cannot contain spaces: " + job);
  return run_with_timeout({qemu_binary().string(), "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none",
                           "-monitor", "none", "-serial", "null", "-semihosting-config",
                           "enable=on,target=native,arg=preprocess_runner,arg=" + qemu_option_escape(job), "-kernel",
                           runner_elf().string()});
}

DeviceRun run_on_host(const fs::path& job_file) {
  return run_with_timeout({runner_host_binary().string(), job_file.string()});
}

}  // namespace tml::test
