#pragma once
// Byte links to a board: a real serial port (libserialport) or the UNIX socket of an emulated
// board (qemu-m4, host). Both behave the same for the protocol code above them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"

namespace tml {

class Link {
 public:
  virtual ~Link() = default;
  // Up to cap bytes, waiting at most timeout_ms for the first one; 0 on timeout. Throws
  // tml::Error(ExitCode::device) when the link is gone (board unplugged, emulator dead).
  virtual std::size_t read(std::uint8_t* buf, std::size_t cap, int timeout_ms) = 0;
  // All n bytes, or throws tml::Error(ExitCode::device) within timeout_ms.
  virtual void write(const std::uint8_t* data, std::size_t n, int timeout_ms = 2000) = 0;
  virtual std::string name() const = 0;
};

// Connects to an emulated board's UNIX socket, retrying until timeout_ms (the board may still be
// starting). Throws tml::Error(ExitCode::device) naming the socket and the fix.
std::unique_ptr<Link> connect_socket(const std::string& path, int timeout_ms);

// Opens a serial port (8N1, no flow control) through libserialport.
std::unique_ptr<Link> open_serial(const std::string& port, int baud = 115200);

// The tml::Error(ExitCode::device) for a serial port that does not open (errno ERR), with its fix:
// the dialout group for EACCES, the program holding it for EBUSY, the cable otherwise. Shared by
// open_serial and the Nano 33 BLE's 1200-baud touch (collect/nano33ble_flash.h).
Error serial_open_error(const std::string& port, int err);

struct SerialPortInfo {
  std::string port;         // /dev/ttyACM0
  std::string description;  // from the USB descriptor
  int usb_vid = -1, usb_pid = -1;
  std::string serial_number;
  std::string board;        // "nano33ble", "nano33ble (bootloader)" or "" when not recognised
};

// Every serial port libserialport sees, with its USB identity where it has one.
std::vector<SerialPortInfo> list_serial_ports();
// The board a USB VID:PID belongs to ("" when unknown): Arduino Nano 33 BLE (Sense) app 0x2341:0x805A,
// bootloader 0x2341:0x005A.
std::string recognise_board(int usb_vid, int usb_pid);

}  // namespace tml
