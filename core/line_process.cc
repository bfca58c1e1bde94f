#include "core/line_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace tml {

namespace {

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(ExitCode::internal, "pipe2 failed: " + errno_text(errno));
}

// After the child exited, how long output from processes it left behind (holding the pipes) is
// still read before the streams are closed.
constexpr auto kDrainAfterExit = std::chrono::seconds(2);

}  // namespace

std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    default: return "signal " + std::to_string(sig);
  }
}

LineProcess::LineProcess(const std::vector<std::string>& argv, const LineProcessOptions& options)
    : max_line_(options.max_line ? options.max_line : 1), group_(options.own_process_group) {
  if (argv.empty()) throw Error(ExitCode::internal, "LineProcess: empty command");
  int out[2], err[2], exec_status[2];
  make_pipe(out);
  make_pipe(err);
  make_pipe(exec_status);
  const pid_t parent = ::getpid();
  // Everything the child needs is prepared before fork (no allocation between fork and exec).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1], exec_status[0], exec_status[1]}) ::close(fd);
    throw Error(ExitCode::internal, "fork failed: " + errno_text(e));
  }
  if (pid_ == 0) {
    if (options.own_process_group) ::setpgid(0, 0);
    if (options.parent_death_signal) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (::getppid() != parent) ::_exit(127);  // tml died before prctl
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_status[1], &e, sizeof e);
      ::_exit(127);
    }
    for (const auto& name : options.unset_env) ::unsetenv(name.c_str());
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(exec_status[1], &e, sizeof e);
    ::_exit(127);
  }
  if (options.own_process_group) ::setpgid(pid_, pid_);  // also here: no race with signal_group
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_status[1]);
  fds_[0] = out[0];
  fds_[1] = err[0];
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_status[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_status[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    kill_and_wait();
    throw Error(ExitCode::external_tool,
                argv[0] + ": cannot start (" + errno_text(child_errno) + "); check that it is installed and on PATH");
  }
}

LineProcess::~LineProcess() {
  if (pid_ > 0 && !status_) {
    kill_and_wait();
  } else if (pid_ > 0 && group_) {
    ::kill(-pid_, SIGKILL);  // workers the child left behind
  }
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void LineProcess::signal_group(int sig) {
  if (pid_ <= 0) return;
  if (group_) {
    ::kill(-pid_, sig);
  } else if (!status_) {
    ::kill(pid_, sig);
  }
}

void LineProcess::try_reap(bool block) {
  if (status_ || pid_ <= 0) return;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return;
  LineProcessStatus s;
  if (WIFEXITED(st)) s.exit_code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) s.signal = WTERMSIG(st);
  status_ = s;
  exited_at_ = std::chrono::steady_clock::now();
}

void LineProcess::read_stream(int i, const LineHandler& on_line) {
  char buf[65536];
  ssize_t n = ::read(fds_[i], buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  Stream stream = i == 0 ? Stream::out : Stream::err;
  if (n <= 0) {  // end of stream (or an error, treated the same)
    if (!partial_[i].empty() && !dropping_[i]) on_line(stream, partial_[i]);
    partial_[i].clear();
    ::close(fds_[i]);
    fds_[i] = -1;
    return;
  }
  std::string_view data(buf, static_cast<std::size_t>(n));
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    std::string_view piece = data.substr(0, nl);
    if (!dropping_[i]) {
      std::size_t room = max_line_ - partial_[i].size();
      partial_[i].append(piece.substr(0, room));
      if (piece.size() > room) dropping_[i] = true;  // too long: cut here, drop the rest of the line
    }
    if (nl == std::string_view::npos) {
      if (dropping_[i] && !partial_[i].empty()) {
        on_line(stream, partial_[i]);
        partial_[i].clear();
      }
      break;
    }
    if (!dropping_[i] || !partial_[i].empty()) on_line(stream, partial_[i]);
    partial_[i].clear();
    dropping_[i] = false;
    data.remove_prefix(nl + 1);
  }
}

bool LineProcess::poll(std::chrono::milliseconds timeout, const LineHandler& on_line) {
  if (fds_[0] < 0 && fds_[1] < 0) {
    try_reap(true);
    return false;
  }
  try_reap(false);
  if (status_ && std::chrono::steady_clock::now() - exited_at_ > kDrainAfterExit) {
    for (int i = 0; i < 2; ++i) {
      if (fds_[i] >= 0) {
        if (!partial_[i].empty() && !dropping_[i]) on_line(i == 0 ? Stream::out : Stream::err, partial_[i]);
        partial_[i].clear();
        ::close(fds_[i]);
        fds_[i] = -1;
      }
    }
    return false;
  }
  pollfd p[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
  int wait_ms = static_cast<int>(timeout.count());
  if (status_) wait_ms = std::min(wait_ms, 100);
  int r = ::poll(p, 2, wait_ms);
  if (r < 0) return true;  // EINTR: the caller checks its interrupt flag and calls again
  for (int i = 0; i < 2; ++i) {
    if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) read_stream(i, on_line);
  }
  if (fds_[0] < 0 && fds_[1] < 0) {
    try_reap(true);
    return false;
  }
  return true;
}

LineProcessStatus LineProcess::kill_and_wait() {
  if (pid_ > 0) {
    if (group_) ::kill(-pid_, SIGKILL);
    if (!status_) ::kill(pid_, SIGKILL);
    try_reap(true);
  }
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  return status_.value_or(LineProcessStatus{});
}

}  // namespace tml
