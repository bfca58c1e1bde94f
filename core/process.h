#pragma once
// Runs other programs (trainers, compilers, QEMU, and tml itself in tests) with captured output.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tml {

struct ProcessOptions {
  std::filesystem::path cwd;                  // empty: inherit
  std::map<std::string, std::string> env;     // added to (or replacing in) the inherited environment
  std::string stdin_text;                     // written to the child's stdin, then closed
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
  std::string out;
  std::string err;
};

class Process {
 public:
  // Throws tml::Error(ExitCode::external_tool) when the program cannot be started.
  Process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void send_signal(int sig);
  // Collects all output until the child exits.
  ProcessResult wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool waited_ = false;
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The program's executable path in SEARCH_PATH (colon-separated; empty: $PATH, default
// "/usr/bin:/bin"), or empty when it is not there.
std::filesystem::path find_program(const std::string& program, const std::string& search_path = "");

// The last COUNT non-blank lines of a tool's output joined by SEPARATOR ("no output" when none):
// what an error message quotes of a failed tool.
std::string last_lines(const std::string& text, std::size_t count, const std::string& separator = "\n");

// A value inside a QEMU option list (-semihosting-config arg=..., -serial unix:...): options are
// comma-separated, so a literal comma is written twice.
std::string qemu_option_value(const std::string& value);

}  // namespace tml
