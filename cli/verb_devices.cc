// tml devices: real serial ports (libserialport: port, description, USB VID:PID, serial number,
// recognised board) and the project's running emulated board, with the HELLO of each board tml
// can talk to.
#include <iostream>

#include "board_output.h"
#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "collect/link.h"
#include "context.h"
#include "core/errors.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// The board's HELLO, or the reason there is none.
json ask_hello(Link& link) {
  try {
    BoardClient client(link);
    return json{{"hello", hello_json(client.hello(1500))}};
  } catch (const Error& e) {
    return json{{"hello", nullptr}, {"problem", e.what()}};
  }
}

std::string usb_id(int vid, int pid) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", vid, pid);
  return buf;
}

}  // namespace

Verb add_devices_verb(CLI::App& tml, Context& ctx) {
  CLI::App* sub = tml.add_subcommand("devices", "list serial ports and emulated boards, with each board's HELLO");
  return {sub, [&ctx] {
            json ports = json::array();
            for (const SerialPortInfo& p : list_serial_ports()) {
              json j{{"port", p.port}, {"description", p.description}};
              j["usb"] = p.usb_vid >= 0 ? json(usb_id(p.usb_vid, p.usb_pid)) : json(nullptr);
              j["serial_number"] = p.serial_number;
              j["board"] = p.board.empty() ? json(nullptr) : json(p.board);
              if (p.board == "nano33ble") {
                try {
                  auto link = open_serial(p.port);
                  j.update(ask_hello(*link));
                } catch (const Error& e) {
                  j["problem"] = e.what();
                }
              }
              ports.push_back(j);
            }
            json emulated = json::array();
            if (fs::exists(fs::path(kProjectFileName))) {
              Project project = load_project(".");
              if (auto s = running_board(project)) {
                json j = s->to_json();
                try {
                  auto link = connect_socket(s->socket, 1000);
                  j.update(ask_hello(*link));
                } catch (const Error& e) {
                  j["problem"] = e.what();
                }
                emulated.push_back(j);
              }
            }
            json doc{{"ok", true}, {"serial_ports", ports}, {"emulated_boards", emulated}};
            ctx.print(doc, [&](std::ostream& out) {
              out << "Serial ports:" << (ports.empty() ? " none\n" : "\n");
              for (const auto& p : ports) {
                out << "  " << p["port"].get<std::string>() << "  " << p["description"].get<std::string>();
                if (!p["usb"].is_null()) out << "  USB " << p["usb"].get<std::string>();
                if (!p["board"].is_null()) out << "  [" << p["board"].get<std::string>() << "]";
                out << "\n";
                if (p.contains("hello") && !p["hello"].is_null())
                  out << "    HELLO: firmware " << p["hello"]["firmware"].get<std::string>() << ", config "
                      << p["hello"]["config_hash"].get<std::string>() << "\n";
                if (p.contains("problem")) out << "    " << p["problem"].get<std::string>() << "\n";
              }
              out << "Emulated boards (this project):" << (emulated.empty() ? " none (start one with `tml flash`)\n" : "\n");
              for (const auto& b : emulated) {
                out << "  " << b["board"].get<std::string>() << "  pid " << b["pid"].get<int>() << "  "
                    << b["socket"].get<std::string>() << "\n";
                if (b.contains("hello") && !b["hello"].is_null()) {
                  const auto& h = b["hello"];
                  out << "    HELLO: " << h["board"].get<std::string>() << ", firmware " << h["firmware"].get<std::string>()
                      << ", config " << h["config_hash"].get<std::string>() << ", sensors:";
                  for (const auto& s : h["sensors"])
                    out << " " << s["kind"].get<std::string>() << " " << s["format"].get<std::string>() << " x"
                        << s["channels"].get<int>() << " @ " << s["rate"].get<double>() << " Hz";
                  out << "\n";
                }
                if (b.contains("problem")) out << "    " << b["problem"].get<std::string>() << "\n";
              }
            });
            return 0;
          }};
}

}  // namespace tml::cli
