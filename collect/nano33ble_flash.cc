#include "collect/nano33ble_flash.h"

#include <libserialport.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <thread>

#include "core/errors.h"
#include "core/process.h"

namespace tml {

namespace fs = std::filesystem;

namespace {

const char* const kApp = "nano33ble";
const char* const kBootloader = "nano33ble (bootloader)";
const char* const kFqbn = "arduino:mbed_nano:nano33ble";
const std::uintmax_t kAppRegionBytes = 983040;  // DESIGN.md §4
const char* const kInstallFix =
    "install arduino-cli (https://arduino.github.io/arduino-cli/) and run `arduino-cli core install arduino:mbed_nano`";

Error device_error(const std::string& what) { return Error(ExitCode::device, what); }
Error tool_error(const std::string& what) { return Error(ExitCode::external_tool, what); }

void step(const NanoFlashOptions& options, const std::string& text) {
  if (options.on_step) options.on_step(text);
}

std::string seconds(int ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", ms / 1000.0);
  return buf;
}

// "/dev/ttyACM0 (2e8a:000a Pico)" for the port lists in messages.
std::string describe(const SerialPortInfo& p) {
  std::string s = p.port;
  if (p.usb_vid >= 0) {
    char id[16];
    std::snprintf(id, sizeof id, "%04x:%04x", p.usb_vid & 0xffff, p.usb_pid & 0xffff);
    s += std::string(" (") + id + (p.description.empty() ? "" : " " + p.description) + ")";
  }
  return s;
}

std::string describe_all(const std::vector<SerialPortInfo>& ports) {
  std::string s;
  for (const SerialPortInfo& p : ports) s += (s.empty() ? "" : ", ") + describe(p);
  return s.empty() ? "none" : s;
}

bool is_nano(const SerialPortInfo& p) { return p.board == kApp || p.board == kBootloader; }

void check_firmware(const fs::path& firmware) {
  std::error_code ec;
  if (!fs::is_regular_file(firmware, ec)) throw invalid_input(firmware.string(), "no such firmware file");
  if (firmware.extension() != ".bin")
    throw invalid_input(firmware.string(), "the Nano 33 BLE takes the raw .bin image that `arduino-cli compile` writes, "
                                           "not " + (firmware.extension().empty() ? std::string("this file") : firmware.extension().string()));
  const std::uintmax_t size = fs::file_size(firmware, ec);
  if (size == 0) throw invalid_input(firmware.string(), "the firmware file is empty; build it again");
  if (size > kAppRegionBytes)
    throw invalid_input(firmware.string(), std::to_string(size) + " B do not fit the Nano 33 BLE's app region (983,040 B)");
}

struct Uploader {
  fs::path exe;
  bool arduino_cli = false;
};

// arduino-cli first (it brings the right bossac); else a bossac that is Arduino's fork: Debian's
// bossa-cli 1.9.1 does not know the Nano's bootloader (DESIGN.md §5).
Uploader find_uploader(const std::string& search_path) {
  if (fs::path cli = find_program("arduino-cli", search_path); !cli.empty()) return {cli, true};
  const fs::path bossac = find_program("bossac", search_path);
  if (bossac.empty())
    throw tool_error("neither arduino-cli nor bossac is on PATH, so the Nano 33 BLE cannot be flashed; " +
                     std::string(kInstallFix));
  const ProcessResult r = run_process({bossac.string(), "--help"});
  std::string text = r.out + r.err;
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("arduino") == std::string::npos) {
    const std::size_t at = lower.find("version");
    const std::string version = at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
    throw tool_error(bossac.string() + " is not Arduino's fork of bossac" + (version.empty() ? "" : " (" + version + ")") +
                     " and cannot flash the Nano 33 BLE (Debian's bossa-cli cannot); " + kInstallFix +
                     ", or put Arduino's ~/.arduino15/packages/arduino/tools/bossac/1.9.1-arduino2/bossac first on PATH");
  }
  return {bossac, false};
}

// The one board to flash: --port when given, else the only Nano 33 BLE connected.
SerialPortInfo choose_board(const std::vector<SerialPortInfo>& seen, const std::string& port) {
  if (!port.empty()) {
    for (const SerialPortInfo& p : seen)
      if (p.port == port) return p;
    throw invalid_input("--port " + port, "no such serial port (ports seen: " + describe_all(seen) +
                                              "); plug the board in or pick one from `tml devices`");
  }
  std::vector<SerialPortInfo> nanos;
  for (const SerialPortInfo& p : seen)
    if (is_nano(p)) nanos.push_back(p);
  if (nanos.size() == 1) return nanos[0];
  if (nanos.size() > 1)
    throw invalid_input("--port", "several Nano 33 BLE boards are connected (" + describe_all(nanos) +
                                      "); choose one with --port");
  const bool any_acm = std::any_of(seen.begin(), seen.end(),
                                   [](const SerialPortInfo& p) { return p.port.find("ttyACM") != std::string::npos; });
  if (!any_acm)
    throw device_error("no Nano 33 BLE found: no /dev/ttyACM* port at all (ports seen: " + describe_all(seen) +
                       "); plug the board in with a USB data cable (a charge-only cable powers it but gives no port)");
  throw device_error("no Nano 33 BLE found among the serial ports " + describe_all(seen) +
                     " (it shows up as USB 2341:805a, or 2341:005a in its bootloader); if one of them is the board, "
                     "choose it with --port, else check the cable and plug it in again");
}

// Polls for a port of KIND (kApp or kBootloader) until TIMEOUT_MS: PREFER when it is one, else
// the first not in OTHERS (ports of other boards that were there before).
std::string wait_for_port(NanoPorts& ports, const std::string& kind, const std::string& prefer,
                          const std::set<std::string>& others, const NanoFlashOptions& options, int timeout_ms) {
  for (int waited = 0;; waited += options.poll_ms) {
    std::string found;
    for (const SerialPortInfo& p : ports.list()) {
      if (p.board != kind || others.count(p.port) != 0) continue;
      if (p.port == prefer) return p.port;
      if (found.empty()) found = p.port;
    }
    if (!found.empty()) return found;
    if (waited >= timeout_ms) return "";
    ports.sleep_ms(options.poll_ms);
  }
}

void upload(const Uploader& tool, const std::string& port, const fs::path& firmware) {
  std::vector<std::string> argv;
  if (tool.arduino_cli) {
    argv = {tool.exe.string(), "upload", "-p", port, "--fqbn", kFqbn, "--input-file", firmware.string()};
  } else {
    // Arduino's bossac wants the port's name without /dev/ (as its platform.txt passes it).
    argv = {tool.exe.string(), "-d", "--port=" + fs::path(port).filename().string(), "-U", "-i", "-e", "-w",
            firmware.string(), "-R"};
  }
  const ProcessResult r = run_process(argv);
  if (r.exit_code == 0) return;
  const std::string how = r.signal != 0 ? "was killed by signal " + std::to_string(r.signal)
                                        : "failed (exit code " + std::to_string(r.exit_code) + ")";
  const std::string fix = std::string(tool.arduino_cli ? "check that its core is installed (`arduino-cli core install "
                                                         "arduino:mbed_nano`), then "
                                                       : "") +
                          "double-press the board's reset button and run tml flash again";
  throw tool_error(tool.exe.filename().string() + " " + how + " uploading " + firmware.string() + " to " + port + ": " +
                   last_lines(r.out + "\n" + r.err, 3, " | ") + "; " + fix);
}

}  // namespace

