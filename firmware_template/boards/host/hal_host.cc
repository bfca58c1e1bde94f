// Board `host`: the firmware as a Linux process (DESIGN.md §4), for fast tests without QEMU.
//   serial:  a UNIX stream socket it listens on (--socket PATH), one client at a time; when the
//            client goes away the board waits for the next one (each connection starts a new
//            sequence and gets a fresh HELLO).
//   sensors: --sensor options, files read with stdio, replayed in a loop.
//   time:    CLOCK_MONOTONIC.
// POSIX is allowed in this file only. No heap is used by this file itself (glibc's stdio may
// allocate its FILE buffers; this board is not a microcontroller).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "hal/hal.h"
#include "hal/replay.h"

namespace tml::hal {

namespace {

BoardArgs g_args;
ReplaySensor g_replay[kMaxSensors];
std::FILE* g_files[kMaxSensors] = {};
int g_listen_fd = -1;
int g_client_fd = -1;
std::uint32_t g_session = 0;
volatile sig_atomic_t g_stop = 0;
bool g_socket_created = false;

void on_signal(int) { g_stop = 1; }

long file_open(const char* path, std::uint32_t* size) {
  for (std::size_t i = 0; i < kMaxSensors; ++i) {
    if (g_files[i] != nullptr) continue;
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return -1;
    struct stat st;
    if (::fstat(::fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 0x7FFFFFFF) {
      std::fclose(f);
      return -1;
    }
    *size = static_cast<std::uint32_t>(st.st_size);
    g_files[i] = f;
    return static_cast<long>(i);
  }
  return -1;
}

bool file_read(long handle, std::uint8_t* dst, std::size_t n) {
  return std::fread(dst, 1, n, g_files[handle]) == n;
}

bool file_seek(long handle, std::uint32_t pos) { return std::fseek(g_files[handle], static_cast<long>(pos), SEEK_SET) == 0; }

const FileOps kFileOps = {file_open, file_read, file_seek};

void close_client() {
  if (g_client_fd < 0) return;
  ::close(g_client_fd);
  g_client_fd = -1;
  ++g_session;
}

// A waiting client becomes the connection (non-blocking accept).
void try_accept() {
  if (g_client_fd >= 0 || g_listen_fd < 0) return;
  const int fd = ::accept(g_listen_fd, nullptr, nullptr);
  if (fd < 0) return;
  g_client_fd = fd;
  ++g_session;
}

}  // namespace

bool init(int argc, char** argv) {
  ErrorText error;
  if (!parse_board_args(argc, argv, /*allow_socket=*/true, &g_args, &error)) {
    report(error.c_str());
    report("usage: collect_host --socket PATH [--sensor KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH]... "
           "[--max-payload N]");
    return false;
  }
  if (g_args.socket[0] == '\0') {
    report("collect_host: --socket PATH is required");
    return false;
  }
  for (std::size_t i = 0; i < g_args.sensor_count; ++i) {
    if (!g_replay[i].open(&kFileOps, g_args.sensors[i], &error)) {
      report(error.c_str());
      return false;
    }
  }

  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (std::strlen(g_args.socket) >= sizeof addr.sun_path) {
    report("collect_host: --socket path too long for a UNIX socket (at most 107 bytes)");
    return false;
  }
  std::strcpy(addr.sun_path, g_args.socket);
  // A stale socket from an earlier run is replaced; any other file is left alone.
  struct stat st;
  if (::lstat(g_args.socket, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ErrorText e;
      e.add("collect_host: '").add(g_args.socket).add("' exists and is not a socket");
      report(e.c_str());
      return false;
    }
    ::unlink(g_args.socket);
  }
  g_listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (g_listen_fd < 0 || ::bind(g_listen_fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(g_listen_fd, 1) != 0) {
    ErrorText e;
    e.add("collect_host: cannot listen on '").add(g_args.socket).add("': ").add(std::strerror(errno));
    report(e.c_str());
    return false;
  }
  g_socket_created = true;
  ::fcntl(g_listen_fd, F_SETFL, ::fcntl(g_listen_fd, F_GETFL) | O_NONBLOCK);

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}

bool running() { return g_stop == 0; }

void shutdown() {
  if (g_client_fd >= 0) ::close(g_client_fd);
  g_client_fd = -1;
  if (g_listen_fd >= 0) ::close(g_listen_fd);
  g_listen_fd = -1;
  if (g_socket_created) ::unlink(g_args.socket);
  for (std::FILE*& f : g_files) {
    if (f != nullptr) std::fclose(f);
    f = nullptr;
  }
}

void report(const char* text) { std::fprintf(stderr, "%s\n", text); }

const char* board_id() { return "host"; }
std::uint8_t board_revision() { return 1; }
std::uint16_t max_payload() { return g_args.max_payload; }

std::size_t serial_read(std::uint8_t* buf, std::size_t cap) {
  if (g_client_fd < 0) {
    try_accept();
    return 0;  // bytes of a new connection are read after the app saw the session change
  }
  const ssize_t n = ::recv(g_client_fd, buf, cap, MSG_DONTWAIT);
  if (n > 0) return static_cast<std::size_t>(n);
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close_client();
  return 0;
}

bool serial_write(const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    if (g_client_fd < 0) return false;
    const ssize_t k = ::send(g_client_fd, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd p = {g_client_fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      close_client();
      return false;
    }
    data += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

std::uint32_t serial_session() { return g_session; }
bool serial_connected() { return g_client_fd >= 0; }

std::uint32_t micros() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
                                    static_cast<std::uint64_t>(ts.tv_nsec) / 1000u);
}

std::uint32_t cost_ticks() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec));
}
std::uint32_t cost_ticks_per_second() { return 1000000000u; }

void idle(std::uint32_t max_us) {
  struct pollfd p = {g_client_fd >= 0 ? g_client_fd : g_listen_fd, POLLIN, 0};
  const int ms = static_cast<int>((max_us + 999u) / 1000u);
  ::poll(&p, 1, ms > 0 ? ms : 1);
}

void led(bool) {}

std::size_t sensor_count() { return g_args.sensor_count; }
const SensorInfo& sensor_info(std::size_t index) { return g_args.sensors[index].info; }
bool sensor_start(std::size_t index) { return index < g_args.sensor_count && g_replay[index].start(); }
std::size_t sensor_available(std::size_t, std::size_t wanted) { return wanted; }
bool sensor_read(std::size_t index, std::uint8_t* dst, std::size_t n) { return g_replay[index].read(dst, n); }
std::uint32_t sensor_take_dropped(std::size_t) { return 0; }
void sensor_stop(std::size_t) {}

}  // namespace tml::hal
