#pragma once
// Runs a long-lived program (a trainer, a compiler, QEMU) and hands its stdout and stderr to the
// caller line by line while it runs — core/process.h collects output only at the end.
//
// The child can get its own process group, so a terminal's Ctrl-C reaches only tml, which then
// decides what to forward (signal_group) — and a child that starts workers (torchrun) is stopped
// with all of them. With a parent-death signal the child is also stopped when tml dies.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tml {

struct LineProcessOptions {
  std::filesystem::path cwd;                    // empty: inherit
  std::map<std::string, std::string> env;       // added to (or replacing in) the inherited environment
  std::vector<std::string> unset_env;           // removed from the inherited environment
  bool own_process_group = true;                // setpgid(0, 0) in the child
  int parent_death_signal = 15;                 // SIGTERM to the child when tml dies (0: none)
  std::size_t max_line = 1 << 20;               // longer lines are cut there (the rest is dropped)
};

struct LineProcessStatus {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
};

class LineProcess {
 public:
  enum class Stream { out, err };
  using LineHandler = std::function<void(Stream stream, std::string_view line)>;

  // Throws tml::Error(ExitCode::external_tool) when the program cannot be started (naming argv[0]).
  LineProcess(const std::vector<std::string>& argv, const LineProcessOptions& options = {});
  // A child still running is killed (SIGKILL to its group) and reaped.
  ~LineProcess();
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends SIG to the child's process group (or only the child without its own group).
  void signal_group(int sig);

  // Waits up to TIMEOUT for output and calls ON_LINE for every complete line (without '\n'; a last
  // line without '\n' is delivered at end of stream). Returns false once both streams have ended and
  // the child has exited; the exit status is then in status(). EINTR (a signal) just returns early.
  bool poll(std::chrono::milliseconds timeout, const LineHandler& on_line);
  // Status once poll returned false (or after kill_and_wait).
  const std::optional<LineProcessStatus>& status() const { return status_; }
  // SIGKILL to the group, then reaps the child; remaining output is dropped.
  LineProcessStatus kill_and_wait();

 private:
  void read_stream(int index, const LineHandler& on_line);
  void try_reap(bool block);

  pid_t pid_ = -1;
  int fds_[2] = {-1, -1};
  std::string partial_[2];
  bool dropping_[2] = {false, false};
  std::size_t max_line_;
  bool group_ = true;
  std::optional<LineProcessStatus> status_;
  std::chrono::steady_clock::time_point exited_at_{};
};

// "SIGKILL", "SIGSEGV", ... or "signal N".
std::string signal_name(int sig);

}  // namespace tml