std::vector<SerialPortInfo> SerialNanoPorts::list() { return list_serial_ports(); }

void SerialNanoPorts::touch_1200(const std::string& port) {
  sp_port* p = nullptr;
  if (sp_get_port_by_name(port.c_str(), &p) != SP_OK)
    throw device_error(port + ": the port is gone (board unplugged?); see `tml devices`");
  if (sp_open(p, SP_MODE_READ_WRITE) != SP_OK) {
    const int err = errno;
    sp_free_port(p);
    throw serial_open_error(port, err);
  }
  // The Nano's USB stack resets into the bootloader when the host asks for 1200 baud and drops DTR.
  // Failures here are not reported: a board that did not reset is caught by the bootloader wait.
  sp_set_baudrate(p, 1200);
  sp_set_dtr(p, SP_DTR_OFF);
  sp_close(p);
  sp_free_port(p);
}

void SerialNanoPorts::sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

NanoFlashResult flash_nano33ble(const fs::path& firmware, NanoPorts& ports, const NanoFlashOptions& options) {
  check_firmware(firmware);
  const std::vector<SerialPortInfo> seen = ports.list();
  const SerialPortInfo board = choose_board(seen, options.port);
  // Checked before the reset, so a missing tool does not leave the board waiting in its bootloader.
  const Uploader tool = find_uploader(options.tool_path);
  std::set<std::string> others;
  for (const SerialPortInfo& p : seen)
    if (p.port != board.port && is_nano(p)) others.insert(p.port);

  std::string boot_port = board.port;
  if (board.board != kBootloader) {
    step(options, "Resetting the Nano 33 BLE on " + board.port + " into its bootloader (1200-baud touch)");
    ports.touch_1200(board.port);
    boot_port = wait_for_port(ports, kBootloader, board.port, others, options, options.bootloader_timeout_ms);
    if (boot_port.empty())
      throw device_error(board.port + ": the board did not enter its bootloader (no 2341:005a port within " +
                         seconds(options.bootloader_timeout_ms) +
                         "); double-press its reset button and run tml flash again");
    // A port opened right after it appears can still be busy (udev, ModemManager); arduino-cli
    // waits the same 500 ms.
    ports.sleep_ms(500);
  }
  step(options, "Uploading " + firmware.string() + " with " + tool.exe.string() + " to " + boot_port);
  upload(tool, boot_port, firmware);

  const std::string app_port = wait_for_port(ports, kApp, boot_port, others, options, options.app_timeout_ms);
  if (app_port.empty())
    throw device_error(boot_port + ": the firmware was uploaded but the board's app port (2341:805a) did not appear within " +
                       seconds(options.app_timeout_ms) + "; press its reset button once, check `tml devices`, and "
                       "if it stays missing, check that the .bin was built for " + kFqbn);
  return {app_port, tool.exe};
}

}  // namespace tml
