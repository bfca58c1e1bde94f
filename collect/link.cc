#include "collect/link.h"

#include <libserialport.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/errors.h"

namespace tml {

namespace {

Error device_error(const std::string& what) { return Error(ExitCode::device, what); }

class SocketLink final : public Link {
 public:
  SocketLink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~SocketLink() override { ::close(fd_); }

  std::size_t read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) return 0;
    if (r < 0) throw device_error(path_ + ": " + errno_text(errno));
    if (r == 0) return 0;
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n == 0) throw device_error(path_ + ": the board closed the link (emulator stopped?); restart it with `tml flash`");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return 0;
      throw device_error(path_ + ": " + errno_text(errno));
    }
    return static_cast<std::size_t>(n);
  }

  void write(const std::uint8_t* data, std::size_t n, int timeout_ms) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (n > 0) {
      pollfd p{fd_, POLLOUT, 0};
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0 || ::poll(&p, 1, left) == 0) throw device_error(path_ + ": the board does not read (timeout)");
      const ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        throw device_error(path_ + ": " + errno_text(errno) + "; is the board still running? (`tml devices`)");
      }
      data += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  std::string name() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

class SerialLink final : public Link {
 public:
  SerialLink(sp_port* port, std::string name) : port_(port), name_(std::move(name)) {}
  ~SerialLink() override {
    sp_close(port_);
    sp_free_port(port_);
  }

  std::size_t read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override {
    // Wait for the first byte, then take whatever else is there.
    const int first = sp_blocking_read(port_, buf, 1, static_cast<unsigned>(timeout_ms));
    if (first < 0) throw device_error(name_ + ": read failed (board unplugged?): " + last_error());
    if (first == 0) {
      check_present();
      return 0;
    }
    const int more = sp_nonblocking_read(port_, buf + 1, cap - 1);
    if (more < 0) throw device_error(name_ + ": read failed (board unplugged?): " + last_error());
    return 1 + static_cast<std::size_t>(more);
  }

  void write(const std::uint8_t* data, std::size_t n, int timeout_ms) override {
    const int w = sp_blocking_write(port_, data, n, static_cast<unsigned>(timeout_ms));
    if (w < 0 || static_cast<std::size_t>(w) != n)
      throw device_error(name_ + ": write failed or timed out (board unplugged or not reading)");
  }

  std::string name() const override { return name_; }

 private:
  // A USB CDC port that vanished reads as a timeout on some kernels: check the device node.
  void check_present() const {
    if (::access(name_.c_str(), F_OK) != 0) throw device_error(name_ + ": the port is gone (board unplugged?)");
  }
  static std::string last_error() {
    char* msg = sp_last_error_message();
    std::string s = msg ? msg : "unknown error";
    sp_free_error_message(msg);
    return s;
  }
  sp_port* port_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Link> connect_socket(const std::string& path, int timeout_ms) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) throw invalid_input(path, "socket path too long (max 107 bytes)");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int last = 0;
  for (;;) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw device_error("socket: " + errno_text(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return std::make_unique<SocketLink>(fd, path);
    last = errno;
    ::close(fd);
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw device_error(path + ": cannot connect (" + errno_text(last) +
                     "); is the emulated board running? Start it with `tml flash`");
}

Error serial_open_error(const std::string& port, int err) {
  const std::string fix = err == EACCES ? "add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again"
                          : err == EBUSY ? "another program has it open (a serial monitor, or `tml monitor`?); close it"
                                         : "check the cable (a charge-only cable has no data lines)";
  return device_error(port + ": cannot open (" + errno_text(err) + "); " + fix);
}

std::unique_ptr<Link> open_serial(const std::string& port, int baud) {
  sp_port* p = nullptr;
  if (sp_get_port_by_name(port.c_str(), &p) != SP_OK)
    throw device_error(port + ": no such serial port; list them with `tml devices`");
  if (sp_open(p, SP_MODE_READ_WRITE) != SP_OK) {
    const int err = errno;
    sp_free_port(p);
    throw serial_open_error(port, err);
  }
  sp_set_baudrate(p, baud);
  sp_set_bits(p, 8);
  sp_set_parity(p, SP_PARITY_NONE);
  sp_set_stopbits(p, 1);
  sp_set_flowcontrol(p, SP_FLOWCONTROL_NONE);
  return std::make_unique<SerialLink>(p, port);
}

std::string recognise_board(int usb_vid, int usb_pid) {
  if (usb_vid == 0x2341 && usb_pid == 0x805A) return "nano33ble";
  if (usb_vid == 0x2341 && usb_pid == 0x005A) return "nano33ble (bootloader)";
  return "";
}

std::vector<SerialPortInfo> list_serial_ports() {
  std::vector<SerialPortInfo> out;
  sp_port** ports = nullptr;
  if (sp_list_ports(&ports) != SP_OK) return out;
  for (sp_port** p = ports; *p != nullptr; ++p) {
    SerialPortInfo info;
    info.port = sp_get_port_name(*p);
    if (const char* d = sp_get_port_description(*p)) info.description = d;
    if (sp_get_port_transport(*p) == SP_TRANSPORT_USB) {
      sp_get_port_usb_vid_pid(*p, &info.usb_vid, &info.usb_pid);
      if (const char* s = sp_get_port_usb_serial(*p)) info.serial_number = s;
      info.board = recognise_board(info.usb_vid, info.usb_pid);
    }
    out.push_back(info);
  }
  sp_free_port_list(ports);
  return out;
}

}  // namespace tml
