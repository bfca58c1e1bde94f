// Flashing the Nano 33 BLE with a scripted board (ports that appear and vanish after the 1200-baud
// touch and the upload, on a virtual clock) and fake arduino-cli / bossac scripts that record their
// argv. Every failure is checked for its exit code and its one-line message with the fix; one test
// uses the real libserialport ports of this machine, where no board is attached.
#include "collect/nano33ble_flash.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/errors.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;

SerialPortInfo usb_port(const std::string& port, int vid, int pid, const std::string& description) {
  SerialPortInfo p;
  p.port = port;
  p.description = description;
  p.usb_vid = vid;
  p.usb_pid = pid;
  p.board = recognise_board(vid, pid);
  return p;
}
SerialPortInfo app(const std::string& port) { return usb_port(port, 0x2341, 0x805A, "Nano 33 BLE"); }
SerialPortInfo bootloader(const std::string& port) { return usb_port(port, 0x2341, 0x005A, "Nano 33 BLE"); }
SerialPortInfo uart(const std::string& port) {
  SerialPortInfo p;
  p.port = port;
  p.description = "Serial port";
  return p;
}

// A board as the flasher sees it: BEFORE until the touch, nothing while it resets, BOOT from
// boot_delay_ms after the touch, AFTER once the fake upload tool has run (it writes UPLOADED).
class ScriptedBoard final : public NanoPorts {
 public:
  std::vector<SerialPortInfo> before, boot, after;
  int boot_delay_ms = 700;
  int touch_errno = 0;  // EACCES, EBUSY: the touch fails as the real one does
  fs::path uploaded;
  std::vector<std::string> touched;
  int now_ms = 0;

  std::vector<SerialPortInfo> list() override {
    if (!uploaded.empty() && fs::exists(uploaded)) return after;
    if (touched_at_ < 0) return before;
    return now_ms - touched_at_ >= boot_delay_ms ? boot : std::vector<SerialPortInfo>{};
  }
  void touch_1200(const std::string& port) override {
    touched.push_back(port);
    if (touch_errno != 0) throw serial_open_error(port, touch_errno);
    touched_at_ = now_ms;
  }
  void sleep_ms(int ms) override { now_ms += ms; }

 private:
  int touched_at_ = -1;
};

class NanoFlash : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(bin_);
    firmware_ = dir_ / "collect.bin";
    test::write_text(firmware_, std::string(4096, 'Z'));
    options_.tool_path = bin_.string();
    board_.uploaded = argv_file_;
  }

  // A fake tool: BODY runs after --help handling; the upload itself records "$0" "$@".
  void fake(const std::string& name, const std::string& help, const std::string& body) {
    const fs::path exe = bin_ / name;
    test::write_text(exe, "#!/bin/sh\n"
                          "if [ \"$1\" = \"--help\" ]; then echo '" + help + "'; exit 1; fi\n"
                          "printf '%s\\n' \"$0\" \"$@\" > '" + argv_file_.string() + "'\n" + body);
    ::chmod(exe.c_str(), 0755);
  }
  void arduino_cli(const std::string& body = "echo 'New upload port: /dev/ttyACM0 (serial)'\n") {
    fake("arduino-cli", "Arduino Command Line Interface (arduino-cli)", body);
  }
  void arduino_bossac() {
    fake("bossac", "Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1-arduino2", "echo 'Verify successful'\n");
  }
  void debian_bossac() { fake("bossac", "Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1", "exit 0\n"); }

  std::vector<std::string> upload_argv() const {
    return fs::exists(argv_file_) ? test::lines_of(test::read_text(argv_file_)) : std::vector<std::string>{};
  }

  // The error flash_nano33ble throws (a failure when it succeeds).
  Error flash_error() {
    try {
      const NanoFlashResult r = flash_nano33ble(firmware_, board_, options_);
      ADD_FAILURE() << "flashed, app on " << r.port;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "not one line: " << e.what();
      return e;
    }
    return Error(ExitCode::ok, "");
  }

  test::TempDir dir_;
  fs::path bin_ = dir_ / "bin";
  fs::path argv_file_ = dir_ / "upload.argv";
  fs::path firmware_;
  NanoFlashOptions options_;
  ScriptedBoard board_;
};

void expect_contains(const Error& e, const std::string& part) {
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "\"" << part << "\" not in: " << e.what();
}

// --- success paths --------------------------------------------------------------------------------

