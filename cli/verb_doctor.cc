// tml doctor: is this machine ready for tml? Checks the tools tml runs (CMake, the Arm toolchain,
// QEMU, Python with PyTorch; arduino-cli / Arduino's bossac for the real Nano 33 BLE), the serial
// permissions and the ports it sees, and tml's own collection firmware. Each problem comes with its
// fix. Exit code 0 when every required check passes, 4 (external tool) when one fails; optional
// checks only warn.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <iostream>

#include "collect/emulated_board.h"
#include "collect/link.h"
#include "context.h"
#include "core/errors.h"
#include "core/process.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct Check {
  std::string name;
  std::string status;  // "ok", "warn" (optional, or a hint), "fail" (required)
  std::string detail;
  std::string fix;
};

std::string first_line(const std::string& text) {
  const std::size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

// A program on PATH and its version line (from ARGS, e.g. --version).
Check program(const std::string& name, const std::string& exe, const std::vector<std::string>& args, bool required,
              const std::string& fix) {
  const fs::path path = find_program(exe);
  if (path.empty()) return {name, required ? "fail" : "warn", exe + " is not on PATH", fix};
  std::vector<std::string> argv = {path.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  const std::string version = first_line(r.out.empty() ? r.err : r.out);
  if (r.exit_code != 0 && version.empty()) return {name, required ? "fail" : "warn", path.string() + " does not run", fix};
  return {name, "ok", path.string() + (version.empty() ? "" : ": " + version), ""};
}

Check python_torch() {
  const fs::path python = "/usr/bin/python3";
  if (!fs::exists(python))
    return {"python3 + torch", "fail", "/usr/bin/python3 is missing", "sudo apt install python3 python3-torch"};
  const ProcessResult r = run_process({python.string(), "-c", "import torch; print(torch.__version__)"});
  if (r.exit_code != 0)
    return {"python3 + torch", "fail", "/usr/bin/python3 cannot import torch",
            "sudo apt install python3-torch (Debian's torch is seen by /usr/bin/python3 only)"};
  return {"python3 + torch", "ok", "torch " + first_line(r.out), ""};
}

Check serial_permissions() {
  if (::geteuid() == 0) return {"serial permissions", "ok", "running as root", ""};
  const group* dialout = ::getgrnam("dialout");
  if (dialout == nullptr) return {"serial permissions", "warn", "no dialout group on this system", ""};
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  const passwd* pw = ::getpwuid(::geteuid());
  if (pw != nullptr && ::getgrouplist(pw->pw_name, ::getegid(), groups.data(), &count) >= 0) {
    for (int i = 0; i < count; ++i)
      if (groups[static_cast<std::size_t>(i)] == dialout->gr_gid) return {"serial permissions", "ok", "member of dialout", ""};
  }
  return {"serial permissions", "warn", "not a member of dialout: serial ports like /dev/ttyACM0 will refuse to open",
          "sudo usermod -aG dialout $USER, then log out and in again"};
}

int run_doctor(const Context& ctx) {
  std::vector<Check> checks;
  checks.push_back(program("cmake", "cmake", {"--version"}, true, "sudo apt install cmake"));
  checks.push_back(program("Arm toolchain", "arm-none-eabi-gcc", {"--version"}, true,
                           "sudo apt install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"));
  checks.push_back(program("QEMU (qemu-m4 board)", "qemu-system-arm", {"--version"}, true, "sudo apt install qemu-system-arm"));
  checks.push_back(python_torch());
  checks.push_back(program("arduino-cli (Nano 33 BLE sketches)", "arduino-cli", {"version"}, false,
                           "optional: install arduino-cli and `arduino-cli core install arduino:mbed_nano` to compile "
                           "the exported sketches"));
  Check bossac = program("bossac (Nano 33 BLE upload)", "bossac", {"--help"}, false,
                         "optional: Arduino's bossac 1.9.1-arduino2 (from the arduino:mbed_nano core); Debian's bossa-cli "
                         "cannot flash the Nano 33 BLE");
  if (bossac.status == "ok" && bossac.detail.find("arduino") == std::string::npos) {
    bossac.status = "warn";
    bossac.fix = "this bossac is not Arduino's fork (1.9.1-arduino2): it cannot flash the Nano 33 BLE";
  }
  checks.push_back(bossac);
  checks.push_back(serial_permissions());
  for (const char* board : {"qemu-m4", "host"}) {
    try {
      checks.push_back({std::string("collection firmware (") + board + ")", "ok", collection_firmware(board).string(), ""});
    } catch (const Error& e) {
      checks.push_back({std::string("collection firmware (") + board + ")", "fail", e.what(), "run scripts/build.sh"});
    }
  }
  json ports = json::array();
  try {
    for (const SerialPortInfo& p : list_serial_ports())
      ports.push_back({{"port", p.port}, {"description", p.description}, {"board", p.board}});
  } catch (const Error& e) {
    checks.push_back({"serial ports", "warn", e.what(), ""});
  }

  bool failed = false;
  json list = json::array();
  for (const Check& c : checks) {
    failed = failed || c.status == "fail";
    list.push_back({{"check", c.name}, {"status", c.status}, {"detail", c.detail}, {"fix", c.fix.empty() ? json(nullptr) : json(c.fix)}});
  }
  json doc{{"ok", !failed}, {"checks", list}, {"ports", ports}};
  ctx.print(doc, [&](std::ostream& out) {
    for (const Check& c : checks) {
      out << (c.status == "ok" ? "  ok    " : c.status == "warn" ? "  warn  " : "  FAIL  ") << c.name << ": " << c.detail << "\n";
      if (!c.fix.empty() && c.status != "ok") out << "        fix: " << c.fix << "\n";
    }
    if (ports.empty()) out << "  serial ports: none (no board attached; the emulated boards need none)\n";
    for (const auto& p : ports)
      out << "  port " << p["port"].get<std::string>() << ": " << p["description"].get<std::string>()
          << (p["board"].get<std::string>().empty() ? "" : " (" + p["board"].get<std::string>() + ")") << "\n";
    out << (failed ? "Some required checks failed; see the fixes above.\n" : "Ready.\n");
  });
  return failed ? static_cast<int>(ExitCode::external_tool) : 0;
}

}  // namespace

Verb add_doctor_verb(CLI::App& tml, Context& ctx) {
  CLI::App* sub = tml.add_subcommand("doctor", "check the tools, serial permissions and ports tml needs, with a fix for each problem");
  return {sub, [&ctx] { return run_doctor(ctx); }};
}

}  // namespace tml::cli