TEST_F(NanoFlash, FlashesWithArduinoCliAfterThe1200BaudTouch) {
  arduino_cli();
  debian_bossac();  // arduino-cli wins; the wrong bossac is never asked
  board_.before = {uart("/dev/ttyS0"), app("/dev/ttyACM0")};
  board_.boot = {uart("/dev/ttyS0"), bootloader("/dev/ttyACM0")};
  board_.after = {uart("/dev/ttyS0"), app("/dev/ttyACM0")};
  std::vector<std::string> steps;
  options_.on_step = [&](const std::string& s) { steps.push_back(s); };
  const NanoFlashResult r = flash_nano33ble(firmware_, board_, options_);
  EXPECT_EQ(r.port, "/dev/ttyACM0");
  EXPECT_EQ(r.uploader, bin_ / "arduino-cli");
  EXPECT_EQ(board_.touched, std::vector<std::string>{"/dev/ttyACM0"});
  EXPECT_EQ(upload_argv(), (std::vector<std::string>{(bin_ / "arduino-cli").string(), "upload", "-p", "/dev/ttyACM0",
                                                     "--fqbn", "arduino:mbed_nano:nano33ble", "--input-file",
                                                     firmware_.string()}));
  EXPECT_EQ(steps.size(), 2u);
  EXPECT_GE(board_.now_ms, board_.boot_delay_ms);
}

TEST_F(NanoFlash, FlashesWithArduinosBossacOnTheBootloaderPort) {
  arduino_bossac();
  board_.before = {app("/dev/ttyACM0")};
  board_.boot = {bootloader("/dev/ttyACM1")};  // the bootloader may enumerate under another name
  board_.after = {app("/dev/ttyACM0")};
  const NanoFlashResult r = flash_nano33ble(firmware_, board_, options_);
  EXPECT_EQ(r.port, "/dev/ttyACM0");
  EXPECT_EQ(r.uploader, bin_ / "bossac");
  EXPECT_EQ(upload_argv(), (std::vector<std::string>{(bin_ / "bossac").string(), "-d", "--port=ttyACM1", "-U", "-i",
                                                     "-e", "-w", firmware_.string(), "-R"}));
}

TEST_F(NanoFlash, BoardAlreadyInItsBootloaderIsNotTouched) {
  arduino_cli();
  board_.before = {bootloader("/dev/ttyACM0")};
  board_.after = {app("/dev/ttyACM0")};
  const NanoFlashResult r = flash_nano33ble(firmware_, board_, options_);
  EXPECT_EQ(r.port, "/dev/ttyACM0");
  EXPECT_TRUE(board_.touched.empty());
  ASSERT_EQ(upload_argv().size(), 8u);
  EXPECT_EQ(upload_argv()[3], "/dev/ttyACM0");
}

TEST_F(NanoFlash, GivenPortChoosesAmongSeveralBoards) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0"), app("/dev/ttyACM1")};
  board_.boot = {app("/dev/ttyACM0"), bootloader("/dev/ttyACM1")};
  board_.after = {app("/dev/ttyACM0"), app("/dev/ttyACM1")};
  options_.port = "/dev/ttyACM1";
  const NanoFlashResult r = flash_nano33ble(firmware_, board_, options_);
  EXPECT_EQ(r.port, "/dev/ttyACM1");
  EXPECT_EQ(board_.touched, std::vector<std::string>{"/dev/ttyACM1"});
  EXPECT_EQ(upload_argv()[3], "/dev/ttyACM1");
}

// --- finding the board ----------------------------------------------------------------------------

TEST_F(NanoFlash, NoBoardListsThePortsSeen) {
  arduino_cli();
  board_.before = {uart("/dev/ttyS0"), usb_port("/dev/ttyACM0", 0x2e8a, 0x000a, "Pico")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "no Nano 33 BLE found");
  expect_contains(e, "/dev/ttyACM0 (2e8a:000a Pico)");
  expect_contains(e, "--port");
  EXPECT_TRUE(board_.touched.empty());
}

TEST_F(NanoFlash, ChargeOnlyCableShowsNoAcmPortAtAll) {
  arduino_cli();
  board_.before = {uart("/dev/ttyS0")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "no Nano 33 BLE found: no /dev/ttyACM* port at all (ports seen: /dev/ttyS0)");
  expect_contains(e, "charge-only cable");
}

TEST_F(NanoFlash, SeveralBoardsNeedPort) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0"), bootloader("/dev/ttyACM1")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::invalid_input);
  expect_contains(e, "several Nano 33 BLE boards are connected");
  expect_contains(e, "choose one with --port");
}

TEST_F(NanoFlash, UnknownGivenPortIsBadInput) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  options_.port = "/dev/ttyACM7";
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::invalid_input);
  expect_contains(e, "--port /dev/ttyACM7: no such serial port (ports seen: /dev/ttyACM0 (2341:805a Nano 33 BLE))");
}

TEST_F(NanoFlash, BadFirmwareFileIsRejectedFirst) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  firmware_ = dir_ / "missing.bin";
  EXPECT_EQ(flash_error().code(), ExitCode::invalid_input);
  firmware_ = dir_ / "collect.elf";
  test::write_text(firmware_, "ELF");
  const Error elf = flash_error();
  EXPECT_EQ(elf.code(), ExitCode::invalid_input);
  expect_contains(elf, "raw .bin image");
  firmware_ = dir_ / "huge.bin";
  test::write_text(firmware_, std::string(983041, 'Z'));
  expect_contains(flash_error(), "do not fit the Nano 33 BLE's app region");
  EXPECT_TRUE(board_.touched.empty());
}

// --- the 1200-baud touch and the bootloader -------------------------------------------------------

TEST_F(NanoFlash, BusyPortNamesTheOtherProgram) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  board_.touch_errno = EBUSY;
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "/dev/ttyACM0: cannot open (");
  expect_contains(e, "another program has it open");
  EXPECT_FALSE(fs::exists(argv_file_));
}

TEST_F(NanoFlash, PermissionDeniedNamesTheDialoutGroup) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  board_.touch_errno = EACCES;
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "/dev/ttyACM0: cannot open (");
  expect_contains(e, "sudo usermod -aG dialout $USER");
}

TEST_F(NanoFlash, BootloaderThatNeverAppears) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  board_.boot = {app("/dev/ttyACM0")};  // the touch did not reset it
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "/dev/ttyACM0: the board did not enter its bootloader");
  expect_contains(e, "double-press its reset button and run tml flash again");
  EXPECT_GE(board_.now_ms, options_.bootloader_timeout_ms);
  EXPECT_FALSE(fs::exists(argv_file_));
}

// --- the upload tools -----------------------------------------------------------------------------

TEST_F(NanoFlash, DebiansBossacIsRefusedBeforeTheReset) {
  debian_bossac();
  board_.before = {app("/dev/ttyACM0")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::external_tool);
  expect_contains(e, (bin_ / "bossac").string() + " is not Arduino's fork of bossac (Version 1.9.1)");
  expect_contains(e, "arduino-cli core install arduino:mbed_nano");
  expect_contains(e, "~/.arduino15/packages/arduino/tools/bossac/1.9.1-arduino2/bossac");
  EXPECT_TRUE(board_.touched.empty());
  EXPECT_FALSE(fs::exists(argv_file_));
}

TEST_F(NanoFlash, NoUploadToolGivesTheInstallCommand) {
  board_.before = {app("/dev/ttyACM0")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::external_tool);
  expect_contains(e, "neither arduino-cli nor bossac is on PATH");
  expect_contains(e, "arduino-cli core install arduino:mbed_nano");
  EXPECT_TRUE(board_.touched.empty());
}

TEST_F(NanoFlash, FailingUploadToolShowsItsLastLines) {
  arduino_cli("echo 'Performing 1200-bps touch reset on serial port /dev/ttyACM0'\n"
              "echo 'No device found on ttyACM0' >&2\n"
              "echo 'Failed uploading: uploading error: exit status 1' >&2\n"
              "exit 1\n");
  board_.before = {app("/dev/ttyACM0")};
  board_.boot = {bootloader("/dev/ttyACM0")};
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::external_tool);
  expect_contains(e, "arduino-cli failed (exit code 1) uploading " + firmware_.string() + " to /dev/ttyACM0: ");
  expect_contains(e, "No device found on ttyACM0 | Failed uploading: uploading error: exit status 1");
  expect_contains(e, "double-press the board's reset button");
}

TEST_F(NanoFlash, AppPortThatNeverReturns) {
  arduino_cli();
  board_.before = {app("/dev/ttyACM0")};
  board_.boot = {bootloader("/dev/ttyACM0")};
  board_.after = {bootloader("/dev/ttyACM0")};  // stays in the bootloader
  const Error e = flash_error();
  EXPECT_EQ(e.code(), ExitCode::device);
  expect_contains(e, "/dev/ttyACM0: the firmware was uploaded but the board's app port (2341:805a) did not appear");
  expect_contains(e, "press its reset button once");
  EXPECT_EQ(upload_argv().size(), 8u);
}

// --- the real ports -------------------------------------------------------------------------------

TEST(NanoFlashRealPorts, ThisMachineHasNoNano) {
  for (const SerialPortInfo& p : list_serial_ports())
    if (!p.board.empty()) GTEST_SKIP() << "a Nano 33 BLE is attached on " << p.port;
  test::TempDir dir;
  const fs::path firmware = dir / "collect.bin";
  test::write_text(firmware, std::string(64, 'Z'));
  SerialNanoPorts ports;
  try {
    flash_nano33ble(firmware, ports);
    FAIL() << "flashed a board that is not there";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::device);
    EXPECT_EQ(std::string(e.what()).rfind("no Nano 33 BLE found", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace tml
